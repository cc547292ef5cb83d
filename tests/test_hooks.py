"""The generation hooks: answers refused before anything is written, free text that survives every file format, the
list of transformers' built-in model types, and the record that `cruft update` reads."""

import contextlib
import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import tomllib

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException
from cookiecutter.generate import generate_context, generate_files
from cookiecutter.main import cookiecutter
from cookiecutter.prompt import prompt_for_config
from cookiecutter.utils import create_env_with_context

from conftest import TEMPLATE


BUILTIN_LIST = TEMPLATE / "hooks" / "builtin_model_types.txt"
# Free text with every character that breaks naive quoting in JSON, YAML or TOML, plus letters outside ASCII and
# outside the Basic Multilingual Plane (which JSON-style escaping would turn into surrogate pairs that TOML refuses).
AWKWARD_TEXT = {
    "author": 'Zoë "Zed" O\'Brien \\ Kraków: Ærø #1 & <team> 🚀',
    "description": "It's a \"quoted\": C:\\path\\to\\n — naïve 𝔘𝔫𝔦𝔠𝔬𝔡𝔢, key: value, {braces} [brackets] %{x}",
}
AWKWARD_LICENSE = "Acme \"Research\" licence: O'Neil \\ v2 — ümlaut"


def bake_in(output: pathlib.Path, template: pathlib.Path = TEMPLATE, **answers) -> pathlib.Path:
    """Bakes with cookiecutter itself (not pytest-cookies), so that hook failures raise as they do for users."""
    return pathlib.Path(cookiecutter(str(template), no_input=True, output_dir=str(output), extra_context=answers))


@contextlib.contextmanager
def template_importable():
    """cookiecutter puts the template folder on sys.path while it renders, for local_extensions; so do these tests."""
    sys.path.append(str(TEMPLATE))
    try:
        yield
    finally:
        sys.path.remove(str(TEMPLATE))


def render_hook(name: str, **answers):
    """Imports a hook rendered with the default answers (plus `answers`) without running its main()."""
    with template_importable():
        context = generate_context(context_file=str(TEMPLATE / "cookiecutter.json"))
        rendered = {**prompt_for_config(context, no_input=True), "_repo_dir": str(TEMPLATE),
                    "_template": str(TEMPLATE), **answers}
        environment = create_env_with_context({"cookiecutter": rendered})
    source = environment.from_string((TEMPLATE / "hooks" / f"{name}.py").read_text(encoding="utf-8")).render(
        cookiecutter=rendered
    )
    path = pathlib.Path(tempfile.mkdtemp(prefix="rendered-hook-")) / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def tokenizer_without_json(tmp_path_factory) -> pathlib.Path:
    folder = tmp_path_factory.mktemp("not-a-tokenizer")
    (folder / "vocab.txt").write_text("a\nb\n", encoding="utf-8")
    return folder


