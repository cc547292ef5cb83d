"""Checks every answer before cookiecutter writes a file.

Each problem is printed as one `ERROR: ...` line naming the value and what would work, then the hook exits 1 and
cookiecutter removes the half-made folder. The checks use only the standard library (and cookiecutter's own
dependencies), so they run in whatever environment cookiecutter or cruft was installed into.
"""

import ast
import importlib.util
import json
import keyword
import os
import pathlib
import re
import sys
import unicodedata


# The rendered answers. `tojson` escapes quotes, so no answer can end the string early.
ANSWERS = json.loads(r'''{{ cookiecutter | tojson }}''')

# Longest class prefix and module name the baked code is laid out for: with these, every generated line
# (`class <Prefix>ForSequenceClassification(<Prefix>PreTrainedModel):` is the widest) fits in 119 columns.
MAX_CLASS_PREFIX = 32
MAX_MODULE_NAME = 32
MAX_REPO_PART = 96
CHOICES = {
    "tokenizer": ("train-bpe", "byte-level", "existing"),
    "heads": ("causal-lm-and-sequence-classification", "causal-lm"),
    "tie_word_embeddings": ("yes", "no"),
}
HUB_NAME = re.compile(r"[A-Za-z0-9_.-]+")
MODEL_TYPE = re.compile(r"[a-z][a-z0-9_-]*")


def slug(text: str, separator: str) -> str:
    """The derivation cookiecutter.json applies (python-slugify), or '' when slugify is not importable."""
    try:
        from slugify import slugify
    except ImportError:
        return ""
    return slugify(text, separator=separator)


def capwords(text: str) -> str:
    """The class prefix cookiecutter.json derives: slugified words, each capitalised as Jinja's `title` does."""
    return "".join(word[0].upper() + word[1:].lower() for word in slug(text, " ").split())


def transliterate(char: str) -> str:
    """ASCII spelling of one character, as slugify would spell it."""
    try:
        from text_unidecode import unidecode
    except ImportError:
        try:
            from unidecode import unidecode
        except ImportError:
            decomposed = unicodedata.normalize("NFKD", char)
            return "".join(c for c in decomposed if c.isascii())
    return unidecode(char)


def check_model_name(name: str) -> list[str]:
    if not name.strip():
        return ["model_name is empty; give the repository a name made of letters, digits and hyphens, e.g. acme-lm."]
    errors = []
    untranslatable = sorted({c for c in name if not c.isascii() and not transliterate(c).strip().isalnum()})
    if untranslatable:
        shown = ", ".join(repr(c) for c in untranslatable)
        errors.append(
            f"model_name {name!r} contains {shown}, which has no ASCII spelling to derive Python names from; "
            "use letters (accented letters are fine), digits and hyphens, e.g. acme-lm."
        )
    symbols = sorted({c for c in name if c.isascii() and not (c.isalnum() or c in "-_.")})
    if symbols:
        shown = " ".join(repr(c) for c in symbols)
        suggestion = slug(name, "-") or "acme-lm"
        errors.append(
            f"model_name {name!r} contains {shown}; it becomes a folder and a Hub repository name, which allow only "
            f"letters, digits, '-', '_' and '.', e.g. model_name={suggestion}."
        )
    elif name[0] in "-._":
        suggestion = name.lstrip("-._") or "acme-lm"
        errors.append(f"model_name {name!r} must start with a letter or digit, e.g. model_name={suggestion}.")
    return errors


def _origin(name: str, value: str, source: str, source_value: str, derive) -> str:
    """'module_name 'x' (derived from model_name 'y')' when it was derived, else 'module_name 'x''."""
    if derive(source_value) == value:
        return f"{name} {value!r} (derived from {source} {source_value!r})"
    return f"{name} {value!r}"


def check_module_name(module: str, model_name: str) -> list[str]:
    what = _origin("module_name", module, "model_name", model_name, lambda v: slug(v, "_"))
    if not module:
        return [f"{what} is empty; start model_name with a letter, or pass module_name=acme_lm."]
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", module):
        reason = "starts with a digit" if module[0].isdigit() else "is not a lowercase Python identifier"
        message = (
            f"{what} {reason}; it names configuration_<module_name>.py and must be a lowercase identifier. "
            "Start model_name with a letter (e.g. lm-7b instead of 7b-lm) or pass module_name=<name>."
        )
        return [message]
    if keyword.iskeyword(module):
        return [f"{what} is a Python keyword; pass a different model_name or module_name={module}_lm."]
    if len(module) > MAX_MODULE_NAME:
        message = (
            f"{what} has {len(module)} characters; names over {MAX_MODULE_NAME} make the generated import lines "
            f"overflow 119 columns. Pass a shorter module_name=<name>."
        )
        return [message]
    return []


