"""Every combination of options bakes into a clean repository: ruff-clean, no template markup left, the files of the
options not chosen gone, and its own tests passing.

The baked suites are the expensive part. The default combination runs its whole suite in test_bake.py, on both
releases. Here two combinations that between them take every other option value run the whole quick suite
(`-m "not slow"`): existing-lm-untied and bytes-lm+cls-untied. The other nine run a smoke subset: the quick tests of
tests/test_modeling.py and scripts/check_repo.py on the folder.
"""

import itertools
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import textwrap

import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from conftest import run_baked_suite


TOKENIZERS = {"bpe": "train-bpe", "bytes": "byte-level", "existing": "existing"}
HEADS = {"lm+cls": "causal-lm-and-sequence-classification", "lm": "causal-lm"}
TIES = {"tied": "yes", "untied": "no"}
COMBOS = {
    f"{tokenizer}-{heads}-{tie}": {
        "tokenizer": TOKENIZERS[tokenizer], "heads": HEADS[heads], "tie_word_embeddings": TIES[tie]
    }
    for tokenizer, heads, tie in itertools.product(TOKENIZERS, HEADS, TIES)
}
DEFAULT_COMBO = "bpe-lm+cls-tied"
FULL_SUITE = ("existing-lm-untied", "bytes-lm+cls-untied")
SMOKE_SUITE = tuple(name for name in COMBOS if name not in (*FULL_SUITE, DEFAULT_COMBO))
# Markup of the template language; chat templates (*.jinja) and the GitHub workflow are copied without rendering.
MARKUP = re.compile(r"\{\{|\{%|\{#|cookiecutter\.[a-z_]")
UNRENDERED = ("*.jinja", ".github/**/*")
EXISTING_CHAT_TEMPLATE = "{% for message in messages %}{{ message['content'] }}</s>{% endfor %}"