LONG_PREFIX = "A" + "b" * 32
LONG_NAME = "a" * 97
REFUSED = [
    # (answers, start of the one ERROR line, id)
    ({"model_name": "7b-lm"}, ("ERROR: model_name '7b-lm' starts with a digit, so the module_name '7b_lm' and "
     "class_prefix '7bLm' derived from it are not Python identifiers; start model_name with a letter"),
     "leading-digit"),
    ({"model_name": "@@@", "repo_id": "acme/lm"}, "ERROR: model_name '@@@' contains '@'", "only-symbols"),
    ({"model_name": "class"}, "ERROR: module_name 'class' (derived from model_name 'class') is a Python keyword",
     "keyword-module-name"),
    ({"model_name": "none"}, "ERROR: class_prefix 'None' (derived from model_name 'none') is a Python keyword",
     "keyword-class-prefix"),
    ({"model_name": "🚀-lm", "repo_id": "acme/lm"},
     "ERROR: model_name '🚀-lm' contains '🚀', which has no ASCII spelling", "no-ascii-spelling"),
    ({"module_name": "acme-lm"}, "ERROR: module_name 'acme-lm' is not a lowercase Python identifier",
     "module-name-not-identifier"),
    ({"module_name": "AcmeLm"}, "ERROR: module_name 'AcmeLm' is not a lowercase Python identifier",
     "module-name-uppercase"),
    ({"class_prefix": "acmeLm"}, "ERROR: class_prefix 'acmeLm' is not a CapWords Python identifier",
     "class-prefix-lowercase"),
    ({"class_prefix": "myLm"}, ("ERROR: class_prefix 'myLm' is not a CapWords Python identifier; classes are named "
     "<class_prefix>ForCausalLM, so it must be CapWords (letters and digits, starting with a capital letter). Pass "
     "e.g. class_prefix=MyLm."), "explicit-class-prefix-advice-on-itself"),
    ({"module_name": "My-Mod"}, ("ERROR: module_name 'My-Mod' is not a lowercase Python identifier; it names "
     "configuration_<module_name>.py and must be a lowercase identifier (letters, digits and '_', starting with a "
     "letter). Pass e.g. module_name=my_mod."), "explicit-module-name-advice-on-itself"),
    ({"model_name": "pre-trained"}, ("ERROR: class_prefix 'PreTrained' makes classes named like transformers' own "
     "(PreTrainedConfig, PreTrainedModel, PreTrainedTokenizerFast), which would shadow or be mistaken for them; pass "
     "a distinct class_prefix, e.g. class_prefix=MyPreTrained."), "class-names-shadow-transformers-bases"),
    ({"model_name": "auto"}, ("ERROR: class_prefix 'Auto' makes classes named like transformers' own (AutoConfig, "
     "AutoModel)"), "class-names-shadow-auto-classes"),
    ({"class_prefix": "True"}, "ERROR: class_prefix 'True' is a Python keyword", "class-prefix-keyword"),
    ({"class_prefix": LONG_PREFIX}, f"ERROR: class_prefix '{LONG_PREFIX}' has 33 characters; prefixes over 32",
     "class-prefix-too-long"),
    ({"display_name": 'Acme "LM"'}, "ERROR: display_name 'Acme \"LM\"' must be one non-empty line",
     "display-name-with-quotes"),
    ({"model_type": "llama"}, "ERROR: model_type 'llama' is a built-in model type of transformers (LlamaConfig",
     "builtin-model-type"),
    ({"model_type": "Acme LM"}, "ERROR: model_type 'Acme LM' must be lowercase letters", "model-type-not-a-key"),
    ({"class_prefix": "Llama"}, ("ERROR: class_prefix 'Llama' makes classes named like transformers' own "
     "(LlamaConfig, LlamaPreTrainedModel, LlamaModel, LlamaForCausalLM"), "builtin-config-class"),
    ({"repo_id": "acme-lm"}, "ERROR: repo_id 'acme-lm' must have the form <organisation>/<name>",
     "repo-id-without-organisation"),
    ({"repo_id": "acme/acme--lm"}, ("ERROR: repo_id 'acme/acme--lm' is not an id the Hub accepts: the name "
     "'acme--lm' contains '--' or '..'"), "repo-id-double-hyphen"),
    ({"repo_id": "acme/acme..lm"}, ("ERROR: repo_id 'acme/acme..lm' is not an id the Hub accepts: the name "
     "'acme..lm' contains '--' or '..'"), "repo-id-double-dot"),
    ({"repo_id": "acme/-lm"}, ("ERROR: repo_id 'acme/-lm' is not an id the Hub accepts: the name '-lm' starts or "
     "ends with '-' or '.'"), "repo-id-leading-hyphen"),
    ({"repo_id": "acme./lm"}, ("ERROR: repo_id 'acme./lm' is not an id the Hub accepts: the organisation 'acme.' "
     "starts or ends with '-' or '.'"), "repo-id-trailing-dot"),
    ({"repo_id": f"acme/{LONG_NAME}"}, (f"ERROR: repo_id 'acme/{LONG_NAME}' is not an id the Hub accepts: the name "
     f"'{LONG_NAME}' has 97 characters; the Hub allows at most 96"), "repo-id-too-long"),
    ({"repo_id": "acme/acme lm"}, ("ERROR: repo_id 'acme/acme lm' is not an id the Hub accepts: the name 'acme lm' "
     "contains ' '"), "repo-id-with-space"),
    ({"model_name": "café-lm"}, ("ERROR: model_name 'café-lm' contains 'é'; it names the folder and the Hub "
     "repository, which take ASCII only. Pass model_name=cafe-lm"), "non-ascii-model-name"),
    ({"hub_organization": "acme/research", "repo_id": "acme/acme-lm"},
     "ERROR: hub_organization 'acme/research' contains '/'", "organisation-with-slash"),
    ({"tokenizer": "existing"}, "ERROR: tokenizer=existing needs existing_tokenizer_path",
     "existing-tokenizer-without-path"),
    ({"description": "one\ntwo"}, "ERROR: description 'one\\ntwo' contains line breaks or control characters",
     "description-with-line-break"),
    ({"author": "Acme\x07"}, "ERROR: author 'Acme\\x07' contains line breaks or control characters",
     "author-with-control-character"),
]


