"""scripts/check_repo.py: a clean folder passes, and a folder broken in each way it checks fails with that finding."""

import json
import pathlib
import shutil
import subprocess
import sys

import pytest
import torch
from conftest import CLASS_PREFIX, MODULE_NAME, REPO, load_script


MODELING = f"modeling_{MODULE_NAME}.py"


check_repo = load_script("check_repo")


def run_check(folder: pathlib.Path, capsys) -> tuple[int, list[str]]:
    code = check_repo.main([str(folder)])
    return code, capsys.readouterr().out.splitlines()


@pytest.fixture(scope="module")
def saved_repo(tmp_path_factory, modeling, config_class) -> pathlib.Path:
    """The repository's top-level files plus weights saved from its own config: what an upload to the Hub holds."""
    folder = tmp_path_factory.mktemp("saved")
    for path in REPO.iterdir():
        if path.is_file() and not path.name.startswith("."):
            shutil.copy(path, folder / path.name)
    torch.manual_seed(0)
    model = getattr(modeling, f"{CLASS_PREFIX}ForCausalLM")(config_class.from_pretrained(REPO))
    model.save_pretrained(folder)
    return folder


@pytest.fixture
def folder(saved_repo, tmp_path) -> pathlib.Path:
    """A private copy of the saved repository for one test to break."""
    return shutil.copytree(saved_repo, tmp_path / "repo")


def edit_json(path: pathlib.Path, change):
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def append(path: pathlib.Path, text: str):
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def errors_in(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("ERROR")]


def test_saved_repository_passes_without_findings(saved_repo, capsys):
    code, lines = run_check(saved_repo, capsys)
    assert code == 0
    assert lines == [lines[-1]] and lines[-1].startswith("OK ")
    assert "(0 warning(s))" in lines[-1]


def test_repository_source_files_pass_with_a_warning_that_they_hold_no_weights(tmp_path, capsys):
    # The source files only: the author may have built weights into the repository folder, or not yet.
    for path in REPO.iterdir():
        weights = path.suffix == ".safetensors" or path.name == "model.safetensors.index.json"
        if path.is_file() and not path.name.startswith(".") and not weights:
            shutil.copy(path, tmp_path / path.name)
    code, lines = run_check(tmp_path, capsys)
    assert code == 0, lines
    assert errors_in(lines) == []
    assert any(line.startswith("WARNING .: holds no model*.safetensors weights") for line in lines)


def test_repository_folder_itself_passes_with_or_without_built_weights(capsys):
    code, lines = run_check(REPO, capsys)
    assert code == 0, lines
    assert errors_in(lines) == []
    holds_weights = any(REPO.glob("model*.safetensors"))
    warned = any(line.startswith("WARNING .: holds no model*.safetensors weights") for line in lines)
    assert warned is not holds_weights, lines


def _point_auto_model_at_missing_file(folder):
    edit_json(folder / "config.json", lambda c: c["auto_map"].update(AutoModel=f"modeling_gone.{CLASS_PREFIX}Model"))


def _point_auto_model_at_missing_class(folder):
    edit_json(
        folder / "config.json",
        lambda c: c["auto_map"].update(AutoModel=f"modeling_{MODULE_NAME}.{CLASS_PREFIX}Missing"),
    )


def _point_auto_tokenizer_at_missing_class(folder):
    edit_json(
        folder / "tokenizer_config.json",
        lambda c: c["auto_map"].update(AutoTokenizer=[None, f"tokenization_{MODULE_NAME}.{CLASS_PREFIX}Missing"]),
    )


def _import_from_subpackage(folder):
    append(folder / MODELING, "\nfrom .layers.attention import Attention\n")


def _import_missing_sibling(folder):
    append(folder / MODELING, "\nfrom .helpers import helper\n")


def _import_optional_package_unguarded(folder):
    append(folder / MODELING, "\nimport einops\n")


def _import_optional_package_in_try_without_import_error(folder):
    append(folder / MODELING, "\ntry:\n    import einops\nexcept ValueError:\n    einops = None\n")


def _remove_auto_map_entry(key):
    def change(folder):
        edit_json(folder / "config.json", lambda c: c["auto_map"].pop(key))

    return change


def _remove_causal_lm_entry_and_architectures(folder):
    edit_json(folder / "config.json", lambda c: (c["auto_map"].pop("AutoModelForCausalLM"), c.pop("architectures")))


def _remove_auto_map(folder):
    edit_json(folder / "config.json", lambda c: c.pop("auto_map"))


