"""Measures this model against transformers' built-in `LlamaForCausalLM` carrying the very same weights.

A random Llama checkpoint (about 20M parameters, float32) is saved, converted with `scripts/convert_from_llama.py`
and loaded both ways; the logits must agree before anything is timed. Every setting is then measured on both models
in turn (A/B, B/A, A/B, ...) so that changes in machine load hit both alike, and the report gives, per setting, the
median of the per-round ratios `{{ cookiecutter.display_name }} / Llama` with their spread. Load time and peak memory
are measured in a fresh process each time, so that imports and allocator state start equal.

    python scripts/bench.py            # full run, a few minutes on two cores
    python scripts/bench.py --smoke    # tiny sizes, one round: checks that every row can be measured
"""

import argparse
import datetime
import gc
import json
import os
import pathlib
import platform
import re
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch


REPO = pathlib.Path(__file__).resolve().parents[1]
# A Llama of about 20M parameters: big enough that matrix products dominate, small enough for a two-core CPU.
FULL_SIZES = dict(
    model=dict(
        vocab_size=8192,
        hidden_size=384,
        intermediate_size=1024,
        num_hidden_layers=8,
        num_attention_heads=6,
        num_key_value_heads=2,
    ),
    prefill_length=512,
    prefill_batches=(1, 8),
    prompt_length=16,
    new_tokens=128,
    memory_batch=8,
    repeats=7,
    copy_mib=1024,
    tokenizer_texts=None,
)
SMOKE_SIZES = dict(
    model=dict(
        vocab_size=512,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
    ),
    prefill_length=32,
    prefill_batches=(1, 2),
    prompt_length=8,
    new_tokens=8,
    memory_batch=2,
    repeats=1,
    copy_mib=64,
    tokenizer_texts=200,
)
TIME_TARGET = 1.03
THROUGHPUT_TARGET = 0.97
MEMORY_TARGET = 1.03
COLD_OVERHEAD_TARGET_S = 0.3
LOGITS_TOLERANCE = 1e-4
# Modules of transformers imported by both modeling files (and by this repo's modeling file through public names).
SHARED_MODULES = (
    "transformers.activations",
    "transformers.cache_utils",
    "transformers.generation",
    "transformers.masking_utils",
    "transformers.modeling_layers",
    "transformers.modeling_outputs",
    "transformers.modeling_utils",
)


@dataclass
class Row:
    """One line of the report: the reference and the baked measurements, one value per round."""

    name: str
    unit: str
    higher_is_better: bool
    reference: list[float] = field(default_factory=list)
    baked: list[float] = field(default_factory=list)
    target: float | None = None
    unavailable: str | None = None

    def ratios(self) -> list[float]:
        return [baked / reference for baked, reference in zip(self.baked, self.reference, strict=True)]

    def met(self) -> bool | None:
        if self.target is None or self.unavailable:
            return None
        ratio = statistics.median(self.ratios())
        return ratio >= self.target if self.higher_is_better else ratio <= self.target


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes and one round, to check the harness")
    parser.add_argument("--repeats", type=int, help="rounds per setting (default 7, or 1 with --smoke)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads in every process (default 2)")
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile decode setting")
    parser.add_argument("--workdir", type=pathlib.Path, help="keep checkpoints here instead of a temporary folder")
    parser.add_argument("--command-label", help="how this run was started, shown in the report header")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}.")
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}.")
    return args


def log(message: str):
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------------------------
# Loading, shared by the main process and the measuring subprocesses
# ----------------------------------------------------------------------------------------------------------------


def load_model(kind: str, path: str):
    """Loads the checkpoint in `path` as transformers' Llama (`kind="llama"`) or as this repo's remote code."""
    from transformers import AutoModelForCausalLM

    remote = {"trust_remote_code": True} if kind == "baked" else {}
    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, **remote).eval()


