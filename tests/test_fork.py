"""Forking for a new architecture: one change of the kind the baked README's "Changing the architecture" describes,
made in a baked copy, keeps its quick suite, the repository checker and save/load working."""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import textwrap

import pytest
from cookiecutter.main import cookiecutter

from conftest import TEMPLATE, run_baked_suite


MODEL_NAME = "fork-lm"
MODULE = "fork_lm"
PREFIX = "ForkLm"
# The fork: a different MLP activation (configuration only) and a new config field with a default, used by the MLP.
NEW_FIELD_DOC = """\
        mlp_output_scale (`float`, *optional*, defaults to 1.0):
            Factor applied to the output of every MLP block before it joins the residual stream.
"""


def replace_once(path: pathlib.Path, old: str, new: str):
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path.name} no longer contains the line this fork edits: {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def fork(repo: pathlib.Path):
    """Adds `mlp_output_scale` to the config and the MLP, and switches config.json to `gelu_pytorch_tanh`."""
    configuration = repo / f"configuration_{MODULE}.py"
    replace_once(configuration, "        mlp_bias=False,\n        **kwargs,\n",
                 "        mlp_bias=False,\n        mlp_output_scale=1.0,\n        **kwargs,\n")
    replace_once(configuration, "        self.mlp_bias = mlp_bias\n",
                 "        self.mlp_bias = mlp_bias\n        self.mlp_output_scale = mlp_output_scale\n")
    replace_once(configuration, "            Whether the MLP projections have a bias.\n",
                 "            Whether the MLP projections have a bias.\n" + NEW_FIELD_DOC)
    modeling = repo / f"modeling_{MODULE}.py"
    activation = "        self.act_fn = ACT2FN[config.hidden_act]\n"
    replace_once(modeling, activation, activation + "        self.output_scale = config.mlp_output_scale\n")
    output = "        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))"
    replace_once(modeling, output + "\n", output + " * self.output_scale\n")
    config = json.loads((repo / "config.json").read_text(encoding="utf-8"))
    config.update(hidden_act="gelu_pytorch_tanh", mlp_output_scale=0.5)
    (repo / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def forked_repo(tmp_path_factory) -> pathlib.Path:
    output = tmp_path_factory.mktemp("fork")
    repo = pathlib.Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(output),
                                     extra_context={"model_name": MODEL_NAME}))
    fork(repo)
    return repo


def test_forked_code_is_ruff_clean(forked_repo):
    edited = [f"configuration_{MODULE}.py", f"modeling_{MODULE}.py"]
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *edited], cwd=forked_repo,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_forked_repository_passes_its_quick_suite(forked_repo, newest_python):
    result = run_baked_suite(forked_repo, newest_python, "-m", "not slow")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_forked_repository_passes_the_checker(forked_repo, newest_python):
    result = subprocess.run([newest_python, "scripts/check_repo.py", "."], cwd=forked_repo, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[-1].startswith("OK ")


def test_forked_model_saves_and_loads_with_its_new_field_and_activation(forked_repo, newest_python, tmp_path):
    script = textwrap.dedent(
        """
        import json, sys
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM

        repo, saved = sys.argv[1], sys.argv[2]
        config = AutoConfig.from_pretrained(repo, trust_remote_code=True)
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(config, trust_remote_code=True).eval()
        input_ids = torch.tensor([[5, 17, 42, 99, 7]])
        with torch.no_grad():
            logits = model(input_ids).logits
        model.save_pretrained(saved)
        reloaded = AutoModelForCausalLM.from_pretrained(saved, trust_remote_code=True).eval()
        with torch.no_grad():
            reloaded_logits = reloaded(input_ids).logits
            unscaled = AutoModelForCausalLM.from_pretrained(saved, trust_remote_code=True, mlp_output_scale=1.0)
            unscaled_logits = unscaled.eval()(input_ids).logits
        older = type(config)(**{k: v for k, v in config.to_dict().items() if k != "mlp_output_scale"})
        print(json.dumps({
            "act": type(reloaded.model.layers[0].mlp.act_fn).__name__,
            "scale": reloaded.config.mlp_output_scale,
            "saved_scale": json.load(open(saved + "/config.json"))["mlp_output_scale"],
            "max_difference": (reloaded_logits - logits).abs().max().item(),
            "scale_matters": not torch.allclose(unscaled_logits, logits),
            "older_config_default": older.mlp_output_scale,
        }))
        """
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": tempfile.mkdtemp(prefix="hf-modules-")}
    result = subprocess.run([newest_python, "-c", script, str(forked_repo), str(tmp_path / "saved")],
                            capture_output=True, text=True, env=env, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["act"] == "GELUTanh"
    assert report["scale"] == report["saved_scale"] == 0.5
    assert report["max_difference"] == 0.0
    assert report["scale_matters"]
    assert report["older_config_default"] == 1.0
