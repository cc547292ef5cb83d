"""The sequence-classification head. Generating with `heads=causal-lm` leaves out the class, its auto_map entry and
this file."""

import pytest
import torch


VOCAB = 99  # vocabulary of the `tiny_config` fixture; ids 0, 1 and 2 are its pad, bos and eos tokens


def random_ids(batch: int, seq_len: int, seed: int = 1) -> torch.LongTensor:
    """Token ids of shape (batch, seq_len) that avoid the special ids 0-2."""
    return torch.randint(3, VOCAB, (batch, seq_len), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("pad_token_id", [0, None], ids=["pad-token", "no-pad-token"])
@pytest.mark.parametrize("side", ["left", "right"])
@torch.no_grad()
def test_sequence_classification_scores_the_last_real_token(tiny_model, pad_token_id, side):
    model = tiny_model("ForSequenceClassification", pad_token_id=pad_token_id, num_labels=3)
    lengths = [8, 5, 3]
    input_ids = torch.zeros(3, 8, dtype=torch.long)
    attention_mask = torch.zeros_like(input_ids)
    last = []
    for row, length in enumerate(lengths):
        start = 8 - length if side == "left" else 0
        input_ids[row, start:start + length] = random_ids(1, length, seed=row)[0]
        attention_mask[row, start:start + length] = 1
        last.append(start + length - 1)
    logits = model(input_ids, attention_mask=attention_mask).logits
    assert logits.shape == (3, 3)
    hidden = model.model(input_ids, attention_mask=attention_mask).last_hidden_state  # (B, T, C)
    expected = model.score(hidden[torch.arange(3), torch.tensor(last)])  # (B, num_labels)
    torch.testing.assert_close(logits, expected, rtol=0, atol=1e-6)


def test_sequence_classification_loss_is_cross_entropy_of_the_pooled_logits(tiny_model):
    model = tiny_model("ForSequenceClassification", num_labels=3)
    input_ids, labels = random_ids(4, 6), torch.tensor([0, 2, 1, 2])
    outputs = model(input_ids, labels=labels)
    torch.testing.assert_close(outputs.loss, torch.nn.functional.cross_entropy(outputs.logits, labels))
