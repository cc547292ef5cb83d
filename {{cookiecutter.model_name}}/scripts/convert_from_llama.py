"""Converts a checkpoint saved by transformers' `LlamaForCausalLM` into a {{ cookiecutter.display_name }} checkpoint.

    python scripts/convert_from_llama.py SRC DST

SRC is a folder written by `LlamaForCausalLM.save_pretrained` (config.json and safetensors weights, sharded or not),
by transformers 4.57 (`rope_theta` and `rope_scaling`) or 5.x (`rope_parameters`). DST receives a checkpoint that
loads with `AutoModelForCausalLM.from_pretrained(DST, trust_remote_code=True)` and computes the same function: the
config, the weights (the parameter names of both architectures are the same), this repository's code and model card
(README.md, which the Hub reads; edit it for the converted model) and, when SRC has a `tokenizer.json`, its tokenizer
files wired to this repository's tokenizer class.

Anything this architecture cannot represent exactly (a rope type it does not implement, partial rotary embeddings,
`pretraining_tp > 1`, an unknown activation or config key) is refused with an error naming it, and DST is left
untouched. The functions `llama_config_to_ours` and `convert` can be imported by other tools.
"""

import argparse
import importlib.util
import json
import pathlib
import re
import shutil
import sys
import tempfile


REPO = pathlib.Path(__file__).resolve().parents[1]
MODULE_NAME = "{{ cookiecutter.module_name }}"
CLASS_PREFIX = "{{ cookiecutter.class_prefix }}"

# Defaults of transformers' `LlamaConfig`, for keys a saved config.json may leave out.
LLAMA_DEFAULTS = {
    "vocab_size": 32000,
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": None,
    "head_dim": None,
    "hidden_act": "silu",
    "max_position_embeddings": 2048,
    "initializer_range": 0.02,
    "rms_norm_eps": 1e-6,
    "use_cache": True,
    "pad_token_id": None,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "tie_word_embeddings": False,
    "attention_bias": False,
    "attention_dropout": 0.0,
    "mlp_bias": False,
}
# Llama keys that are checked here and either folded into `rope_parameters` or refused when they change the function.
LLAMA_CHECKED_KEYS = {"rope_theta", "rope_scaling", "rope_parameters", "pretraining_tp", "partial_rotary_factor"}
# Generic config keys that matter only to sequence classification; carried over unchanged.
CARRIED_KEYS = {"id2label", "label2id", "problem_type"}
# Generic config keys of transformers 4.57 and 5.x that describe no part of the computed function (bookkeeping,
# output switches, generation defaults that `generation_config.json` holds); dropped. `convert` keeps `dtype`.
DROPPED_KEYS = {
    "_name_or_path", "add_cross_attention", "architectures", "auto_map", "bad_words_ids", "begin_suppress_tokens",
    "chunk_size_feed_forward", "cross_attention_hidden_size", "decoder_start_token_id", "diversity_penalty",
    "do_sample", "dtype", "early_stopping", "encoder_no_repeat_ngram_size", "exponential_decay_length_penalty",
    "finetuning_task", "forced_bos_token_id", "forced_eos_token_id", "is_decoder", "is_encoder_decoder",
    "length_penalty", "max_length", "min_length", "model_type", "no_repeat_ngram_size", "num_beam_groups",
    "num_beams", "num_return_sequences", "output_attentions", "output_hidden_states", "output_scores", "prefix",
    "pruned_heads", "remove_invalid_values", "repetition_penalty", "return_dict", "return_dict_in_generate",
    "sep_token_id", "suppress_tokens", "task_specific_params", "temperature", "tf_legacy_loss", "tie_encoder_decoder",
    "tokenizer_class", "top_k", "top_p", "torch_dtype", "torchscript", "transformers_version", "typical_p",
    "use_bfloat16",
}
# Tokenizer files copied from SRC when it has a `tokenizer.json`; `tokenizer_config.json` is rewritten, not copied.
TOKENIZER_FILES = ("tokenizer.json", "special_tokens_map.json", "added_tokens.json", "chat_template.jinja",
                   "chat_template.json")
