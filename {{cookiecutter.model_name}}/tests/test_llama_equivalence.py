"""A converted Llama checkpoint computes what transformers' own `LlamaForCausalLM` computes with the same weights.

Each case builds a small random Llama with transformers itself, saves it, converts it with
`scripts/convert_from_llama.py` and loads the result as remote code. The logits must agree within 1e-5 (float32) on a
left-padded batch, and greedy generation must give the same tokens.
"""

import importlib.util
import inspect
import json
import pathlib

import pytest
import torch
import transformers
from conftest import CLASS_PREFIX, MODULE_NAME, REPO, distinct_weights, load_script
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast


LOGITS_ATOL = 1e-5
TRANSFORMERS_VERSION = tuple(int(part) for part in transformers.__version__.split(".")[:2])


converter = load_script("convert_from_llama")


def llama_config(rope: dict | None = None, rope_theta: float = 10000.0, **values) -> LlamaConfig:
    """A `LlamaConfig` in the spelling the installed transformers reads.

    transformers 5.x takes `rope_parameters`; 4.57 takes `rope_theta` and `rope_scaling` and would silently ignore
    `rope_parameters`, so the wrong spelling would test the default rope instead of the one asked for.
    """
    rope = dict(rope or {"rope_type": "default"})
    if "rope_parameters" in inspect.signature(LlamaConfig.__init__).parameters:
        return LlamaConfig(rope_parameters={**rope, "rope_theta": rope_theta}, **values)
    scaling = None if rope["rope_type"] == "default" else rope
    return LlamaConfig(rope_theta=rope_theta, rope_scaling=scaling, **values)


def random_llama(config: LlamaConfig) -> LlamaForCausalLM:
    """A seeded Llama whose every parameter, norms and biases included, holds a distinct random value."""
    torch.manual_seed(0)
    return distinct_weights(LlamaForCausalLM(config), std=0.1)


def save_and_convert(model: LlamaForCausalLM, tmp_path: pathlib.Path, **save_kwargs):
    """Saves `model`, converts it, and loads the result through the Auto class as users would."""
    src, dst = tmp_path / "llama", tmp_path / "converted"
    model.save_pretrained(src, **save_kwargs)
    converter.convert(src, dst)
    converted = AutoModelForCausalLM.from_pretrained(dst, trust_remote_code=True, dtype=torch.float32)
    return converted.eval(), dst


def left_padded_batch(vocab_size: int, seq_len: int = 12):
    """Three rows with 0, 3 and 7 padding tokens on the left; pad id 0 never occurs among the real tokens."""
    generator = torch.Generator().manual_seed(1)
    input_ids = torch.randint(3, vocab_size, (3, seq_len), generator=generator)  # (B, T)
    attention_mask = torch.ones_like(input_ids)
    for row, padding in enumerate((0, 3, 7)):
        input_ids[row, :padding] = 0
        attention_mask[row, :padding] = 0
    return input_ids, attention_mask


BASE = dict(vocab_size=97, hidden_size=64, intermediate_size=96, num_hidden_layers=2, pad_token_id=0,
            bos_token_id=1, eos_token_id=2, max_position_embeddings=64)
LLAMA3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
          "original_max_position_embeddings": 32}