@pytest.mark.parametrize(("answers", "expected"), [case[:2] for case in REFUSED], ids=[case[2] for case in REFUSED])
def test_refused_answer_prints_one_error_sentence_and_leaves_no_folder(answers, expected, tmp_path, capfd):
    with pytest.raises(FailedHookException):
        bake_in(tmp_path, **answers)
    lines = capfd.readouterr().out.splitlines()
    errors = [line for line in lines if line.startswith("ERROR: ") and "pre_gen_project" not in line]
    assert len(errors) == 1, lines
    assert errors[0].startswith(expected), errors[0]
    assert errors[0].endswith("."), "errors are full sentences"
    assert list(tmp_path.iterdir()) == []


def test_empty_model_name_is_refused_without_touching_the_output_folder(tmp_path, capfd):
    """An empty name makes the output folder itself the project folder: cookiecutter refuses that unless told to
    overwrite, and then the hook refuses it, deleting nothing."""
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(FailedHookException):
        cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(tmp_path), overwrite_if_exists=True,
                     extra_context={"model_name": "", "repo_id": "acme/lm"})
    errors = [line for line in capfd.readouterr().out.splitlines() if line.startswith("ERROR: model_name")]
    assert errors == [("ERROR: model_name is empty; give the repository a name made of letters, digits and hyphens, "
                      "e.g. acme-lm.")]
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]


def test_existing_tokenizer_folder_without_tokenizer_json_is_refused(tmp_path, capfd, tokenizer_without_json):
    output = tmp_path / "out"
    with pytest.raises(FailedHookException):
        bake_in(output, tokenizer="existing", existing_tokenizer_path=str(tokenizer_without_json))
    out = capfd.readouterr().out
    expected = f"ERROR: existing_tokenizer_path '{tokenizer_without_json}' (resolved to {tokenizer_without_json})"
    assert f"{expected} holds no tokenizer.json" in out
    assert not output.exists() or list(output.iterdir()) == []


def test_refusal_keeps_an_existing_folder_of_the_same_name(tmp_path, capfd):
    """With --overwrite-if-exists, a refused bake must not delete the user's folder."""
    mine = tmp_path / "acme-lm"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(FailedHookException):
        cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(tmp_path), overwrite_if_exists=True,
                     extra_context={"repo_id": "acme/acme--lm"})
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_accented_display_name_and_author_are_kept(tmp_path):
    repo = bake_in(tmp_path, model_name="zoe-lm", display_name="Zoë LM", author="Zoë Ærø")
    config = json.loads((repo / "config.json").read_text(encoding="utf-8"))
    assert config["auto_map"]["AutoModelForCausalLM"] == "modeling_zoe_lm.ZoeLmForCausalLM"
    assert "Zoë LM" in (repo / "README.md").read_text(encoding="utf-8")
    project = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["authors"] == [{"name": "Zoë Ærø"}]


def refusal_errors(capfd, **answers) -> list[str]:
    with pytest.raises(FailedHookException):
        bake_in(pathlib.Path(tempfile.mkdtemp(prefix="refused-")), **answers)
    lines = capfd.readouterr().out.splitlines()
    return [line for line in lines if line.startswith("ERROR: ") and "pre_gen_project" not in line]


