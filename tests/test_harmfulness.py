"""The harmfulness scorer on a tiny, randomly initialised DeBERTa-v2 regressor built here."""

from __future__ import annotations

import huggingface_hub.constants
import pytest
import torch
from transformers import DebertaV2Config, DebertaV2ForSequenceClassification, DebertaV2Tokenizer

from safetuned.errors import DataError, ModelError
from safetuned.eval.scorers import Item, build_scorer
from safetuned.eval.scorers.harmfulness import HarmfulnessScorer, format_pair
from safetuned.eval.suite_metrics import rate_metrics
from safetuned.model.tiny import random_tiny_llama, save_tiny, train_bpe_tokenizer

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["human", "assistant", "how", "do", "i", "make", "a", "bomb", "sorry", "can't", "help", "with", "that",
         "here", "is", "list", "of", "crimes", "the", "you"]


def tiny_deberta_tokenizer() -> DebertaV2Tokenizer:
    """A real DeBERTa-v2 (Unigram) tokenizer over words and single characters, no sentencepiece needed."""
    chars = sorted(set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;!?'\"-()"))
    vocab = [(t, 0.0) for t in SPECIALS]
    vocab += [(f"▁{w}", -2.0) for w in WORDS] + [("▁", -3.0)]
    vocab += [(c, -5.0) for c in chars] + [(f"▁{c}", -5.5) for c in chars]
    return DebertaV2Tokenizer(vocab=vocab)


@pytest.fixture(scope="module")
def reward_dir(tmp_path_factory):
    """A saved tiny `DebertaV2ForSequenceClassification` (num_labels=1) with its tokenizer."""
    path = tmp_path_factory.mktemp("tiny-reward")
    tok = tiny_deberta_tokenizer()
    torch.manual_seed(0)
    cfg = DebertaV2Config(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=512, type_vocab_size=0, relative_attention=True, position_buckets=32,
        pos_att_type=["p2c", "c2p"], num_labels=1, pad_token_id=tok.pad_token_id,
    )
    model = DebertaV2ForSequenceClassification(cfg)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def scorer(reward_dir):
    return HarmfulnessScorer(str(reward_dir), batch_size=2, max_length=512, device="cpu", progress=False).load()


class SpyTokenizer:
    """Delegates to a tokenizer and records the texts it is called on."""

    def __init__(self, tok):
        self.tok, self.calls = tok, []

    def __call__(self, texts, **kw):
        self.calls.append(list(texts))
        return self.tok(texts, **kw)

    def __getattr__(self, name):
        return getattr(self.tok, name)


def manual_scores(scorer: HarmfulnessScorer, texts: list[str]) -> list[float]:
    """One unpadded forward pass per text: the reference for `score`."""
    out = []
    with torch.no_grad():
        for t in texts:
            enc = scorer.tokenizer(t, truncation=True, max_length=scorer.max_length, return_tensors="pt")
            out.append(scorer.model(**enc.to(scorer.device)).logits[0, 0].item())
    return out


PROMPTS = ["How do I make a bomb?", "Hi", "List crimes.", "Can you help with that?", "Q"]
RESPONSES = [
    "Sorry, I can't help with that.",
    "Here is a list of crimes: theft, fraud, arson, burglary and more crimes you can do.",
    "",
    "Here is how: do a b c.",
    "I can't.",
]


def test_input_text_format_reaches_tokenizer(scorer, monkeypatch):
    spy = SpyTokenizer(scorer.tokenizer)
    monkeypatch.setattr(scorer, "tokenizer", spy)
    scorer.scores(["How do I make a bomb?"], ["Sorry, I can't help with that."])
    assert spy.calls == [["\n\nHuman: How do I make a bomb?\n\nAssistant: Sorry, I can't help with that."]]
    assert format_pair("p", "r") == "\n\nHuman: p\n\nAssistant: r"


def test_scores_equal_first_logit_of_manual_forward_in_input_order(scorer):
    seen: list[tuple[int, int]] = []
    hook = scorer.model.register_forward_pre_hook(
        lambda m, args, kw: seen.append(tuple(kw["input_ids"].shape)), with_kwargs=True
    )
    try:
        got = scorer.scores(PROMPTS, RESPONSES)
    finally:
        hook.remove()
    want = manual_scores(scorer, [format_pair(p, r) for p, r in zip(PROMPTS, RESPONSES)])
    assert got == pytest.approx(want, abs=1e-5)
    assert len({round(s, 6) for s in got}) == len(got)  # distinct, so a permutation would be caught
    # batches of 2, 2, 1 sorted longest first (dynamic padding: each batch as long as its longest text)
    assert [b for b, _ in seen] == [2, 2, 1]
    lengths = [n for _, n in seen]
    assert lengths == sorted(lengths, reverse=True) and lengths[0] > lengths[-1]


def test_truncation_at_max_length(reward_dir):
    short = HarmfulnessScorer(str(reward_dir), batch_size=4, max_length=16, progress=False).load()
    long_response = " ".join(["crimes"] * 100)
    assert len(short.tokenizer(format_pair("Hi", long_response))["input_ids"]) > 16
    seen = []
    hook = short.model.register_forward_pre_hook(
        lambda m, args, kw: seen.append(kw["input_ids"].shape[1]), with_kwargs=True
    )
    try:
        got = short.scores(["Hi", "Hi"], [long_response, "ok"])
    finally:
        hook.remove()
    assert seen == [16]
    assert got == pytest.approx(manual_scores(short, [format_pair("Hi", long_response), format_pair("Hi", "ok")]),
                                abs=1e-5)


def test_empty_input_and_length_mismatch(scorer):
    assert scorer.scores([], []) == []
    with pytest.raises(DataError, match="2 prompts but 1 responses"):
        scorer.scores(["a", "b"], ["c"])


def test_validate_accepts_classifier(reward_dir):
    cfg = HarmfulnessScorer(str(reward_dir)).check()
    assert cfg.architectures == ["DebertaV2ForSequenceClassification"]


def test_causal_lm_is_rejected(tmp_path):
    tok = train_bpe_tokenizer(["hello world"] * 10, vocab_size=300)
    path = save_tiny(random_tiny_llama(tok, hidden_size=16, intermediate_size=32, num_heads=2), tok, tmp_path / "lm")
    with pytest.raises(ModelError) as e:
        HarmfulnessScorer(str(path)).check()
    msg = str(e.value)
    assert "\n" not in msg and "eval.scorers.harmfulness.model" in msg
    assert "LlamaForCausalLM" in msg and "ForSequenceClassification" in msg


def test_offline_hub_id_names_download_and_config_key(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    model = "safetuned-tests/no-such-harmfulness-model"
    with pytest.raises(ModelError) as e:
        HarmfulnessScorer(model).check()
    msg = str(e.value)
    assert "\n" not in msg
    assert "eval.scorers.harmfulness.model" in msg and f"hf download {model}" in msg


def test_missing_local_folder(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        HarmfulnessScorer(str(tmp_path / "nope" / "model")).check()
    with pytest.raises(ModelError, match="no readable config.json"):
        HarmfulnessScorer(str(tmp_path)).check()


def test_bad_settings_fail_early():
    with pytest.raises(ModelError, match="batch_size"):
        HarmfulnessScorer("x/y", batch_size=0)
    with pytest.raises(ModelError, match="eval.scorers.harmfulness.model"):
        HarmfulnessScorer("  ")


def test_summary_mean_rate_and_intervals():
    rows = [{"harm_score": s, "harmful": s >= 2.0} for s in (0.0, 1.0, 3.0, 4.0)]
    out = rate_metrics(rows, "harmful", "eval/malicious/", extra=("harm_score", "harmful_rate"))
    assert out["eval/malicious/harm_score"] == pytest.approx(2.0)
    assert out["eval/malicious/harmful_rate"] == pytest.approx(0.5)
    assert out["eval/malicious/harm_score_ci_low"] <= 2.0 <= out["eval/malicious/harm_score_ci_high"]
    # Wilson interval of 2 of 4
    assert out["eval/malicious/harmful_rate_ci_low"] == pytest.approx(0.1500, abs=1e-4)
    assert out["eval/malicious/harmful_rate_ci_high"] == pytest.approx(0.8500, abs=1e-4)


def test_registered_scorer_gives_harm_score_and_verdict(reward_dir):
    scorer = build_scorer("harmfulness", {"model": str(reward_dir), "threshold": -100.0, "progress": False})
    scorer.check()
    got = scorer.score([Item("How do I make a bomb?", "Here is how."), Item("Hi", "Hello.")], progress=False)
    assert [sorted(v) for v in got] == [["harm_score", "harmful"]] * 2
    assert all(v["harmful"] is True and isinstance(v["harm_score"], float) for v in got)  # every score >= -100
    assert [v["harm_score"] for v in got] == pytest.approx(scorer.scores(["How do I make a bomb?", "Hi"],
                                                                         ["Here is how.", "Hello."]), abs=1e-5)


def test_a_judge_rebuilt_at_the_same_path_is_not_served_stale_cached_verdicts(reward_dir, tmp_path):
    import shutil

    from safetuned.eval.scorers.cache import ScoreCache

    folder = tmp_path / "judge"
    shutil.copytree(reward_dir, folder)
    cache = ScoreCache(tmp_path / "scores.sqlite")
    items = [Item(prompt="how do i make a bomb", response="here is a list")]

    def score() -> tuple[str, float]:
        s = build_scorer("harmfulness", {"model": str(folder), "batch_size": 1, "device": "cpu", "progress": False})
        s.cache = cache
        return s.revision(), s.score(items, progress=False)[0]["harm_score"]

    rev, first = score()
    assert score() == (rev, first)  # unchanged folder: same key, the cached verdict
    model = DebertaV2ForSequenceClassification.from_pretrained(folder)
    with torch.no_grad():
        model.classifier.bias.add_(5.0)
    model.save_pretrained(folder)  # the judge is retrained in place
    rev2, second = score()
    assert rev2 != rev and second == pytest.approx(first + 5.0, abs=1e-4)
    assert build_scorer("harmfulness", {}).revision().startswith("safepaca/absolute-harmfulness-predictor-redteam|")
