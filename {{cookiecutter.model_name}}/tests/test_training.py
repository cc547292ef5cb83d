"""Training with the usual tools: `Trainer`, PEFT LoRA adapters and an accelerate FSDP config."""

import json
import math

import torch
from conftest import CLASS_PREFIX, REPO
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments


# The attention projections of every decoder layer; the README's "Training and fine-tuning" section lists the same.
LORA_TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj"]


def token_batch(batch_size: int = 4, seq_len: int = 16) -> torch.Tensor:
    """Seeded random token ids of shape (batch_size, seq_len), avoiding the special tokens."""
    generator = torch.Generator().manual_seed(0)
    return torch.randint(4, 260, (batch_size, seq_len), generator=generator)


def causal_lm_loss(model, input_ids: torch.Tensor) -> float:
    with torch.no_grad():
        return model(input_ids=input_ids, labels=input_ids).loss.item()


def test_one_trainer_step_updates_weights_and_lowers_loss(tmp_path, checkpoint):
    model = AutoModelForCausalLM.from_pretrained(checkpoint, trust_remote_code=True)
    input_ids = token_batch()
    dataset = [{"input_ids": row, "labels": row} for row in input_ids]
    weights_before = {name: param.detach().clone() for name, param in model.named_parameters()}
    loss_before = causal_lm_loss(model.eval(), input_ids)

    arguments = TrainingArguments(
        output_dir=str(tmp_path),
        max_steps=1,
        per_device_train_batch_size=len(dataset),
        learning_rate=1e-2,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
    )
    result = Trainer(model=model, args=arguments, train_dataset=dataset).train()

    assert math.isfinite(result.training_loss)
    changed = [name for name, param in model.named_parameters() if not torch.equal(param, weights_before[name])]
    assert len(changed) == len(weights_before)
    assert causal_lm_loss(model.eval(), input_ids) < loss_before


def test_lora_on_attention_projections_trains_saves_and_reloads_with_identical_logits(tmp_path, checkpoint):
    base = AutoModelForCausalLM.from_pretrained(checkpoint, trust_remote_code=True)
    input_ids = token_batch()
    with torch.no_grad():
        base_logits = base.eval()(input_ids).logits  # (B, T, vocab)

    lora_config = LoraConfig(r=4, lora_alpha=8, target_modules=LORA_TARGET_MODULES, task_type="CAUSAL_LM")
    model = get_peft_model(base, lora_config)
    adapted = {name.split(".")[-1] for name, module in model.named_modules() if hasattr(module, "lora_A")}
    assert adapted == set(LORA_TARGET_MODULES)
    trainable = [param for param in model.parameters() if param.requires_grad]
    assert len(trainable) == 2 * len(LORA_TARGET_MODULES) * base.config.num_hidden_layers

    # One optimiser step: LoRA starts as a no-op (B = 0), so this is what makes the adapter matter.
    model.train()
    optimizer = torch.optim.AdamW(trainable, lr=1e-2)
    model(input_ids=input_ids, labels=input_ids).loss.backward()
    optimizer.step()
    model.eval()
    with torch.no_grad():
        tuned_logits = model(input_ids).logits
    assert not torch.allclose(tuned_logits, base_logits)

    model.save_pretrained(tmp_path / "adapter")
    saved = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert set(saved["target_modules"]) == set(LORA_TARGET_MODULES)

    fresh_base = AutoModelForCausalLM.from_pretrained(checkpoint, trust_remote_code=True)
    reloaded = PeftModel.from_pretrained(fresh_base, tmp_path / "adapter").eval()
    with torch.no_grad():
        torch.testing.assert_close(reloaded(input_ids).logits, tuned_logits, rtol=0, atol=0)


def test_accelerate_fsdp_config_is_valid_and_wraps_the_decoder_layer(modeling):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(REPO / "scripts" / "accelerate_fsdp.yaml"))

    assert config.distributed_type == "FSDP"
    assert config.fsdp_config["fsdp_auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"
    wrapped = config.fsdp_config["fsdp_transformer_layer_cls_to_wrap"]
    assert wrapped == f"{CLASS_PREFIX}DecoderLayer" and isinstance(getattr(modeling, wrapped), type)
