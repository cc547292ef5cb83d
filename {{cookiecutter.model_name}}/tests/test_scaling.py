"""Scaling out with the engines users already run: tensor parallelism, offloading, and serving backends."""

import dataclasses
import json
import subprocess
import sys

import pytest
import torch
from conftest import CLASS_PREFIX, MODULE_NAME, REPO
from transformers import AttentionInterface, AttentionMaskInterface, AutoModelForCausalLM
from transformers.masking_utils import sdpa_mask
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS


INPUT_IDS = torch.arange(3, 15).reshape(2, 6)

# Run under `torchrun --nproc-per-node 2`: loads the model split by its tensor-parallel plan and writes, from rank 0,
# the logits for INPUT_IDS and the local shape of one column-wise split weight.
TENSOR_PARALLEL_SCRIPT = """
import json, os, sys, torch, transformers
from transformers import AutoModelForCausalLM

release = tuple(int(part) for part in transformers.__version__.split(".")[:2])
if release >= (5, 16):
    from transformers.distributed import DistributedConfig
    parallel = {"distributed_config": DistributedConfig(tp_plan="auto")}
elif release >= (5, 13):
    # 5.13 to 5.15 take the plan from the model when only the size is given, and have no `tp_plan` keyword.
    from transformers.distributed import DistributedConfig
    parallel = {"distributed_config": DistributedConfig(tp_size=int(os.environ["WORLD_SIZE"]))}
else:
    parallel = {"tp_plan": "auto"}
model = AutoModelForCausalLM.from_pretrained(sys.argv[1], trust_remote_code=True, **parallel).eval()
with torch.no_grad():
    logits = model(torch.arange(3, 15).reshape(2, 6)).logits
q_proj = model.model.layers[0].self_attn.q_proj.weight
# Some releases keep each rank's shard as a DTensor, others as a plain tensor.
q_proj_local_rows = (q_proj.to_local() if hasattr(q_proj, "to_local") else q_proj).shape[0]
if int(os.environ["RANK"]) == 0:
    with open(sys.argv[2], "w") as output:
        json.dump({"logits": logits.tolist(), "q_proj_local_rows": q_proj_local_rows}, output)
"""


def test_config_declares_tensor_and_pipeline_parallel_plans(checkpoint):
    model = AutoModelForCausalLM.from_pretrained(checkpoint, trust_remote_code=True)
    tp_plan = type(model.config).base_model_tp_plan
    layer = model.model.layers[0]
    for pattern, style in tp_plan.items():
        # Every rule names real linear layers, split so that one all-reduce per block suffices.
        module = layer.get_submodule(pattern.removeprefix("layers.*."))
        assert isinstance(module, torch.nn.Linear)
        assert style == ("rowwise" if pattern.endswith(("o_proj", "down_proj")) else "colwise")
    assert set(type(model.config).base_model_pp_plan) == {"embed_tokens", "layers", "norm"}
    assert "lm_head" in type(model)._tp_plan and "lm_head" in type(model)._pp_plan


