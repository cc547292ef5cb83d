"""Core behaviour of the model: shapes, causality, caching and save/load."""

import torch


def test_forward_returns_logits_of_shape_batch_seq_vocab(tiny_model):
    model = tiny_model()
    input_ids = torch.randint(3, 99, (2, 7))
    logits = model(input_ids).logits
    assert logits.shape == (2, 7, 99)


def test_changing_a_later_token_leaves_earlier_logits_unchanged(tiny_model):
    model = tiny_model()
    input_ids = torch.randint(3, 99, (1, 10))
    changed = input_ids.clone()
    changed[0, 6] = (changed[0, 6] + 1) % 96 + 3
    with torch.no_grad():
        original, edited = model(input_ids).logits, model(changed).logits
    torch.testing.assert_close(original[:, :6], edited[:, :6], rtol=0, atol=0)
    assert not torch.allclose(original[:, 6:], edited[:, 6:])


def test_generate_with_cache_matches_generate_without_cache(tiny_model):
    model = tiny_model()
    input_ids = torch.randint(3, 99, (2, 5))
    with_cache = model.generate(input_ids, max_new_tokens=10, do_sample=False, use_cache=True)
    without_cache = model.generate(input_ids, max_new_tokens=10, do_sample=False, use_cache=False)
    assert with_cache.shape == (2, 15)
    torch.testing.assert_close(with_cache, without_cache, rtol=0, atol=0)
