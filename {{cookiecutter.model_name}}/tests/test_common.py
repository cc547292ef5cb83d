"""The behaviour transformers checks for each of its own models, checked here for this one.

Written for this model after the checks of transformers' common model and generation tests; each test says the
tolerance it allows and why.
"""

import json
import pathlib
import shutil

import pytest
import torch
from conftest import CLASS_PREFIX, MODULE_NAME, REPO, distinct_weights
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoModelForCausalLM


VOCAB = 99  # vocabulary of the `tiny_config` fixture; ids 0, 1 and 2 are its pad, bos and eos tokens


def random_ids(batch: int, seq_len: int, seed: int = 1) -> torch.LongTensor:
    """Token ids of shape (batch, seq_len) that avoid the special ids 0-2."""
    return torch.randint(3, VOCAB, (batch, seq_len), generator=torch.Generator().manual_seed(seed))


def save_with_code(model, folder: pathlib.Path):
    """Saves `model` as a loadable repository: weights and config plus this repo's code and `auto_map`."""
    model.save_pretrained(folder)
    for module in ("configuration", "modeling"):
        shutil.copy2(REPO / f"{module}_{MODULE_NAME}.py", folder)
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = json.loads((REPO / "config.json").read_text())["auto_map"]
    (folder / "config.json").write_text(json.dumps(config))


