"""Checks every answer before cookiecutter writes a file.

Each problem is printed as one `ERROR: ...` line naming the value and what would work, then the hook exits 1 and
cookiecutter removes the half-made folder. The checks use only the standard library (and cookiecutter's own
dependencies), so they run in whatever environment cookiecutter or cruft was installed into.
"""

import ast
import importlib.util
import json
import keyword
import pathlib
import re
import sys
import unicodedata


# The rendered answers. `tojson` escapes quotes, so no answer can end the string early.
ANSWERS = json.loads(r'''{{ cookiecutter | tojson }}''')
# Paths the user typed, made absolute against the folder cookiecutter was started in: this hook runs inside the new
# project folder, so a relative path read here would point somewhere else (see local_extensions.py). cruft bakes
# without `_repo_dir`, so the template folder may be empty.
PATHS = json.loads(r'''{{ {
    "template_dir": cookiecutter.get("_repo_dir", "") | abspath(cookiecutter.__start_dir),
    "existing_tokenizer": cookiecutter.existing_tokenizer_path | abspath(cookiecutter.__start_dir),
} | tojson }}''')

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
# Every class the baked repository defines is <class_prefix><suffix>.
GENERATED_CLASS_SUFFIXES = (
    "Config", "RMSNorm", "RotaryEmbedding", "Attention", "MLP", "DecoderLayer", "PreTrainedModel", "Model",
    "ForCausalLM", "ForSequenceClassification", "TokenizerFast",
)


def slug(text: str, separator: str) -> str:
    """The derivation cookiecutter.json applies (python-slugify), or '' when slugify is not importable."""
    try:
        from slugify import slugify
    except ImportError:
        return ""
    return slugify(text, separator=separator)


def capwords(text: str) -> str:
    """The class prefix cookiecutter.json derives: the display name's words run together."""
    return "".join(title_words(text).split())


def title_words(text: str) -> str:
    """The display name cookiecutter.json derives: slugified words, each capitalised as Jinja's `title` does."""
    return " ".join(word[0].upper() + word[1:].lower() for word in slug(text, " ").split())


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


def ascii_spelling(text: str) -> str:
    """`text` with every non-ASCII character transliterated (café-lm -> cafe-lm), case kept."""
    return "".join(c if c.isascii() else transliterate(c) for c in text)


def check_model_name(name: str) -> list[str]:
    if not name.strip():
        return ["model_name is empty; give the repository a name made of letters, digits and hyphens, e.g. acme-lm."]
    errors = []
    foreign = sorted({c for c in name if not c.isascii()})
    untranslatable = [c for c in foreign if not transliterate(c).strip().isalnum()]
    if untranslatable:
        shown = ", ".join(repr(c) for c in untranslatable)
        errors.append(
            f"model_name {name!r} contains {shown}, which has no ASCII spelling to derive Python names from; "
            "use ASCII letters, digits and hyphens, e.g. acme-lm."
        )
    elif foreign:
        # The folder and the Hub repository are named model_name itself, and the Hub takes ASCII names only.
        shown = ", ".join(repr(c) for c in foreign)
        errors.append(
            f"model_name {name!r} contains {shown}; it names the folder and the Hub repository, which take ASCII "
            f"only. Pass model_name={ascii_spelling(name)} (an accented display_name is fine)."
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


def check_derived_names(model_name: str, derived: dict[str, str]) -> list[str]:
    """One error for a model_name that cannot give the Python names derived from it (`derived`: name -> value).

    A leading digit or no letters at all spoils every derived name at once; reported here, once, with advice on
    model_name, instead of once per derived name.
    """
    if not derived:
        return []
    shown = " and ".join(f"{key} {value!r}" for key, value in derived.items())
    passes = " and ".join(f"{key}=<{'name' if key == 'module_name' else 'CapWordsName'}>" for key in derived)
    if not all(derived.values()):
        return [
            f"model_name {model_name!r} has no letters or digits to derive {' and '.join(derived)} from; start "
            f"model_name with a letter, or pass {passes}."
        ]
    if any(value[0].isdigit() for value in derived.values()):
        return [
            f"model_name {model_name!r} starts with a digit, so the {shown} derived from it are not Python "
            f"identifiers; start model_name with a letter (e.g. lm-7b instead of 7b-lm) or pass {passes}."
        ]
    return []


def _origin(name: str, value: str, source: str) -> str:
    """'module_name 'x' (derived from model_name 'y')' when it was derived (`source` given), else 'module_name 'x''."""
    return f"{name} {value!r} (derived from {source})" if source else f"{name} {value!r}"


def check_module_name(module: str, derived_from: str = "") -> list[str]:
    what = _origin("module_name", module, derived_from)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", module):
        reason = "starts with a digit" if module[:1].isdigit() else "is not a lowercase Python identifier"
        suggestion = slug(module, "_").lower()
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", suggestion) or keyword.iskeyword(suggestion):
            suggestion = "acme_lm"
        return [
            f"{what} {reason}; it names configuration_<module_name>.py and must be a lowercase identifier "
            f"(letters, digits and '_', starting with a letter). Pass e.g. module_name={suggestion}."
        ]
    if keyword.iskeyword(module):
        return [f"{what} is a Python keyword; pass a different model_name or module_name={module}_lm."]
    if len(module) > MAX_MODULE_NAME:
        message = (
            f"{what} has {len(module)} characters; names over {MAX_MODULE_NAME} make the generated import lines "
            f"overflow 119 columns. Pass a shorter module_name=<name>."
        )
        return [message]
    return []


def check_class_prefix(prefix: str, derived_from: str = "") -> list[str]:
    what = _origin("class_prefix", prefix, derived_from)
    if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", prefix):
        reason = "starts with a digit" if prefix[:1].isdigit() else "is not a CapWords Python identifier"
        words = re.sub(r"[^A-Za-z0-9]+", " ", ascii_spelling(prefix)).split()
        suggestion = "".join(word[0].upper() + word[1:] for word in words)
        if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", suggestion):
            suggestion = "AcmeLm"
        return [
            f"{what} {reason}; classes are named <class_prefix>ForCausalLM, so it must be CapWords (letters and "
            f"digits, starting with a capital letter). Pass e.g. class_prefix={suggestion}."
        ]
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
    shipped = template_file("builtin_model_types.txt")
    if shipped is not None:
        lines = shipped.read_text(encoding="utf-8").splitlines()
        pairs = (line.split() for line in lines if line.strip() and not line.startswith("#"))
        return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}, "the template's hooks/builtin_model_types.txt"
    return {}, ""