def check_class_prefix(prefix: str, model_name: str) -> list[str]:
    what = _origin("class_prefix", prefix, "model_name", model_name, capwords)
    if not prefix:
        return [f"{what} is empty; start model_name with a letter, or pass class_prefix=AcmeLm."]
    if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", prefix):
        reason = "starts with a digit" if prefix[0].isdigit() else "is not a CapWords Python identifier"
        message = (
            f"{what} {reason}; classes are named <class_prefix>ForCausalLM. Start model_name with a letter "
            "(e.g. lm-7b instead of 7b-lm) or pass class_prefix=<CapWordsName>."
        )
        return [message]
    if keyword.iskeyword(prefix):
        return [f"{what} is a Python keyword; pass a different model_name or class_prefix={prefix}Lm."]
    if len(prefix) > MAX_CLASS_PREFIX:
        message = (
            f"{what} has {len(prefix)} characters; prefixes over {MAX_CLASS_PREFIX} make class definitions "
            f"such as {prefix}ForSequenceClassification overflow 119 columns. Pass a shorter class_prefix=<Name>."
        )
        return [message]
    return []


def check_display_name(display_name: str) -> list[str]:
    if not display_name.strip() or any(c in display_name for c in '"\\') or _control_characters(display_name):
        message = (
            f"display_name {display_name!r} must be one non-empty line without double quotes or backslashes "
            "(it goes into docstrings); pass e.g. display_name='Acme LM'."
        )
        return [message]
    return []


def builtin_model_types() -> tuple[dict[str, str], str]:
    """transformers' built-in {model_type: config class name} and where it was read from."""
    spec = importlib.util.find_spec("transformers")
    if spec is not None and spec.origin:
        # Read the mapping from the source instead of importing it: importing transformers takes seconds.
        auto = pathlib.Path(spec.origin).parent / "models" / "auto"
        mapping = {}
        for name in ("auto_mappings.py", "configuration_auto.py"):
            mapping.update(_mapping_from_source(auto / name))
        if mapping:
            return mapping, f"the installed transformers {_installed_version(spec.origin)}"
    repo_dir = ANSWERS.get("_repo_dir")
    shipped = pathlib.Path(repo_dir) / "hooks" / "builtin_model_types.txt" if repo_dir else None
    if shipped is not None and shipped.is_file():
        lines = shipped.read_text(encoding="utf-8").splitlines()
        pairs = (line.split() for line in lines if line.strip() and not line.startswith("#"))
        return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}, "the template's hooks/builtin_model_types.txt"
    return {}, ""


def _installed_version(origin: str) -> str:
    match = re.search(r'^__version__ = "([^"]+)"', pathlib.Path(origin).read_text(encoding="utf-8"), re.MULTILINE)
    return match.group(1) if match else ""


def _mapping_from_source(path: pathlib.Path) -> dict[str, str]:
    """The string pairs that module-level statements put into `CONFIG_MAPPING_NAMES` in `path`.

    Releases spell the mapping differently (a list of pairs, a dict passed to `update`, keyword unpacking), so this
    collects every literal (type, class) pair in any statement that assigns or updates that name.
    """
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return {}
    mapping = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            if not any(getattr(target, "id", None) == "CONFIG_MAPPING_NAMES" for target in statement.targets):
                continue
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            method = statement.value.func
            if not (isinstance(method, ast.Attribute) and getattr(method.value, "id", None) == "CONFIG_MAPPING_NAMES"):
                continue
        else:
            continue
        for node in ast.walk(statement.value):
            if isinstance(node, ast.Tuple) and len(node.elts) == 2 and all(_is_text(e) for e in node.elts):
                mapping[node.elts[0].value] = node.elts[1].value
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if key is not None and _is_text(key) and _is_text(value):
                        mapping[key.value] = value.value
    return mapping


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def check_builtin_collisions(model_type: str, prefix: str) -> list[str]:
    builtins, source = builtin_model_types()
    if not builtins:
        print("WARNING: neither transformers nor the template's list of built-in model types could be read; "
              "model_type and class names were not checked for collisions.")
        return []
    errors = []
    organization = slug(ANSWERS.get("hub_organization", ""), "_")
    if model_type in builtins:
        suggestion = f"{organization}_{model_type}" if organization else f"{model_type}_custom"
        errors.append(
            f"model_type {model_type!r} is a built-in model type of transformers ({builtins[model_type]}, per "
            f"{source}), so loading without trust_remote_code=True would silently build transformers' own class. "
            f"Pass a distinct model_type, e.g. model_type={suggestion}."
        )
    config_class = f"{prefix}Config"
    owners = sorted(kind for kind, name in builtins.items() if name == config_class)
    if owners:
        errors.append(
            f"class_prefix {prefix!r} makes the config class {config_class}, the name of transformers' built-in "
            f"config for model_type {owners[0]!r}; pass a distinct class_prefix, e.g. class_prefix=My{prefix}."
        )
    return errors


def check_model_type(model_type: str) -> list[str]:
    if not MODEL_TYPE.fullmatch(model_type):
        message = (
            f"model_type {model_type!r} must be lowercase letters, digits, '_' and '-', starting with a letter "
            "(it is the key transformers' Auto classes use); pass e.g. model_type=acme_lm."
        )
        return [message]
    return []


