"""Config and weights survive saving and loading, with the remote code travelling alongside."""

import pytest
import torch
from conftest import CLASS_PREFIX, MODULE_NAME, REPO
from transformers import AutoConfig, AutoModelForCausalLM


# Bookkeeping keys, not settings: `auto_map` is added once the class has been loaded through an Auto class, and
# transformers 4.57 reports an unset `attn_implementation` for a new config but not for a reloaded one.
BOOKKEEPING_KEYS = {"auto_map", "attn_implementation"}


def settings(config) -> dict:
    return {key: value for key, value in config.to_dict().items() if key not in BOOKKEEPING_KEYS}


def test_config_round_trips_through_dict_and_save_pretrained(tiny_config, config_class, tmp_path):
    config = tiny_config(
        rms_norm_eps=1e-5,
        attention_bias=True,
        rope_parameters={"rope_type": "linear", "rope_theta": 50000.0, "factor": 2.0},
    )

    assert settings(config_class.from_dict(config.to_dict())) == settings(config)
    config.save_pretrained(tmp_path)
    loaded = config_class.from_pretrained(tmp_path)
    assert settings(loaded) == settings(config)
    assert loaded.rope_parameters == {"rope_type": "linear", "rope_theta": 50000.0, "factor": 2.0}
    assert (loaded.rms_norm_eps, loaded.attention_bias, loaded.num_key_value_heads) == (1e-5, True, 2)


@pytest.mark.parametrize("tie_word_embeddings", [True, False])
def test_save_pretrained_then_from_pretrained_gives_identical_logits_with_code_files(tmp_path, tie_word_embeddings):
    config = AutoConfig.from_pretrained(REPO, trust_remote_code=True, tie_word_embeddings=tie_word_embeddings)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, trust_remote_code=True).eval()
    # Random weights would hide a lost head: make it differ from the embeddings unless the two are one tensor.
    with torch.no_grad():
        model.lm_head.weight.add_(torch.randn_like(model.lm_head.weight))
    input_ids = torch.arange(3, 19).reshape(2, 8)
    with torch.no_grad():
        expected = model(input_ids).logits  # (2, 8, vocab)

    model.save_pretrained(tmp_path)
    for kind in ("configuration", "modeling"):
        assert (tmp_path / f"{kind}_{MODULE_NAME}.py").read_bytes() == (REPO / f"{kind}_{MODULE_NAME}.py").read_bytes()
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path, trust_remote_code=True).eval()

    assert type(loaded).__name__ == f"{CLASS_PREFIX}ForCausalLM"
    assert loaded.config.tie_word_embeddings is tie_word_embeddings
    with torch.no_grad():
        torch.testing.assert_close(loaded(input_ids).logits, expected, rtol=0, atol=0)