def left_pad(rows: list[torch.LongTensor], pad_token_id: int = 0):
    """Stacks 1D rows of different lengths into (B, T) ids and an attention mask, padding on the left."""
    seq_len = max(len(row) for row in rows)
    input_ids = torch.full((len(rows), seq_len), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros_like(input_ids)
    for index, row in enumerate(rows):
        input_ids[index, seq_len - len(row):] = row
        attention_mask[index, seq_len - len(row):] = 1
    return input_ids, attention_mask


# Inputs and outputs


@torch.no_grad()
def test_inputs_embeds_give_the_same_logits_as_input_ids(tiny_model):
    model = tiny_model()
    input_ids = random_ids(2, 9)
    from_ids = model(input_ids=input_ids).logits
    from_embeds = model(inputs_embeds=model.get_input_embeddings()(input_ids)).logits
    # The same operations on the same numbers: exactly equal.
    torch.testing.assert_close(from_embeds, from_ids, rtol=0, atol=0)


def test_passing_both_input_ids_and_inputs_embeds_is_an_error(tiny_model):
    model = tiny_model()
    input_ids = random_ids(1, 4)
    with pytest.raises(ValueError, match="exactly one"):
        model(input_ids=input_ids, inputs_embeds=model.get_input_embeddings()(input_ids))


@torch.no_grad()
def test_hidden_states_and_attentions_have_one_entry_per_layer_with_eager(tiny_model):
    model = tiny_model(attn_implementation="eager", num_hidden_layers=3)
    batch, seq_len, config = 2, 7, model.config
    outputs = model(random_ids(batch, seq_len), output_hidden_states=True, output_attentions=True)
    # The embeddings, then the output of each layer (the last one after the final norm).
    assert len(outputs.hidden_states) == config.num_hidden_layers + 1
    assert all(state.shape == (batch, seq_len, config.hidden_size) for state in outputs.hidden_states)
    assert len(outputs.attentions) == config.num_hidden_layers
    for attention in outputs.attentions:
        assert attention.shape == (batch, config.num_attention_heads, seq_len, seq_len)
        torch.testing.assert_close(attention.sum(-1), torch.ones(batch, config.num_attention_heads, seq_len))
        # Causal: no query attends to a later key.
        assert attention.triu(diagonal=1).abs().max() == 0
    base = model.model(random_ids(batch, seq_len)).last_hidden_state
    torch.testing.assert_close(outputs.hidden_states[-1], base, rtol=0, atol=0)


@torch.no_grad()
def test_return_dict_false_gives_a_tuple_of_the_same_values(tiny_model):
    model = tiny_model()
    input_ids = random_ids(2, 6)
    as_dict = model(input_ids, labels=input_ids)
    as_tuple = model(input_ids, labels=input_ids, return_dict=False, use_cache=False)
    assert isinstance(as_tuple, tuple)
    loss, logits = as_tuple[:2]
    torch.testing.assert_close(loss, as_dict.loss, rtol=0, atol=0)
    torch.testing.assert_close(logits, as_dict.logits, rtol=0, atol=0)
    base = model.model(input_ids, return_dict=False, output_hidden_states=True, use_cache=False)
    assert isinstance(base, tuple) and len(base) == 2 and len(base[1]) == model.config.num_hidden_layers + 1


@torch.no_grad()
def test_eager_and_sdpa_attention_agree_on_a_left_padded_batch(tiny_model):
    sdpa = distinct_weights(tiny_model(attn_implementation="sdpa"))
    eager = tiny_model(attn_implementation="eager")
    eager.load_state_dict(sdpa.state_dict())
    input_ids, attention_mask = left_pad([random_ids(1, 10)[0], random_ids(1, 6, seed=2)[0]])
    expected = eager(input_ids, attention_mask=attention_mask).logits
    actual = sdpa(input_ids, attention_mask=attention_mask).logits
    real = attention_mask.bool()
    # Different kernels sum in different orders: float32 rounding only (padding positions carry no meaning).
    torch.testing.assert_close(actual[real], expected[real], rtol=1e-5, atol=1e-5)


@torch.no_grad()
def test_logits_to_keep_selects_the_last_positions_or_the_given_ones(tiny_model):
    model = tiny_model()
    input_ids = random_ids(2, 8)
    full = model(input_ids).logits  # (B, T, vocab)
    assert model(input_ids, logits_to_keep=0).logits.shape == full.shape
    torch.testing.assert_close(model(input_ids, logits_to_keep=1).logits, full[:, -1:], rtol=0, atol=1e-6)
    torch.testing.assert_close(model(input_ids, logits_to_keep=3).logits, full[:, -3:], rtol=0, atol=1e-6)
    positions = torch.tensor([0, 5])
    kept = model(input_ids, logits_to_keep=positions).logits
    torch.testing.assert_close(kept, full[:, positions], rtol=0, atol=1e-6)


@torch.no_grad()
def test_loss_is_the_shifted_cross_entropy_and_skips_ignored_labels(tiny_model):
    model = tiny_model()
    input_ids = random_ids(2, 10)
    labels = input_ids.clone()
    labels[0, :4] = -100
    labels[1, 7:] = -100
    outputs = model(input_ids, labels=labels)
    # Position t predicts token t + 1.
    expected = torch.nn.functional.cross_entropy(
        outputs.logits[:, :-1].reshape(-1, VOCAB), labels[:, 1:].reshape(-1), ignore_index=-100
    )
    torch.testing.assert_close(outputs.loss, expected, rtol=1e-6, atol=1e-6)
    # Independently: the mean of the per-token losses over the targets that are not ignored.
    per_token = torch.nn.functional.cross_entropy(
        outputs.logits[:, :-1].reshape(-1, VOCAB), input_ids[:, 1:].reshape(-1), reduction="none"
    )
    kept = labels[:, 1:].reshape(-1) != -100
    torch.testing.assert_close(outputs.loss, per_token[kept].mean(), rtol=1e-6, atol=1e-6)
    assert not torch.isclose(outputs.loss, per_token.mean())


# Generation


def test_static_cache_generates_the_same_tokens_as_the_dynamic_cache(tiny_model):
    model = distinct_weights(tiny_model())
    input_ids, attention_mask = left_pad([random_ids(1, 7)[0], random_ids(1, 4, seed=2)[0]])
    kwargs = dict(attention_mask=attention_mask, max_new_tokens=8, do_sample=False, pad_token_id=0)
    dynamic = model.generate(input_ids, **kwargs)
    static = model.generate(input_ids, cache_implementation="static", **kwargs)
    torch.testing.assert_close(static, dynamic, rtol=0, atol=0)


def test_generate_from_inputs_embeds_matches_generate_from_input_ids(tiny_model):
    model = distinct_weights(tiny_model())
    input_ids = random_ids(2, 6)
    kwargs = dict(max_new_tokens=6, do_sample=False, pad_token_id=0, eos_token_id=None)
    from_ids = model.generate(input_ids, **kwargs)[:, input_ids.shape[1]:]
    # Started from embeddings, generate returns only the new tokens.
    from_embeds = model.generate(inputs_embeds=model.get_input_embeddings()(input_ids), **kwargs)
    torch.testing.assert_close(from_embeds[:, -6:], from_ids, rtol=0, atol=0)


def test_left_padded_batch_generates_what_each_row_generates_alone(tiny_model):
    model = distinct_weights(tiny_model())
    rows = [random_ids(1, 9)[0], random_ids(1, 5, seed=2)[0], random_ids(1, 2, seed=3)[0]]
    input_ids, attention_mask = left_pad(rows)
    kwargs = dict(max_new_tokens=8, do_sample=False, pad_token_id=0, eos_token_id=None)
    batched = model.generate(input_ids, attention_mask=attention_mask, **kwargs)[:, input_ids.shape[1]:]
    for index, row in enumerate(rows):
        alone = model.generate(row[None], **kwargs)[:, len(row):]
        torch.testing.assert_close(batched[index:index + 1], alone, rtol=0, atol=0)


def test_beam_search_returns_the_requested_sequences(tiny_model):
    model = distinct_weights(tiny_model())
    input_ids = random_ids(2, 5)
    outputs = model.generate(
        input_ids, num_beams=3, num_return_sequences=2, max_new_tokens=6, do_sample=False, pad_token_id=0,
        eos_token_id=None, output_scores=True, return_dict_in_generate=True,
    )
    assert outputs.sequences.shape == (4, 11)
    # Each prompt is kept in front of both of its returned beams.
    torch.testing.assert_close(outputs.sequences[:, :5], input_ids.repeat_interleave(2, dim=0), rtol=0, atol=0)
    assert torch.isfinite(outputs.sequences_scores).all()
    assert not torch.equal(outputs.sequences[0], outputs.sequences[1])


def test_sampling_is_reproducible_under_a_seed(tiny_model):
    model = tiny_model()
    input_ids = random_ids(4, 3)
    kwargs = dict(do_sample=True, max_new_tokens=10, top_k=0, pad_token_id=0, eos_token_id=None)
    torch.manual_seed(7)
    first = model.generate(input_ids, **kwargs)
    torch.manual_seed(7)
    second = model.generate(input_ids, **kwargs)
    torch.manual_seed(8)
    other = model.generate(input_ids, **kwargs)
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    # 40 draws from a nearly uniform distribution over 99 tokens: another seed changes some of them.
    assert not torch.equal(first, other)


# Embeddings, initialisation, training


@pytest.mark.parametrize("tied", [True, False], ids=["tied", "untied"])
def test_resize_token_embeddings_resizes_the_head_and_keeps_the_tie(tiny_model, tied):
    model = tiny_model(tie_word_embeddings=tied)
    model.resize_token_embeddings(120)
    embeddings, head = model.get_input_embeddings(), model.get_output_embeddings()
    assert embeddings.weight.shape == head.weight.shape == (120, model.config.hidden_size)
    assert model.config.vocab_size == 120
    assert (head.weight is embeddings.weight) is tied
    with torch.no_grad():
        logits = model(torch.tensor([[119, 5, 3]])).logits
    assert logits.shape == (1, 3, 120)


def test_gradient_checkpointing_gives_the_same_gradients(tiny_model):
    model = tiny_model().train()
    input_ids = random_ids(2, 8)

    def gradients():
        model.zero_grad()
        model(input_ids, labels=input_ids, use_cache=False).loss.backward()
        return {name: parameter.grad.clone() for name, parameter in model.named_parameters()}

    plain = gradients()
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    assert model.model.gradient_checkpointing
    checkpointed = gradients()
    for name, gradient in plain.items():
        # The recomputed forward is the same computation: equal up to float32 rounding.
        torch.testing.assert_close(checkpointed[name], gradient, rtol=1e-6, atol=1e-7, msg=name)


def test_initialisation_is_deterministic_under_a_seed_and_follows_the_config(tiny_model, tiny_config, modeling):
    first, second = tiny_model(), tiny_model()
    for (name, value), other in zip(first.state_dict().items(), second.state_dict().values(), strict=True):
        torch.testing.assert_close(value, other, rtol=0, atol=0, msg=name)
    torch.manual_seed(1)
    reseeded = getattr(modeling, f"{CLASS_PREFIX}ForCausalLM")(tiny_config())
    assert not torch.equal(reseeded.model.layers[0].mlp.up_proj.weight, first.model.layers[0].mlp.up_proj.weight)

    std = first.config.initializer_range
    weight = first.model.layers[0].mlp.gate_proj.weight
    assert abs(weight.std().item() - std) < 0.2 * std and abs(weight.mean().item()) < 0.2 * std
    assert torch.equal(first.model.norm.weight, torch.ones_like(first.model.norm.weight))
    # The padding token's embedding starts at zero, as nn.Embedding's padding_idx promises.
    assert first.model.embed_tokens.weight[first.config.pad_token_id].abs().max() == 0


def test_from_pretrained_leaves_no_parameter_or_buffer_uninitialised(tiny_model, tmp_path):
    rope = {"rope_type": "linear", "factor": 4.0, "rope_theta": 500.0}
    model = tiny_model(rope_parameters=rope)
    save_with_code(model, tmp_path)
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path, trust_remote_code=True).eval()
    for name, value in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[name], value, rtol=0, atol=0, msg=name)
    rotary = loaded.model.rotary_emb
    # The frequencies are not in the checkpoint: they must be rebuilt for this config, not left as garbage.
    expected = 1.0 / 500.0 ** (torch.arange(0, model.config.head_dim, 2).float() / model.config.head_dim) / 4.0
    torch.testing.assert_close(rotary.inv_freq, expected, rtol=1e-6, atol=0)
    torch.testing.assert_close(rotary.original_inv_freq, expected, rtol=1e-6, atol=0)
    assert all(torch.isfinite(tensor).all() for tensor in [*loaded.parameters(), *loaded.buffers()])


