"""scripts/bench.py: the report has every row, and the helpers behind its numbers count what they claim to count.

Nothing here asserts a timing: the benchmark reports speed, the tests check that it measures the right things.
"""

import fnmatch
import re
import subprocess
import sys

import pytest
import torch
from conftest import REPO, load_script


bench = load_script("bench")


@pytest.mark.parametrize("tie_word_embeddings", [True, False])
def test_weight_bytes_per_token_reads_one_embedding_row_unless_the_head_shares_it(tiny_model, tie_word_embeddings):
    model = tiny_model(tie_word_embeddings=tie_word_embeddings)
    vocab_size, hidden_size = model.config.vocab_size, model.config.hidden_size
    all_parameters = sum(parameter.numel() for parameter in model.parameters())  # tied weights counted once
    # A tied head reads the whole matrix every step; an untied embedding is read one row at a time.
    expected = all_parameters if tie_word_embeddings else all_parameters - (vocab_size - 1) * hidden_size
    assert bench.weight_bytes_per_token(model) == expected * 4


def test_alternate_switches_which_side_goes_first_every_round():
    calls = []
    row = bench.Row("setting", "ms", False)
    bench.alternate(row, lambda: calls.append("llama") or 1.0, lambda: calls.append("baked") or 2.0, repeats=3)
    assert calls == ["llama", "baked", "baked", "llama", "llama", "baked"]
    assert row.reference == [1.0, 1.0, 1.0] and row.baked == [2.0, 2.0, 2.0]


@pytest.mark.parametrize(
    ("higher_is_better", "reference", "baked", "met"),
    [
        (False, [100.0, 100.0, 100.0], [102.0, 103.0, 110.0], True),  # median ratio 1.03: at the time limit
        (False, [100.0, 100.0, 100.0], [104.0, 104.0, 90.0], False),  # median 1.04 although one round was faster
        (True, [100.0, 100.0, 100.0], [97.0, 99.0, 90.0], True),  # median 0.97: at the throughput limit
        (True, [100.0, 100.0, 100.0], [96.0, 96.0, 120.0], False),
    ],
)
def test_target_is_judged_on_the_median_ratio_in_the_right_direction(higher_is_better, reference, baked, met):
    target = bench.THROUGHPUT_TARGET if higher_is_better else bench.TIME_TARGET
    row = bench.Row("setting", "", higher_is_better, reference=reference, baked=baked, target=target)
    assert row.met() is met


def test_copy_bandwidth_counts_the_read_and_the_write(monkeypatch):
    monkeypatch.setattr(bench, "timed", lambda function: 0.5)
    # 1 MiB read and 1 MiB written in half a second.
    assert bench.copy_bandwidth(mib=1, rounds=2) == pytest.approx(4 * 2**20)


@pytest.mark.slow
def test_smoke_run_prints_every_row_of_the_report(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench.py"), "--smoke", "--threads", "1", "--workdir", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = result.stdout
    assert f"torch {torch.__version__}" in report and "transformers " in report
    assert "`python scripts/bench.py --smoke --threads 1 --workdir" in report
    error = float(re.search(r"logits agree to (\S+?)\.\s", report).group(1))
    assert error <= bench.LOGITS_TOLERANCE

    ratio_rows = [
        "Prefill latency, batch 1 x 32 tokens",
        "Prefill latency, batch 2 x 32 tokens",
        "Decode, batch 1, 8 new tokens, dynamic cache",
        "Decode, batch 1, 8 new tokens, static cache",
        "from_pretrained in a fresh process, warm module cache",
        "from_pretrained in a fresh process, cold module cache",
        "load work alone (shared transformers imports excluded), warm",
        "load work alone (shared transformers imports excluded), cold",
        "Peak RSS during generate, batch 2 x 32 + 8 new tokens*",
        "of which allocated by generate",
        "Tokenizer batch encode, 200 texts (* MB), against raw tokenizers",
        "Tokenizer batch encode, 200 texts (* MB), against PreTrainedTokenizerFast",
    ]
    rows = {line.split("|")[1].strip(): line for line in report.splitlines() if line.startswith("| ")}
    for name in ratio_rows:
        line = next((line for row, line in rows.items() if fnmatch.fnmatchcase(row, name)), None)
        assert line is not None, f"no row {name!r} in:\n{report}"
        assert re.search(r"\| \d+\.\d{3} \(\d+\.\d{3}-\d+\.\d{3}\) \|", line), line
    compiled = rows["Decode, batch 1, 8 new tokens, static cache + torch.compile"]
    assert "n/a: skipped with --smoke" in compiled
    overheads = [
        "Remote-code overhead over Llama, warm module cache",
        "Remote-code overhead, cold over warm module cache",
    ]
    for name in overheads:
        assert re.search(r"\| [+-]\d+\.\d{3} s \|", rows[name]), rows[name]
    bound = re.search(r"Batch-1 decode bound: ([\d.]+) MB .* / ([\d.]+) GB/s .* = (\d+) tokens/s", report)
    assert bound and float(bound.group(2)) > 0
    for setting in ("dynamic cache", "static cache"):
        assert re.search(r"\| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \|$", rows[setting]), rows[setting]
    assert rows["static cache + torch.compile"].startswith("| static cache + torch.compile | n/a")
    assert "All targets met." in report or "Targets missed: " in report