def _drop_generation_mixin(folder):
    source = (folder / MODELING).read_text(encoding="utf-8")
    bases = f"class {CLASS_PREFIX}ForCausalLM({CLASS_PREFIX}PreTrainedModel, GenerationMixin):"
    assert source.count(bases) == 1
    (folder / MODELING).write_text(
        source.replace(bases, f"class {CLASS_PREFIX}ForCausalLM({CLASS_PREFIX}PreTrainedModel):"), encoding="utf-8"
    )


def _break_syntax(folder):
    append(folder / MODELING, "\ndef broken(:\n    pass\n")


def _add_pickle_weights(folder):
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04not really a checkpoint")


def _set_config(field, value):
    def change(folder):
        edit_json(folder / "config.json", lambda c: c.update({field: value}))

    return change


def _move_tokenizer_auto_map_to_config(folder):
    tokenizer_config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    entry = tokenizer_config.pop("auto_map")["AutoTokenizer"]
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config), encoding="utf-8")
    edit_json(folder / "config.json", lambda c: c["auto_map"].update(AutoTokenizer=entry))


def _drop_tokenizer_auto_map(folder):
    edit_json(folder / "tokenizer_config.json", lambda c: c.pop("auto_map"))


def _front_matter(change):
    def edit(folder):
        text = (folder / "README.md").read_text(encoding="utf-8")
        _, metadata, body = text.split("---\n", 2)
        (folder / "README.md").write_text(change(metadata, body), encoding="utf-8")

    return edit


def _remove_model_card(folder):
    (folder / "README.md").unlink()


def _without_line(prefix):
    return _front_matter(
        lambda metadata, body: "---\n"
        + "".join(line + "\n" for line in metadata.splitlines() if not line.startswith(prefix))
        + "---\n"
        + body
    )


