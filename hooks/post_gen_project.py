"""Finishes a freshly baked repository: one small function per option, each adding or removing whole files.

Option effects that are a single value (tied embeddings, the sequence-classification class and its `auto_map` entry)
live in the templates themselves; this hook handles what needs files: the tokenizer, the tests of optional heads,
and the record of the template version and answers that `cruft update` reads.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys


SPECIAL_TOKENS = ["<|endoftext|>", "<|pad|>", "<|im_start|>", "<|im_end|>"]

REPO = pathlib.Path.cwd()
# The rendered answers. `tojson` escapes quotes, so no answer can end the string early.
ANSWERS = json.loads(r'''{{ cookiecutter | tojson }}''')
# Paths the user typed, made absolute against the folder cookiecutter was started in: this hook runs inside the new
# project folder, so a relative path read here would point somewhere else (see local_extensions.py). cruft
# bakes without `_repo_dir` and writes its own record, so the template paths may be empty.
PATHS = json.loads(r'''{{ {
    "template_dir": cookiecutter.get("_repo_dir", "") | abspath(cookiecutter.__start_dir),
    "template": cookiecutter.get("_template", "") | abspath(cookiecutter.__start_dir),
    "existing_tokenizer": cookiecutter.existing_tokenizer_path | abspath(cookiecutter.__start_dir),
} | tojson }}''')
MODULE_NAME = ANSWERS["module_name"]
CLASS_PREFIX = ANSWERS["class_prefix"]
# Files of an existing tokenizer folder that a fast tokenizer reads; vocab.json, merges.txt and sentencepiece models
# belong to slow tokenizers, which this repository's class does not use.
EXISTING_TOKENIZER_FILES = ("tokenizer.json", "special_tokens_map.json", "chat_template.jinja")
# Answers that describe the machine that baked, not the repository: left out of the record.
UNRECORDED_ANSWERS = ("_output_dir", "_repo_dir", "__start_dir")


def byte_to_unicode() -> dict[int, str]:
    """The printable character byte-level BPE uses for each byte (the GPT-2 mapping that `tokenizers` expects)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    mapping, shift = {}, 0
    for byte in range(256):
        if byte in printable:
            mapping[byte] = chr(byte)
        else:
            mapping[byte] = chr(256 + shift)
            shift += 1
    return mapping


def byte_level_tokenizer() -> dict:
    """A `tokenizers` byte-level BPE with no merges: one token per byte, after the special tokens."""
    vocab = {token: index for index, token in enumerate(SPECIAL_TOKENS)}
    for _byte, char in sorted(byte_to_unicode().items()):
        vocab[char] = len(vocab)
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": index, "content": token, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for index, token in enumerate(SPECIAL_TOKENS)
        ],
        "normalizer": None,
        "pre_tokenizer": byte_level,
        "post_processor": byte_level,
        "decoder": byte_level,
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
            "vocab": vocab, "merges": [],
        },
    }