# Rotary frequencies are recomputed from the config, so a checkpoint that stored them loses nothing by dropping them.
ROTARY_BUFFER = re.compile(r"(^|\.)rotary_emb\.inv_freq$")


class ConversionError(ValueError):
    """SRC cannot be converted exactly, or DST cannot receive the result; nothing has been written."""


def _load_configuration_module(repo_dir: pathlib.Path = REPO):
    """Imports this repository's `configuration_*.py`, the single source of the supported rope types."""
    path = pathlib.Path(repo_dir) / f"configuration_{MODULE_NAME}.py"
    spec = importlib.util.spec_from_file_location(f"configuration_{MODULE_NAME}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _normalise_rope(rope: dict, rope_theta, source: str) -> dict:
    """Spells the rope type `rope_type` (legacy configs say `type`) and puts the base inside the dictionary."""
    rope = dict(rope)
    if "type" in rope:
        legacy_type = rope.pop("type")
        if rope.setdefault("rope_type", legacy_type) != legacy_type:
            raise ConversionError(
                f"`{source}` names two rope types, type={legacy_type!r} and rope_type={rope['rope_type']!r}. "
                "Keep only the one the checkpoint was trained with."
            )
    rope.setdefault("rope_type", "default")
    rope.setdefault("rope_theta", 10000.0 if rope_theta is None else rope_theta)
    return rope


def _rope_parameters(llama_config: dict, max_position_embeddings: int, rope_types: dict) -> dict:
    """Builds our `rope_parameters` from either release's spelling, refusing anything we would compute differently."""
    rope_theta = llama_config.get("rope_theta")
    rope_scaling = llama_config.get("rope_scaling")
    legacy = _normalise_rope(rope_scaling or {}, rope_theta, "rope_scaling")
    if llama_config.get("rope_parameters") is None:
        rope = legacy
    else:
        rope = _normalise_rope(llama_config["rope_parameters"], rope_theta, "rope_parameters")
        if (rope_scaling is not None or rope_theta is not None) and rope != legacy:
            raise ConversionError(
                f"config.json holds `rope_parameters` ({llama_config['rope_parameters']}) and the legacy "
                f"`rope_theta`/`rope_scaling` ({rope_theta}, {rope_scaling}), and they disagree; transformers 4.57 "
                "reads the legacy keys and 5.x the new one. Remove the one the checkpoint was not trained with."
            )

    rope_type = rope["rope_type"]
    if rope_type not in rope_types:
        raise ConversionError(
            f"Rope type {rope_type!r} is not implemented by this architecture (it implements {sorted(rope_types)}). "
            "Add it to the rotary embedding before converting this checkpoint."
        )
    partial_rotary_factor = rope.pop("partial_rotary_factor", llama_config.get("partial_rotary_factor", 1.0))
    if partial_rotary_factor not in (None, 1, 1.0):
        raise ConversionError(
            f"partial_rotary_factor={partial_rotary_factor!r}: this architecture rotates the whole head (1.0). "
            "Add partial rotary embeddings to the model before converting this checkpoint."
        )
    if rope_type == "llama3":
        # transformers 5.x fills the pretraining length in the same way when the config leaves it out.
        rope.setdefault("original_max_position_embeddings", max_position_embeddings)
    elif "original_max_position_embeddings" in rope:
        # transformers ignores this key for the other types and scales against `max_position_embeddings`.
        original = rope.pop("original_max_position_embeddings")
        if original != max_position_embeddings:
            raise ConversionError(
                f"rope_scaling has original_max_position_embeddings={original!r} with rope type {rope_type!r}, "
                f"different from max_position_embeddings={max_position_embeddings}; transformers ignores it for this "
                "type, so the intended scaling is unclear. Remove the key or make the two equal."
            )
    allowed = {"rope_type", "rope_theta", *rope_types[rope_type]}
    unknown = sorted(set(rope) - allowed)
    if unknown:
        raise ConversionError(
            f"Rope option(s) {unknown} (values {[rope[key] for key in unknown]}) are not implemented for rope type "
            f"{rope_type!r}, which takes only {sorted(allowed)}. Implement them before converting this checkpoint."
        )
    missing = sorted(key for key in rope_types[rope_type] if rope.get(key) is None)
    if missing:
        raise ConversionError(f"Rope type {rope_type!r} needs {missing}, which the config does not give: {rope}.")
    return rope


def llama_config_to_ours(llama_config: dict, repo_dir: pathlib.Path = REPO) -> dict:
    """Maps a `LlamaConfig` dictionary (as in its config.json) to keyword arguments of our config class.

    Raises:
        ConversionError: naming the first value this architecture cannot represent exactly.
    """
    from transformers.activations import ACT2FN

    llama_config = dict(llama_config)
    model_type = llama_config.get("model_type", "llama")
    if model_type != "llama":
        raise ConversionError(f"SRC has model_type={model_type!r}; this converter reads only 'llama' checkpoints.")
    unknown = sorted(set(llama_config) - set(LLAMA_DEFAULTS) - LLAMA_CHECKED_KEYS - CARRIED_KEYS - DROPPED_KEYS)
    if unknown:
        raise ConversionError(
            f"config.json has key(s) {unknown} that this converter does not know, so it cannot tell whether they "
            "change the computation. Remove them from SRC's config.json if they do not, or extend the converter."
        )
    if llama_config.get("pruned_heads"):
        raise ConversionError(f"pruned_heads={llama_config['pruned_heads']!r}: this architecture has no head pruning.")
    pretraining_tp = llama_config.get("pretraining_tp") or 1
    if pretraining_tp != 1:
        raise ConversionError(
            f"pretraining_tp={pretraining_tp!r}: transformers 4.57 splits Llama's projections into that many slices, "
            "which this architecture does not. Set it to 1 in SRC's config.json (the weights are unchanged) first."
        )

    values = {key: llama_config.get(key, default) for key, default in LLAMA_DEFAULTS.items()}
    if values["hidden_act"] not in ACT2FN:
        raise ConversionError(
            f"hidden_act={values['hidden_act']!r} is not an activation transformers provides (`ACT2FN`), so this "
            "architecture cannot compute it."
        )
    if values["num_key_value_heads"] is None:
        values["num_key_value_heads"] = values["num_attention_heads"]
    if values["head_dim"] is None:
        values["head_dim"] = values["hidden_size"] // values["num_attention_heads"]
    rope_types = _load_configuration_module(repo_dir).ROPE_TYPES
    values["rope_parameters"] = _rope_parameters(llama_config, values["max_position_embeddings"], rope_types)
    values.update({key: llama_config[key] for key in CARRIED_KEYS if key in llama_config})
    return values


def _expected_shapes(config: dict) -> dict[str, tuple[int, ...]]:
    """Names and shapes of every tensor our `ForCausalLM` loads for `config`."""
    hidden, intermediate, vocab = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    q_width = config["num_attention_heads"] * config["head_dim"]
    kv_width = config["num_key_value_heads"] * config["head_dim"]
    shapes = {"model.embed_tokens.weight": (vocab, hidden), "model.norm.weight": (hidden,)}
    if not config["tie_word_embeddings"]:
        shapes["lm_head.weight"] = (vocab, hidden)
    linears = {
        "self_attn.q_proj": (q_width, hidden, config["attention_bias"]),
        "self_attn.k_proj": (kv_width, hidden, config["attention_bias"]),
        "self_attn.v_proj": (kv_width, hidden, config["attention_bias"]),
        "self_attn.o_proj": (hidden, q_width, config["attention_bias"]),
        "mlp.gate_proj": (intermediate, hidden, config["mlp_bias"]),
        "mlp.up_proj": (intermediate, hidden, config["mlp_bias"]),
        "mlp.down_proj": (hidden, intermediate, config["mlp_bias"]),
    }
    for layer in range(config["num_hidden_layers"]):
        prefix = f"model.layers.{layer}."
        shapes[prefix + "input_layernorm.weight"] = (hidden,)
        shapes[prefix + "post_attention_layernorm.weight"] = (hidden,)
        for name, (out_features, in_features, bias) in linears.items():
            shapes[f"{prefix}{name}.weight"] = (out_features, in_features)
            if bias:
                shapes[f"{prefix}{name}.bias"] = (out_features,)
    return shapes


def _weight_files(src: pathlib.Path) -> list[str]:
    """The safetensors files of SRC, in order."""
    index = src / "model.safetensors.index.json"
    if index.is_file():
        return sorted(set(json.loads(index.read_text())["weight_map"].values()))
    if (src / "model.safetensors").is_file():
        return ["model.safetensors"]
    if list(src.glob("pytorch_model*.bin")):
        raise ConversionError(
            f"{src} holds pickled weights (pytorch_model*.bin) only. Re-save it with safetensors first: "
            "LlamaForCausalLM.from_pretrained(SRC).save_pretrained(SRC)."
        )
    raise ConversionError(f"{src} has no model.safetensors or model.safetensors.index.json.")


def _plan_weights(src: pathlib.Path, config: dict) -> tuple[list[str], set[str]]:
    """Checks every tensor's name and shape; returns the weight files and the names to leave out."""
    from safetensors import safe_open

    files = _weight_files(src)
    found = {}
    for file in files:
        with safe_open(src / file, framework="pt") as handle:
            found.update({name: (file, tuple(handle.get_slice(name).get_shape())) for name in handle.keys()})

    dropped = {name for name in found if ROTARY_BUFFER.search(name)}
    if config["tie_word_embeddings"] and {"lm_head.weight", "model.embed_tokens.weight"} <= set(found):
        # A tied checkpoint that stored the head anyway: harmless if it is the embedding, ambiguous otherwise.
        head = _load_tensor(src, found["lm_head.weight"][0], "lm_head.weight")
        embedding = _load_tensor(src, found["model.embed_tokens.weight"][0], "model.embed_tokens.weight")
        if not head.equal(embedding):
            raise ConversionError(
                "tie_word_embeddings=True, but lm_head.weight differs from model.embed_tokens.weight; which one "
                "the model should use is unclear. Fix tie_word_embeddings in SRC's config.json first."
            )
        dropped.add("lm_head.weight")

    expected = _expected_shapes(config)
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected) - dropped)
    wrong = sorted(name for name in set(expected) & set(found) if found[name][1] != expected[name])
    if missing or unexpected or wrong:
        problems = []
        if missing:
            problems.append(f"missing {missing[:5]}{' ...' if len(missing) > 5 else ''}")
        if unexpected:
            problems.append(f"unexpected {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}")
        problems.extend(f"{name} has shape {found[name][1]}, expected {expected[name]}" for name in wrong[:5])
        raise ConversionError(f"SRC's weights do not match its config.json: {'; '.join(problems)}.")
    return files, dropped


