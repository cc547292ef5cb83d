"""`make bench`: bakes the template with its default answers and runs the baked repository's benchmark.

The bake in `build/bench` is reused while it is newer than every template file, and made again otherwise. Arguments
not known here go to the baked `scripts/bench.py` (for example `--smoke`, `--repeats 3`, `--no-compile`).
"""

import argparse
import json
import os
import pathlib
import shlex
import shutil
import subprocess
import sys

from cookiecutter.main import cookiecutter


TEMPLATE = pathlib.Path(__file__).resolve().parents[1]
TEMPLATE_INPUTS = ["cookiecutter.json", "hooks", "{{cookiecutter.model_name}}"]
STAMP = ".baked-from-template"


def newest_template_change() -> float:
    times = []
    for name in TEMPLATE_INPUTS:
        path = TEMPLATE / name
        files = [path] if path.is_file() else [file for file in path.rglob("*") if file.is_file()]
        times += [file.stat().st_mtime for file in files if "__pycache__" not in file.parts]
    return max(times)


def bake(output: pathlib.Path) -> pathlib.Path:
    """Returns the baked repository in `output`, baking it afresh unless a bake newer than the template is there."""
    model_name = json.loads((TEMPLATE / "cookiecutter.json").read_text())["model_name"]
    repo = output / model_name
    stamp = repo / STAMP
    if stamp.exists() and stamp.stat().st_mtime >= newest_template_change():
        print(f"Reusing the bake in {repo} (newer than every template file).", flush=True)
        return repo
    if repo.exists():
        shutil.rmtree(repo)
    output.mkdir(parents=True, exist_ok=True)
    print(f"Baking the template with its defaults into {repo}.", flush=True)
    cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(output))
    stamp.touch()
    return repo


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=pathlib.Path, default=TEMPLATE / "build" / "bench", help="bake folder")
    args, bench_args = parser.parse_known_args()
    repo = bake(args.output.resolve())
    label = shlex.join(["make", "bench", *([f"BENCH_ARGS={' '.join(bench_args)}"] if bench_args else [])])
    command = [sys.executable, "scripts/bench.py", "--command-label", label, *bench_args]
    print(f"Running {shlex.join(command)} in {repo}.", flush=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(command, cwd=repo, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