CASES = {
    "gqa-untied-default-rope": dict(num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False),
    "mha-tied-linear-rope": dict(num_attention_heads=4, num_key_value_heads=4, tie_word_embeddings=True,
                                 rope={"rope_type": "linear", "factor": 2.0}, rope_theta=500.0),
    "gqa-tied-dynamic-rope": dict(num_attention_heads=4, num_key_value_heads=1, tie_word_embeddings=True,
                                  max_position_embeddings=16, rope={"rope_type": "dynamic", "factor": 2.0}),
    "mha-untied-llama3-rope": dict(num_attention_heads=2, num_key_value_heads=2, tie_word_embeddings=False,
                                   rope=LLAMA3, rope_theta=500000.0),
    # Odd sizes: 3 heads of width 32 over a 48-wide stream, one key/value head, biases and a vocabulary of 101.
    "odd-sizes-with-biases": dict(vocab_size=101, hidden_size=48, intermediate_size=80, num_attention_heads=3,
                                  num_key_value_heads=1, head_dim=32, attention_bias=True, mlp_bias=True,
                                  rms_norm_eps=1e-5, tie_word_embeddings=False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_converted_model_matches_llama_logits_and_greedy_tokens(case, tmp_path):
    values = {**BASE, **CASES[case]}
    llama = random_llama(llama_config(**values))
    # One case goes through a sharded checkpoint with an index.
    save_kwargs = {"max_shard_size": "40KB"} if case == "gqa-untied-default-rope" else {}
    converted, dst = save_and_convert(llama, tmp_path, **save_kwargs)
    assert type(converted).__name__ == f"{CLASS_PREFIX}ForCausalLM"

    input_ids, attention_mask = left_padded_batch(values["vocab_size"])
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)  # (B, T), as generation computes them
    with torch.no_grad():
        expected = llama(input_ids, attention_mask=attention_mask, position_ids=position_ids).logits
        actual = converted(input_ids, attention_mask=attention_mask, position_ids=position_ids).logits
    real = attention_mask.bool()
    torch.testing.assert_close(actual[real], expected[real], rtol=0, atol=LOGITS_ATOL)

    # The dynamic case generates past max_position_embeddings (12 + 10 > 16), where its frequencies change.
    generate_kwargs = dict(attention_mask=attention_mask, max_new_tokens=10, do_sample=False, pad_token_id=0)
    expected_tokens = llama.generate(input_ids, **generate_kwargs)
    actual_tokens = converted.generate(input_ids, **generate_kwargs)
    assert actual_tokens.shape[1] > input_ids.shape[1]
    torch.testing.assert_close(actual_tokens, expected_tokens, rtol=0, atol=0)


def _dynamic_pair(tmp_path):
    values = {**BASE, **CASES["gqa-tied-dynamic-rope"]}
    llama = random_llama(llama_config(**values))
    converted, _ = save_and_convert(llama, tmp_path)
    input_ids = torch.randint(3, values["vocab_size"], (2, 40), generator=torch.Generator().manual_seed(2))
    return llama, converted, input_ids


@torch.no_grad()
def test_dynamic_rope_matches_llama_beyond_max_position_embeddings(tmp_path):
    llama, converted, input_ids = _dynamic_pair(tmp_path)
    short_expected, short_actual = llama(input_ids[:, :10]).logits, converted(input_ids[:, :10]).logits
    long_expected, long_actual = llama(input_ids).logits, converted(input_ids).logits
    torch.testing.assert_close(short_actual, short_expected, rtol=0, atol=LOGITS_ATOL)
    torch.testing.assert_close(long_actual, long_expected, rtol=0, atol=LOGITS_ATOL)
    # The 40-token pass really used stretched frequencies: its first 10 positions differ from the short pass.
    assert not torch.allclose(long_expected[:, :10], short_expected, atol=1e-4)


@pytest.mark.skipif(
    (5, 0) <= TRANSFORMERS_VERSION < (5, 13),
    reason="Llama's dynamic rope in transformers 5.0 to 5.12 never returns to its original frequencies",
)
@torch.no_grad()
def test_dynamic_rope_returns_to_original_frequencies_like_llama(tmp_path):
    llama, converted, input_ids = _dynamic_pair(tmp_path)
    llama(input_ids), converted(input_ids)
    # Back under the trained length after a long pass, both use the original frequencies again.
    short_expected, short_actual = llama(input_ids[:, :10]).logits, converted(input_ids[:, :10]).logits
    torch.testing.assert_close(short_actual, short_expected, rtol=0, atol=LOGITS_ATOL)


def test_converted_config_carries_every_llama_setting(tmp_path):
    values = {**BASE, **CASES["mha-untied-llama3-rope"], "rms_norm_eps": 1e-5, "initializer_range": 0.05}
    _, dst = save_and_convert(random_llama(llama_config(**values)), tmp_path)
    config = json.loads((dst / "config.json").read_text())
    assert config["architectures"] == [f"{CLASS_PREFIX}ForCausalLM"]
    assert config["auto_map"] == json.loads((REPO / "config.json").read_text())["auto_map"]
    assert config["rope_parameters"] == {**LLAMA3, "rope_theta": 500000.0}
    for key in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                "num_key_value_heads", "rms_norm_eps", "initializer_range", "max_position_embeddings",
                "pad_token_id", "bos_token_id", "eos_token_id", "tie_word_embeddings"):
        assert config[key] == values[key], key
    assert config["head_dim"] == values["hidden_size"] // values["num_attention_heads"]
    # No tokenizer in SRC, so no tokenizer code either.
    code = sorted(path.name for path in dst.glob("*.py"))
    assert code == [f"configuration_{MODULE_NAME}.py", f"modeling_{MODULE_NAME}.py"]