@pytest.fixture(scope="session")
def existing_tokenizer(tmp_path_factory) -> pathlib.Path:
    """A saved fast tokenizer unlike the template's: BPE with <unk>, <s>, </s> first, no pad token, its own chat
    template and a transformers class name in tokenizer_config.json."""
    folder = tmp_path_factory.mktemp("existing-tokenizer")
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<unk>", "<s>", "</s>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    corpus = ["the quick brown fox jumps over the lazy dog " * 20, "hello tokenizer " * 20]
    tokenizer.train_from_iterator(corpus, trainer)
    tokenizer.save(str(folder / "tokenizer.json"))
    config = {
        "tokenizer_class": "LlamaTokenizerFast",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "model_max_length": 4096,
        "chat_template": EXISTING_CHAT_TEMPLATE,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


@pytest.fixture
def baked(bake, existing_tokenizer):
    def make(combo: str) -> pathlib.Path:
        answers = dict(COMBOS[combo])
        if answers["tokenizer"] == "existing":
            answers["existing_tokenizer_path"] = str(existing_tokenizer)
        return bake(**answers)

    return make


def text_files(repo: pathlib.Path):
    for path in sorted(repo.rglob("*")):
        if path.is_file() and ".ruff_cache" not in path.parts and "__pycache__" not in path.parts:
            yield path


@pytest.mark.parametrize("combo", list(COMBOS))
def test_combination_is_ruff_clean(combo, baked):
    repo = baked(combo)
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=repo, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("combo", list(COMBOS))
def test_combination_has_no_template_markup_left(combo, baked):
    repo = baked(combo)
    leftovers = []
    for path in text_files(repo):
        relative = path.relative_to(repo)
        if any(relative.match(pattern) for pattern in UNRENDERED) or path.name == ".cruft.json":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if MARKUP.search(line):
                leftovers.append(f"{relative}:{number}: {line.strip()}")
    assert leftovers == []


@pytest.mark.parametrize("combo", list(COMBOS))
def test_combination_carries_only_the_chosen_heads(combo, baked):
    repo = baked(combo)
    config = json.loads((repo / "config.json").read_text(encoding="utf-8"))
    # The checker reviews any remote-code folder, so it knows every Auto head by name whatever this repo ships.
    generic_tools = {"scripts/check_repo.py"}
    mentions = sorted(
        str(path.relative_to(repo)) for path in text_files(repo)
        if str(path.relative_to(repo)) not in generic_tools
        and ("SequenceClassification" in path.read_text(encoding="utf-8") or "sequence_classification" in path.name)
    )
    if COMBOS[combo]["heads"] == "causal-lm":
        assert mentions == []
        assert sorted(config["auto_map"]) == ["AutoConfig", "AutoModel", "AutoModelForCausalLM"]
    else:
        assert config["auto_map"]["AutoModelForSequenceClassification"].endswith("ForSequenceClassification")
        assert "tests/test_sequence_classification.py" in mentions


@pytest.mark.parametrize("combo", list(COMBOS))
def test_combination_ties_embeddings_as_chosen(combo, baked):
    repo = baked(combo)
    config = json.loads((repo / "config.json").read_text(encoding="utf-8"))
    assert config["tie_word_embeddings"] is (COMBOS[combo]["tie_word_embeddings"] == "yes")


@pytest.mark.parametrize("combo", [name for name in COMBOS if not name.startswith("existing")])
def test_byte_level_start_and_checkpoint_mode_follow_the_tokenizer_choice(combo, baked):
    repo = baked(combo)
    tokenizer = json.loads((repo / "tokenizer.json").read_text(encoding="utf-8"))
    assert len(tokenizer["model"]["vocab"]) == 260 and tokenizer["model"]["merges"] == []
    build = (repo / "scripts" / "build_checkpoint.py").read_text(encoding="utf-8")
    assert f'TOKENIZER_MODE = "{COMBOS[combo]["tokenizer"]}"' in build


@pytest.mark.parametrize("combo", [name for name in COMBOS if name.startswith("existing")])
def test_existing_tokenizer_is_copied_and_wired_to_the_custom_class(combo, baked, existing_tokenizer):
    repo = baked(combo)
    assert (repo / "tokenizer.json").read_bytes() == (existing_tokenizer / "tokenizer.json").read_bytes()
    tokenizer_config = json.loads((repo / "tokenizer_config.json").read_text(encoding="utf-8"))
    prefix = json.loads((repo / ".cruft.json").read_text(encoding="utf-8"))["context"]["cookiecutter"]["class_prefix"]
    assert tokenizer_config["tokenizer_class"] == f"{prefix}TokenizerFast"
    assert tokenizer_config["auto_map"]["AutoTokenizer"][1].endswith(f".{prefix}TokenizerFast")
    assert tokenizer_config["pad_token"] == "</s>" and "chat_template" not in tokenizer_config
    assert (repo / "chat_template.jinja").read_text(encoding="utf-8") == EXISTING_CHAT_TEMPLATE
    vocab_size = Tokenizer.from_file(str(existing_tokenizer / "tokenizer.json")).get_vocab_size()
    config = json.loads((repo / "config.json").read_text(encoding="utf-8"))
    generation = json.loads((repo / "generation_config.json").read_text(encoding="utf-8"))
    # <unk>, <s>, </s> are ids 0, 1, 2; pad falls back to </s>.
    assert (config["vocab_size"], config["bos_token_id"], config["eos_token_id"], config["pad_token_id"]) == (
        vocab_size, 1, 2, 2
    )
    assert (generation["bos_token_id"], generation["eos_token_id"], generation["pad_token_id"]) == (1, 2, 2)


def test_existing_tokenizer_loads_through_auto_tokenizer_as_the_custom_class(baked, existing_tokenizer, newest_python):
    repo = baked("existing-lm-untied")
    script = textwrap.dedent(
        """
        import json, sys
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(sys.argv[1], trust_remote_code=True)
        ids = tokenizer("the quick brown fox")["input_ids"]
        chat = tokenizer.apply_chat_template([{"role": "user", "content": "hello"}], tokenize=False)
        print(json.dumps([type(tokenizer).__name__, tokenizer.decode(ids), tokenizer.eos_token_id,
                          tokenizer.pad_token_id, tokenizer.padding_side, chat]))
        """
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": tempfile.mkdtemp(prefix="hf-modules-")}
    result = subprocess.run([newest_python, "-c", script, str(repo)], capture_output=True, text=True, timeout=300,
                            env=env, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    name, decoded, eos, pad, side, chat = json.loads(result.stdout.splitlines()[-1])
    assert name.endswith("TokenizerFast") and name != "LlamaTokenizerFast"
    assert (decoded, eos, pad, side, chat) == ("the quick brown fox", 2, 2, "left", "hello</s>")


@pytest.mark.parametrize("combo", FULL_SUITE)
def test_combination_passes_its_quick_suite(combo, baked, newest_python):
    result = run_baked_suite(baked(combo), newest_python, "-m", "not slow")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.mark.parametrize("combo", SMOKE_SUITE)
def test_combination_passes_its_smoke_suite(combo, baked, newest_python):
    repo = baked(combo)
    result = run_baked_suite(repo, newest_python, "-m", "not slow", paths=["tests/test_modeling.py"])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    check = subprocess.run([newest_python, "scripts/check_repo.py", "."], cwd=repo, capture_output=True, text=True,
                           check=False)
    assert check.returncode == 0, check.stdout


@pytest.mark.parametrize(
    "answers",
    [{"class_prefix": "AcmeLanguageModelWithLongName"},
     {"class_prefix": "A" * 32, "module_name": "a" * 32, "model_type": "acme_long"}],
    ids=["spec-example", "longest-allowed"],
)
def test_long_names_bake_ruff_clean(answers, bake):
    repo = bake(**answers)
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=repo, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