BROKEN = {
    "auto-map-file-missing": (
        _point_auto_model_at_missing_file,
        "ERROR config.json: auto_map AutoModel -> 'modeling_gone.",
        "needs modeling_gone.py, which is not in the folder",
    ),
    "auto-map-class-missing": (
        _point_auto_model_at_missing_class,
        "ERROR config.json: auto_map AutoModel -> ",
        f"{MODELING} defines no {CLASS_PREFIX}Missing",
    ),
    "tokenizer-auto-map-class-missing": (
        _point_auto_tokenizer_at_missing_class,
        "ERROR tokenizer_config.json: auto_map AutoTokenizer -> ",
        f"defines no {CLASS_PREFIX}Missing",
    ),
    "relative-import-not-flat": (
        _import_from_subpackage,
        f"ERROR {MODELING}:",
        "relative import .layers.attention is not flat",
    ),
    "relative-import-file-missing": (
        _import_missing_sibling,
        f"ERROR {MODELING}:",
        "imports .helpers, but helpers.py is not in the folder",
    ),
    "unguarded-optional-import": (
        _import_optional_package_unguarded,
        f"ERROR {MODELING}:",
        "imports einops, which transformers and torch do not install",
    ),
    "try-without-import-error": (
        _import_optional_package_in_try_without_import_error,
        f"ERROR {MODELING}:",
        "imports einops inside a try block that does not catch ImportError",
    ),
    "auto-map-missing": (_remove_auto_map, "ERROR config.json: has no auto_map; a remote-code model loads only", ""),
    "auto-config-entry-missing": (
        _remove_auto_map_entry("AutoConfig"),
        "ERROR config.json: auto_map has no AutoConfig entry",
        "",
    ),
    # Without `architectures` to point at the gap, the card's text-generation tag still does.
    "causal-lm-entry-missing": (
        _remove_causal_lm_entry_and_architectures,
        "ERROR README.md: pipeline_tag is text-generation but config.json's auto_map has no AutoModelForCausalLM",
        "",
    ),
    "model-type-mismatch": (
        _set_config("model_type", "other_lm"),
        "ERROR config.json: model_type is 'other_lm' but ",
        "Config declares",
    ),
    "causal-lm-without-generation-mixin": (
        _drop_generation_mixin,
        "ERROR config.json: auto_map AutoModelForCausalLM -> ",
        f"{CLASS_PREFIX}ForCausalLM does not inherit GenerationMixin",
    ),
    # One line for the file, none for the classes the auto_map entries look for in it.
    "syntax-error": (_break_syntax, f"ERROR {MODELING}: does not parse as Python", ""),
    "pickle-weights": (_add_pickle_weights, "ERROR pytorch_model.bin: is a pickle file", ""),
    "vocab-size-mismatch": (
        _set_config("vocab_size", 1000),
        "ERROR config.json: vocab_size is 1000 but model.safetensors stores ",
        "embed_tokens.weight with shape",
    ),
    "hidden-size-mismatch": (_set_config("hidden_size", 96), "ERROR config.json: hidden_size is 96 but", ""),
    "layer-count-mismatch": (
        _set_config("num_hidden_layers", 7),
        "ERROR config.json: num_hidden_layers is 7 but model.safetensors stores ",
        "layers",
    ),
    "attention-heads-mismatch": (
        _set_config("num_attention_heads", 8),
        "ERROR config.json: num_attention_heads is 8 (times head_dim",
        "q_proj.weight",
    ),
    "key-value-heads-mismatch": (
        _set_config("num_key_value_heads", 1),
        "ERROR config.json: num_key_value_heads is 1 (times head_dim",
        "k_proj.weight",
    ),
    "intermediate-size-mismatch": (
        _set_config("intermediate_size", 100),
        "ERROR config.json: intermediate_size is 100 but",
        "gate_proj.weight",
    ),
    "tokenizer-auto-map-only-in-config": (
        _move_tokenizer_auto_map_to_config,
        "ERROR tokenizer_config.json: has no auto_map AutoTokenizer entry, only config.json has one",
        "",
    ),
    "tokenizer-class-without-auto-map": (
        _drop_tokenizer_auto_map,
        f"ERROR tokenizer_config.json: tokenizer_class {CLASS_PREFIX}TokenizerFast is defined in ",
        "there is no auto_map AutoTokenizer entry",
    ),
    "model-card-missing": (_remove_model_card, "ERROR README.md: is missing", ""),
    "front-matter-missing": (
        _front_matter(lambda metadata, body: body),
        "ERROR README.md: has no metadata front matter",
        "",
    ),
    "front-matter-invalid-yaml": (
        _front_matter(lambda metadata, body: f"---\n{metadata}: [unclosed\n---\n{body}"),
        "ERROR README.md: front matter is not valid YAML",
        "",
    ),
    "library-name-missing": (_without_line("library_name:"), "ERROR README.md: front matter has no library_name", ""),
    "pipeline-tag-missing": (_without_line("pipeline_tag:"), "ERROR README.md: front matter has no pipeline_tag", ""),
    "license-missing": (_without_line("license:"), "ERROR README.md: front matter has no license", ""),
    "custom-code-tag-missing": (
        _without_line("  - custom_code"),
        "ERROR README.md: front matter tags lack custom_code",
        "",
    ),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_folder_fails_with_one_error_naming_the_problem(name, folder, capsys):
    breaker, start, detail = BROKEN[name]
    breaker(folder)
    code, lines = run_check(folder, capsys)
    errors = errors_in(lines)
    assert code == 1
    assert len(errors) == 1, lines
    assert errors[0].startswith(start) and detail in errors[0], errors[0]
    assert lines[-1].startswith("FAILED ")


def test_missing_causal_lm_entry_is_named_by_architectures_and_by_the_card(folder, capsys):
    _remove_auto_map_entry("AutoModelForCausalLM")(folder)
    code, lines = run_check(folder, capsys)
    errors = errors_in(lines)
    assert code == 1
    assert len(errors) == 2, lines
    assert errors[0].startswith(f"ERROR config.json: architectures names {CLASS_PREFIX}ForCausalLM, which no auto_map")
    assert errors[1].startswith("ERROR README.md: pipeline_tag is text-generation but config.json's auto_map has no")


def test_auto_map_with_only_the_config_entry_fails_for_want_of_a_model_class(folder, capsys):
    edit_json(folder / "config.json", lambda c: (c.update(auto_map={"AutoConfig": c["auto_map"]["AutoConfig"]}),
                                                  c.pop("architectures")))
    code, lines = run_check(folder, capsys)
    errors = errors_in(lines)
    assert code == 1
    assert errors[0].startswith("ERROR config.json: auto_map has no AutoModel* entry, so no Auto class can build")
    assert any(error.startswith("ERROR README.md: pipeline_tag is text-generation") for error in errors)
    assert len(errors) == 2, lines

def test_causal_lm_entry_on_the_bare_model_fails_for_generation_and_architectures(folder, capsys):
    edit_json(
        folder / "config.json",
        lambda c: c["auto_map"].update(AutoModelForCausalLM=f"modeling_{MODULE_NAME}.{CLASS_PREFIX}Model"),
    )
    code, lines = run_check(folder, capsys)
    assert code == 1
    entry = f"auto_map AutoModelForCausalLM -> 'modeling_{MODULE_NAME}.{CLASS_PREFIX}Model'"
    assert sorted(lines[:-1]) == sorted([
        f"ERROR config.json: {entry}: {CLASS_PREFIX}Model does not inherit GenerationMixin, so with transformers 4.57 "
        "and 5.x it has no generate() and text-generation pipelines fail. Add GenerationMixin to its bases or map the "
        "entry to the class that has it.",
        f"ERROR config.json: architectures names {CLASS_PREFIX}ForCausalLM, which no auto_map entry loads; pipelines "
        "and the Hub pick the model class from it. Add an entry for it (e.g. AutoModelForCausalLM for a *ForCausalLM "
        "class) or fix architectures.",
        f"WARNING config.json: {entry}: AutoModelForCausalLM loads the class with the CausalLM head, named "
        f"*ForCausalLM; {CLASS_PREFIX}Model looks like another class. Map the entry to the class with that head.",
    ])


def _map_causal_lm_to_subclass(folder):
    # Generates through its base class in the same file, but its name hides the head.
    append(folder / MODELING, f"\n\nclass {CLASS_PREFIX}Generator({CLASS_PREFIX}ForCausalLM):\n    pass\n")

    def change(config):
        config["auto_map"]["AutoModelForCausalLM"] = f"modeling_{MODULE_NAME}.{CLASS_PREFIX}Generator"
        config["architectures"] = [f"{CLASS_PREFIX}Generator"]

    edit_json(folder / "config.json", change)


def _map_auto_model_to_causal_lm(folder):
    edit_json(
        folder / "config.json",
        lambda c: c["auto_map"].update(AutoModel=f"modeling_{MODULE_NAME}.{CLASS_PREFIX}ForCausalLM"),
    )


WARNED = {
    "causal-lm-entry-on-other-name": (
        _map_causal_lm_to_subclass,
        f"WARNING config.json: auto_map AutoModelForCausalLM -> 'modeling_{MODULE_NAME}.{CLASS_PREFIX}Generator': "
        f"AutoModelForCausalLM loads the class with the CausalLM head, named *ForCausalLM",
    ),
    "auto-model-on-head-class": (
        _map_auto_model_to_causal_lm,
        f"WARNING config.json: auto_map AutoModel -> 'modeling_{MODULE_NAME}.{CLASS_PREFIX}ForCausalLM': AutoModel "
        "loads the bare model without a head",
    ),
}


@pytest.mark.parametrize("name", list(WARNED))
def test_head_class_under_an_auto_class_of_another_task_passes_with_a_warning(name, folder, capsys):
    breaker, start = WARNED[name]
    breaker(folder)
    code, lines = run_check(folder, capsys)
    assert code == 0, lines
    assert len(lines) == 2 and lines[0].startswith(start), lines
    assert lines[-1].startswith("OK ") and "(1 warning(s))" in lines[-1]


@pytest.mark.parametrize(
    "guarded",
    [
        "try:\n    import einops\nexcept ImportError:\n    einops = None\n",
        "try:\n    from einops import rearrange\nexcept (ImportError, AttributeError):\n    rearrange = None\n",
        "from transformers.utils import is_flash_attn_2_available\n\nif is_flash_attn_2_available():\n"
        "    from flash_attn import flash_attn_func\n",
    ],
    ids=["try-import-error", "try-tuple", "if-available"],
)
def test_guarded_optional_import_is_accepted(guarded, folder, capsys):
    append(folder / MODELING, "\n" + guarded)
    code, lines = run_check(folder, capsys)
    assert code == 0, lines


def test_command_line_exit_status_follows_errors(saved_repo, folder):
    script = REPO / "scripts" / "check_repo.py"
    clean = subprocess.run([sys.executable, str(script), str(saved_repo)], capture_output=True, text=True)
    _add_pickle_weights(folder)
    broken = subprocess.run([sys.executable, str(script), str(folder)], capture_output=True, text=True)
    assert clean.returncode == 0 and clean.stdout.startswith("OK ")
    assert broken.returncode == 1
    assert broken.stdout.splitlines()[0].startswith("ERROR pytorch_model.bin: ")