LEGACY = {"rope_theta": 500000.0, "rope_scaling": {"type": "linear", "rope_type": "linear", "factor": 4.0}}
CURRENT = {"rope_parameters": {"rope_type": "linear", "factor": 4.0, "rope_theta": 500000.0}}


@pytest.mark.parametrize("spelling", [LEGACY, CURRENT], ids=["transformers-4.57", "transformers-5"])
def test_both_rope_spellings_convert_to_the_same_rope_parameters(spelling):
    ours = converter.llama_config_to_ours({"model_type": "llama", **spelling})
    assert ours["rope_parameters"] == {"rope_type": "linear", "factor": 4.0, "rope_theta": 500000.0}


def test_llama3_without_original_length_uses_max_position_embeddings():
    rope = {key: value for key, value in LLAMA3.items() if key != "original_max_position_embeddings"}
    ours = converter.llama_config_to_ours({"max_position_embeddings": 4096, "rope_scaling": rope})
    assert ours["rope_parameters"]["original_max_position_embeddings"] == 4096


def test_missing_llama_keys_take_llama_defaults():
    ours = converter.llama_config_to_ours({"hidden_size": 64, "num_attention_heads": 8})
    assert (ours["num_key_value_heads"], ours["head_dim"], ours["tie_word_embeddings"]) == (8, 8, False)
    assert ours["rope_parameters"] == {"rope_type": "default", "rope_theta": 10000.0}


REFUSED = {
    "yarn": ({"rope_parameters": {"rope_type": "yarn", "factor": 2.0, "rope_theta": 1e4}}, "'yarn'"),
    "longrope": ({"rope_parameters": {"rope_type": "longrope", "short_factor": [1.0], "long_factor": [1.0],
                                      "rope_theta": 1e4}}, "'longrope'"),
    "partial-rotary": ({"partial_rotary_factor": 0.5}, "partial_rotary_factor=0.5"),
    "partial-rotary-in-rope": ({"rope_parameters": {"rope_type": "default", "rope_theta": 1e4,
                                                    "partial_rotary_factor": 0.25}}, "partial_rotary_factor=0.25"),
    "pretraining-tp": ({"pretraining_tp": 2}, "pretraining_tp=2"),
    "hidden-act": ({"hidden_act": "swish_of_my_own"}, "'swish_of_my_own'"),
    "extra-rope-key": ({"rope_parameters": {"rope_type": "linear", "factor": 2.0, "rope_theta": 1e4,
                                            "beta_fast": 32}}, "'beta_fast'"),
    "dynamic-other-length": ({"rope_parameters": {"rope_type": "dynamic", "factor": 2.0, "rope_theta": 1e4,
                                                  "original_max_position_embeddings": 8}},
                             "original_max_position_embeddings=8"),
    "unknown-config-key": ({"sliding_window": 4096}, "'sliding_window'"),
    "other-architecture": ({"model_type": "mistral"}, "'mistral'"),
    "conflicting-rope": ({"rope_theta": 123.0, "rope_scaling": None,
                          "rope_parameters": {"rope_type": "default", "rope_theta": 456.0}}, "123.0"),
    "invalid-for-our-config": ({"rope_parameters": {"rope_type": "linear", "factor": 0.5, "rope_theta": 1e4}},
                               "0.5"),
}


@pytest.fixture
def saved_llama(tmp_path):
    """A saved two-layer Llama (tied embeddings) and a function that edits its config.json."""
    src = tmp_path / "llama"
    random_llama(llama_config(**BASE, num_attention_heads=4, tie_word_embeddings=True)).save_pretrained(src)

    def edit(**changes):
        config = json.loads((src / "config.json").read_text())
        for key in ("rope_parameters", "rope_scaling", "rope_theta"):
            if key in changes or "rope_parameters" in changes:
                config.pop(key, None)
        config.update(changes)
        (src / "config.json").write_text(json.dumps(config))

    return src, edit


