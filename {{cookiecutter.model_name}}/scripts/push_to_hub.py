"""Uploads the model files of this repository to the Hugging Face Hub, leaving the development files behind.

Examples:

    python scripts/push_to_hub.py --dry-run
    python scripts/push_to_hub.py
    python scripts/push_to_hub.py --repo-id someone/{{ cookiecutter.model_name }} --revision v0.1 --private

Only what a user of the model needs is uploaded: config and generation config, the `.py` files that `auto_map` names
and the files they import relatively, tokenizer files, chat template, safetensors weights, the model card and a
license. Tests, scripts, other `.py` files and project settings stay here. Log in first with `hf auth login` (or
set `HF_TOKEN`).
"""

import argparse
import ast
import fnmatch
import json
import pathlib
import re
import sys


REPO = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_REPO_ID = "{{ cookiecutter.repo_id }}"
# Top-level files only: everything in subfolders (tests/, scripts/, .github/, ...) is development material.
MODEL_FILE_PATTERNS = [
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "chat_template.jinja",
    "*.safetensors",
    "model.safetensors.index.json",
    "README.md",
    "LICENSE",
    "LICENSE.md",
    "LICENSE.txt",
]
# Weight files on the Hub that a new upload must replace as a set.
WEIGHT_FILE_PATTERNS = ["*.safetensors", "model.safetensors.index.json", "*.bin", "pytorch_model.bin.index.json"]
# The Hub's rule for each part of `namespace/name`: letters, digits, '-', '_' and '.', neither starting nor ending
# with '-' or '.'; '--' and '..' are refused separately.
REPO_ID_PART = re.compile(r"^(?![-.])[A-Za-z0-9_.-]+(?<![-.])$")
MAX_NAME_LENGTH = 96


class PushError(Exception):
    """A problem with the folder or the arguments, reported to the user as one message."""


def check_repo_id(repo_id: str):
    """Raises PushError unless `repo_id` is a valid Hub id, `name` or `namespace/name`."""
    parts = repo_id.split("/")
    problem = None
    if len(parts) > 2:
        problem = "it has more than one '/'"
    elif not all(REPO_ID_PART.match(part) for part in parts):
        problem = "each part may hold only letters, digits, '-', '_' and '.', and not start or end with '-' or '.'"
    elif "--" in repo_id or ".." in repo_id:
        problem = "it contains '--' or '..'"
    elif len(parts[-1]) > MAX_NAME_LENGTH:
        problem = f"the name is {len(parts[-1])} characters long, more than {MAX_NAME_LENGTH}"
    if problem:
        raise PushError(
            f"--repo-id {repo_id!r} is not a valid Hub repository id: {problem}. Pass one like "
            f"{DEFAULT_REPO_ID!r} (namespace/name)."
        )


def auto_map_modules(folder: pathlib.Path) -> list[str]:
    """The `.py` files named by `auto_map` in config.json and tokenizer_config.json."""
    modules = set()
    for source in ("config.json", "tokenizer_config.json"):
        path = folder / source
        if not path.is_file():
            continue
        try:
            auto_map = json.loads(path.read_text(encoding="utf-8")).get("auto_map") or {}
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError) as error:
            raise PushError(f"{path} is not a valid JSON object ({error}). Fix it before uploading.") from None
        # Old tokenizer configs store the [slow, fast] pair itself instead of {"AutoTokenizer": [slow, fast]}.
        entries = auto_map if isinstance(auto_map, list) else list(auto_map.values())
        for entry in entries:
            for reference in entry if isinstance(entry, list) else [entry]:
                # `other/repo--module.Class` loads code from another repository, which is not uploaded from here.
                if isinstance(reference, str) and "--" not in reference and "." in reference:
                    modules.add(reference.rsplit(".", 1)[0] + ".py")
    return sorted(modules)


