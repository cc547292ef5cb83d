"""Writes a checkpoint of {{ cookiecutter.display_name }}: tokenizer files, config, generation config and safetensors weights.

Examples:

    python scripts/build_checkpoint.py --preset tiny
    python scripts/build_checkpoint.py --preset small --corpus data/*.txt --train-steps 500
    python scripts/build_checkpoint.py --preset base --corpus data/*.txt --vocab-size 32000 --output /tmp/base

The model is built from this repository's own code, loaded as remote code, so the saved folder carries the `.py`
files and the `auto_map` it needs to load anywhere with `trust_remote_code=True`. Every file is first written to a
temporary folder and moved into `--output` only once the whole build has succeeded.
"""

import argparse
import json
import math
import os
import pathlib
import shutil
import sys
import tempfile

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    GenerationConfig,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    default_data_collator,
    set_seed,
)
from transformers.trainer_callback import PrinterCallback


REPO = pathlib.Path(__file__).resolve().parents[1]
MODULE_NAME = "{{ cookiecutter.module_name }}"
# How this repository was baked: "train-bpe" trains a tokenizer on --corpus; "byte-level" and "existing" keep the
# repository's tokenizer.json and use the corpus for training the model only.
TOKENIZER_MODE = "{{ cookiecutter.tokenizer }}"
# Same tokens, in the same order (so with the same ids), as the tokenizer.json written when the repository was baked.
SPECIAL_TOKENS = ["<|endoftext|>", "<|pad|>", "<|im_start|>", "<|im_end|>"]
MIN_VOCAB_SIZE = len(SPECIAL_TOKENS) + 256
DEFAULT_VOCAB_SIZE = 8192
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja"]

# Model sizes. `tiny` matches the config.json shipped with the repository and trains in seconds on a laptop CPU.
PRESETS = {
    "tiny": dict(
        hidden_size=64, intermediate_size=176, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        head_dim=16,
    ),
    "small": dict(
        hidden_size=384, intermediate_size=1024, num_hidden_layers=8, num_attention_heads=6, num_key_value_heads=2,
        head_dim=64,
    ),
    "base": dict(
        hidden_size=768, intermediate_size=2048, num_hidden_layers=12, num_attention_heads=12, num_key_value_heads=4,
        head_dim=64,
    ),
}
# Peak learning rates that make a few hundred steps visibly useful at each size; smaller models tolerate more.
LEARNING_RATES = {"tiny": 2e-3, "small": 1e-3, "base": 6e-4}
MAX_EVAL_BLOCKS = 32


class BuildError(Exception):
    """A problem with the command line or the inputs, reported to the user as one message."""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="tiny", help="model size (default: tiny)")
    parser.add_argument("--corpus", nargs="+", type=pathlib.Path, default=[], metavar="FILE", help="UTF-8 text files")
    parser.add_argument(
        "--vocab-size",
        type=int,
        help=f"BPE vocabulary trained on --corpus (default: {DEFAULT_VOCAB_SIZE}; only with tokenizer=train-bpe)",
    )
    parser.add_argument("--train-steps", type=int, default=0, help="causal-LM training steps on --corpus (default: 0)")
    parser.add_argument("--block-size", type=int, default=128, help="tokens per training sequence (default: 128)")
    parser.add_argument("--batch-size", type=int, default=8, help="sequences per training step (default: 8)")
    parser.add_argument("--learning-rate", type=float, help="peak learning rate (default: depends on --preset)")
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32", help="dtype of saved weights")
    parser.add_argument("--output", type=pathlib.Path, default=REPO, help="folder to write (default: this repository)")
    parser.add_argument("--seed", type=int, default=0, help="seed of initialisation and training (default: 0)")
    return parser.parse_args(argv)


