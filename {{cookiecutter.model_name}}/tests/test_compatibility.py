"""What the compatibility block and its neighbours handle, pinned on whichever transformers release is installed."""

import torch
from transformers.cache_utils import DynamicCache


def test_cache_reporting_its_length_as_a_tensor_continues_at_the_right_position(tiny_model, monkeypatch):
    # Static caches of several 5.x releases return `get_seq_length()` as a tensor of shape (1,) instead of an int.
    model = tiny_model()
    input_ids = torch.randint(3, 99, (1, 7))
    with torch.no_grad():
        full = model(input_ids).logits  # (1, 7, vocab)
        cache = DynamicCache(config=model.config)
        model(input_ids[:, :5], cache=cache, use_cache=True)
        length = cache.get_seq_length()
        monkeypatch.setattr(cache, "get_seq_length", lambda *args, **kwargs: torch.tensor([length]))
        continued = model(input_ids[:, 5:], cache=cache, use_cache=True).logits  # (1, 2, vocab)
    torch.testing.assert_close(continued, full[:, 5:], rtol=1e-5, atol=1e-5)


def test_cache_passed_under_its_pre_5_24_name_is_used(tiny_model):
    model = tiny_model()
    input_ids = torch.randint(3, 99, (1, 7))
    with torch.no_grad():
        full = model(input_ids).logits
        cache = DynamicCache(config=model.config)
        model(input_ids[:, :5], past_key_values=cache, use_cache=True)
        assert cache.get_seq_length() == 5
        continued = model(input_ids[:, 5:], past_key_values=cache, use_cache=True).logits
    torch.testing.assert_close(continued, full[:, 5:], rtol=1e-5, atol=1e-5)