def test_loading_reports_missing_and_unexpected_keys(tiny_model, tmp_path):
    save_with_code(tiny_model(), tmp_path)
    weights = load_file(tmp_path / "model.safetensors")
    del weights["model.norm.weight"]
    weights["model.extra_gate.weight"] = torch.zeros(3)
    save_file(weights, tmp_path / "model.safetensors", metadata={"format": "pt"})
    loaded, info = AutoModelForCausalLM.from_pretrained(tmp_path, trust_remote_code=True, output_loading_info=True)
    assert "model.norm.weight" in info["missing_keys"]
    assert "model.extra_gate.weight" in info["unexpected_keys"]
    # The missing norm gain is initialised, not left empty.
    torch.testing.assert_close(loaded.model.norm.weight, torch.ones_like(loaded.model.norm.weight))


def test_bfloat16_loads_and_runs_close_to_float32(tiny_model, tmp_path):
    model = tiny_model()
    save_with_code(model, tmp_path)
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path, trust_remote_code=True, dtype=torch.bfloat16).eval()
    assert {parameter.dtype for parameter in loaded.parameters()} == {torch.bfloat16}
    input_ids = random_ids(2, 8)
    with torch.no_grad():
        logits = loaded(input_ids).logits
        reference = model(input_ids).logits
    assert logits.dtype == torch.bfloat16 and torch.isfinite(logits).all()
    # bfloat16 keeps 8 bits of mantissa; logits of this model are about 0.1 in size.
    torch.testing.assert_close(logits.float(), reference, rtol=0, atol=2e-2)
    generated = loaded.generate(input_ids, max_new_tokens=4, do_sample=False, pad_token_id=0)
    assert generated.shape == (2, 12)