def test_every_independent_problem_is_reported_in_one_run(capfd):
    name = "-".join(["abcdefgh"] * 9) + "-abcdef"  # 87 characters: too long for both derived Python names
    errors = refusal_errors(capfd, model_name=name)
    assert [error.split(" ")[1] for error in errors] == ["module_name", "class_prefix"], errors
    assert "has 87 characters" in errors[0] and "has 78 characters" in errors[1]


def test_explicit_names_are_all_reported_without_advice_on_model_name(capfd):
    errors = refusal_errors(capfd, class_prefix="myLm", module_name="My-Mod", model_type="Acme LM")
    assert [error.split(" ")[1] for error in errors] == ["module_name", "class_prefix", "model_type"], errors
    assert not any("model_name" in error for error in errors), errors


def test_awkward_author_and_description_round_trip_through_toml_yaml_and_json(tmp_path):
    repo = bake_in(tmp_path, **AWKWARD_TEXT)
    project = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["description"] == AWKWARD_TEXT["description"]
    assert project["authors"] == [{"name": AWKWARD_TEXT["author"]}]
    record = json.loads((repo / ".cruft.json").read_text(encoding="utf-8"))["context"]["cookiecutter"]
    assert {key: record[key] for key in AWKWARD_TEXT} == AWKWARD_TEXT
    readme = (repo / "README.md").read_text(encoding="utf-8")
    assert yaml.safe_load(readme.split("---\n")[1])["license"] == "apache-2.0"
    assert AWKWARD_TEXT["description"] in readme
    for path in repo.rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))


def test_awkward_license_round_trips_through_front_matter_and_pyproject(tmp_path):
    """cookiecutter.json offers licenses as a choice; a template edited to offer any text must still render."""
    with template_importable():
        context = generate_context(context_file=str(TEMPLATE / "cookiecutter.json"))
        context["cookiecutter"] = prompt_for_config(context, no_input=True)
        context["cookiecutter"].update(license=AWKWARD_LICENSE, _repo_dir=str(TEMPLATE), _template=str(TEMPLATE))
        repo = pathlib.Path(generate_files(repo_dir=str(TEMPLATE), context=context, output_dir=str(tmp_path)))
    front_matter = yaml.safe_load((repo / "README.md").read_text(encoding="utf-8").split("---\n")[1])
    assert front_matter["license"] == AWKWARD_LICENSE
    assert tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["project"]["license"] == {
        "text": AWKWARD_LICENSE
    }


def test_shipped_builtin_model_types_match_the_installed_transformers():
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    lines = BUILTIN_LIST.read_text(encoding="utf-8").splitlines()
    shipped = dict(line.split() for line in lines if line and not line.startswith("#"))
    regenerate = (
        f"{sys.executable} -c \"from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES as m; "
        "print(*sorted(f'{k} {v}' for k, v in m.items()), sep=chr(10))\" >> hooks/builtin_model_types.txt "
        "(after keeping the three comment lines)"
    )
    assert shipped == dict(CONFIG_MAPPING_NAMES), f"regenerate the list: {regenerate}"


def test_shipped_transformers_names_match_the_installed_transformers():
    import transformers

    lines = (TEMPLATE / "hooks" / "transformers_public_names.txt").read_text(encoding="utf-8").splitlines()
    shipped = [line for line in lines if line and not line.startswith("#")]
    regenerate = (
        f"{sys.executable} -c \"import transformers; print(*sorted(n for n in dir(transformers) if not "
        "n.startswith('_')), sep=chr(10))\" >> hooks/transformers_public_names.txt (after keeping the comment lines)"
    )
    assert shipped == sorted(name for name in dir(transformers) if not name.startswith("_")), regenerate


def test_hook_reads_builtin_model_types_from_transformers_source_without_importing_it():
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    mapping, source = render_hook("pre_gen_project").builtin_model_types()
    assert mapping == dict(CONFIG_MAPPING_NAMES)
    assert source.startswith("the installed transformers")


