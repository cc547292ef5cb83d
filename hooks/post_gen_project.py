"""Finishes a freshly baked repository: writes the starting tokenizer and removes files of options not chosen."""

import json
import pathlib
import sys

SPECIAL_TOKENS = ["<|endoftext|>", "<|pad|>", "<|im_start|>", "<|im_end|>"]

REPO = pathlib.Path.cwd()
MODULE_NAME = "{{ cookiecutter.module_name }}"
HEADS = "{{ cookiecutter.heads }}"
TOKENIZER = "{{ cookiecutter.tokenizer }}"


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
    for byte, char in sorted(byte_to_unicode().items()):
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


def main():
    write_byte_level_tokenizer()


if __name__ == "__main__":
    sys.exit(main())
