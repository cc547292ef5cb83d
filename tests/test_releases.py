"""A checkpoint saved under one supported transformers release loads under the other with the same outputs."""

import json
import os
import subprocess
import tempfile

import pytest
import torch


# Builds a seeded model from the baked repo's config with non-default rotary scaling, saves it to argv[2] and prints
# its logits for a fixed input.
SAVE = """
import json, sys, torch
from transformers import AutoConfig, AutoModelForCausalLM
rope = {"rope_type": "linear", "rope_theta": 5000.0, "factor": 2.0}
config = AutoConfig.from_pretrained(sys.argv[1], trust_remote_code=True, rope_parameters=rope)
torch.manual_seed(0)
model = AutoModelForCausalLM.from_config(config, trust_remote_code=True).eval()
model.save_pretrained(sys.argv[2])
with torch.no_grad():
    logits = model(torch.arange(3, 15).reshape(2, 6)).logits
print(json.dumps({"logits": logits.tolist(), "rope_parameters": model.config.rope_parameters}))
"""

# Loads the checkpoint in argv[1] and prints the same things.
LOAD = """
import json, sys, torch
from transformers import AutoModelForCausalLM
model = AutoModelForCausalLM.from_pretrained(sys.argv[1], trust_remote_code=True).eval()
with torch.no_grad():
    logits = model(torch.arange(3, 15).reshape(2, 6)).logits
print(json.dumps({"logits": logits.tolist(), "rope_parameters": model.config.rope_parameters}))
"""


def run_python(python: str, code: str, *args: str) -> dict:
    """Runs `code` with `python` offline, with a module cache of its own, and returns the JSON it prints last."""
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "HF_MODULES_CACHE": tempfile.mkdtemp(prefix="hf-modules-"),
    }
    result = subprocess.run(
        [python, "-c", code, *args], check=False, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("direction", ["oldest_to_newest", "newest_to_oldest"])
def test_checkpoint_saved_by_one_release_loads_on_the_other_with_same_logits(
    direction, bake, oldest_python, newest_python, tmp_path
):
    saver, loader = (oldest_python, newest_python)
    if direction == "newest_to_oldest":
        saver, loader = loader, saver
    checkpoint = tmp_path / "checkpoint"

    saved = run_python(saver, SAVE, str(bake()), str(checkpoint))
    loaded = run_python(loader, LOAD, str(checkpoint))

    written = json.loads((checkpoint / "config.json").read_text())
    assert written["rope_parameters"] == {"rope_type": "linear", "rope_theta": 5000.0, "factor": 2.0}
    assert loaded["rope_parameters"] == saved["rope_parameters"] == written["rope_parameters"]
    # Both releases run the same torch; only their masking code differs, which may move float32 rounding.
    torch.testing.assert_close(torch.tensor(loaded["logits"]), torch.tensor(saved["logits"]), rtol=1e-5, atol=1e-5)