def write_byte_level_tokenizer():
    path = REPO / "tokenizer.json"
    path.write_text(json.dumps(byte_level_tokenizer(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def read_json(path: pathlib.Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def read_json_if_present(path: pathlib.Path) -> dict:
    return read_json(path) if path.is_file() else {}


def write_json(path: pathlib.Path, data: dict):
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def tokenizer_train_bpe():
    """The byte-level tokenizer is the starting point; scripts/build_checkpoint.py trains a BPE on --corpus."""
    write_byte_level_tokenizer()


def tokenizer_byte_level():
    """Plain bytes for good: build_checkpoint.py reads TOKENIZER_MODE and never replaces this file."""
    write_byte_level_tokenizer()


def tokenizer_existing(source: pathlib.Path):
    """Copies a saved fast tokenizer and wires it to this repository's tokenizer class and config ids."""
    for name in EXISTING_TOKENIZER_FILES:
        if (source / name).is_file():
            shutil.copyfile(source / name, REPO / name)
    config = wired_tokenizer_config(read_json_if_present(source / "tokenizer_config.json"))
    ids = token_ids(read_json(REPO / "tokenizer.json"))
    tokens = special_tokens(config, read_json_if_present(source / "special_tokens_map.json"), ids)
    install_chat_template(config, has_template_file=(source / "chat_template.jinja").is_file())
    write_json(REPO / "tokenizer_config.json", config)
    write_token_ids({role: ids.get(token) for role, token in tokens.items()}, max(ids.values()) + 1, ids)


def wired_tokenizer_config(theirs: dict) -> dict:
    """Their tokenizer_config.json with `auto_map` and `tokenizer_class` pointing at this repository's class."""
    ours = read_json(REPO / "tokenizer_config.json")
    config = {key: value for key, value in theirs.items() if key not in ("auto_map", "tokenizer_class")}
    if not theirs:
        config = {key: ours[key] for key in ("model_max_length", "clean_up_tokenization_spaces")}
    config["auto_map"] = ours["auto_map"]
    config["tokenizer_class"] = ours["tokenizer_class"]
    config.setdefault("padding_side", "left")
    return config


def special_tokens(config: dict, special_map: dict, ids: dict[str, int]) -> dict[str, str | None]:
    """The bos, eos and pad tokens the tokenizer names and its vocabulary holds; pad falls back to eos."""
    tokens = {}
    for role in ("bos_token", "eos_token", "pad_token"):
        value = config.get(role) or special_map.get(role)
        content = value.get("content") if isinstance(value, dict) else value
        tokens[role] = content if content in ids else None
    if tokens["pad_token"] is None and tokens["eos_token"] is not None:
        # Batched generation pads on the left and needs a pad token; the end-of-text token serves, as is usual.
        tokens["pad_token"] = config["pad_token"] = tokens["eos_token"]
        print(f"note: the tokenizer has no pad token; using its eos token {tokens['eos_token']!r} for padding.")
    if tokens["eos_token"] is None:
        print("WARNING: the tokenizer names no eos token in its vocabulary; set eos_token_id in config.json and "
              "generation_config.json before training, or generation will not stop.")
    return tokens


def install_chat_template(config: dict, has_template_file: bool):
    """Makes their chat template the one transformers finds; keeps ours when they have none."""
    if has_template_file:
        return
    if isinstance(config.get("chat_template"), str):
        # transformers reads chat_template.jinja before the config key: move their template into that file.
        (REPO / "chat_template.jinja").write_text(config.pop("chat_template"), encoding="utf-8")
    elif "chat_template" in config:
        # Several named templates stay in the config, and ours must not shadow them.
        (REPO / "chat_template.jinja").unlink(missing_ok=True)
    else:
        print("note: the tokenizer has no chat template; kept this template's chat_template.jinja, whose "
              "<|im_start|>/<|im_end|> markers your tokenizer encodes as plain text.")


def write_token_ids(token_id: dict[str, int | None], vocab_size: int, ids: dict[str, int]):
    """Sets the vocabulary size and special token ids in config.json and generation_config.json."""
    model_config = read_json(REPO / "config.json")
    model_config["vocab_size"] = vocab_size
    for role, value in token_id.items():
        model_config[role + "_id"] = value
    write_json(REPO / "config.json", model_config)

    generation = read_json(REPO / "generation_config.json")
    stop_ids = [token_id["eos_token"]] if token_id["eos_token"] is not None else []
    if ids.get("<|im_end|>") is not None and ids["<|im_end|>"] not in stop_ids:
        stop_ids.append(ids["<|im_end|>"])
    generation.update(
        bos_token_id=token_id["bos_token"],
        eos_token_id=stop_ids if len(stop_ids) != 1 else stop_ids[0],
        pad_token_id=token_id["pad_token"],
    )
    write_json(REPO / "generation_config.json", generation)


def token_ids(tokenizer: dict) -> dict[str, int]:
    """Every token of a `tokenizers` JSON file with its id: the model vocabulary plus the added tokens."""
    vocab = tokenizer["model"]["vocab"]
    if isinstance(vocab, list):
        # Unigram models list [piece, score] pairs in id order.
        ids = {piece: index for index, (piece, _score) in enumerate(vocab)}
    else:
        ids = dict(vocab)
    ids.update({token["content"]: token["id"] for token in tokenizer.get("added_tokens", [])})
    return ids


def heads_causal_lm_only():
    """Removes the tests of the sequence-classification head, whose class the modeling template leaves out."""
    for path in (REPO / "tests").glob("test_*sequence_classification*.py"):
        path.unlink()


def template_source() -> tuple[str, str | None]:
    """Where the template came from (a git URL or an absolute path) and its commit, for `cruft update`."""
    template = str(ANSWERS.get("_template", ""))
    expansions = {
        "gh:": "https://github.com/{}.git",
        "gl:": "https://gitlab.com/{}.git",
        "bb:": "https://bitbucket.org/{}",
    }
    for prefix, url in expansions.items():
        if template.startswith(prefix):
            template = url.format(template[len(prefix):])
    # A template given as a folder is recorded as that folder's absolute path; a URL (whose "path" names no folder)
    # as the URL, not as the clone cookiecutter made of it.
    template_dir, as_path = PATHS["template_dir"], PATHS["template"]
    if template_dir and os.path.isdir(as_path) and os.path.samefile(as_path, template_dir):
        template = template_dir
    if not template_dir:
        return template, None
    git_head = ["git", "rev-parse", "HEAD"]
    result = subprocess.run(git_head, cwd=template_dir, capture_output=True, text=True, check=False)
    return template, result.stdout.strip() or None


def write_template_record():
    """Writes .cruft.json: the template, its commit and every answer, so `cruft update` can bring in later fixes."""
    if "_commit" in ANSWERS:
        # cruft is baking (create or update) and writes its own record.
        return
    template, commit = template_source()
    if commit is None:
        print("WARNING: the template is not a git checkout, so .cruft.json records no commit; bake from a git URL "
              "or clone to be able to run `cruft update` later.")
    answers = {key: value for key, value in ANSWERS.items() if key not in UNRECORDED_ANSWERS}
    if PATHS["existing_tokenizer"]:
        # `cruft update` bakes again from another folder: a relative path would no longer find the tokenizer.
        answers["existing_tokenizer_path"] = PATHS["existing_tokenizer"]
    answers["_template"], answers["_commit"] = template, commit
    record = {
        "template": template,
        "commit": commit,
        "checkout": ANSWERS.get("_checkout"),
        "context": {"cookiecutter": answers},
        "directory": None,
        "skip": [],
    }
    write_json(REPO / ".cruft.json", record)


def main():
    tokenizer = ANSWERS["tokenizer"]
    if tokenizer == "train-bpe":
        tokenizer_train_bpe()
    elif tokenizer == "byte-level":
        tokenizer_byte_level()
    else:
        tokenizer_existing(pathlib.Path(PATHS["existing_tokenizer"]))
    if ANSWERS["heads"] == "causal-lm":
        heads_causal_lm_only()
    # tie_word_embeddings needs no files: config.json and the config class carry it.
    write_template_record()


if __name__ == "__main__":
    sys.exit(main())
