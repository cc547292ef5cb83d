"""The Hub code path: how users actually reach this repo's code, including the cases that broke other repos.

A Hub repository is simulated with an offline cache folder laid out the way `huggingface_hub` writes one
(`models--<org>--<name>/refs/main` and `snapshots/<commit>/`), so every test runs without a network.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest
import torch
from conftest import MODULE_NAME, REPO
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.dynamic_module_utils import get_imports


REPO_ID = "my.org/acme-lm.v2"
COMMIT = "0" * 40
INPUT_IDS = torch.arange(3, 15).reshape(2, 6)

# Loads a model in a fresh interpreter and prints its logits for INPUT_IDS as JSON.
LOAD_AND_SCORE = """
import json, sys, torch
from transformers import AutoModelForCausalLM
model = AutoModelForCausalLM.from_pretrained(sys.argv[1], trust_remote_code=True).eval()
with torch.no_grad():
    logits = model(torch.arange(3, 15).reshape(2, 6)).logits
print(json.dumps(logits.tolist()))
"""


def write_hub_cache(cache: pathlib.Path, repo_id: str, snapshots: dict[str, pathlib.Path], main: str):
    """Lays out `cache` like a Hub cache holding `repo_id` at each commit of `snapshots`, `refs/main` naming `main`."""
    repo_dir = cache / ("models--" + repo_id.replace("/", "--"))
    for commit, source in snapshots.items():
        shutil.copytree(source, repo_dir / "snapshots" / commit)
    (repo_dir / "refs").mkdir(parents=True)
    (repo_dir / "refs" / "main").write_text(main)
    return cache


def reference_logits(folder: pathlib.Path) -> torch.Tensor:
    model = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True).eval()
    with torch.no_grad():
        return model(INPUT_IDS).logits  # (2, 6, vocab)


def offline_env(hub_cache: pathlib.Path, modules_cache: pathlib.Path) -> dict:
    """Environment of a user with no network: the given Hub cache and a module cache of its own."""
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_CACHE": str(hub_cache),
        "HF_MODULES_CACHE": str(modules_cache),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def scores_from(returncode: int, stdout: str, stderr: str) -> torch.Tensor:
    """The logits a `LOAD_AND_SCORE` process printed."""
    assert returncode == 0, stderr[-3000:]
    return torch.tensor(json.loads(stdout.strip().splitlines()[-1]))


@pytest.fixture
def hub_cache(tmp_path, checkpoint) -> pathlib.Path:
    """An offline Hub cache holding the checkpoint as `REPO_ID`, with `main` at `COMMIT`."""
    return write_hub_cache(tmp_path / "hub", REPO_ID, {COMMIT: checkpoint}, main=COMMIT)


def test_folder_name_with_dots_and_hyphens_loads_model_and_tokenizer(tmp_path, checkpoint):
    folder = tmp_path / "acme-lm.v1.5"
    shutil.copytree(checkpoint, folder)

    model = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)

    with torch.no_grad():
        logits = model(INPUT_IDS).logits
    torch.testing.assert_close(logits, reference_logits(checkpoint), rtol=0, atol=0)
    tokenizer_class = json.loads((folder / "tokenizer_config.json").read_text())["auto_map"]["AutoTokenizer"][1]
    assert type(tokenizer).__name__ == tokenizer_class.split(".")[-1]
    assert tokenizer.decode(tokenizer("a.b-c")["input_ids"], skip_special_tokens=True) == "a.b-c"


def test_repo_id_with_dots_and_hyphens_loads_from_hub_cache(hub_cache, checkpoint):
    model = AutoModelForCausalLM.from_pretrained(
        REPO_ID, cache_dir=hub_cache, local_files_only=True, trust_remote_code=True
    ).eval()

    with torch.no_grad():
        logits = model(INPUT_IDS).logits
    torch.testing.assert_close(logits, reference_logits(checkpoint), rtol=0, atol=0)


def test_revision_pinned_to_a_commit_runs_that_commits_code(tmp_path, checkpoint):
    # Two commits of the same repo whose modeling code differs by one constant; `main` points at the newer one.
    old_commit, new_commit = "1" * 40, "2" * 40
    versions = {}
    for commit, marker in ((old_commit, "old"), (new_commit, "new")):
        versions[commit] = tmp_path / marker
        shutil.copytree(checkpoint, versions[commit])
        with open(versions[commit] / f"modeling_{MODULE_NAME}.py", "a") as modeling_file:
            modeling_file.write(f"\nSNAPSHOT_MARKER = {marker!r}\n")
    cache = write_hub_cache(tmp_path / "hub", REPO_ID, versions, main=new_commit)

    def marker_of(**revision):
        model = AutoModelForCausalLM.from_pretrained(
            REPO_ID, cache_dir=cache, local_files_only=True, trust_remote_code=True, **revision
        )
        return sys.modules[type(model).__module__].SNAPSHOT_MARKER

    assert marker_of() == "new"
    assert marker_of(revision=old_commit) == "old"
    assert marker_of(revision="main") == "new"


def test_remote_code_needs_only_torch_and_transformers():
    # `trust_remote_code` refuses to load a file whose imports are not installed, so each extra one is a risk.
    third_party = set()
    for path in REPO.glob("*.py"):
        third_party |= {name for name in get_imports(path) if name not in sys.stdlib_module_names}
    assert third_party <= {"torch", "transformers"}, f"remote code imports {sorted(third_party)}"


def _add_import(folder: pathlib.Path, statement: str):
    """Inserts `statement` right after the imports of the folder's modeling file."""
    path = folder / f"modeling_{MODULE_NAME}.py"
    source = path.read_text()
    anchor = "logger = logging.get_logger(__name__)\n"
    assert anchor in source
    path.write_text(source.replace(anchor, anchor + statement, 1))


