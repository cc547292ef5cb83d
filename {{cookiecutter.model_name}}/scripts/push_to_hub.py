"""Uploads the model files of this repository to the Hugging Face Hub, leaving the development files behind.

Examples:

    python scripts/push_to_hub.py --dry-run
    python scripts/push_to_hub.py
    python scripts/push_to_hub.py --repo-id someone/{{ cookiecutter.model_name }} --revision v0.1 --private

Only what a user of the model needs is uploaded: config and generation config, the `.py` model code, tokenizer
files, chat template, safetensors weights, the model card and a license. Tests, scripts and project settings stay
here. Log in first with `hf auth login` (or set `HF_TOKEN`).
"""

import argparse
import fnmatch
import pathlib
import sys


REPO = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_REPO_ID = "{{ cookiecutter.repo_id }}"
# Top-level files only: everything in subfolders (tests/, scripts/, .github/, ...) is development material.
MODEL_FILE_PATTERNS = [
    "config.json",
    "generation_config.json",
    "*.py",
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


class PushError(Exception):
    """A problem with the folder or the arguments, reported to the user as one message."""


def model_files(folder: pathlib.Path) -> list[str]:
    """Names of the files in `folder` that belong on the Hub, sorted.

    Raises:
        PushError: if `folder` is not a folder or holds no safetensors weights.
    """
    if not folder.is_dir():
        raise PushError(f"{folder} is not a folder. Pass the folder of a model repository.")
    names = sorted(
        path.name
        for path in folder.iterdir()
        if path.is_file() and any(fnmatch.fnmatchcase(path.name, pattern) for pattern in MODEL_FILE_PATTERNS)
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
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi()
    api.create_repo(args.repo_id, repo_type="model", private=args.private, exist_ok=True)
    if args.revision:
        api.create_branch(args.repo_id, branch=args.revision, exist_ok=True)
    operations = [CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(folder / name)) for name in names]
    commit = api.create_commit(
        args.repo_id, operations=operations, commit_message=args.commit_message, revision=args.revision
    )
    return commit


def main(argv=None) -> int:
    args = parse_args(argv)
    folder = args.folder.resolve()
    try:
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