def test_hook_reads_builtin_model_types_of_the_oldest_release(oldest_python):
    """4.57 spells CONFIG_MAPPING_NAMES as one literal list; the source reader must find the same pairs."""
    hook = render_hook("pre_gen_project")
    script = (
        "import json\n"
        "from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES\n"
        "print(json.dumps(dict(CONFIG_MAPPING_NAMES)))\n"
    )
    result = subprocess.run([oldest_python, "-c", script], capture_output=True, text=True, check=True)
    imported = json.loads(result.stdout)
    locate = "import importlib.util as u; print(u.find_spec('transformers').origin)"
    origin = subprocess.run([oldest_python, "-c", locate], capture_output=True, text=True, check=True).stdout.strip()
    auto = pathlib.Path(origin).parent / "models" / "auto"
    parsed = {}
    for name in ("auto_mappings.py", "configuration_auto.py"):
        parsed.update(hook._mapping_from_source(auto / name))
    assert parsed == imported


def test_hook_falls_back_to_the_shipped_list_without_transformers(monkeypatch):
    hook = render_hook("pre_gen_project")
    monkeypatch.setattr(hook.importlib.util, "find_spec", lambda name: None)
    mapping, source = hook.builtin_model_types()
    assert source == "the template's hooks/builtin_model_types.txt"
    assert mapping["llama"] == "LlamaConfig" and len(mapping) > 400


def test_template_record_holds_version_commit_and_every_answer(tmp_path):
    repo = bake_in(tmp_path, model_name="zeta-lm", tie_word_embeddings="no")
    record = json.loads((repo / ".cruft.json").read_text(encoding="utf-8"))
    answers = record["context"]["cookiecutter"]
    template_answers = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    assert answers["_template_version"] == template_answers["_template_version"]
    assert set(template_answers) - {"__prompts__", "__start_dir"} <= set(answers)
    assert answers["model_name"] == "zeta-lm" and answers["tie_word_embeddings"] == "no"
    assert answers["module_name"] == "zeta_lm" and answers["class_prefix"] == "ZetaLm"
    assert record["template"] == str(TEMPLATE)
    git_head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=TEMPLATE, capture_output=True, text=True, check=True)
    head = git_head.stdout.strip()
    assert record["commit"] == answers["_commit"] == head
    # Where the bake ran is no part of the repository's answers.
    assert not {"_output_dir", "_repo_dir", "__start_dir"} & set(answers)


def bake_command(cwd: pathlib.Path, output: pathlib.Path, template: str, *answers: str, pwd: str | None = None):
    """Runs the cookiecutter command line in `cwd`, as a program would with `cwd=`; `pwd` fakes a stale $PWD."""
    environment = {key: value for key, value in os.environ.items() if key != "PWD"}
    if pwd is not None:
        environment["PWD"] = pwd
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(output), template, *answers]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=environment, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result


def git(folder: pathlib.Path, *args: str) -> str:
    identity = ["-c", "user.name=Template Test", "-c", "user.email=template-test@example.invalid"]
    result = subprocess.run(["git", *identity, *args], cwd=folder, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def git_copy_of_template(folder: pathlib.Path) -> pathlib.Path:
    """A git repository holding the template's files in one commit, at `folder`."""
    shutil.copytree(TEMPLATE, folder, ignore=shutil.ignore_patterns(".git", ".venv*", "build", "__pycache__",
                                                                    ".pytest_cache", ".ruff_cache"))
    git(folder, "init", "-q")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "v0.1.0")
    return folder


@pytest.fixture(scope="module")
def checkouts(tmp_path_factory) -> pathlib.Path:
    """<root>/checkouts/template (a git copy of the template) and an empty <root>/work beside it; returns <root>."""
    root = tmp_path_factory.mktemp("relative")
    git_copy_of_template(root / "checkouts" / "template")
    (root / "work").mkdir()
    return root


def test_template_record_resolves_a_relative_template_path(tmp_path):
    # `cookiecutter .` from inside the checkout: the hook runs in the new folder, where "." means something else.
    result = bake_command(TEMPLATE, tmp_path, ".")
    record = json.loads((tmp_path / "acme-lm" / ".cruft.json").read_text(encoding="utf-8"))
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=TEMPLATE, capture_output=True, text=True, check=True)
    assert record["template"] == str(TEMPLATE)
    assert record["commit"] == head.stdout.strip()
    assert "WARNING" not in result.stdout