def check_args(args: argparse.Namespace):
    """Rejects every bad input before anything is computed or written."""
    if TOKENIZER_MODE != "train-bpe" and args.vocab_size is not None:
        raise BuildError(
            f"--vocab-size only applies to repositories baked with tokenizer=train-bpe, and this one uses "
            f"tokenizer={TOKENIZER_MODE}, whose vocabulary is fixed. Drop --vocab-size."
        )
    if args.vocab_size is not None and not args.corpus:
        raise BuildError(f"--vocab-size {args.vocab_size} needs a --corpus to train the tokenizer on.")
    if args.vocab_size is not None and args.vocab_size < MIN_VOCAB_SIZE:
        raise BuildError(
            f"--vocab-size {args.vocab_size} is too small: a byte-level BPE needs at least {MIN_VOCAB_SIZE} tokens "
            f"({len(SPECIAL_TOKENS)} special tokens and 256 bytes). Pass a larger value, e.g. {DEFAULT_VOCAB_SIZE}."
        )
    if args.train_steps < 0:
        raise BuildError(f"--train-steps must be 0 or more, got {args.train_steps}.")
    if args.train_steps and not args.corpus:
        raise BuildError(f"--train-steps {args.train_steps} needs a --corpus to train on.")
    for name in ("block_size", "batch_size"):
        if getattr(args, name) < 1:
            raise BuildError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}.")
    max_positions = json.loads((REPO / "config.json").read_text(encoding="utf-8")).get("max_position_embeddings")
    if max_positions is not None and args.block_size > max_positions:
        raise BuildError(
            f"--block-size {args.block_size} is longer than max_position_embeddings {max_positions} in config.json, "
            f"so training would use positions the model is not built for. Pass --block-size {max_positions} or "
            "less, or raise max_position_embeddings in config.json first."
        )
    if args.learning_rate is not None and not args.learning_rate > 0:
        raise BuildError(f"--learning-rate must be positive, got {args.learning_rate}.")
    for path in args.corpus:
        if not path.is_file():
            raise BuildError(f"Corpus file {path} does not exist or is not a file. Pass paths of UTF-8 text files.")
    output = args.output.resolve()
    if output.exists() and not output.is_dir():
        raise BuildError(f"--output {args.output} is a file, not a folder. Pass a folder path (it may not exist yet).")
    existing = next(parent for parent in [output, *output.parents] if parent.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        raise BuildError(f"--output {args.output} cannot be written: {existing} is not a writable folder.")


def read_corpus(paths: list[pathlib.Path]) -> list[str]:
    """Reads every corpus file as UTF-8 text.

    NOTE: the whole corpus is held in memory; this script is meant for corpora of up to a few hundred megabytes.
    """
    texts = []
    for path in paths:
        try:
            texts.append(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as error:
            raise BuildError(f"Corpus file {path} is not UTF-8 text ({error}). Convert it to UTF-8 first.") from None
    if not any(text.strip() for text in texts):
        raise BuildError(f"The corpus ({', '.join(map(str, paths))}) holds no text. Pass files with prose or code.")
    return texts


def train_tokenizer(texts: list[str], vocab_size: int) -> Tokenizer:
    """Trains a byte-level BPE whose first tokens are `SPECIAL_TOKENS` and which covers all 256 bytes."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    # Lines rather than whole files, so that the trainer can spread the counting over threads.
    tokenizer.train_from_iterator((line for text in texts for line in text.splitlines(keepends=True)), trainer)
    return tokenizer


def special_token_ids(tokenizer: Tokenizer, tokenizer_config: dict) -> dict[str, int]:
    """Ids of the bos, eos and pad tokens named in tokenizer_config.json."""
    ids = {}
    for role in ("bos_token", "eos_token", "pad_token"):
        token = tokenizer_config.get(role)
        token = token.get("content") if isinstance(token, dict) else token
        token_id = tokenizer.token_to_id(token) if token else None
        if token_id is None:
            raise BuildError(
                f"tokenizer_config.json names {role}={token!r}, which tokenizer.json does not contain. Make the two "
                f"files agree before building a checkpoint."
            )
        ids[role + "_id"] = token_id
    return ids


class TokenBlocks(torch.utils.data.Dataset):
    """Fixed-length blocks of token ids; each item is its own label (the model shifts labels internally)."""

    def __init__(self, blocks: torch.Tensor):
        self.blocks = blocks  # (num_blocks, block_size)

    def __len__(self) -> int:
        return self.blocks.shape[0]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.blocks[index], "labels": self.blocks[index]}


def split_blocks(ids: list[int], block_size: int) -> tuple[TokenBlocks, TokenBlocks]:
    """Cuts the token stream into blocks and holds out a fixed, evenly spread set of them for evaluation."""
    num_blocks = len(ids) // block_size
    if num_blocks < 2:
        raise BuildError(
            f"The corpus has {len(ids)} tokens, too few for one training and one evaluation block of {block_size} "
            f"tokens. Pass more text or a smaller --block-size."
        )
    blocks = torch.tensor(ids[: num_blocks * block_size]).view(num_blocks, block_size)
    num_eval = min(MAX_EVAL_BLOCKS, max(1, num_blocks // 10))
    # Evenly spread rather than random: the same corpus always gives the same evaluation set.
    is_eval = torch.zeros(num_blocks, dtype=torch.bool)
    is_eval[torch.linspace(0, num_blocks - 1, num_eval).round().long()] = True
    return TokenBlocks(blocks[~is_eval]), TokenBlocks(blocks[is_eval])


class PrintLoss(TrainerCallback):
    """Prints one short line per logging step instead of the Trainer's dictionaries."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and logs and "loss" in logs:
            print(f"step {state.global_step}/{state.max_steps}  loss {logs['loss']:.3f}", flush=True)


def train(model, train_set: TokenBlocks, eval_set: TokenBlocks, args: argparse.Namespace, scratch: str):
    """Runs `args.train_steps` steps of causal-LM training and prints the evaluation loss before and after."""
    learning_rate = args.learning_rate or LEARNING_RATES[args.preset]
    use_cache = model.config.use_cache
    training_args = TrainingArguments(
        output_dir=scratch,
        max_steps=args.train_steps,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=args.batch_size,
        learning_rate=learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=min(100, args.train_steps // 10),
        weight_decay=0.1,
        logging_steps=max(1, args.train_steps // 10),
        save_strategy="no",
        eval_strategy="no",
        report_to="none",
        disable_tqdm=True,
        dataloader_pin_memory=torch.cuda.is_available(),
        seed=args.seed,
    )
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=train_set,
        eval_dataset=eval_set,
        data_collator=default_data_collator,
        callbacks=[PrintLoss()],
    )
    trainer.remove_callback(PrinterCallback)
    before = trainer.evaluate()["eval_loss"]
    print(f"eval loss before training: {before:.4f} (perplexity {math.exp(before):.1f})", flush=True)
    trainer.train()
    after = trainer.evaluate()["eval_loss"]
    print(f"eval loss after {args.train_steps} steps: {after:.4f} (perplexity {math.exp(after):.1f})", flush=True)
    model.eval()
    # Some Trainer releases switch the cache off for training; the saved config should say what inference wants.
    model.config.use_cache = use_cache


def build(args: argparse.Namespace, staging: pathlib.Path):
    """Writes every file of the checkpoint into `staging`."""
    texts = read_corpus(args.corpus) if args.corpus else []
    if TOKENIZER_MODE == "train-bpe" and texts:
        requested = args.vocab_size or DEFAULT_VOCAB_SIZE
        tokenizer = train_tokenizer(texts, requested)
        tokenizer.save(str(staging / "tokenizer.json"))
        size = tokenizer.get_vocab_size()
        print(f"tokenizer: byte-level BPE trained on {len(texts)} file(s), {size} tokens", flush=True)
        if size < requested:
            print(f"note: the corpus supports only {size} of the {requested} requested tokens", flush=True)
    else:
        tokenizer = Tokenizer.from_file(str(REPO / "tokenizer.json"))
        print(f"tokenizer: this repository's tokenizer.json, {tokenizer.get_vocab_size()} tokens", flush=True)
    for name in [*TOKENIZER_FILES, f"tokenization_{MODULE_NAME}.py"]:
        if (REPO / name).is_file() and not (staging / name).exists():
            shutil.copy2(REPO / name, staging / name)
    token_ids = special_token_ids(tokenizer, json.loads((staging / "tokenizer_config.json").read_text("utf-8")))

    set_seed(args.seed)
    base_config = AutoConfig.from_pretrained(REPO, trust_remote_code=True)
    values = {**base_config.to_dict(), **PRESETS[args.preset], **token_ids}
    values["vocab_size"] = tokenizer.get_vocab_size()
    # Rebuilt from a dictionary (not patched attribute by attribute) so that the config checks the new sizes.
    config = type(base_config).from_dict(values)
    model = AutoModelForCausalLM.from_config(config, trust_remote_code=True)
    print(f"model: {args.preset} preset, {model.num_parameters() / 1e6:.1f}M parameters", flush=True)
    # The tokenizer warns about inputs longer than the model's positions, so it must know the same limit.
    tokenizer_config_path = staging / "tokenizer_config.json"
    tokenizer_config = json.loads(tokenizer_config_path.read_text("utf-8"))
    tokenizer_config["model_max_length"] = config.max_position_embeddings
    tokenizer_config_path.write_text(json.dumps(tokenizer_config, indent=2, ensure_ascii=False) + "\n", "utf-8")
    # The model card goes along, so that a folder built elsewhere is a complete Hub repository too.
    if (REPO / "README.md").is_file():
        shutil.copy2(REPO / "README.md", staging / "README.md")

    if args.train_steps:
        ids = []
        for text in texts:
            ids.extend(tokenizer.encode(text).ids)
            ids.append(token_ids["eos_token_id"])
        train_set, eval_set = split_blocks(ids, args.block_size)
        print(
            f"data: {len(ids):,} tokens, {len(train_set)} training and {len(eval_set)} eval blocks of "
            f"{args.block_size}",
            flush=True,
        )
        with tempfile.TemporaryDirectory(prefix="trainer-") as scratch:
            train(model, train_set, eval_set, args, scratch)

    generation_config = GenerationConfig.from_pretrained(REPO)
    generation_config.bos_token_id = token_ids["bos_token_id"]
    generation_config.pad_token_id = token_ids["pad_token_id"]
    eos = [token_ids["eos_token_id"]]
    # The end-of-turn token stops chat replies; it exists in the baked tokenizers but maybe not in a reused one.
    end_of_turn = tokenizer.token_to_id("<|im_end|>")
    generation_config.eos_token_id = eos + [end_of_turn] if end_of_turn not in (None, *eos) else eos[0]
    model.generation_config = generation_config
    model.to(getattr(torch, args.dtype)).save_pretrained(staging)
    unsafe = sorted(path.name for path in staging.glob("*.bin"))
    if unsafe:
        raise BuildError(f"save_pretrained wrote pickle weights ({', '.join(unsafe)}); only safetensors are allowed.")


def move_into(staging: pathlib.Path, output: pathlib.Path) -> list[str]:
    """Moves the staged files into `output`, replacing older weights; returns the names of the files written."""
    output.mkdir(parents=True, exist_ok=True)
    staged = sorted(path.name for path in staging.iterdir())
    # Weights of an earlier build that this one does not overwrite (other shards, an index) would be loaded with it.
    for stale in [*output.glob("model*.safetensors"), output / "model.safetensors.index.json"]:
        if stale.is_file() and stale.name not in staged:
            stale.unlink()
    umask = os.umask(0)
    os.umask(umask)
    for name in staged:
        # Some writers create private temporary files; the checkpoint should get the usual permissions instead.
        os.chmod(staging / name, 0o666 & ~umask)
        os.replace(staging / name, output / name)
    return staged


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        check_args(args)
        output = args.output.resolve()
        # Staged next to the output when possible, so that the final moves are renames on one filesystem.
        parent = next(folder for folder in [output.parent, *output.parents] if folder.is_dir())
        with tempfile.TemporaryDirectory(prefix=f".{output.name}-build-", dir=parent) as staging:
            build(args, pathlib.Path(staging))
            written = move_into(pathlib.Path(staging), output)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} files to {output}: {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
