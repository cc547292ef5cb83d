"""Baking with default and overridden answers: names, auto_map, template leftovers, lint and the model card."""

import fnmatch
import json
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

from conftest import TEMPLATE


TEMPLATE_PROJECT = TEMPLATE / "{{cookiecutter.model_name}}"
COPIED_VERBATIM = json.loads((TEMPLATE / "cookiecutter.json").read_text())["_copy_without_render"]
UNRENDERED = re.compile(r"\{\{|\{%|cookiecutter\.")
OVERRIDES = {
    "defaults": {},
    "model_name": {"model_name": "foo-bar-lm"},
    "derived names": {
        "model_name": "foo-bar-lm",
        "module_name": "zeta_model",
        "class_prefix": "Zeta",
        "model_type": "zeta",
        "repo_id": "someone/zeta-7",
    },
    "other options": {"heads": "causal-lm", "tie_word_embeddings": "no", "tokenizer": "byte-level", "license": "mit"},
}


def baked_files(repo: pathlib.Path) -> list[str]:
    return sorted(str(path.relative_to(repo)) for path in repo.rglob("*") if path.is_file())


def expected_auto_map(module: str, prefix: str, classification: bool = True) -> dict:
    auto_map = {
        "AutoConfig": f"configuration_{module}.{prefix}Config",
        "AutoModel": f"modeling_{module}.{prefix}Model",
        "AutoModelForCausalLM": f"modeling_{module}.{prefix}ForCausalLM",
    }
    if classification:
        auto_map["AutoModelForSequenceClassification"] = f"modeling_{module}.{prefix}ForSequenceClassification"
    return auto_map


def front_matter(readme: pathlib.Path) -> dict:
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("---\n"), "the model card does not start with YAML front matter"
    return yaml.safe_load(text.split("---\n", 2)[1])


@pytest.mark.parametrize(
    "answers, module, prefix",
    [({}, "acme_lm", "AcmeLm"), ({"model_name": "foo-bar-lm"}, "foo_bar_lm", "FooBarLm")],
    ids=["defaults", "model_name"],
)
def test_bake_names_files_classes_and_auto_map_after_model_name(bake, answers, module, prefix):
    repo = bake(**answers)
    files = baked_files(repo)

    assert repo.name == answers.get("model_name", "acme-lm")
    for name in (
        f"configuration_{module}.py", f"modeling_{module}.py", f"tokenization_{module}.py", "config.json",
        "tokenizer.json", "tokenizer_config.json", "generation_config.json", "chat_template.jinja", "README.md",
        "scripts/build_checkpoint.py", "scripts/push_to_hub.py",
    ):
        assert name in files, f"{name} missing from the baked repo"
    config = json.loads((repo / "config.json").read_text())
    assert config["auto_map"] == expected_auto_map(module, prefix)
    assert config["model_type"] == module
    assert config["architectures"] == [f"{prefix}ForCausalLM"]
    tokenizer_config = json.loads((repo / "tokenizer_config.json").read_text())
    assert tokenizer_config["auto_map"]["AutoTokenizer"][1] == f"tokenization_{module}.{prefix}TokenizerFast"
    modeling = (repo / f"modeling_{module}.py").read_text()
    for suffix in ("Model", "ForCausalLM", "ForSequenceClassification", "PreTrainedModel"):
        assert f"\nclass {prefix}{suffix}(" in modeling


def test_renamed_bake_keeps_no_trace_of_the_default_names(bake):
    repo = bake(model_name="foo-bar-lm")
    # Tests may use any literal names as data; everything else must follow the answers.
    for name in (name for name in baked_files(repo) if not name.startswith("tests/")):
        text = (repo / name).read_text(encoding="utf-8")
        for default in ("acme_lm", "AcmeLm", "acme-lm", "Acme Lm"):
            assert default not in text, f"{name} still says {default!r}"


def test_overridden_derived_names_are_used_everywhere(bake):
    answers = OVERRIDES["derived names"]
    repo = bake(**answers)

    assert repo.name == "foo-bar-lm"
    config = json.loads((repo / "config.json").read_text())
    assert config["auto_map"] == expected_auto_map("zeta_model", "Zeta")
    assert config["model_type"] == "zeta"
    assert 'model_type = "zeta"' in (repo / "configuration_zeta_model.py").read_text()
    assert 'DEFAULT_REPO_ID = "someone/zeta-7"' in (repo / "scripts" / "push_to_hub.py").read_text()
    assert 'repo_id = "someone/zeta-7"' in (repo / "README.md").read_text()