def random_ids(vocab_size: int, batch: int, length: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(4, vocab_size, (batch, length), generator=generator)  # (B, T)


def generate(model, input_ids: torch.Tensor, new_tokens: int, cache_implementation: str | None = None):
    """Greedy generation of exactly `new_tokens` tokens (end-of-sequence cannot stop it early)."""
    with torch.inference_mode():
        return model.generate(
            input_ids,
            attention_mask=torch.ones_like(input_ids),
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,
            do_sample=False,
            cache_implementation=cache_implementation,
            pad_token_id=0,
        )


# ----------------------------------------------------------------------------------------------------------------
# Measuring subprocesses: `bench.py --worker '<json>'` prints one JSON line
# ----------------------------------------------------------------------------------------------------------------


def _status_kib(field_name: str) -> int | None:
    match = re.search(rf"^{field_name}:\s+(\d+) kB", pathlib.Path("/proc/self/status").read_text(), re.MULTILINE)
    return int(match.group(1)) if match else None


def _reset_peak_rss() -> bool:
    """Resets the kernel's resident-set high-water mark (Linux >= 4.0); False where that is not possible."""
    try:
        pathlib.Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def worker_load(spec: dict) -> dict:
    """Times a first `from_pretrained` in a fresh process, in two parts.

    The clock starts after the line every user writes first (`from transformers import AutoModelForCausalLM`). The
    first part imports the transformers modules that both modeling files need, which `from_pretrained` would import
    lazily anyway; the second is the load itself, including the model's own module (Llama's from site-packages,
    ours through the remote-code loader).
    """
    import importlib

    from transformers import AutoModelForCausalLM  # noqa: F401

    start = time.perf_counter()
    for module in SHARED_MODULES:
        importlib.import_module(module)
    imported = time.perf_counter()
    load_model(spec["kind"], spec["path"])
    return {"imports_s": imported - start, "load_s": time.perf_counter() - imported}


def worker_memory(spec: dict) -> dict:
    model = load_model(spec["kind"], spec["path"])
    input_ids = random_ids(model.config.vocab_size, spec["batch"], spec["prompt_length"])
    gc.collect()
    if _reset_peak_rss():
        before = _status_kib("VmRSS")
        generate(model, input_ids, spec["new_tokens"])
        peak, method = _status_kib("VmHWM"), "VmHWM"
    else:
        # Without a resettable high-water mark the peak also covers loading, so it can only overstate.
        before = None
        generate(model, input_ids, spec["new_tokens"])
        peak, method = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "ru_maxrss"
        if sys.platform == "darwin":
            peak //= 1024  # macOS reports bytes, Linux kibibytes
    growth = None if before is None else (peak - before) / 1024
    return {"peak_mib": peak / 1024, "growth_mib": growth, "method": method}


def run_worker(spec: dict, modules_cache: pathlib.Path, threads: int) -> dict:
    """Runs one measurement in a fresh interpreter with its own remote-code module cache."""
    env = {
        **os.environ,
        "HF_MODULES_CACHE": str(modules_cache),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_VERBOSITY": "error",
        "OMP_NUM_THREADS": str(threads),
    }
    command = [sys.executable, str(pathlib.Path(__file__).resolve()), "--threads", str(threads), "--worker"]
    result = subprocess.run(command + [json.dumps(spec)], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"Measuring {spec} failed in a subprocess:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------------------------------------------
# Checkpoints
# ----------------------------------------------------------------------------------------------------------------


def make_checkpoints(workdir: pathlib.Path, model_sizes: dict) -> tuple[pathlib.Path, pathlib.Path]:
    """Saves a random Llama and its conversion; returns both folders."""
    from transformers import LlamaConfig, LlamaForCausalLM

    sys.path.insert(0, str(REPO / "scripts"))
    from convert_from_llama import convert

    llama_dir, baked_dir = workdir / "llama", workdir / "baked"
    config = LlamaConfig(
        **model_sizes,
        max_position_embeddings=2048,
        tie_word_embeddings=False,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=1,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(llama_dir)
    convert(str(llama_dir), str(baked_dir))
    return llama_dir, baked_dir


def weight_bytes_per_token(model) -> int:
    """Bytes of parameters one batch-1 decode step reads: every weight once, but a single row of the embedding.

    The key/value cache is left out; at these lengths it is under 2% of the weights.
    """
    embedding = model.get_input_embeddings().weight
    head = model.get_output_embeddings().weight
    total = sum(parameter.numel() * parameter.element_size() for parameter in model.parameters())
    if embedding.data_ptr() != head.data_ptr():
        total -= embedding.numel() * embedding.element_size() - embedding.shape[1] * embedding.element_size()
    return total


def copy_bandwidth(mib: int, rounds: int = 5) -> float:
    """Best memory bandwidth of a large tensor copy, in bytes per second, counting the read and the write."""
    source = torch.ones(mib * 2**20 // 4)
    target = torch.empty_like(source)
    target.copy_(source)
    best = min(timed(lambda: target.copy_(source)) for _ in range(rounds))
    return 2 * source.numel() * source.element_size() / best


# ----------------------------------------------------------------------------------------------------------------
# Measurements in the main process
# ----------------------------------------------------------------------------------------------------------------


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def alternate(row: Row, measure_reference: Callable[[], float], measure_baked: Callable[[], float], repeats: int):
    """Fills `row` with `repeats` rounds, switching which model goes first every round."""
    for round_index in range(repeats):
        pair = [(row.reference, measure_reference), (row.baked, measure_baked)]
        for values, measure in pair if round_index % 2 == 0 else reversed(pair):
            values.append(measure())


def measure_prefill(models: dict, sizes: dict, repeats: int) -> list[Row]:
    rows = []
    for batch in sizes["prefill_batches"]:
        input_ids = random_ids(models["llama"].config.vocab_size, batch, sizes["prefill_length"])

        def prefill(model, input_ids=input_ids):
            with torch.inference_mode():
                return timed(lambda: model(input_ids=input_ids, logits_to_keep=1)) * 1000

        name = f"Prefill latency, batch {batch} x {sizes['prefill_length']} tokens"
        row = Row(name, "ms", False, target=TIME_TARGET)
        log(f"measuring: {row.name}")
        prefill(models["llama"]), prefill(models["baked"])
        alternate(row, lambda: prefill(models["llama"]), lambda: prefill(models["baked"]), repeats)
        rows.append(row)
    return rows


def measure_decode(models: dict, sizes: dict, repeats: int, label: str, cache_implementation: str | None) -> Row:
    input_ids = random_ids(models["llama"].config.vocab_size, 1, sizes["prompt_length"])
    new_tokens = sizes["new_tokens"]

    def decode(model):
        return new_tokens / timed(lambda: generate(model, input_ids, new_tokens, cache_implementation))

    row = Row(f"Decode, batch 1, {new_tokens} new tokens, {label}", "tokens/s", True, target=THROUGHPUT_TARGET)
    log(f"measuring: {row.name}")
    decode(models["llama"]), decode(models["baked"])
    alternate(row, lambda: decode(models["llama"]), lambda: decode(models["baked"]), repeats)
    return row


def compile_decode_step(model):
    """Wraps `model.forward` so that one-token steps run through `torch.compile` and the prompt runs eagerly.

    This is how `generate` compiles by itself on accelerators: a static cache keeps the shapes of every decode step
    the same, so the compiled graph is reused, while prompts of any length would each need a graph of their own.
    """
    eager_forward = model.forward
    compiled_forward = torch.compile(eager_forward)

    def forward(*args, **kwargs):
        input_ids = kwargs.get("input_ids")
        one_token = input_ids is not None and input_ids.shape[1] == 1
        return (compiled_forward if one_token else eager_forward)(*args, **kwargs)

    model.forward = forward


def measure_compiled_decode(models: dict, sizes: dict, repeats: int, skip_reason: str | None) -> Row:
    """Static-cache decode with compiled decode steps (this changes the models for good, so it runs last)."""
    row = Row(
        f"Decode, batch 1, {sizes['new_tokens']} new tokens, static cache + torch.compile",
        "tokens/s",
        True,
        target=THROUGHPUT_TARGET,
    )
    if skip_reason:
        row.unavailable = skip_reason
        return row
    input_ids = random_ids(models["llama"].config.vocab_size, 1, sizes["prompt_length"])
    for name, model in models.items():
        log(f"compiling the decode step of {name} (a minute or two on two cores)")
        start = time.perf_counter()
        try:
            compile_decode_step(model)
            # Two warm-up calls: the first compiles, the second settles the recompilation for the growing mask.
            generate(model, input_ids, sizes["new_tokens"], "static")
            generate(model, input_ids, sizes["new_tokens"], "static")
        except Exception as error:  # noqa: BLE001 - any compiler failure means this setting cannot be measured here
            message = str(error).strip().splitlines()[0][:150] if str(error).strip() else ""
            row.unavailable = f"torch.compile failed for {name}: {type(error).__name__} {message}".strip()
            return row
        log(f"  {name}: compiled and warmed up in {time.perf_counter() - start:.0f} s")
    new_tokens = sizes["new_tokens"]

    def decode(model):
        return new_tokens / timed(lambda: generate(model, input_ids, new_tokens, "static"))

    log(f"measuring: {row.name}")
    alternate(row, lambda: decode(models["llama"]), lambda: decode(models["baked"]), repeats)
    return row


def measure_tokenizer(sizes: dict, repeats: int) -> list[Row]:
    """Batch encoding of Python's own documentation by this repo's tokenizer class, against two references.

    The raw `tokenizers.Tokenizer` shows the whole cost of the class; transformers' `PreTrainedTokenizerFast` on the
    same file is the wrapper every built-in fast tokenizer has, so the gap to it is what this repo's class adds.
    """
    from pydoc_data.topics import topics

    from tokenizers import Tokenizer
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    texts = [paragraph for topic in topics.values() for paragraph in topic.split("\n\n") if paragraph.strip()]
    texts = texts[: sizes["tokenizer_texts"]]
    megabytes = sum(len(text.encode("utf-8")) for text in texts) / 1e6
    tokenizer = AutoTokenizer.from_pretrained(REPO, trust_remote_code=True)
    expected_class = "{{ cookiecutter.class_prefix }}TokenizerFast"
    if type(tokenizer).__name__ != expected_class:
        raise RuntimeError(f"AutoTokenizer loaded {type(tokenizer).__name__} from {REPO}, expected {expected_class}.")
    raw = Tokenizer.from_file(str(REPO / "tokenizer.json"))
    wrapper = PreTrainedTokenizerFast(tokenizer_file=str(REPO / "tokenizer.json"))

    def encode_raw():
        # The same output the classes return: token ids and attention masks as Python lists.
        encodings = raw.encode_batch(texts)
        return [encoding.ids for encoding in encodings], [encoding.attention_mask for encoding in encodings]

    candidates = {"class": lambda: tokenizer(texts), "wrapper": lambda: wrapper(texts)}
    expected_ids = encode_raw()[0]
    for name, encode in candidates.items():
        if encode()["input_ids"] != expected_ids:
            raise RuntimeError(f"The {name} and the raw tokenizers object encode the same text differently.")

    def throughput(encode):
        return lambda: megabytes / timed(encode)

    name = f"Tokenizer batch encode, {len(texts)} texts ({megabytes:.2f} MB)"
    against_raw = Row(f"{name}, against raw tokenizers", "MB/s", True, target=THROUGHPUT_TARGET)
    against_wrapper = Row(f"{name}, against PreTrainedTokenizerFast", "MB/s", True, target=THROUGHPUT_TARGET)
    log(f"measuring: {name}")
    alternate(against_raw, throughput(encode_raw), throughput(candidates["class"]), repeats)
    alternate(against_wrapper, throughput(candidates["wrapper"]), throughput(candidates["class"]), repeats)
    return [against_raw, against_wrapper]


def measure_loading(dirs: dict, workdir: pathlib.Path, repeats: int, threads: int) -> dict[str, Row]:
    """`from_pretrained` in fresh processes: Llama, ours with a warm module cache, ours with an empty one."""
    warm_cache = workdir / "modules-warm"
    # Fills the warm module cache once, untimed.
    run_worker({"mode": "load", "kind": "baked", "path": str(dirs["baked"])}, warm_cache, threads)
    rows = {
        "warm": Row("from_pretrained in a fresh process, warm module cache", "s", False, target=TIME_TARGET),
        "cold": Row("from_pretrained in a fresh process, cold module cache", "s", False, target=TIME_TARGET),
        "warm_work": Row("  load work alone (shared transformers imports excluded), warm", "s", False),
        "cold_work": Row("  load work alone (shared transformers imports excluded), cold", "s", False),
    }
    log("measuring: from_pretrained in fresh processes")
    # Llama has no remote-code step, so each Llama load is the reference of both the warm and the cold rows.
    steps = [("llama", None), ("baked", "warm"), ("baked", "cold")]
    for round_index in range(repeats):
        for kind, cache_state in steps if round_index % 2 == 0 else reversed(steps):
            if cache_state == "cold":
                cache = pathlib.Path(tempfile.mkdtemp(prefix="modules-cold-", dir=workdir))
            else:
                cache = warm_cache
            result = run_worker({"mode": "load", "kind": kind, "path": str(dirs[kind])}, cache, threads)
            total = result["imports_s"] + result["load_s"]
            for state in ("warm", "cold") if kind == "llama" else (cache_state,):
                values = "reference" if kind == "llama" else "baked"
                getattr(rows[state], values).append(total)
                getattr(rows[f"{state}_work"], values).append(result["load_s"])
    return rows


def measure_memory(dirs: dict, workdir: pathlib.Path, sizes: dict, repeats: int, threads: int) -> list[Row]:
    """Resident memory of a fresh process around one `generate` call (see `worker_memory`)."""
    peak = Row(
        f"Peak RSS during generate, batch {sizes['memory_batch']} x {sizes['prefill_length']} + "
        f"{sizes['new_tokens']} new tokens",
        "MiB",
        False,
        target=MEMORY_TARGET,
    )
    growth = Row("  of which allocated by generate", "MiB", False)
    spec = {
        "mode": "memory",
        "batch": sizes["memory_batch"],
        "prompt_length": sizes["prefill_length"],
        "new_tokens": sizes["new_tokens"],
    }
    log(f"measuring: {peak.name} (fresh processes)")
    methods = set()
    for round_index in range(repeats):
        for kind in ("llama", "baked") if round_index % 2 == 0 else ("baked", "llama"):
            result = run_worker({**spec, "kind": kind, "path": str(dirs[kind])}, workdir / "modules-warm", threads)
            methods.add(result["method"])
            values = "reference" if kind == "llama" else "baked"
            getattr(peak, values).append(result["peak_mib"])
            if result["growth_mib"] is not None:
                getattr(growth, values).append(result["growth_mib"])
    if "ru_maxrss" in methods:
        peak.name += " (process peak, loading included)"
        growth.unavailable = "the peak resident set size cannot be reset on this system"
    return [peak, growth]


# ----------------------------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------------------------


def _value(values: list[float], unit: str) -> str:
    median = statistics.median(values)
    digits = 3 if unit == "s" else 2 if median < 10 else 1
    return f"{median:.{digits}f} {unit}"


def _target(row: Row) -> str:
    if row.target is None:
        return ""
    return f"{'>=' if row.higher_is_better else '<='} {row.target:.2f}"


def _seconds_row(name: str, differences: list[float], target: float | None = None) -> str:
    median = statistics.median(differences)
    spread = f"({min(differences):.3f} to {max(differences):.3f} s)"
    met = "" if target is None else "yes" if median < target else "**no**"
    return f"| {name} | | {median:+.3f} s | {spread} | {'' if target is None else f'< {target} s'} | {met} |"


def report(header: list[str], rows: list[Row], loading: dict[str, Row], bound: dict, decode_rows: list[Row]) -> str:
    lines = header + [
        "",
        "| Setting | Reference | Baked | Ratio baked / reference: median (min-max) | Target | Met |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        if row.unavailable:
            lines.append(f"| {row.name} | n/a | n/a | n/a: {row.unavailable} | {_target(row)} | |")
            continue
        ratios = row.ratios()
        spread = f"{statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f})"
        met = {True: "yes", False: "**no**", None: ""}[row.met()]
        reference, baked = _value(row.reference, row.unit), _value(row.baked, row.unit)
        lines.append(f"| {row.name} | {reference} | {baked} | {spread} | {_target(row)} | {met} |")
    warm, cold = loading["warm_work"], loading["cold_work"]
    lines += [
        _seconds_row(
            "Remote-code overhead over Llama, warm module cache",
            [baked - reference for baked, reference in zip(warm.baked, warm.reference, strict=True)],
        ),
        _seconds_row(
            "Remote-code overhead, cold over warm module cache",
            [cold_s - warm_s for cold_s, warm_s in zip(cold.baked, warm.baked, strict=True)],
            COLD_OVERHEAD_TARGET_S,
        ),
        "",
        f"Batch-1 decode bound: {bound['bytes'] / 1e6:.1f} MB of weights read per token / "
        f"{bound['bandwidth'] / 1e9:.1f} GB/s memory copy bandwidth = {bound['tokens_per_s']:.0f} tokens/s.",
        "",
        "| Decode setting | Llama tokens/s | Llama fraction of bound | Baked tokens/s | Baked fraction of bound |",
        "|---|---|---|---|---|",
    ]
    for row in decode_rows:
        setting = row.name.split(", ")[-1]
        if row.unavailable:
            lines.append(f"| {setting} | n/a | | n/a | |")
            continue
        reference, baked = statistics.median(row.reference), statistics.median(row.baked)
        limit = bound["tokens_per_s"]
        lines.append(f"| {setting} | {reference:.1f} | {reference / limit:.2f} | {baked:.1f} | {baked / limit:.2f} |")
    return "\n".join(lines)


def header_lines(args: argparse.Namespace, sizes: dict, parameters: int, logits_error: float, repeats: int):
    import transformers

    command = args.command_label or shlex.join(["python", "scripts/bench.py", *sys.argv[1:]])
    model = sizes["model"]
    rounds = f"{repeats} round{'s' if repeats > 1 else ''}"
    return [
        f"Measured {datetime.date.today().isoformat()} with `{command}`: torch {torch.__version__}, "
        f"transformers {transformers.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{args.threads} torch threads.",
        "",
        f"Model: random Llama, {parameters / 1e6:.1f}M parameters in float32 (hidden {model['hidden_size']}, "
        f"{model['num_hidden_layers']} layers, {model['num_attention_heads']} heads, "
        f"{model['num_key_value_heads']} key/value heads, vocabulary {model['vocab_size']}), converted with "
        f"`scripts/convert_from_llama.py`; logits agree to {logits_error:.1e}. Reference: `LlamaForCausalLM` "
        f"(for the tokenizer rows, the raw `tokenizers.Tokenizer` or `PreTrainedTokenizerFast` on the same file). "
        f"{rounds} per setting, alternating the two.",
    ]


# ----------------------------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace, workdir: pathlib.Path) -> int:
    sizes = SMOKE_SIZES if args.smoke else FULL_SIZES
    repeats = args.repeats or sizes["repeats"]
    started = time.perf_counter()
    # The main process loads remote code from its own cache, so the user's module cache is left untouched.
    os.environ["HF_MODULES_CACHE"] = str(workdir / "modules-main")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()

    log(f"building and converting a random Llama in {workdir}")
    llama_dir, baked_dir = make_checkpoints(workdir, sizes["model"])
    dirs = {"llama": llama_dir, "baked": baked_dir}
    models = {kind: load_model(kind, str(path)) for kind, path in dirs.items()}

    check_ids = random_ids(sizes["model"]["vocab_size"], 2, 64, seed=1)
    with torch.inference_mode():
        logits = {kind: model(input_ids=check_ids).logits for kind, model in models.items()}
    logits_error = (logits["llama"] - logits["baked"]).abs().max().item()
    if not logits_error <= LOGITS_TOLERANCE:
        log(f"The converted model's logits differ from Llama's by {logits_error:.2e} (tolerance {LOGITS_TOLERANCE}),")
        log("so their timings would compare different computations. Check scripts/convert_from_llama.py first.")
        return 1

    rows = measure_prefill(models, sizes, repeats)
    decode_rows = [
        measure_decode(models, sizes, repeats, "dynamic cache", None),
        measure_decode(models, sizes, repeats, "static cache", "static"),
    ]
    loading = measure_loading(dirs, workdir, repeats, args.threads)
    memory_rows = measure_memory(dirs, workdir, sizes, min(repeats, 3), args.threads)
    tokenizer_rows = measure_tokenizer(sizes, repeats)
    log("measuring: memory copy bandwidth")
    bytes_per_token = weight_bytes_per_token(models["baked"])
    bandwidth = copy_bandwidth(sizes["copy_mib"])
    bound = {"bytes": bytes_per_token, "bandwidth": bandwidth, "tokens_per_s": bandwidth / bytes_per_token}
    skip_compile = "skipped with --smoke" if args.smoke else "skipped with --no-compile" if args.no_compile else None
    decode_rows.append(measure_compiled_decode(models, sizes, repeats, skip_compile))

    parameters = sum(parameter.numel() for parameter in models["llama"].parameters())
    header = header_lines(args, sizes, parameters, logits_error, repeats)
    all_rows = rows + decode_rows + list(loading.values()) + memory_rows + tokenizer_rows
    print(report(header, all_rows, loading, bound, decode_rows))
    missed = [row.name.strip() for row in all_rows if row.met() is False]
    cold, warm = loading["cold_work"].baked, loading["warm_work"].baked
    cold_overhead = [cold_s - warm_s for cold_s, warm_s in zip(cold, warm, strict=True)]
    if statistics.median(cold_overhead) >= COLD_OVERHEAD_TARGET_S:
        missed.append("remote-code overhead, cold over warm module cache")
    print("\nAll targets met." if not missed else f"\nTargets missed: {'; '.join(missed)}.")
    log(f"benchmark finished in {time.perf_counter() - started:.0f} s")
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.worker:
        spec = json.loads(args.worker)
        result = {"load": worker_load, "memory": worker_memory}[spec["mode"]](spec)
        print(json.dumps(result))
        return 0
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        # A new folder inside, so that nothing already in --workdir is touched.
        return run(args, pathlib.Path(tempfile.mkdtemp(prefix="bench-", dir=args.workdir.resolve())))
    with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
        return run(args, pathlib.Path(workdir))


if __name__ == "__main__":
    sys.exit(main())