def template_file(name: str) -> pathlib.Path | None:
    """A data file shipped in the template's hooks folder, or None when the template folder is unknown."""
    if not PATHS["template_dir"]:
        return None
    path = pathlib.Path(PATHS["template_dir"]) / "hooks" / name
    return path if path.is_file() else None


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


def check_builtin_model_type(model_type: str) -> list[str]:
    builtins, source = builtin_model_types()
    if not builtins:
        print("WARNING: neither transformers nor the template's list of built-in model types could be read; "
              "model_type was not checked for collisions.")
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
    return errors


def transformers_public_names() -> set[str]:
    """The public top-level names of transformers, from the list shipped with the template (empty when unreadable).

    The list is shipped rather than read from the installed release: transformers builds its top-level namespace
    lazily from its whole source tree, which cannot be read reliably without importing it (seconds).
    """
    shipped = template_file("transformers_public_names.txt")
    if shipped is None:
        return set()
    lines = shipped.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def check_class_collisions(prefix: str) -> list[str]:
    """Generated classes must not take a name transformers exports: the modeling file imports several of them
    (PreTrainedModel, PreTrainedTokenizerFast, ...) and readers confuse the rest with transformers' own."""
    taken = transformers_public_names() | set(builtin_model_types()[0].values())
    if len(taken) == 0:
        print("WARNING: the template's list of transformers names could not be read; class names were not checked "
              "for collisions.")
        return []
    clashes = [prefix + suffix for suffix in GENERATED_CLASS_SUFFIXES if prefix + suffix in taken]
    if not clashes:
        return []
    suggestion = next(
        candidate for candidate in (f"My{prefix}", f"{prefix}Custom", f"Custom{prefix}")
        if not any(candidate + suffix in taken for suffix in GENERATED_CLASS_SUFFIXES)
    )
    return [
        f"class_prefix {prefix!r} makes classes named like transformers' own ({', '.join(clashes)}), which would "
        f"shadow or be mistaken for them; pass a distinct class_prefix, e.g. class_prefix={suggestion}."
    ]


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


def check_repo_id(repo_id: str, organization: str, model_name: str) -> list[str]:
    errors = []
    problem = _hub_name_problem(organization)
    if problem:
        errors.append(
            f"hub_organization {organization!r} {problem}; pass the Hub user or organisation name, e.g. "
            "hub_organization=acme."
        )
    if repo_id == f"{organization}/{model_name}" and (errors or check_model_name(model_name)):
        # The default repo_id is made of those two answers, whose own errors already say what to change.
        return errors
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
    folder = pathlib.Path(PATHS["existing_tokenizer"])
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


def check_names() -> list[str]:
    """Every independent problem with the names; a problem that only follows from another one is left out."""
    model_name = str(ANSWERS.get("model_name", ""))
    module, prefix = str(ANSWERS.get("module_name", "")), str(ANSWERS.get("class_prefix", ""))
    model_type, display_name = str(ANSWERS.get("model_type", "")), str(ANSWERS.get("display_name", ""))
    organization, repo_id = str(ANSWERS.get("hub_organization", "")), str(ANSWERS.get("repo_id", ""))
    errors = check_model_name(model_name)
    # Names left at their default come from model_name and share its problems: those are reported once, on model_name.
    derived = {}
    if module == slug(model_name, "_"):
        derived["module_name"] = module
    if prefix == capwords(model_name):
        derived["class_prefix"] = prefix
    errors = errors or check_derived_names(model_name, derived)
    unchecked = set(derived) if errors else set()
    source = f"model_name {model_name!r}"
    module_errors, prefix_errors = [], []
    if "module_name" not in unchecked:
        module_errors = check_module_name(module, source if "module_name" in derived else "")
    if "class_prefix" not in unchecked:
        prefix_errors = check_class_prefix(prefix, source if "class_prefix" in derived else "")
        prefix_errors = prefix_errors or check_class_collisions(prefix)
    errors += module_errors + prefix_errors
    if not (unchecked and display_name == title_words(model_name)):
        errors += check_display_name(display_name)
    # model_type defaults to module_name: a broken module_name already explains a broken default model_type.
    if not (model_type == module and (module_errors or "module_name" in unchecked)):
        type_errors = check_model_type(model_type)
        errors += type_errors or check_builtin_model_type(model_type)
    errors += check_repo_id(repo_id, organization, model_name)
    return errors


def main() -> int:
    errors = check_names() + check_free_text() + check_choices() + check_existing_tokenizer()
    for error in errors:
        print(f"ERROR: {error}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