def assert_nothing_written(tmp_path: pathlib.Path, dst: pathlib.Path):
    assert not dst.exists()
    assert not [path.name for path in tmp_path.iterdir() if ".partial-" in path.name]


@pytest.mark.parametrize("case", list(REFUSED))
def test_unrepresentable_checkpoint_is_refused_naming_the_value(case, saved_llama, tmp_path):
    src, edit = saved_llama
    changes, named = REFUSED[case]
    edit(**changes)
    dst = tmp_path / "converted"
    with pytest.raises(converter.ConversionError) as error:
        converter.convert(src, dst)
    assert named in str(error.value)
    assert_nothing_written(tmp_path, dst)


def test_weights_that_disagree_with_the_config_are_refused(saved_llama, tmp_path):
    src, edit = saved_llama
    # Saved tied, so there is no lm_head.weight; an untied config needs one.
    edit(tie_word_embeddings=False)
    dst = tmp_path / "converted"
    with pytest.raises(converter.ConversionError, match="lm_head.weight"):
        converter.convert(src, dst)
    assert_nothing_written(tmp_path, dst)


def test_pickled_weights_are_refused(saved_llama, tmp_path):
    src, _ = saved_llama
    (src / "model.safetensors").rename(src / "pytorch_model.bin")
    with pytest.raises(converter.ConversionError, match="pytorch_model"):
        converter.convert(src, tmp_path / "converted")


def test_existing_destination_is_refused_and_kept(saved_llama, tmp_path):
    src, _ = saved_llama
    dst = tmp_path / "converted"
    dst.mkdir()
    (dst / "notes.txt").write_text("mine")
    with pytest.raises(converter.ConversionError, match="not an empty folder"):
        converter.convert(src, dst)
    assert [path.name for path in dst.iterdir()] == ["notes.txt"]


def test_command_line_reports_refusal_and_success(saved_llama, tmp_path, capsys):
    src, edit = saved_llama
    assert converter.main([str(src), str(tmp_path / "converted")]) == 0
    assert "Wrote" in capsys.readouterr().out
    edit(rope_parameters={"rope_type": "yarn", "factor": 2.0, "rope_theta": 1e4})
    assert converter.main([str(src), str(tmp_path / "refused")]) == 1
    assert "error: Rope type 'yarn'" in capsys.readouterr().err


def _word_tokenizer() -> PreTrainedTokenizerFast:
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = ["<unk>", "<s>", "</s>", "the", "cat", "sat", "on", "a", "mat"]
    tokenizer = Tokenizer(models.WordLevel({word: index for index, word in enumerate(words)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>")


def test_tokenizer_json_is_carried_and_served_by_our_class(saved_llama, tmp_path):
    src, _ = saved_llama
    _word_tokenizer().save_pretrained(src)
    dst = tmp_path / "converted"
    converter.convert(src, dst)
    source = AutoTokenizer.from_pretrained(src)
    converted = AutoTokenizer.from_pretrained(dst, trust_remote_code=True)
    assert type(converted).__name__ == f"{CLASS_PREFIX}TokenizerFast"
    text = "the cat sat on a mat with a dog"
    assert converted(text).input_ids == source(text).input_ids
    assert converted.eos_token == "</s>"


def test_sentencepiece_only_tokenizer_is_left_out_and_said_so(saved_llama, tmp_path):
    src, _ = saved_llama
    (src / "tokenizer.model").write_bytes(b"not read by the converter")
    dst = tmp_path / "converted"
    lines = converter.convert(src, dst)
    assert any("tokenizer: left out" in line for line in lines)
    assert not list(dst.glob("tokeni*"))


def test_converted_folder_passes_check_repo_with_the_model_card(saved_llama, tmp_path, capsys):
    src, _ = saved_llama
    _word_tokenizer().save_pretrained(src)
    dst = tmp_path / "converted"
    converter.convert(src, dst)
    spec = importlib.util.spec_from_file_location("check_repo", REPO / "scripts" / "check_repo.py")
    check_repo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check_repo)

    assert check_repo.main([str(dst)]) == 0, capsys.readouterr().out
    assert (dst / "README.md").read_text() == (REPO / "README.md").read_text()