def _hub_name_problem(part: str) -> str:
    """Why the Hub would refuse `part` as a user, organisation or repository name ('' when it would not)."""
    if not part:
        return "is empty"
    bad = sorted({c for c in part if not HUB_NAME.fullmatch(c)})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        return f"contains {shown}; only ASCII letters, digits, '-', '_' and '.' are allowed"
    if len(part) > MAX_REPO_PART:
        return f"has {len(part)} characters; the Hub allows at most {MAX_REPO_PART}"
    if "--" in part or ".." in part:
        return "contains '--' or '..', which the Hub reserves"
    if part[0] in "-." or part[-1] in "-.":
        return "starts or ends with '-' or '.'"
    if part.endswith(".git"):
        return "ends with '.git'"
    return ""


def check_repo_id(repo_id: str, organization: str) -> list[str]:
    errors = []
    problem = _hub_name_problem(organization)
    if problem:
        errors.append(
            f"hub_organization {organization!r} {problem}; pass the Hub user or organisation name, e.g. "
            "hub_organization=acme."
        )
    parts = repo_id.split("/")
    if len(parts) != 2:
        errors.append(f"repo_id {repo_id!r} must have the form <organisation>/<name>, e.g. acme/acme-lm.")
        return errors
    for label, part in zip(("organisation", "name"), parts, strict=True):
        problem = _hub_name_problem(part)
        if problem:
            fixed = slug(part, "-") or "acme-lm"
            errors.append(
                f"repo_id {repo_id!r} is not an id the Hub accepts: the {label} {part!r} {problem}. "
                f"Pass repo_id=<organisation>/<name>, e.g. with {fixed!r} as the {label}."
            )
    return errors


def _control_characters(text: str) -> list[str]:
    return sorted({c for c in text if unicodedata.category(c) in ("Cc", "Cs", "Cn")})


def check_free_text() -> list[str]:
    """Free text goes into TOML, YAML and JSON as one quoted line: control characters and line breaks cannot."""
    errors = []
    for key in ("author", "description", "license"):
        value = str(ANSWERS.get(key, ""))
        bad = _control_characters(value)
        if bad:
            errors.append(
                f"{key} {value!r} contains line breaks or control characters ({', '.join(map(repr, bad))}); "
                "give a single line of text."
            )
    if not str(ANSWERS.get("license", "")).strip():
        errors.append("license is empty; pass a Hub license id such as apache-2.0, or other.")
    return errors


def check_choices() -> list[str]:
    return [
        f"{key} is {ANSWERS.get(key)!r}; choose one of {', '.join(values)}."
        for key, values in CHOICES.items()
        if ANSWERS.get(key) not in values
    ]


def resolve_user_path(text: str) -> pathlib.Path:
    """A path as the user typed it: `~` expanded, relative paths taken from the directory cookiecutter ran in."""
    path = pathlib.Path(os.path.expanduser(text))
    if not path.is_absolute():
        # Hooks run inside the new project folder; the shell's PWD still names where the user typed the command.
        path = pathlib.Path(os.environ.get("PWD", os.getcwd())) / path
    return path


def check_existing_tokenizer() -> list[str]:
    text = str(ANSWERS.get("existing_tokenizer_path", "")).strip()
    if ANSWERS.get("tokenizer") != "existing":
        if text:
            chosen = ANSWERS.get("tokenizer")
            print(f"WARNING: existing_tokenizer_path {text!r} is ignored because tokenizer={chosen}.")
        return []
    if not text:
        message = (
            "tokenizer=existing needs existing_tokenizer_path, the folder a tokenizer was saved to with "
            "save_pretrained (it must hold tokenizer.json); pass existing_tokenizer_path=/path/to/tokenizer."
        )
        return [message]
    folder = resolve_user_path(text)
    tokenizer_file = folder / "tokenizer.json"
    if not tokenizer_file.is_file():
        message = (
            f"existing_tokenizer_path {text!r} (resolved to {folder}) holds no tokenizer.json; point it at a "
            "folder saved by a fast tokenizer's save_pretrained, or choose tokenizer=train-bpe."
        )
        return [message]
    try:
        model = json.loads(tokenizer_file.read_text(encoding="utf-8")).get("model", {})
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as error:
        return [f"{tokenizer_file} is not a readable tokenizers JSON file ({error}); save the tokenizer again."]
    if not model.get("vocab"):
        return [f"{tokenizer_file} has no model vocabulary; save the tokenizer again with save_pretrained."]
    return []


def main() -> int:
    model_name = str(ANSWERS.get("model_name", ""))
    module, prefix = str(ANSWERS.get("module_name", "")), str(ANSWERS.get("class_prefix", ""))
    model_type = str(ANSWERS.get("model_type", ""))
    # Each name is derived from the one before, so only the first problem in the chain is reported.
    errors = (
        check_model_name(model_name)
        or check_module_name(module, model_name)
        or check_class_prefix(prefix, model_name)
        or check_display_name(str(ANSWERS.get("display_name", "")))
        or check_model_type(model_type)
        or check_builtin_collisions(model_type, prefix)
    )
    errors += check_repo_id(str(ANSWERS.get("repo_id", "")), str(ANSWERS.get("hub_organization", "")))
    errors += check_free_text()
    errors += check_choices()
    errors += check_existing_tokenizer()
    for error in errors:
        print(f"ERROR: {error}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