def test_other_options_drop_the_classification_head_and_untie_embeddings(bake):
    repo = bake(**OVERRIDES["other options"])
    config = json.loads((repo / "config.json").read_text())

    assert config["auto_map"] == expected_auto_map("acme_lm", "AcmeLm", classification=False)
    assert config["tie_word_embeddings"] is False
    assert "class AcmeLmForSequenceClassification(" not in (repo / "modeling_acme_lm.py").read_text()
    assert 'TOKENIZER_MODE = "byte-level"' in (repo / "scripts" / "build_checkpoint.py").read_text()


@pytest.mark.parametrize("case", sorted(OVERRIDES))
def test_no_unrendered_template_syntax_is_left_in_any_baked_file(bake, case):
    repo = bake(**OVERRIDES[case])
    verbatim = []
    for name in baked_files(repo):
        if any(fnmatch.fnmatch(name, pattern) for pattern in COPIED_VERBATIM):
            verbatim.append(name)
            # Jinja or Actions syntax on purpose: these must arrive exactly as written in the template.
            assert (repo / name).read_bytes() == (TEMPLATE_PROJECT / name).read_bytes(), name
            continue
        if name == ".cruft.json":
            # The answer record names cookiecutter's own extension module on purpose; every answer must be rendered.
            answers = json.loads((repo / name).read_text())["context"]["cookiecutter"]
            answers.pop("_extensions")
            leftover = UNRENDERED.search(json.dumps(answers))
            assert leftover is None, f"{name}: unrendered answer near {json.dumps(answers)[leftover.start():][:80]!r}"
            continue
        text = (repo / name).read_text(encoding="utf-8")
        leftover = UNRENDERED.search(text)
        assert leftover is None, f"{name}: unrendered {text[leftover.start() - 40:leftover.end() + 40]!r}"
    if (repo / "chat_template.jinja").exists():
        assert "chat_template.jinja" in verbatim and "{%" in (repo / "chat_template.jinja").read_text()


@pytest.mark.parametrize("case", ["defaults", "derived names", "other options"])
def test_baked_repo_passes_ruff_with_its_own_settings(bake, case):
    repo = bake(**OVERRIDES[case])
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
        cwd=repo, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.mark.parametrize("license_answer", ["apache-2.0", "mit", "other"])
def test_model_card_front_matter_is_yaml_with_hub_metadata(bake, license_answer):
    repo = bake(license=license_answer)
    metadata = front_matter(repo / "README.md")

    assert metadata["library_name"] == "transformers"
    assert metadata["pipeline_tag"] == "text-generation"
    assert "custom_code" in metadata["tags"]
    assert metadata["license"] == license_answer
    assert ("license_name" in metadata) is (license_answer == "other")
    assert "base_model" not in metadata, "the baked model is trained from scratch; it has no base model"


def test_model_card_usage_snippet_pins_a_revision_for_every_load(bake):
    readme = (bake() / "README.md").read_text()
    snippet = readme.split("```python\n", 1)[1].split("```", 1)[0]

    loads = re.findall(r"(?:from_pretrained|pipeline)\((.*)\)", snippet)
    assert len(loads) == 3
    for arguments in loads:
        assert "revision=revision" in arguments and "trust_remote_code=True" in arguments
    compile(snippet, "README.md", "exec")


def test_model_card_names_the_author_and_the_description(bake):
    repo = bake(author="Zoë Okafor & the Kraków team", description="Reads: 'quoted' text.")
    body = (repo / "README.md").read_text(encoding="utf-8").split("---\n", 2)[2]

    assert "Made by Zoë Okafor & the Kraków team." in body
    assert "Reads: 'quoted' text." in body


def test_template_code_passes_ruff_with_the_template_settings():
    # Hooks, tests and tools follow the same rules the baked repository ships (`ruff.toml` at the template root).
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "hooks", "tests", "tools", "local_extensions.py"],
        cwd=TEMPLATE, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
