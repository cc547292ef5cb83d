"""Checks a remote-code model folder (this repository or anyone else's) for what breaks loading or the Hub page.

Usage:
    python scripts/check_repo.py FOLDER

Prints one line per finding, `ERROR <path>: ...` or `WARNING <path>: ...`, then a summary line, and exits 1 when
there is at least one error. It reads files only: nothing in FOLDER is imported or executed, weights are checked
through their safetensors headers, and neither torch nor transformers needs to be installed.
"""

import argparse
import ast
import json
import pathlib
import re
import struct
import sys
from dataclasses import dataclass


PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
# Top-level modules that come with transformers (4.57 and 5.x alike) and torch: remote code may import them without
# a guard, because transformers' `check_imports` finds them installed wherever the model can load at all.
PROVIDED_MODULES = frozenset(
    {
        "torch", "transformers", "huggingface_hub", "numpy", "packaging", "yaml", "regex", "tokenizers",
        "safetensors", "tqdm", "filelock", "typing_extensions", "setuptools", "sympy", "networkx", "jinja2", "fsspec",
    }
)
IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
MODEL_CARD_KEYS = ("library_name", "pipeline_tag", "license")
# Auto classes whose model classes are named after their head by every transformers architecture.
HEAD_SUFFIXES = {
    "AutoModelForCausalLM": "ForCausalLM",
    "AutoModelForSequenceClassification": "ForSequenceClassification",
    "AutoModelForTokenClassification": "ForTokenClassification",
    "AutoModelForQuestionAnswering": "ForQuestionAnswering",
}
# Config fields and the names other architectures give them, in the order they are looked up.
CONFIG_ALIASES = {
    "vocab_size": ("vocab_size", "n_vocab"),
    "hidden_size": ("hidden_size", "n_embd", "d_model"),
    "num_hidden_layers": ("num_hidden_layers", "n_layer", "num_layers"),
    "num_attention_heads": ("num_attention_heads", "n_head"),
    "num_key_value_heads": ("num_key_value_heads",),
    "intermediate_size": ("intermediate_size", "n_inner", "ffn_dim"),
    "head_dim": ("head_dim",),
}
# NOTE: weight shapes are compared through tensor names in the Llama style (embed_tokens, q_proj, gate_proj, ...) and
# GPT-2's embedding names; tensors named otherwise are not compared, so another architecture may pass unchecked.
EMBEDDING_SUFFIXES = ("embed_tokens.weight", "wte.weight", "word_embeddings.weight", "tok_embeddings.weight")
LAYER_INDEX = re.compile(r"(?:^|\.)(?:layers|h|blocks|layer)\.(\d+)\.")
MAX_HEADER_BYTES = 100_000_000


@dataclass(frozen=True)
class Finding:
    level: str  # "ERROR" or "WARNING"
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.level} {self.path}: {self.message}"


