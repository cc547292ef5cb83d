"""Baking the template: the folder it writes and the baked repo's own test suite."""

from conftest import run_baked_suite


def test_baked_suite_passes_on_newest_transformers(bake, newest_python):
    result = run_baked_suite(bake(), newest_python)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_baked_suite_passes_on_oldest_transformers(bake, oldest_python):
    result = run_baked_suite(bake(), oldest_python)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
