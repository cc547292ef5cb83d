"""Tokenizer class of {{ cookiecutter.display_name }}: a byte-level BPE served by the `tokenizers` library."""

from transformers import PreTrainedTokenizerFast


class {{ cookiecutter.class_prefix }}TokenizerFast(PreTrainedTokenizerFast):
    """Byte-level BPE tokenizer read from `tokenizer.json`.

    Every byte has a token, so any text round-trips without unknown tokens. Padding goes on the left by default, which
    is what batched generation with a decoder-only model needs.
    """

    vocab_files_names = {"tokenizer_file": "tokenizer.json"}
    model_input_names = ["input_ids", "attention_mask"]
    padding_side = "left"
    slow_tokenizer_class = None


__all__ = ["{{ cookiecutter.class_prefix }}TokenizerFast"]
