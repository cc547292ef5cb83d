"""scripts/build_checkpoint.py and scripts/push_to_hub.py: the checkpoint they write and the files they upload."""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import torch
from conftest import CLASS_PREFIX, MODULE_NAME, REPO, load_script
from safetensors.torch import save_file


TOKENIZER_MODE = "{{ cookiecutter.tokenizer }}"
VOCAB_SIZE = 300
TRAIN_STEPS = 3
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "A language model learns the statistics of the text it reads.",
    "Every byte has a token, so no text is ever unknown to the tokenizer.",
    "Rotary positions tell attention how far apart two tokens are.",
]
CODE_FILES = sorted(f"{kind}_{MODULE_NAME}.py" for kind in ("configuration", "modeling", "tokenization"))

# Loads a built folder in a fresh interpreter through the Auto classes and the pipeline, and reports what it got.
LOAD_AND_GENERATE = """
import json, sys
from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline
folder, prompt = sys.argv[1], sys.argv[2]
tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
model = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True)
inputs = tokenizer(prompt, return_tensors="pt")
output_ids = model.generate(**inputs, max_new_tokens=8, min_new_tokens=8, do_sample=False)
generator = pipeline("text-generation", model=folder, trust_remote_code=True)
text = generator(prompt, max_new_tokens=8, min_new_tokens=8, do_sample=False)[0]["generated_text"]
print(json.dumps({
    "model_class": type(model).__name__,
    "tokenizer_class": type(tokenizer).__name__,
    "prompt_length": inputs["input_ids"].shape[1],
    "output_length": output_ids.shape[1],
    "pipeline_text": text,
}))
"""