def run_on_two_processes(script_text: str, checkpoint, tmp_path) -> dict:
    """Runs `script_text` under `torchrun --nproc-per-node 2` (gloo on CPU) and returns what rank 0 wrote."""
    script = tmp_path / "parallel.py"
    script.write_text(script_text)
    output = tmp_path / "result.json"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    result = subprocess.run(
        [*command, str(script), str(checkpoint), str(output)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return json.loads(output.read_text())

@pytest.mark.slow
def test_tensor_parallel_on_two_cpu_processes_matches_one_process(tmp_path, checkpoint):
    tensor_parallel = run_on_two_processes(TENSOR_PARALLEL_SCRIPT, checkpoint, tmp_path)
    model = AutoModelForCausalLM.from_pretrained(checkpoint, trust_remote_code=True).eval()
    with torch.no_grad():
        expected = model(INPUT_IDS).logits  # (2, 6, vocab)
    # Each rank really holds half of the query projection's output rows.
    assert tensor_parallel["q_proj_local_rows"] * 2 == model.model.layers[0].self_attn.q_proj.weight.shape[0]
    # Split matmuls add their partial sums in another order, so float32 rounding may differ slightly.
    torch.testing.assert_close(torch.tensor(tensor_parallel["logits"]), expected, rtol=1e-5, atol=1e-5)


# Run under `torchrun --nproc-per-node 2`: each rank runs half of the decoder layers and replaces the other half with
# pass-through stages; rank 0 writes the logits for INPUT_IDS and which of its layers it really holds.
PIPELINE_PARALLEL_SCRIPT = """
import json, os, sys, torch
from transformers import AutoModelForCausalLM
from transformers.distributed import DistributedConfig

model = AutoModelForCausalLM.from_pretrained(
    sys.argv[1], trust_remote_code=True, distributed_config=DistributedConfig(pp_size=2)
).eval()
with torch.no_grad():
    logits = model(torch.arange(3, 15).reshape(2, 6)).logits
if int(os.environ["RANK"]) == 0:
    held = [type(layer).__name__.endswith("DecoderLayer") for layer in model.model.layers]
    with open(sys.argv[2], "w") as output:
        json.dump({"logits": logits.tolist(), "held_layers": held}, output)
"""


def has_pipeline_parallel_loading() -> bool:
    try:
        from transformers.distributed import DistributedConfig
    except ImportError:
        return False
    return "pp_size" in {field.name for field in dataclasses.fields(DistributedConfig)}


@pytest.mark.slow
@pytest.mark.skipif(
    not has_pipeline_parallel_loading(),
    reason="from_pretrained learned pipeline parallelism (DistributedConfig.pp_size) in transformers 5.16",
)
def test_pipeline_parallel_on_two_cpu_processes_matches_one_process(tmp_path, checkpoint):
    pipeline_parallel = run_on_two_processes(PIPELINE_PARALLEL_SCRIPT, checkpoint, tmp_path)
    model = AutoModelForCausalLM.from_pretrained(checkpoint, trust_remote_code=True).eval()
    with torch.no_grad():
        expected = model(INPUT_IDS).logits  # (2, 6, vocab)
    # The first stage holds the first half of the layers and passes the rest through.
    layers = model.config.num_hidden_layers
    assert pipeline_parallel["held_layers"] == [index < layers // 2 for index in range(layers)]
    torch.testing.assert_close(torch.tensor(pipeline_parallel["logits"]), expected, rtol=1e-5, atol=1e-5)

def test_device_map_auto_with_disk_offload_matches_plain_loading(tmp_path, checkpoint):
    model = AutoModelForCausalLM.from_pretrained(checkpoint, trust_remote_code=True).eval()
    # Room for the embeddings and one decoder layer, whatever the vocabulary: the remaining layers go to disk.
    def size_in_bytes(module):
        return sum(parameter.numel() * parameter.element_size() for parameter in module.parameters())

    cpu_budget = size_in_bytes(model.model.embed_tokens) + size_in_bytes(model.model.layers[0]) * 1.5
    offloaded = AutoModelForCausalLM.from_pretrained(
        checkpoint,
        trust_remote_code=True,
        device_map="auto",
        max_memory={"cpu": int(cpu_budget)},
        offload_folder=tmp_path / "offload",
    ).eval()

    assert set(offloaded.hf_device_map.values()) == {"cpu", "disk"}
    with torch.no_grad():
        torch.testing.assert_close(offloaded(INPUT_IDS).logits, model(INPUT_IDS).logits, rtol=0, atol=0)


def test_serving_engine_requirements_are_declared(checkpoint):
    # vLLM's transformers backend looks for these before it will run a remote-code model.
    auto_map = json.loads((REPO / "config.json").read_text())["auto_map"]
    assert auto_map["AutoModel"] == f"modeling_{MODULE_NAME}.{CLASS_PREFIX}Model"
    model = AutoModelForCausalLM.from_pretrained(checkpoint, trust_remote_code=True)
    assert model._supports_attention_backend is True
    assert type(model.model)._supports_attention_backend is True


def test_registered_attention_function_gets_every_layer_with_arguments_passed_through(checkpoint):
    calls = []

    def recording_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
        calls.append(
            {"layer": module.layer_idx, "query": tuple(query.shape), "scaling": scaling, "dropout": dropout, **kwargs}
        )
        return ALL_ATTENTION_FUNCTIONS["sdpa"](
            module, query, key, value, attention_mask, scaling=scaling, dropout=dropout, **kwargs
        )

    # A serving engine registers its kernel by name, together with the mask format that kernel expects.
    AttentionInterface.register("recording", recording_attention)
    AttentionMaskInterface.register("recording", sdpa_mask)
    model = AutoModelForCausalLM.from_pretrained(
        checkpoint, trust_remote_code=True, attn_implementation="recording", attention_dropout=0.25
    )
    reference = AutoModelForCausalLM.from_pretrained(checkpoint, trust_remote_code=True, attn_implementation="sdpa")
    config = model.config
    head_dim = config.head_dim

    with torch.no_grad():
        logits = model.eval()(INPUT_IDS, engine_request_id="req-7").logits
    assert [call["layer"] for call in calls] == list(range(config.num_hidden_layers))
    for call in calls:
        assert call["query"] == (2, config.num_attention_heads, 6, head_dim)
        assert call["scaling"] == head_dim**-0.5
        assert call["dropout"] == 0.0
        assert call["engine_request_id"] == "req-7"
    torch.testing.assert_close(logits, reference.eval()(INPUT_IDS).logits.detach(), rtol=0, atol=0)

    calls.clear()
    model.train()(INPUT_IDS)
    assert [call["dropout"] for call in calls] == [0.25] * config.num_hidden_layers