@pytest.mark.parametrize(
    ("start", "template", "pwd"),
    [("work", "../checkouts/template", None), ("", "checkouts/template", "/"), ("work", "../checkouts/template", "/")],
    ids=["sibling-folder", "stale-pwd", "sibling-folder-stale-pwd"],
)
def test_template_record_holds_the_absolute_template_path_wherever_cookiecutter_started(
    checkouts, tmp_path, start, template, pwd
):
    bake_command(checkouts / start, tmp_path, template, pwd=pwd)
    record = json.loads((tmp_path / "acme-lm" / ".cruft.json").read_text(encoding="utf-8"))
    assert record["template"] == str(checkouts / "checkouts" / "template")
    assert record["commit"] == git(checkouts / "checkouts" / "template", "rev-parse", "HEAD")


def test_relative_existing_tokenizer_path_is_taken_from_where_cookiecutter_started(checkouts, tmp_path):
    folder = checkouts / "work" / "saved-tokenizer"
    folder.mkdir(exist_ok=True)
    tokenizer = render_hook("post_gen_project").byte_level_tokenizer()
    vocab = tokenizer["model"]["vocab"]
    vocab["<|custom|>"] = len(vocab)  # marks this tokenizer apart from the one the template writes
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer), encoding="utf-8")
    answers = ("tokenizer=existing", "existing_tokenizer_path=saved-tokenizer")
    bake_command(checkouts / "work", tmp_path, "../checkouts/template", *answers, pwd="/")
    repo = tmp_path / "acme-lm"
    assert json.loads((repo / "tokenizer.json").read_text(encoding="utf-8")) == tokenizer
    record = json.loads((repo / ".cruft.json").read_text(encoding="utf-8"))
    assert record["context"]["cookiecutter"]["existing_tokenizer_path"] == str(folder)


def test_template_record_keeps_a_git_url_rather_than_the_local_clone(checkouts, tmp_path):
    config = tmp_path / "cookiecutter.yaml"
    config.write_text(f"cookiecutters_dir: {tmp_path / 'clones'}\nreplay_dir: {tmp_path / 'replay'}\n",
                      encoding="utf-8")
    url = f"git+file://{checkouts / 'checkouts' / 'template'}"
    bake_command(checkouts / "work", tmp_path / "out", url, "--config-file", str(config))
    record = json.loads((tmp_path / "out" / "acme-lm" / ".cruft.json").read_text(encoding="utf-8"))
    assert record["template"] == url
    assert record["commit"] == git(checkouts / "checkouts" / "template", "rev-parse", "HEAD")


def test_template_record_expands_a_github_abbreviation():
    template, commit = render_hook("post_gen_project", _template="gh:acme/acme-lm-template").template_source()
    assert template == "https://github.com/acme/acme-lm-template.git"
    assert commit == git(TEMPLATE, "rev-parse", "HEAD")


def test_cruft_update_brings_a_template_fix_into_a_baked_repository(tmp_path):
    """Bake from a git copy of the template, change the template, and let `cruft update` carry the change over
    while keeping the author's own edit."""
    template = git_copy_of_template(tmp_path / "template")
    repo = bake_in(tmp_path / "baked", template, model_name="delta-lm")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "baked")
    readme = repo / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nNotes the author added.\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "author's notes")

    requirements = template / "{{cookiecutter.model_name}}" / "requirements-dev.txt"
    requirements.write_text(requirements.read_text(encoding="utf-8") + "# a template fix\n", encoding="utf-8")
    git(template, "commit", "-q", "-am", "v0.1.1")
    new_commit = git(template, "rev-parse", "HEAD")

    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    result = subprocess.run([sys.executable, "-m", "cruft", "update", "--skip-apply-ask"], cwd=repo, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (repo / "requirements-dev.txt").read_text(encoding="utf-8").endswith("# a template fix\n")
    assert readme.read_text(encoding="utf-8").endswith("Notes the author added.\n")
    assert json.loads((repo / ".cruft.json").read_text(encoding="utf-8"))["commit"] == new_commit
