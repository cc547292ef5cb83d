"""The template end to end in one command: bake, build a briefly trained checkpoint, load it fresh and generate.

Run with `make demo`, which first creates the virtual environment. Everything runs offline: the corpus is the text of
Python's own documentation topics (`pydoc_data`), which ships with every Python.
"""

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
import time

from cookiecutter.main import cookiecutter


TEMPLATE = pathlib.Path(__file__).resolve().parents[1]
# Written into the output folder so that a later run only ever deletes a folder this script made.
MARKER = ".made-by-make-demo"
PROMPT = "The import statement"

# Runs in a fresh interpreter: nothing of the build process is imported, so the folder must stand on its own.
GENERATE = """
import sys
from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline, set_seed

folder, prompt = sys.argv[1], sys.argv[2]
tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
model = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True)
print(f"loaded {type(model).__name__} and {type(tokenizer).__name__} from {folder}", flush=True)
generator = pipeline("text-generation", model=model, tokenizer=tokenizer)
set_seed(0)
for sample in generator(prompt, max_new_tokens=48, do_sample=True, top_k=40, temperature=0.8, num_return_sequences=2):
    print("---")
    print(sample["generated_text"])
"""


def step(message: str):
    print(f"==> {message}", flush=True)


def prepare_output(output: pathlib.Path):
    """Empties `output` if an earlier demo made it; refuses to touch a folder it did not make."""
    if output.exists():
        if not output.is_dir() or (any(output.iterdir()) and not (output / MARKER).exists()):
            sys.exit(
                f"error: {output} exists and was not made by `make demo`; pass another --output or move it away."
            )
        step(f"removing the previous demo in {output}")
        shutil.rmtree(output)
    output.mkdir(parents=True)
    (output / MARKER).write_text("Made by tools/demo.py; deleted and rebuilt by each `make demo`.\n")


def write_corpus(path: pathlib.Path) -> int:
    from pydoc_data.topics import topics

    text = "\n\n".join(topics[name] for name in sorted(topics))
    path.write_text(text, encoding="utf-8")
    return len(text)


def run(command: list[str], env: dict):
    result = subprocess.run(command, env=env, check=False)
    if result.returncode != 0:
        sys.exit(f"error: `{' '.join(command[:2])} ...` failed with exit status {result.returncode}; see above.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=pathlib.Path, default=TEMPLATE / "build" / "demo", help="scratch folder")
    parser.add_argument("--train-steps", type=int, default=600, help="training steps of the tiny model")
    parser.add_argument("--vocab-size", type=int, default=2048, help="size of the trained tokenizer")
    args = parser.parse_args(argv)
    start = time.monotonic()
    output = args.output.resolve()

    prepare_output(output)
    step(f"baking the template with its default answers into {output}")
    repo = pathlib.Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(output)))

    corpus = output / "pydoc-topics.txt"
    step(f"writing Python's documentation topics to {corpus.name} ({write_corpus(corpus) // 1000} kB of prose)")

    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_MODULES_CACHE": str(output / "hf-modules"),
        # A model this small gains nothing from more threads, and on a busy machine their spinning costs several-fold.
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
    }
    step(f"building a tiny checkpoint: train a {args.vocab_size}-token BPE, then {args.train_steps} training steps")
    run(
        [
            sys.executable, str(repo / "scripts" / "build_checkpoint.py"), "--preset", "tiny",
            "--corpus", str(corpus), "--vocab-size", str(args.vocab_size), "--train-steps", str(args.train_steps),
        ],
        env,
    )

    step("loading the repository in a fresh process through the Auto classes (trust_remote_code=True)")
    run([sys.executable, "-c", GENERATE, str(repo), PROMPT], env)

    step(f"done in {time.monotonic() - start:.0f} s. The baked repository is {repo}; try:")
    print(textwrap.indent(f"cd {repo}\npython scripts/push_to_hub.py --dry-run", "    "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