@pytest.mark.slow
def test_compiled_full_graph_forward_matches_eager(tiny_model):
    model = tiny_model()
    input_ids = random_ids(2, 8)
    with torch.no_grad():
        expected = model(input_ids, use_cache=False).logits
        # fullgraph=True fails on any graph break, e.g. Python-side control flow on tensor values.
        compiled = torch.compile(model, fullgraph=True)
        actual = compiled(input_ids, use_cache=False).logits
    # Fused kernels reorder float32 sums.
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5)


# Configuration


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        (dict(hidden_size=30, num_attention_heads=4), "hidden_size"),
        (dict(num_attention_heads=4, num_key_value_heads=3), "num_key_value_heads"),
        (dict(rope_parameters={"rope_type": "yarn", "factor": 2.0}), "'yarn'"),
        (dict(rope_parameters={"rope_type": "linear"}), "factor"),
        (dict(rope_parameters={"rope_type": "llama3", "factor": 8.0, "high_freq_factor": 4.0,
                               "original_max_position_embeddings": 64}), "low_freq_factor"),
        (dict(num_hidden_layers=0), "num_hidden_layers"),
        (dict(hidden_act="swishy"), "'swishy'"),
        (dict(rope_parameters={"rope_type": "default", "rope_theta": 500.0}, rope_theta=10000.0), "rope_theta"),
    ],
    ids=["heads-do-not-divide-hidden", "kv-heads-do-not-divide-heads", "unknown-rope-type", "linear-without-factor",
         "llama3-missing-key", "no-layers", "unknown-activation", "two-different-rope-bases"],
)
def test_config_refuses_impossible_values(tiny_config, overrides, named):
    with pytest.raises(ValueError, match=named):
        tiny_config(**overrides)


def test_overrides_set_after_the_config_was_made_are_checked_when_the_model_is_built(checkpoint):
    # `from_pretrained` sets keyword overrides as attributes after the config's own checks have run.
    config = AutoConfig.from_pretrained(checkpoint, trust_remote_code=True, num_key_value_heads=3)
    assert config.num_key_value_heads == 3
    with pytest.raises(ValueError, match="num_key_value_heads"):
        AutoModelForCausalLM.from_config(config, trust_remote_code=True)