def test_missing_optional_kernel_behind_import_guard_does_not_stop_loading(tmp_path, checkpoint):
    folder = tmp_path / "with-optional-kernel"
    shutil.copytree(checkpoint, folder)
    guarded = "\ntry:\n    import acme_missing_kernels\nexcept ImportError:\n    acme_missing_kernels = None\n"
    _add_import(folder, guarded)

    model = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True).eval()

    assert sys.modules[type(model).__module__].acme_missing_kernels is None
    with torch.no_grad():
        logits = model(INPUT_IDS).logits
    torch.testing.assert_close(logits, reference_logits(checkpoint), rtol=0, atol=0)


def test_missing_kernel_without_import_guard_fails_naming_the_package(tmp_path, checkpoint):
    folder = tmp_path / "with-required-kernel"
    shutil.copytree(checkpoint, folder)
    _add_import(folder, "import acme_missing_kernels\n")

    with pytest.raises(ImportError, match="acme_missing_kernels"):
        AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True)


@pytest.mark.slow
def test_offline_with_warm_hub_cache_loads_repo_id_in_fresh_process(tmp_path, hub_cache, checkpoint):
    env = offline_env(hub_cache, tmp_path / "modules")
    result = subprocess.run(
        [sys.executable, "-c", LOAD_AND_SCORE, REPO_ID], env=env, capture_output=True, text=True, timeout=300
    )

    logits = scores_from(result.returncode, result.stdout, result.stderr)
    torch.testing.assert_close(logits, reference_logits(checkpoint))


@pytest.mark.slow
def test_four_processes_loading_same_repo_from_cold_module_cache_all_succeed_and_agree(
    tmp_path, hub_cache, checkpoint
):
    # One shared, empty module cache: all four race to copy and import the remote code at the same moment.
    env = offline_env(hub_cache, tmp_path / "modules")
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", LOAD_AND_SCORE, REPO_ID],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(4)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]

    expected = reference_logits(checkpoint)
    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        torch.testing.assert_close(scores_from(process.returncode, stdout, stderr), expected)


@pytest.mark.slow
def test_saved_copy_of_hub_model_loads_offline_with_its_own_code(tmp_path, hub_cache, checkpoint):
    model = AutoModelForCausalLM.from_pretrained(
        REPO_ID, cache_dir=hub_cache, local_files_only=True, trust_remote_code=True
    )
    copy = tmp_path / "my-copy"
    model.save_pretrained(copy)

    auto_map = json.loads((copy / "config.json").read_text())["auto_map"]
    assert auto_map["AutoModelForCausalLM"] == f"modeling_{MODULE_NAME}.{type(model).__name__}"
    assert (copy / f"modeling_{MODULE_NAME}.py").is_file() and (copy / f"configuration_{MODULE_NAME}.py").is_file()

    # An empty Hub cache and no network: only the code saved next to the weights can be used.
    env = offline_env(tmp_path / "empty-hub", tmp_path / "modules")
    result = subprocess.run(
        [sys.executable, "-c", LOAD_AND_SCORE, str(copy)], env=env, capture_output=True, text=True, timeout=300
    )
    logits = scores_from(result.returncode, result.stdout, result.stderr)
    torch.testing.assert_close(logits, reference_logits(checkpoint))