def fresh_env(tmp_path: pathlib.Path) -> dict:
    # One thread: these models are tiny, and on a shared machine extra threads only spin.
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_MODULES_CACHE": str(tmp_path / "modules"),
        "OMP_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def write_corpus(path: pathlib.Path) -> pathlib.Path:
    path.write_text("\n".join(f"{i}. {sentence}" for i in range(60) for sentence in SENTENCES), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Runs the build script once on a small corpus; returns the output folder and the finished process."""
    tmp_path = tmp_path_factory.mktemp("build")
    command = [
        sys.executable, str(REPO / "scripts" / "build_checkpoint.py"),
        "--preset", "tiny", "--corpus", str(write_corpus(tmp_path / "corpus.txt")),
        "--train-steps", str(TRAIN_STEPS), "--block-size", "32", "--batch-size", "4",
        "--output", str(tmp_path / "built"),
    ]
    if TOKENIZER_MODE == "train-bpe":
        command += ["--vocab-size", str(VOCAB_SIZE)]
    result = subprocess.run(command, env=fresh_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return tmp_path / "built", result


@pytest.mark.slow
def test_build_prints_eval_loss_before_and_after_training(built):
    _, result = built
    before = re.search(r"eval loss before training: (\d+\.\d+)", result.stdout)
    after = re.search(rf"eval loss after {TRAIN_STEPS} steps: (\d+\.\d+)", result.stdout)
    assert before and after, result.stdout
    # Both are real losses of the model on held-out blocks, and training moved the weights between them.
    assert 0 < float(after.group(1)) != float(before.group(1)) > 0


@pytest.mark.slow
def test_build_writes_safetensors_config_tokenizer_and_code_files_only(built):
    folder, _ = built
    names = sorted(path.name for path in folder.iterdir())
    expected = sorted([
        "README.md", "chat_template.jinja", "config.json", "generation_config.json", "model.safetensors",
        "tokenizer.json", "tokenizer_config.json", *CODE_FILES,
    ])
    assert names == expected
    for name in [*CODE_FILES, "README.md"]:
        assert (folder / name).read_bytes() == (REPO / name).read_bytes(), name


@pytest.mark.slow
def test_built_config_keeps_auto_map_and_takes_vocab_and_special_ids_from_tokenizer(built):
    folder, _ = built
    config = json.loads((folder / "config.json").read_text())
    tokenizer = json.loads((folder / "tokenizer.json").read_text())
    shipped_config = json.loads((REPO / "config.json").read_text())
    shipped_tokenizer = json.loads((REPO / "tokenizer.json").read_text())

    assert config["auto_map"] == shipped_config["auto_map"]
    assert config["architectures"] == [f"{CLASS_PREFIX}ForCausalLM"]
    vocab = {**tokenizer["model"]["vocab"], **{token["content"]: token["id"] for token in tokenizer["added_tokens"]}}
    assert config["vocab_size"] == len(vocab)
    if TOKENIZER_MODE == "train-bpe":
        assert len(vocab) == VOCAB_SIZE
        assert tokenizer["model"]["merges"], "the trained tokenizer learned no merges"
    else:
        assert tokenizer == shipped_tokenizer
    special = [(token["id"], token["content"]) for token in tokenizer["added_tokens"]]
    assert special == [(token["id"], token["content"]) for token in shipped_tokenizer["added_tokens"]]
    tokenizer_config = json.loads((REPO / "tokenizer_config.json").read_text())
    for role in ("bos_token", "eos_token", "pad_token"):
        token = tokenizer_config[role]
        assert config[f"{role}_id"] == vocab[token["content"] if isinstance(token, dict) else token], role
    assert config["use_cache"] is True


@pytest.mark.slow
def test_built_folder_generates_through_auto_classes_and_pipeline_in_fresh_process(built, tmp_path):
    folder, _ = built
    prompt = "The quick brown fox"
    result = subprocess.run(
        [sys.executable, "-c", LOAD_AND_GENERATE, str(folder), prompt],
        env=fresh_env(tmp_path), capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])

    assert report["model_class"] == f"{CLASS_PREFIX}ForCausalLM"
    assert report["tokenizer_class"] == f"{CLASS_PREFIX}TokenizerFast"
    assert report["output_length"] == report["prompt_length"] + 8
    assert report["pipeline_text"].startswith(prompt) and len(report["pipeline_text"]) > len(prompt)


@pytest.fixture(scope="module")
def build_script():
    return load_script("build_checkpoint")


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing corpus", "does not exist"),
        ("vocab too small", "--vocab-size"),
        ("output is a file", "is a file"),
        ("training without corpus", "needs a --corpus"),
        ("block longer than max positions", "--block-size 3000 is longer than max_position_embeddings 2048"),
    ],
)
def test_build_rejects_bad_input_with_a_clear_error_and_writes_nothing(
    build_script, tmp_path, capsys, case, message
):
    corpus = write_corpus(tmp_path / "corpus.txt")
    output = tmp_path / "out"
    arguments = {
        "missing corpus": ["--corpus", str(tmp_path / "missing.txt")],
        "vocab too small": ["--corpus", str(corpus), "--vocab-size", "100"],
        "output is a file": ["--corpus", str(corpus)],
        "training without corpus": ["--train-steps", "5"],
        "block longer than max positions": ["--corpus", str(corpus), "--train-steps", "1", "--block-size", "3000"],
    }[case]
    if case == "output is a file":
        output.write_text("notes the user keeps")

    status = build_script.main([*arguments, "--output", str(output)])

    assert status != 0
    assert message in capsys.readouterr().err
    if case == "output is a file":
        assert output.read_text() == "notes the user keeps"
        assert sorted(path.name for path in tmp_path.iterdir()) == ["corpus.txt", "out"]
    else:
        assert sorted(path.name for path in tmp_path.iterdir()) == ["corpus.txt"]


def test_build_failing_midway_leaves_existing_output_untouched(build_script, tmp_path, capsys):
    # Two words cannot fill one training block, but the script only finds out after building the model.
    corpus = tmp_path / "short.txt"
    corpus.write_text("hello world", encoding="utf-8")
    output = tmp_path / "out"
    output.mkdir()
    (output / "model.safetensors").write_bytes(b"earlier weights")
    (output / "notes.txt").write_text("mine")

    status = build_script.main(["--corpus", str(corpus), "--train-steps", "1", "--output", str(output)])

    assert status != 0
    assert "too few" in capsys.readouterr().err
    assert (output / "model.safetensors").read_bytes() == b"earlier weights"
    assert sorted(path.name for path in output.iterdir()) == ["model.safetensors", "notes.txt"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out", "short.txt"], "a staging folder was left"


@pytest.fixture(scope="module")
def push_script():
    return load_script("push_to_hub")


@pytest.fixture
def repo_copy(tmp_path) -> pathlib.Path:
    """This repository as an author has it after a build: model files plus development files, old and new."""
    folder = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__", ".pytest_cache", ".ruff_cache", "*.safetensors")
    shutil.copytree(REPO, folder, ignore=ignore)
    save_file({"weight": torch.zeros(2, 2)}, folder / "model.safetensors")
    (folder / "LICENSE").write_text("license text")
    for development_file in (".cruft.json", "notes.txt", "pytorch_model.bin", ".github/workflows/extra.yml"):
        (folder / development_file).parent.mkdir(parents=True, exist_ok=True)
        (folder / development_file).write_text("not for the Hub")
    return folder


MODEL_FILES = sorted([
    "LICENSE", "README.md", "chat_template.jinja", "config.json", "generation_config.json", "model.safetensors",
    "tokenizer.json", "tokenizer_config.json", *CODE_FILES,
])


def test_push_dry_run_lists_exactly_the_model_files(push_script, repo_copy, capsys):
    status = push_script.main(["--folder", str(repo_copy), "--dry-run"])

    assert status == 0
    assert capsys.readouterr().out.splitlines() == MODEL_FILES
    assert push_script.model_files(repo_copy) == MODEL_FILES


def test_push_leaves_out_python_files_that_auto_map_does_not_reach(push_script, repo_copy, capsys):
    (repo_copy / "my_train_script.py").write_text("print('training')\n")

    assert push_script.main(["--folder", str(repo_copy), "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines() == MODEL_FILES


def test_push_includes_files_the_model_code_imports_relatively(push_script, repo_copy):
    modeling = repo_copy / f"modeling_{MODULE_NAME}.py"
    modeling.write_text(modeling.read_text() + "\nfrom .rope_helpers import scale\n")
    (repo_copy / "rope_helpers.py").write_text("from .rope_constants import HALF\n\nscale = HALF\n")
    (repo_copy / "rope_constants.py").write_text("HALF = 0.5\n")

    assert push_script.model_files(repo_copy) == sorted([*MODEL_FILES, "rope_constants.py", "rope_helpers.py"])


@pytest.mark.parametrize(
    "repo_id",
    ["bad id/x", "acme/a/b", "acme/-lm", "acme/lm.", "acme/a--b", "acme/a..b", "acme/" + "x" * 97, "acme/lm!"],
)
def test_push_refuses_an_invalid_repo_id_naming_it(push_script, repo_copy, capsys, repo_id):
    assert push_script.main(["--folder", str(repo_copy), "--repo-id", repo_id, "--dry-run"]) == 2
    captured = capsys.readouterr()
    assert f"--repo-id {repo_id!r} is not a valid Hub repository id" in captured.err
    assert captured.out == ""


@pytest.mark.parametrize("repo_id", ["acme/" + "x" * 96, "user_1/my.model-v2", "plain-name"])
def test_push_accepts_valid_repo_ids(push_script, repo_copy, capsys, repo_id):
    assert push_script.main(["--folder", str(repo_copy), "--repo-id", repo_id, "--dry-run"]) == 0
    assert repo_id in capsys.readouterr().err


def test_push_uploads_the_listed_files_in_one_commit_to_the_baked_repo_id(push_script, repo_copy, monkeypatch):
    calls, deleted = [], []
    # An earlier, sharded upload: its shards and index would load together with the new single file.
    remote_files = ["README.md", "config.json", "model-00001-of-00002.safetensors",
                    "model-00002-of-00002.safetensors", "model.safetensors.index.json", "docs/notes.md"]

    class RecordingApi:
        def create_repo(self, repo_id, **kwargs):
            calls.append(("create_repo", repo_id, kwargs))

        def create_branch(self, repo_id, **kwargs):
            calls.append(("create_branch", repo_id, kwargs))

        def list_repo_files(self, repo_id, **kwargs):
            return remote_files

        def create_commit(self, repo_id, operations, **kwargs):
            calls.append(("create_commit", repo_id, sorted(op.path_in_repo for op in operations)))
            deletions = [op for op in operations if isinstance(op, huggingface_hub.CommitOperationDelete)]
            deleted.extend(sorted(op.path_in_repo for op in deletions))
            return type("Commit", (), {"commit_url": "https://example.invalid/commit", "oid": "a" * 40})()

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", RecordingApi)
    assert push_script.main(["--folder", str(repo_copy)]) == 0

    repo_id = "{{ cookiecutter.repo_id }}"
    assert [call[0] for call in calls] == ["create_repo", "create_commit"]
    assert calls[0][1] == calls[1][1] == repo_id
    assert deleted == ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                       "model.safetensors.index.json"]
    assert calls[1][2] == sorted([*MODEL_FILES, *deleted])


def test_push_refuses_a_folder_without_weights(push_script, repo_copy, capsys):
    (repo_copy / "model.safetensors").unlink()

    assert push_script.main(["--folder", str(repo_copy), "--dry-run"]) != 0
    error = capsys.readouterr().err
    assert "no weights" in error and "build_checkpoint.py" in error


@pytest.mark.slow
def test_built_tokenizer_takes_the_position_limit_of_the_model(repo_copy, tmp_path):
    # An author who changes max_position_embeddings gets a tokenizer that warns at the same length.
    config_path = repo_copy / "config.json"
    config = json.loads(config_path.read_text())
    config["max_position_embeddings"] = 512
    config_path.write_text(json.dumps(config))
    command = [
        sys.executable, str(repo_copy / "scripts" / "build_checkpoint.py"), "--preset", "tiny", "--output",
        str(tmp_path / "out"),
    ]
    result = subprocess.run(command, env=fresh_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert json.loads((tmp_path / "out" / "config.json").read_text())["max_position_embeddings"] == 512
    assert json.loads((tmp_path / "out" / "tokenizer_config.json").read_text())["model_max_length"] == 512