class Checker:
    """Collects findings about one folder; each `check_*` method covers one topic."""

    def __init__(self, folder: pathlib.Path):
        self.folder = folder
        self.findings: list[Finding] = []
        # Parsed Python files by name, None for those that do not parse (reported once, then left alone).
        self.trees: dict[str, ast.Module | None] = {}

    def error(self, path: str, message: str):
        self.findings.append(Finding("ERROR", path, message))

    def warning(self, path: str, message: str):
        self.findings.append(Finding("WARNING", path, message))

    def read_json(self, name: str) -> dict | None:
        """The parsed JSON file, or None (with an error if it exists but does not parse)."""
        path = self.folder / name
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            self.error(name, f"is not valid JSON ({error}); transformers cannot read it.")
            return None
        if not isinstance(data, dict):
            self.error(name, "must hold a JSON object.")
            return None
        return data

    def parse_python(self, name: str) -> ast.Module | None:
        """The parsed file, or None (with one error for the whole run) if it does not parse."""
        if name not in self.trees:
            try:
                self.trees[name] = ast.parse((self.folder / name).read_text(encoding="utf-8"), filename=name)
            except (SyntaxError, UnicodeDecodeError) as error:
                self.trees[name] = None
                self.error(name, f"does not parse as Python ({error}); fix it before anything else in it is checked.")
        return self.trees[name]

    def run(self) -> list[Finding]:
        config = self.read_json("config.json")
        tokenizer_config = self.read_json("tokenizer_config.json")
        if config is None and not (self.folder / "config.json").is_file():
            self.error("config.json", "is missing; AutoConfig and every Auto model class start from it.")
        modules = self.check_auto_maps(config or {}, tokenizer_config)
        if config is not None:
            self.check_model_auto_map(config)
            self.check_model_type(config)
        self.check_remote_code(modules)
        self.check_tokenizer_auto_map(config or {}, tokenizer_config)
        self.check_pickle_files()
        if config is not None:
            self.check_weight_shapes(config)
        self.check_model_card(config or {})
        return self.findings

    # auto_map

    def check_auto_maps(self, config: dict, tokenizer_config: dict | None) -> set[str]:
        """Checks that every auto_map entry names a class defined in a present file; returns those files."""
        modules = set()
        sources = [("config.json", config.get("auto_map"))]
        if tokenizer_config is not None:
            auto_map = tokenizer_config.get("auto_map")
            # Old tokenizer configs store the [slow, fast] pair itself instead of {"AutoTokenizer": [slow, fast]}.
            if isinstance(auto_map, list):
                auto_map = {"AutoTokenizer": auto_map}
            sources.append(("tokenizer_config.json", auto_map))
        for source, auto_map in sources:
            if auto_map is None:
                continue
            if not isinstance(auto_map, dict):
                self.error(source, "auto_map must map Auto class names to 'module.Class' references.")
                continue
            for auto_class, references in auto_map.items():
                for reference in references if isinstance(references, list) else [references]:
                    if reference is not None:
                        modules |= self.check_reference(source, auto_class, reference)
        return modules

    def check_reference(self, source: str, auto_class: str, reference) -> set[str]:
        where = f"auto_map {auto_class} -> {reference!r}"
        if not isinstance(reference, str):
            self.error(source, f"{where} must be a string 'module.Class'.")
            return set()
        if "--" in reference:
            self.warning(source, f"{where} loads code from another repository, which this check cannot see.")
            return set()
        if reference.count(".") != 1:
            self.error(source, f"{where} must be 'module.Class' with exactly one dot, naming a file in this folder.")
            return set()
        module, class_name = reference.split(".")
        file_name = f"{module}.py"
        if not (self.folder / file_name).is_file():
            self.error(source, f"{where} needs {file_name}, which is not in the folder; add it or fix the entry.")
            return set()
        if self.defines(file_name, class_name, seen=set()) is False:
            self.error(source, f"{where}: {file_name} defines no {class_name}; rename the entry or the class.")
        return {file_name}

    def find_definition(self, file_name: str, name: str, seen: set[str]) -> tuple[str, ast.AST] | None:
        """The file and top-level node binding `name` in `file_name`, following flat relative imports.

        Returns None when nothing binds it, and `(file, None)` when a file on the way does not parse.
        """
        if file_name in seen or not (self.folder / file_name).is_file():
            return None
        seen.add(file_name)
        tree = self.parse_python(file_name)
        if tree is None:
            return file_name, None
        for node in tree.body:
            if isinstance(node, ast.ClassDef | ast.FunctionDef) and node.name == name:
                return file_name, node
            if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == name for target in node.targets):
                return file_name, node
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                for alias in node.names:
                    if (alias.asname or alias.name) == name:
                        return self.find_definition(f"{node.module}.py", alias.name, seen)
        return None

    def defines(self, file_name: str, name: str, seen: set[str]) -> bool | None:
        """Whether `name` is bound at the top level of `file_name`; None if a file that would tell does not parse."""
        found = self.find_definition(file_name, name, seen)
        if found is None:
            return False
        return None if found[1] is None else True

    def check_model_auto_map(self, config: dict):
        """Checks that config.json's auto_map reaches the config class, every architecture and a generating LM."""
        auto_map = config.get("auto_map")
        if auto_map is None:
            self.error(
                "config.json",
                "has no auto_map; a remote-code model loads only through it. Add entries such as "
                '"AutoConfig": "configuration_<name>.<Config>" and "AutoModelForCausalLM": "modeling_<name>.<Class>".',
            )
            return
        if not isinstance(auto_map, dict):
            return
        if "AutoConfig" not in auto_map:
            self.error(
                "config.json",
                "auto_map has no AutoConfig entry, so AutoConfig and every Auto model class fail to load the config. "
                'Add "AutoConfig": "configuration_<name>.<Config>".',
            )
        if not any(auto_class.startswith("AutoModel") for auto_class in auto_map):
            self.error(
                "config.json",
                "auto_map has no AutoModel* entry, so no Auto class can build the model. Add e.g. "
                '"AutoModelForCausalLM": "modeling_<name>.<Class>ForCausalLM".',
            )
        mapped = {}  # class name -> Auto classes that load it
        for auto_class, reference in auto_map.items():
            if isinstance(reference, str) and reference.count(".") == 1:
                mapped.setdefault(reference.split(".")[1], []).append(auto_class)
        architectures = config.get("architectures") or []
        for architecture in architectures if isinstance(architectures, list) else [architectures]:
            if architecture not in mapped:
                self.error(
                    "config.json",
                    f"architectures names {architecture}, which no auto_map entry loads; pipelines and the Hub pick "
                    f"the model class from it. Add an entry for it (e.g. AutoModelForCausalLM for a *ForCausalLM "
                    "class) or fix architectures.",
                )
        for auto_class, reference in auto_map.items():
            if isinstance(reference, str) and reference.count(".") == 1 and "--" not in reference:
                self.check_head_class(auto_class, reference)

    def check_model_type(self, config: dict):
        """Checks that config.json's model_type is the one the AutoConfig class declares."""
        auto_map = config.get("auto_map")
        reference = auto_map.get("AutoConfig") if isinstance(auto_map, dict) else None
        if not isinstance(reference, str) or reference.count(".") != 1 or "--" in reference:
            return
        module, class_name = reference.split(".")
        found = self.find_definition(f"{module}.py", class_name, seen=set())
        if found is None or not isinstance(found[1], ast.ClassDef):
            return
        declared = None
        for node in found[1].body:
            if (
                isinstance(node, ast.Assign)
                and any(getattr(target, "id", None) == "model_type" for target in node.targets)
                and isinstance(node.value, ast.Constant)
            ):
                declared = node.value.value
        if declared is not None and config.get("model_type") != declared:
            self.error(
                "config.json",
                f"model_type is {config.get('model_type')!r} but {class_name} declares {declared!r}; transformers "
                "then warns on every load and may pick the wrong class. Make the two agree.",
            )

    def check_head_class(self, auto_class: str, reference: str):
        """Compares the class's name with the Auto class's task, and checks that a causal LM can generate."""
        module, class_name = reference.split(".")
        where = f"auto_map {auto_class} -> {reference!r}"
        suffix = HEAD_SUFFIXES.get(auto_class)
        if suffix is not None and not class_name.endswith(suffix):
            self.warning(
                "config.json",
                f"{where}: {auto_class} loads the class with the {suffix[3:]} head, named *{suffix}; {class_name} "
                "looks like another class. Map the entry to the class with that head.",
            )
        elif auto_class == "AutoModel" and class_name.endswith(tuple(HEAD_SUFFIXES.values())):
            self.warning(
                "config.json",
                f"{where}: AutoModel loads the bare model without a head, and {class_name} has one. Map it to the "
                "*Model class.",
            )
        if auto_class != "AutoModelForCausalLM":
            return
        generates = self.inherits_generation(f"{module}.py", class_name, seen=set())
        if generates is False:
            self.error(
                "config.json",
                f"{where}: {class_name} does not inherit GenerationMixin, so with transformers 4.57 and 5.x it has no "
                "generate() and text-generation pipelines fail. Add GenerationMixin to its bases or map the entry to "
                "the class that has it.",
            )

    def inherits_generation(self, file_name: str, class_name: str, seen: set[tuple[str, str]]) -> bool | None:
        """Whether the class inherits GenerationMixin through bases readable in this folder; None if unknown."""
        if (file_name, class_name) in seen:
            return False
        seen.add((file_name, class_name))
        found = self.find_definition(file_name, class_name, seen=set())
        if found is None or not isinstance(found[1], ast.ClassDef):
            # Missing (reported by check_reference), unparsable (reported once) or bound by an assignment: unknown.
            return None
        file_name, node = found
        methods = {child.name for child in node.body if isinstance(child, ast.FunctionDef)}
        if methods & {"generate", "prepare_inputs_for_generation"}:
            # transformers adds GenerationMixin itself to remote classes that bring their own generation methods.
            return True
        unknown = False
        for base in node.bases:
            name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else None
            if isinstance(base, ast.Name) and self.find_definition(file_name, name, seen=set()) is not None:
                answer = self.inherits_generation(file_name, name, seen)
            elif name is None:
                answer = None
            else:
                # From outside the folder: the mixin itself, or one of transformers' causal LMs, which all have it.
                answer = name == "GenerationMixin" or name.endswith("ForCausalLM")
            if answer:
                return True
            unknown = unknown or answer is None
        return None if unknown else False

    # imports of the remote code

    def check_remote_code(self, modules: set[str]):
        """Follows relative imports from the auto_map files and checks every file transformers would load."""
        pending, checked = sorted(modules), set()
        while pending:
            file_name = pending.pop()
            if file_name in checked:
                continue
            checked.add(file_name)
            tree = self.parse_python(file_name)
            if tree is not None:
                pending += self.check_relative_imports(file_name, tree)
                self.check_absolute_imports(file_name, tree)

    def check_relative_imports(self, file_name: str, tree: ast.Module) -> list[str]:
        """Checks `from .x import y` lines; returns the files they name."""
        found = []
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or node.level == 0:
                continue
            where = f"{file_name}:{node.lineno}"
            if node.level > 1 or node.module is None or "." in node.module:
                self.error(
                    where,
                    f"relative import {'.' * node.level}{node.module or ''} is not flat; transformers copies only "
                    "files named as `from .<module> import ...` next to each other. Move the code into this folder "
                    "and import it that way.",
                )
            elif not (self.folder / f"{node.module}.py").is_file():
                self.error(where, f"imports .{node.module}, but {node.module}.py is not in the folder.")
            else:
                found.append(f"{node.module}.py")
        return found

    def check_absolute_imports(self, file_name: str, tree: ast.Module):
        """Flags imports that transformers' `check_imports` requires but transformers and torch do not bring.

        Like `check_imports`, imports inside `try` blocks and `if is_..._available():` blocks are optional; unlike
        it, a `try` must also catch ImportError, or the import still fails when the module is loaded.
        """

        def visit(node: ast.AST, in_try: bool):
            if isinstance(node, ast.Try):
                # Imports in a body whose handlers catch ImportError are optional; any other try only hides them.
                if not any(handler_catches_import_error(handler) for handler in node.handlers):
                    for child in node.body:
                        visit(child, in_try=True)
                for child in [*node.handlers, *node.orelse, *node.finalbody]:
                    visit(child, in_try)
                return
            if isinstance(node, ast.If) and tests_availability(node.test):
                for child in node.orelse:
                    visit(child, in_try)
                return
            if isinstance(node, ast.Import | ast.ImportFrom) and getattr(node, "level", 0) == 0:
                names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module]
                for name in names:
                    self.check_imported_module(file_name, node.lineno, name.split(".")[0], in_try)
            for child in ast.iter_child_nodes(node):
                visit(child, in_try)

        visit(tree, in_try=False)

    def check_imported_module(self, file_name: str, line: int, module: str, in_unguarded_try: bool):
        if module in sys.stdlib_module_names or module in PROVIDED_MODULES:
            return
        where = f"{file_name}:{line}"
        if in_unguarded_try:
            self.error(
                where,
                f"imports {module} inside a try block that does not catch ImportError; check_imports lets it pass, "
                "then loading fails where it is not installed. Catch ImportError.",
            )
        else:
            self.error(
                where,
                f"imports {module}, which transformers and torch do not install; check_imports refuses to load the "
                "model without it. Guard it with try/except ImportError or an `if is_..._available():` block.",
            )

    # tokenizer

    def check_tokenizer_auto_map(self, config: dict, tokenizer_config: dict | None):
        config_auto_map = config.get("auto_map")
        config_entry = config_auto_map.get("AutoTokenizer") if isinstance(config_auto_map, dict) else None
        tokenizer_auto_map = (tokenizer_config or {}).get("auto_map")
        has_entry = isinstance(tokenizer_auto_map, list) or (
            isinstance(tokenizer_auto_map, dict) and "AutoTokenizer" in tokenizer_auto_map
        )
        if has_entry:
            self.check_tokenizer_class(tokenizer_config, tokenizer_auto_map)
            return
        if config_entry is not None:
            self.error(
                "tokenizer_config.json",
                "has no auto_map AutoTokenizer entry, only config.json has one; AutoTokenizer reads "
                "tokenizer_config.json first and ignores config.json once that names a tokenizer_class. Copy the "
                "entry into tokenizer_config.json.",
            )
            return
        tokenizer_class = (tokenizer_config or {}).get("tokenizer_class")
        local_classes = self.local_class_names()
        if tokenizer_class and tokenizer_class in local_classes:
            self.error(
                "tokenizer_config.json",
                f"tokenizer_class {tokenizer_class} is defined in {local_classes[tokenizer_class]} but there is no "
                "auto_map AutoTokenizer entry, so AutoTokenizer cannot find it. Add one whose fast entry is "
                f"{local_classes[tokenizer_class][:-3]}.{tokenizer_class}.",
            )

    def check_tokenizer_class(self, tokenizer_config: dict, auto_map):
        pair = auto_map if isinstance(auto_map, list) else auto_map["AutoTokenizer"]
        pair = pair if isinstance(pair, list) else [pair]
        names = {reference.split(".")[-1] for reference in pair if isinstance(reference, str)}
        tokenizer_class = tokenizer_config.get("tokenizer_class")
        if tokenizer_class and names and tokenizer_class not in names:
            self.warning(
                "tokenizer_config.json",
                f"tokenizer_class {tokenizer_class} is not among the auto_map AutoTokenizer classes "
                f"({', '.join(sorted(names))}); make them agree so readers are not misled.",
            )

    def local_class_names(self) -> dict[str, str]:
        """Top-level classes of the folder's own Python files, with the file defining each."""
        classes = {}
        for path in sorted(self.folder.glob("*.py")):
            tree = self.parse_python(path.name)
            for node in tree.body if tree else []:
                if isinstance(node, ast.ClassDef):
                    classes.setdefault(node.name, path.name)
        return classes

    # weights

    def check_pickle_files(self):
        for path in sorted(self.folder.rglob("*")):
            relative = path.relative_to(self.folder)
            if any(part.startswith(".") for part in relative.parts[:-1]):
                continue
            if path.is_file() and path.suffix in PICKLE_SUFFIXES:
                self.error(
                    str(relative),
                    "is a pickle file, which can run code when loaded and which the Hub flags; save weights as "
                    "safetensors (save_pretrained does by default) and delete this file.",
                )

    def weight_files(self) -> list[str]:
        index = self.read_json("model.safetensors.index.json")
        if index is not None:
            shards = sorted(set((index.get("weight_map") or {}).values()))
            for shard in shards:
                if not (self.folder / shard).is_file():
                    self.error("model.safetensors.index.json", f"lists {shard}, which is not in the folder.")
            return [shard for shard in shards if (self.folder / shard).is_file()]
        return sorted(path.name for path in self.folder.glob("model*.safetensors"))

    def read_shapes(self, file_name: str) -> dict[str, list[int]]:
        """Tensor shapes from a safetensors header, without reading the tensors."""
        path = self.folder / file_name
        with path.open("rb") as handle:
            prefix = handle.read(8)
            size = struct.unpack("<Q", prefix)[0] if len(prefix) == 8 else -1
            if not 0 < size <= min(MAX_HEADER_BYTES, path.stat().st_size - 8):
                self.error(file_name, "is not a safetensors file (its header size is out of range).")
                return {}
            try:
                header = json.loads(handle.read(size))
            except (UnicodeDecodeError, json.JSONDecodeError):
                self.error(file_name, "has a safetensors header that is not valid JSON.")
                return {}
        return {name: info["shape"] for name, info in header.items() if name != "__metadata__"}

    def check_weight_shapes(self, config: dict):
        files = self.weight_files()
        if not files:
            self.warning(".", "holds no model*.safetensors weights; config.json was not compared with weight shapes.")
            return
        if config.get("quantization_config"):
            self.warning("config.json", "describes a quantized model, whose stored shapes differ; not compared.")
            return
        shapes = {}
        for file_name in files:
            shapes.update({name: (file_name, shape) for name, shape in self.read_shapes(file_name).items()})
        values = {
            field: next((config[alias] for alias in aliases if isinstance(config.get(alias), int)), None)
            for field, aliases in CONFIG_ALIASES.items()
        }
        heads, hidden = values["num_attention_heads"], values["hidden_size"]
        head_dim = values["head_dim"] or (hidden // heads if heads and hidden else None)
        kv_heads = values["num_key_value_heads"] or heads
        expected = []  # (config field, config value, tensor suffix, dimension, factor)
        for suffix in (*EMBEDDING_SUFFIXES, "lm_head.weight"):
            expected += [("vocab_size", values["vocab_size"], suffix, 0, 1), ("hidden_size", hidden, suffix, 1, 1)]
        if head_dim:
            expected += [
                ("num_attention_heads", heads, "self_attn.q_proj.weight", 0, head_dim),
                ("num_key_value_heads", kv_heads, "self_attn.k_proj.weight", 0, head_dim),
            ]
        expected += [
            ("intermediate_size", values["intermediate_size"], "mlp.gate_proj.weight", 0, 1),
            ("intermediate_size", values["intermediate_size"], "mlp.up_proj.weight", 0, 1),
            ("intermediate_size", values["intermediate_size"], "mlp.down_proj.weight", 1, 1),
        ]
        reported = set()
        for field, value, suffix, dimension, factor in expected:
            match = next((name for name in sorted(shapes) if name.endswith(suffix)), None)
            if value is None or match is None or field in reported:
                continue
            file_name, shape = shapes[match]
            if len(shape) > dimension and shape[dimension] != value * factor:
                reported.add(field)
                per_head = f" (times head_dim {factor}: {value * factor} rows)" if factor != 1 else ""
                self.error(
                    "config.json",
                    f"{field} is {value}{per_head} but {file_name} stores {match} with shape {shape}; the weights "
                    "come from a different configuration. Fix config.json or save the weights again.",
                )
        self.check_layer_count(values["num_hidden_layers"], shapes)

    def check_layer_count(self, layers: int | None, shapes: dict):
        indices = {int(match.group(1)) for name in shapes if (match := LAYER_INDEX.search(name))}
        if layers is not None and indices and max(indices) + 1 != layers:
            files = ", ".join(sorted({file_name for file_name, _shape in shapes.values()}))
            self.error(
                "config.json",
                f"num_hidden_layers is {layers} but {files} stores {max(indices) + 1} layers; fix config.json or save "
                "the weights again.",
            )

    # model card

    def check_model_card(self, config: dict):
        path = self.folder / "README.md"
        if not path.is_file():
            self.error("README.md", "is missing; the Hub shows it as the model card and reads metadata from it.")
            return
        text = path.read_text(encoding="utf-8")
        match = re.match(r"---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(\r?\n|$)", text, flags=re.DOTALL)
        if match is None:
            self.error(
                "README.md",
                "has no metadata front matter (a block between --- lines at the top); the Hub needs "
                "library_name, pipeline_tag, license and the custom_code tag there.",
            )
            return
        try:
            import yaml
        except ImportError:
            self.warning("README.md", "front matter not checked: install pyyaml to check it.")
            return
        try:
            metadata = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as error:
            self.error("README.md", f"front matter is not valid YAML ({error}).")
            return
        if not isinstance(metadata, dict):
            self.error("README.md", "front matter must be a YAML mapping of keys to values.")
            return
        for key in MODEL_CARD_KEYS:
            if not metadata.get(key):
                self.error("README.md", f"front matter has no {key}; the Hub uses it for the model page and search.")
        tags = metadata.get("tags") or []
        if "custom_code" not in (tags if isinstance(tags, list) else [tags]):
            self.error(
                "README.md",
                "front matter tags lack custom_code; the Hub uses it to warn that loading runs the repository's code.",
            )
        if metadata.get("library_name") not in (None, "transformers"):
            self.warning("README.md", f"library_name is {metadata['library_name']!r}; remote code needs transformers.")
        auto_map = config.get("auto_map") if isinstance(config.get("auto_map"), dict) else {}
        if metadata.get("pipeline_tag") == "text-generation" and auto_map and "AutoModelForCausalLM" not in auto_map:
            self.error(
                "README.md",
                "pipeline_tag is text-generation but config.json's auto_map has no AutoModelForCausalLM entry, so "
                "the pipeline cannot load the model. Add the entry or change the pipeline_tag.",
            )
        if metadata.get("license") == "other" and not metadata.get("license_name"):
            self.warning("README.md", "license is 'other' without license_name and license_link; the Hub needs both.")


def handler_catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(getattr(name, "id", getattr(name, "attr", None)) in IMPORT_ERRORS for name in names)


def tests_availability(test: ast.AST) -> bool:
    """Whether an `if` test calls an `is_..._available()` function, as transformers' import check recognises."""
    for node in ast.walk(test):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name.startswith("is_") and name.endswith("_available"):
                return True
    return False


def check_folder(folder: pathlib.Path) -> list[Finding]:
    return Checker(folder).run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=pathlib.Path, help="model folder to check, e.g. . or a downloaded snapshot")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print(f"ERROR {args.folder}: is not a folder; pass the model repository's folder.")
        return 1
    findings = check_folder(args.folder)
    for finding in findings:
        print(finding)
    errors = sum(finding.level == "ERROR" for finding in findings)
    warnings = len(findings) - errors
    if errors:
        print(f"FAILED {args.folder}: {errors} error(s), {warnings} warning(s).")
        return 1
    print(f"OK {args.folder}: remote code, tokenizer, weights and model card check out ({warnings} warning(s)).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