def _load_tensor(src: pathlib.Path, file: str, name: str):
    from safetensors import safe_open

    with safe_open(src / file, framework="pt") as handle:
        return handle.get_tensor(name)


def _check_destination(src: pathlib.Path, dst: pathlib.Path):
    if dst.exists() and (not dst.is_dir() or any(dst.iterdir())):
        raise ConversionError(f"{dst} already exists and is not an empty folder. Choose a new DST.")
    if dst.resolve() == src.resolve():
        raise ConversionError("SRC and DST are the same folder. Choose a new DST.")


def _write_weights(src: pathlib.Path, out: pathlib.Path, files: list[str], dropped: set[str]) -> int:
    """Copies the tensors shard by shard (one shard in memory at a time); returns how many were written."""
    from safetensors.torch import load_file, save_file

    weight_map, total_size = {}, 0
    for file in files:
        tensors = {name: tensor for name, tensor in load_file(src / file).items() if name not in dropped}
        if not tensors:
            continue
        save_file(tensors, out / file, metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(tensors, file))
        total_size += sum(tensor.numel() * tensor.element_size() for tensor in tensors.values())
    if len(files) > 1 or (src / "model.safetensors.index.json").is_file():
        index = {"metadata": {"total_size": total_size}, "weight_map": dict(sorted(weight_map.items()))}
        (out / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")
    return len(weight_map)


def _write_tokenizer(src: pathlib.Path, out: pathlib.Path, repo_dir: pathlib.Path) -> str:
    """Copies SRC's tokenizer.json-based tokenizer and points it at our class; returns a line for the user."""
    if not (src / "tokenizer.json").is_file():
        if any((src / name).exists() for name in ("tokenizer.model", "tokenizer_config.json", "vocab.json")):
            return (
                "tokenizer: left out, SRC has no tokenizer.json (this repository's tokenizer class reads only that). "
                "Save it once with AutoTokenizer.from_pretrained(SRC).save_pretrained(SRC) and convert again."
            )
        return "tokenizer: none in SRC."
    for name in TOKENIZER_FILES:
        if (src / name).is_file():
            shutil.copy2(src / name, out / name)
    config_path = src / "tokenizer_config.json"
    tokenizer_config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    tokenizer_class = f"{CLASS_PREFIX}TokenizerFast"
    tokenizer_config["tokenizer_class"] = tokenizer_class
    tokenizer_config["auto_map"] = {"AutoTokenizer": [None, f"tokenization_{MODULE_NAME}.{tokenizer_class}"]}
    (out / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2) + "\n")
    shutil.copy2(repo_dir / f"tokenization_{MODULE_NAME}.py", out)
    return f"tokenizer: copied from SRC, served by {tokenizer_class}."