def code_files(folder: pathlib.Path) -> list[str]:
    """The `.py` files remote code loading needs: those `auto_map` names, plus their relative imports, recursively."""
    needed, pending = set(), auto_map_modules(folder)
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        if not (folder / name).is_file():
            raise PushError(
                f"{folder} has no {name}, which auto_map or a relative import needs. Add it or fix the reference "
                "(`python scripts/check_repo.py` lists every such problem)."
            )
        needed.add(name)
        try:
            tree = ast.parse((folder / name).read_text(encoding="utf-8"), filename=name)
        except (SyntaxError, UnicodeDecodeError) as error:
            raise PushError(f"{folder / name} does not parse as Python ({error}). Fix it before uploading.") from None
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                pending.append(f"{node.module}.py")
    return sorted(needed)


def model_files(folder: pathlib.Path) -> list[str]:
    """Names of the files in `folder` that belong on the Hub, sorted.

    Raises:
        PushError: if `folder` is not a folder, holds no safetensors weights or misses code that auto_map needs.
    """
    if not folder.is_dir():
        raise PushError(f"{folder} is not a folder. Pass the folder of a model repository.")
    names = sorted(
        [
            path.name
            for path in folder.iterdir()
            if path.is_file() and any(fnmatch.fnmatchcase(path.name, pattern) for pattern in MODEL_FILE_PATTERNS)
        ]
        + code_files(folder)
    )
    if not any(name.endswith(".safetensors") for name in names):
        raise PushError(
            f"{folder} holds no weights (*.safetensors), and a model repository without weights cannot be loaded. "
            f"Run `python scripts/build_checkpoint.py` first."
        )
    if "config.json" not in names:
        raise PushError(f"{folder} has weights but no config.json. Run `python scripts/build_checkpoint.py` first.")
    return names


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo-id", default=DEFAULT_REPO_ID, help=f"Hub repository (default: {DEFAULT_REPO_ID})")
    parser.add_argument("--folder", type=pathlib.Path, default=REPO, help="folder to upload (default: this repo)")
    parser.add_argument("--revision", help="branch to push to, created if missing (default: the main branch)")
    parser.add_argument("--private", action="store_true", help="create the Hub repository as private")
    parser.add_argument("--commit-message", default="Upload model files", help="message of the Hub commit")
    parser.add_argument("--dry-run", action="store_true", help="print the files that would be uploaded and stop")
    return parser.parse_args(argv)


def push(folder: pathlib.Path, names: list[str], args: argparse.Namespace):
    """Creates the Hub repository (and branch) if needed and uploads `names` in one commit; returns the commit."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi

    api = HfApi()
    api.create_repo(args.repo_id, repo_type="model", private=args.private, exist_ok=True)
    if args.revision:
        api.create_branch(args.repo_id, branch=args.revision, exist_ok=True)
    operations = [CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(folder / name)) for name in names]
    # Weight files of an earlier upload that this one does not replace (other shards, an index, pickles) would be
    # loaded together with the new weights, so the same commit deletes them.
    remote = api.list_repo_files(args.repo_id, revision=args.revision)
    stale = sorted(
        name
        for name in remote
        if "/" not in name and name not in names and any(fnmatch.fnmatchcase(name, p) for p in WEIGHT_FILE_PATTERNS)
    )
    for name in stale:
        print(f"deleting stale weights on the Hub: {name}")
    operations += [CommitOperationDelete(path_in_repo=name) for name in stale]
    commit = api.create_commit(
        args.repo_id, operations=operations, commit_message=args.commit_message, revision=args.revision
    )
    return commit


def main(argv=None) -> int:
    args = parse_args(argv)
    folder = args.folder.resolve()
    try:
        check_repo_id(args.repo_id)
        names = model_files(folder)
    except PushError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.dry_run:
        print("\n".join(names))
        print(f"dry run: would upload these {len(names)} files to {args.repo_id}", file=sys.stderr)
        return 0
    print(f"uploading {len(names)} files to {args.repo_id}")
    commit = push(folder, names, args)
    print(f"done: {commit.commit_url}")
    print(f'users should pin revision="{commit.oid}": remote code runs on their machines')
    return 0


if __name__ == "__main__":
    sys.exit(main())
