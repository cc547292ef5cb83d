"""Fixtures for the template's own tests: bake once per option set, find the interpreter of each release."""

import os
import pathlib
import subprocess
import sys
import tempfile

import pytest


TEMPLATE = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def bake(cookies_session):
    """Bakes the template with `extra_context` once per distinct set of answers and returns the repo folder."""
    baked = {}

    def _bake(**context) -> pathlib.Path:
        key = tuple(sorted(context.items()))
        if key not in baked:
            result = cookies_session.bake(extra_context=context)
            assert result.exit_code == 0, f"baking {context} failed: {result.exception}"
            baked[key] = pathlib.Path(result.project_path)
        return baked[key]

    return _bake


@pytest.fixture(scope="session")
def newest_python() -> str:
    return sys.executable


@pytest.fixture(scope="session")
def oldest_python() -> str:
    """Interpreter of the environment with the oldest supported transformers (made by `make test`)."""
    python = os.environ.get("OLDEST_PYTHON")
    if not python or not pathlib.Path(python).exists():
        pytest.fail("OLDEST_PYTHON is not set to an interpreter; run the suite through `make test`.")
    return python


def run_baked_suite(repo: pathlib.Path, python: str, *pytest_args: str, timeout: int = 1200, paths=("tests",)):
    """Runs the baked repo's own tests (or only `paths` in it) with `python`; returns the completed process."""
    # A private module cache per run: every baked repo has the same folder name, so they would share one otherwise.
    env = {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "HF_HUB_OFFLINE": "1",
        "HF_MODULES_CACHE": tempfile.mkdtemp(prefix="hf-modules-"),
    }
    return subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args, *paths],
        cwd=repo, env=env, capture_output=True, text=True, timeout=timeout,
    )