def convert(src_dir, dst_dir, repo_dir=REPO) -> list[str]:
    """Writes the conversion of the Llama checkpoint in `src_dir` to the new folder `dst_dir`.

    Everything is checked before anything is written, and the result is assembled in a temporary folder next to
    `dst_dir` and renamed into place, so a refusal or a crash leaves `dst_dir` as it was.

    Returns:
        Short lines describing what was written.

    Raises:
        ConversionError: if SRC cannot be converted exactly or DST is not a new or empty folder.
    """
    src, dst, repo_dir = pathlib.Path(src_dir), pathlib.Path(dst_dir), pathlib.Path(repo_dir)
    if not (src / "config.json").is_file():
        raise ConversionError(f"{src} has no config.json; pass a folder written by LlamaForCausalLM.save_pretrained.")
    _check_destination(src, dst)
    llama_config = json.loads((src / "config.json").read_text())
    config = llama_config_to_ours(llama_config, repo_dir)
    try:
        # Our config class applies the same checks as when the model loads.
        _load_configuration_module(repo_dir).__dict__[f"{CLASS_PREFIX}Config"](**config)
    except ValueError as error:
        raise ConversionError(f"The converted config is invalid: {error}") from error
    files, dropped = _plan_weights(src, config)

    repo_config = json.loads((repo_dir / "config.json").read_text())
    full_config = {
        "architectures": [f"{CLASS_PREFIX}ForCausalLM"],
        "auto_map": repo_config["auto_map"],
        "model_type": repo_config["model_type"],
        **config,
    }
    dtype = llama_config.get("dtype", llama_config.get("torch_dtype"))
    if dtype is not None:
        full_config["dtype"] = dtype

    dst.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{dst.name}.partial-", dir=dst.parent))
    try:
        (staging / "config.json").write_text(json.dumps(full_config, indent=2, sort_keys=True) + "\n")
        for module in ("configuration", "modeling"):
            shutil.copy2(repo_dir / f"{module}_{MODULE_NAME}.py", staging)
        # The Hub takes the model card and its metadata (library, pipeline, license, custom_code) from README.md.
        shutil.copy2(repo_dir / "README.md", staging)
        if (src / "generation_config.json").is_file():
            shutil.copy2(src / "generation_config.json", staging)
        written = _write_weights(src, staging, files, dropped)
        tokenizer_line = _write_tokenizer(src, staging, repo_dir)
        if dst.exists():
            dst.rmdir()
        staging.rename(dst)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [f"weights: {written} tensors in {len(files)} file(s).", tokenizer_line]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=pathlib.Path, help="folder written by LlamaForCausalLM.save_pretrained")
    parser.add_argument("dst", type=pathlib.Path, help="new (or empty) folder for the converted checkpoint")
    args = parser.parse_args(argv)
    try:
        lines = convert(args.src, args.dst)
    except ConversionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Wrote {args.dst}")
    for line in lines:
        print(f"  {line}")
    print(f"Load it with AutoModelForCausalLM.from_pretrained({str(args.dst)!r}, trust_remote_code=True).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
