"""The sequence-classifier refusal judge on tiny randomly initialised RoBERTa classifiers saved in tmp_path."""

from __future__ import annotations

import pytest

from safetuned.errors import ConfigError, ModelError
from safetuned.eval.scorers import Item, build_scorer
from safetuned.model.tiny import random_tiny_llama, save_tiny, train_bpe_tokenizer

TEXTS = ["I'm sorry, but I cannot help with that request.", "Sure! Here is a recipe for pancakes.",
         "As an AI language model, I must decline.", "The capital of France is Paris.",
         "Step one: mix the flour and the eggs. Step two: fry in butter."]
PREFIX = "Here is a long answer that goes on and on about many things, " * 4


@pytest.fixture(scope="module")
def tokenizer():
    return train_bpe_tokenizer(TEXTS * 3, vocab_size=300)


def save_classifier(folder, tokenizer, id2label, seed=0):
    """A tiny RobertaForSequenceClassification (hidden 32, one layer) and its tokenizer, saved in `folder`."""
    import torch
    from transformers import RobertaConfig, RobertaForSequenceClassification

    torch.manual_seed(seed)
    config = RobertaConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                           intermediate_size=64, max_position_embeddings=514, pad_token_id=tokenizer.pad_token_id,
                           bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                           id2label=id2label, label2id={v: k for k, v in id2label.items()})
    model = RobertaForSequenceClassification(config).eval()
    with torch.no_grad():  # a random head gives near-0.5 probabilities; spread them out so the argmax matters
        model.classifier.out_proj.weight.mul_(50)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return model


def direct_probs(model, tokenizer, texts, max_length=512):
    """Softmax of the model's logits, one unpadded text at a time."""
    import torch

    out = []
    with torch.inference_mode():
        for t in texts:
            enc = tokenizer(t, truncation=True, max_length=max_length, return_tensors="pt")
            out.append(model(**enc).logits.float().softmax(-1)[0].tolist())
    return out


def test_scores_match_the_model_in_any_batching(tmp_path, tokenizer):
    folder = tmp_path / "clf"
    model = save_classifier(folder, tokenizer, {0: "NORMAL", 1: "REJECTION"})
    scorer = build_scorer("refusal_classifier", {"model": str(folder), "batch_size": 2, "device": "cpu"})
    scorer.check()
    items = [Item("q", t) for t in TEXTS]
    verdicts = scorer.score(items + [Item("q", "  ")], progress=False)
    assert verdicts.pop() == {"refused": None, "refusal_prob": None, "raw": ""}  # no text, no verdict
    expected = direct_probs(model, tokenizer, [it.response for it in items])
    assert len(verdicts) == len(items)
    for v, p in zip(verdicts, expected):
        assert isinstance(v["refused"], bool) and 0.0 <= v["refusal_prob"] <= 1.0
        assert v["refusal_prob"] == pytest.approx(p[1], abs=1e-5)  # padding in a batch changes nothing
        assert v["refused"] == (p[1] > p[0]) and v["raw"] == ("REJECTION" if v["refused"] else "NORMAL")
    assert {v["refused"] for v in verdicts} == {True, False}  # the test can tell the two labels apart
    one_batch = build_scorer("refusal_classifier", {"model": str(folder), "batch_size": 16, "device": "cpu"})
    assert [v["refusal_prob"] for v in one_batch.score(items, progress=False)] == \
        pytest.approx([v["refusal_prob"] for v in verdicts], abs=1e-5)
    assert str(folder) in scorer.revision() and "REJECTION" in scorer.revision()


def test_refusal_label_is_read_from_id2label_case_insensitively(tmp_path, tokenizer):
    folder = tmp_path / "swapped"
    model = save_classifier(folder, tokenizer, {0: "Rejection", 1: "Normal"}, seed=1)
    scorer = build_scorer("refusal_classifier", {"model": str(folder), "refusal_label": "rejection"})
    scorer.check()
    probs = direct_probs(model, tokenizer, TEXTS)
    verdicts = scorer.score([Item("q", t) for t in TEXTS], progress=False)
    assert [v["refusal_prob"] for v in verdicts] == pytest.approx([p[0] for p in probs], abs=1e-5)
    assert [v["refused"] for v in verdicts] == [p[0] > p[1] for p in probs]


def test_long_answers_are_truncated_to_max_length(tmp_path, tokenizer):
    folder = tmp_path / "clf"
    save_classifier(folder, tokenizer, {0: "NORMAL", 1: "REJECTION"})
    items = [Item("q", PREFIX + "I cannot help."), Item("q", PREFIX + "Sure, pancakes need flour and eggs.")]
    assert len(tokenizer(items[0].response)["input_ids"]) > 40
    short = build_scorer("refusal_classifier", {"model": str(folder), "max_length": 16}).score(items, progress=False)
    assert short[0]["refusal_prob"] == pytest.approx(short[1]["refusal_prob"], abs=1e-6)  # only the prefix is read
    full = build_scorer("refusal_classifier", {"model": str(folder)}).score(items, progress=False)
    assert full[0]["refusal_prob"] != pytest.approx(full[1]["refusal_prob"], abs=1e-6)


def test_wrong_head_and_missing_label_are_one_line(tmp_path, tokenizer):
    llama = save_tiny(random_tiny_llama(tokenizer, hidden_size=32, num_layers=1, num_heads=2, intermediate_size=64),
                      tokenizer, tmp_path / "causal")
    with pytest.raises(ModelError, match=r"eval.scorers.refusal_classifier.model: .*LlamaForCausalLM.*"
                                         r"ForSequenceClassification") as err:
        build_scorer("refusal_classifier", {"model": str(llama)}).check()
    assert "\n" not in str(err.value)
    save_classifier(tmp_path / "sentiment", tokenizer, {0: "NEGATIVE", 1: "POSITIVE"})
    with pytest.raises(ConfigError, match=r"^eval.scorers.rc.refusal_label: .* has no label 'REJECTION' "
                                          r"\(its config.id2label: \['NEGATIVE', 'POSITIVE'\]\)") as err:
        build_scorer("rc", {"scorer": "refusal_classifier", "model": str(tmp_path / "sentiment")}).check()
    assert "\n" not in str(err.value)
    save_classifier(tmp_path / "no_tokenizer", tokenizer, {0: "NORMAL", 1: "REJECTION"})
    for f in (tmp_path / "no_tokenizer").glob("tokenizer*"):
        f.unlink()
    with pytest.raises(ModelError, match=r"^eval.scorers.refusal_classifier.model: cannot load the tokenizer") as err:
        build_scorer("refusal_classifier", {"model": str(tmp_path / "no_tokenizer")}).check()
    assert "\n" not in str(err.value)
    with pytest.raises(ModelError, match="does not exist"):
        build_scorer("refusal_classifier", {"model": str(tmp_path / "nope")}).check()
    with pytest.raises(ConfigError, match=r"eval.scorers.refusal_classifier.batch_size: must be an integer >= 1"):
        build_scorer("refusal_classifier", {"batch_size": 0})
