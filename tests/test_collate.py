"""Tokenize + collate, the length-grouped batch sampler, and the DataModule's per-record tokenization cache."""

from __future__ import annotations

import random
from dataclasses import dataclass

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from safetuned.data.collate import IGNORE_INDEX, Collator, LengthGroupedBatchSampler, tokenize_record
from safetuned.data.datamodule import SafetyDataModule, tokenizer_fingerprint
from safetuned.data.prompts import AlpacaStyle, PromptStyle
from safetuned.model.tiny import train_bpe_tokenizer

STYLE = AlpacaStyle()


def _records(n: int, seed: int = 0, prefix: str = "base") -> list[dict]:
    rng = random.Random(seed)
    words = ["apple", "river", "stone", "cloud", "tiger", "lamp", "garden", "pencil"]
    out = []
    for i in range(n):
        w = rng.sample(words, rng.randint(1, 8))
        out.append({"id": f"{prefix}:{i}", "instruction": f"Repeat {i}: {' '.join(w)}", "input": "",
                    "output": " ".join(w * rng.randint(1, 4))})
    return out


@pytest.fixture(scope="module")
def tok():
    texts = [STYLE.render(r["instruction"]) + r["output"] for r in _records(200)]
    texts += ["Answering questions", "Answering is fun"] * 50
    return train_bpe_tokenizer(texts, vocab_size=400)


REC = {"instruction": "Repeat: apple river", "input": "", "output": "apple river"}


def test_labels_mask_prompt_only_when_asked(tok):
    prompt_len = len(tok(STYLE.render(REC["instruction"]))["input_ids"])
    on = tokenize_record(REC, tok, STYLE, cutoff_len=256, train_on_inputs=True)
    off = tokenize_record(REC, tok, STYLE, cutoff_len=256, train_on_inputs=False)
    assert on["input_ids"] == off["input_ids"] and on["labels"] == on["input_ids"]
    assert off["labels"][:prompt_len] == [IGNORE_INDEX] * prompt_len
    assert off["labels"][prompt_len:] == off["input_ids"][prompt_len:]
    assert tok.decode(off["input_ids"][prompt_len:]) == "apple river</s>"


def test_eos_appended_and_cutoff(tok):
    full = tokenize_record(REC, tok, STYLE, cutoff_len=256, train_on_inputs=True)
    assert full["input_ids"][-1] == tok.eos_token_id
    n = len(full["input_ids"])
    no_eos = tokenize_record(REC, tok, STYLE, cutoff_len=256, train_on_inputs=True, add_eos=False)
    assert no_eos["input_ids"] == full["input_ids"][:-1]
    # exactly full without EOS: no room, so no EOS (as alpaca-lora)
    cut = tokenize_record(REC, tok, STYLE, cutoff_len=n - 1, train_on_inputs=True)
    assert cut["input_ids"] == full["input_ids"][:-1] and cut["input_ids"][-1] != tok.eos_token_id
    short = tokenize_record(REC, tok, STYLE, cutoff_len=10, train_on_inputs=False)
    assert len(short["input_ids"]) == 10 and short["labels"] == [IGNORE_INDEX] * 10


@dataclass(frozen=True)
class _GluedStyle(PromptStyle):
    """A prompt ending mid-word, so BPE merges across the prompt/response boundary."""

    name: str = "glued"

    def render(self, instruction: str, input: str = "") -> str:
        return f"{instruction} Answer"

    def to_dict(self):
        return {"name": self.name}


def test_boundary_merge_keeps_merged_token_trained(tok):
    rec = {"instruction": "Questions", "input": "", "output": "ing is fun"}
    style = _GluedStyle()
    prompt_ids = tok(style.render("Questions"))["input_ids"]
    ex = tokenize_record(rec, tok, style, cutoff_len=64, train_on_inputs=False)
    # " Answer" + "ing" became one token " Answering": the full text shares fewer tokens with the prompt
    shared = 0
    while ex["input_ids"][shared] == prompt_ids[shared]:
        shared += 1
    assert shared < len(prompt_ids)
    assert ex["labels"] == [IGNORE_INDEX] * shared + ex["input_ids"][shared:]
    assert tok.decode(ex["input_ids"][shared:]).startswith("Answering is fun")  # the merged token is trained


def test_collator_right_pads(tok):
    a = {"input_ids": [5, 6, 7], "labels": [IGNORE_INDEX, 6, 7]}
    b = {"input_ids": [8], "labels": [8]}
    batch = Collator(pad_token_id=0)([a, b])
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[IGNORE_INDEX, 6, 7], [8, IGNORE_INDEX, IGNORE_INDEX]]
    assert batch["input_ids"].dtype == torch.long
    assert Collator(0, pad_to_multiple_of=8)([a, b])["input_ids"].shape == (2, 8)


def _lengths(n=1000, seed=0):
    rng = random.Random(seed)
    return [rng.randint(5, 200) for _ in range(n)]


def test_sampler_covers_every_index_once_and_is_seeded():
    lengths = _lengths(1003)
    s = LengthGroupedBatchSampler(lengths, batch_size=8, seed=1)
    for epoch in (0, 1):
        s.set_epoch(epoch)
        batches = list(s)
        assert len(batches) == len(s) == 126
        flat = [i for b in batches for i in b]
        assert sorted(flat) == list(range(1003))
    s.set_epoch(0)
    again = LengthGroupedBatchSampler(lengths, batch_size=8, seed=1)
    assert list(again) == list(s)
    s.set_epoch(1)
    assert list(s) != list(again)
    assert list(LengthGroupedBatchSampler(lengths, 8, seed=2)) != list(again)
    dropped = list(LengthGroupedBatchSampler(lengths, 8, seed=1, drop_last=True))
    assert len(dropped) == 125 and all(len(b) == 8 for b in dropped)


def test_grouping_packs_batches_much_tighter_than_random():
    lengths = _lengths(2000)

    def nonpad(sampler):
        padded = sum(max(lengths[i] for i in b) * len(b) for b in sampler)
        return sum(lengths) / padded

    grouped = nonpad(LengthGroupedBatchSampler(lengths, 16, seed=0))
    plain = nonpad(LengthGroupedBatchSampler(lengths, 16, seed=0, group=False))
    assert grouped > 0.95 and plain < 0.65, (grouped, plain)
    spans = [max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in LengthGroupedBatchSampler(lengths, 16, 0)]
    assert sorted(spans)[len(spans) // 2] <= 10  # median spread of lengths within a batch


def test_rank_shards_are_disjoint_and_even():
    lengths = _lengths(960)  # 120 batches of 8: divisible by 3 ranks, no padding
    shards = [list(LengthGroupedBatchSampler(lengths, 8, seed=0, num_replicas=3, rank=r)) for r in range(3)]
    sets = [{i for b in s for i in b} for s in shards]
    assert all(len(s) == 40 for s in shards)
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert set().union(*sets) == set(range(960))
    # uneven: every rank still takes the same number of steps, and every index is seen
    odd = [list(LengthGroupedBatchSampler(_lengths(100), 8, seed=0, num_replicas=3, rank=r)) for r in range(3)]
    assert [len(s) for s in odd] == [5, 5, 5]
    assert {i for s in odd for b in s for i in b} == set(range(100))


def test_state_resume_yields_the_remaining_batches():
    lengths = _lengths(400)
    s = LengthGroupedBatchSampler(lengths, 8, seed=3)
    s.set_epoch(2)
    full = list(s)
    it = iter(s)
    first = [next(it) for _ in range(7)]
    state = s.state_dict()
    assert state["epoch"] == 2 and state["yielded"] == 7 and first == full[:7]
    resumed = LengthGroupedBatchSampler(lengths, 8, seed=3)
    resumed.load_state_dict(state)
    resumed.set_epoch(2)  # Lightning calls this at the start of the restored epoch
    assert list(resumed) == full[7:]
    resumed.set_epoch(3)
    s.set_epoch(3)
    assert list(resumed) == list(s)  # the next epoch is a full one again


def test_datamodule_tokenizes_once_and_shares_cache(tok, tmp_path):
    base = _records(60, seed=1)
    safety_small = _records(10, seed=2, prefix="safety_instructions")
    safety_big = safety_small + _records(30, seed=3, prefix="safety_instructions")[10:]

    def dm(train):
        return SafetyDataModule(train, base[:5], tok, STYLE, cutoff_len=64, train_on_inputs=False,
                                micro_batch_size=4, eval_batch_size=8, seed=0, cache_dir=str(tmp_path))

    first = dm(base[5:] + safety_small)
    first.setup("fit")
    assert first.cache_hits == 0
    shards = sorted(p.name for p in tmp_path.rglob("shard-*.json"))
    assert any(n.startswith("shard-base-") for n in shards) and any("safety_instructions" in n for n in shards)
    second = dm(base[5:] + safety_big)  # a sweep's next job: same base, a superset of safety examples
    second.setup("fit")
    assert second.cache_hits == len(base) + len(safety_small)
    assert second.train_data[: len(first.train_data)] == first.train_data
    direct = tokenize_record(safety_big[-1], tok, STYLE, 64, False)
    assert second.train_data[-1] == direct

    batches = list(second.train_dataloader())
    assert sum(b["input_ids"].shape[0] for b in batches) == len(second.train_data)
    assert set(batches[0]) == {"input_ids", "attention_mask", "labels"}
    val1 = [b["input_ids"].tolist() for b in second.val_dataloader()]
    val2 = [b["input_ids"].tolist() for b in second.val_dataloader()]
    assert val1 == val2 and sum(len(v) for v in val1) == 5
    stats = second.stats(prefix="data/")
    lengths = [len(e["input_ids"]) for e in second.train_data]
    assert stats["data/train_tokens"] == sum(lengths) and stats["data/train_examples"] == len(lengths)
    assert 0.5 < stats["data/nonpad_fraction"] <= 1.0


def test_cache_is_keyed_by_settings(tok, tmp_path):
    recs = _records(20)
    a = SafetyDataModule(recs, [], tok, STYLE, 64, True, 4, 4, cache_dir=str(tmp_path))
    a.setup()
    b = SafetyDataModule(recs, [], tok, STYLE, 32, True, 4, 4, cache_dir=str(tmp_path))  # other cutoff
    b.setup()
    assert b.cache_hits == 0 and max(len(e["input_ids"]) for e in b.train_data) <= 32
    other = train_bpe_tokenizer(["completely different text"] * 5, vocab_size=300)
    assert tokenizer_fingerprint(other) != tokenizer_fingerprint(tok)
    assert tokenizer_fingerprint(tok) == tokenizer_fingerprint(tok)


class _Recorder(L.LightningModule):
    """The smallest module that trains on the batches and records them."""

    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(512, 4)
        self.seen: list[tuple[int, list]] = []

    def training_step(self, batch, batch_idx):
        self.seen.append((self.current_epoch, batch["input_ids"].tolist()))
        return self.emb(batch["input_ids"]).pow(2).mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


@pytest.mark.parametrize("num_workers", [0, 2])
def test_lightning_reshuffles_epochs_and_resumes_mid_epoch(tok, tmp_path, num_workers):
    recs = _records(40)

    def dm():
        return SafetyDataModule(recs, [], tok, STYLE, 64, True, micro_batch_size=4, eval_batch_size=4, seed=0,
                                num_workers=num_workers)

    kw = {"logger": False, "enable_progress_bar": False, "enable_model_summary": False, "num_sanity_val_steps": 0,
          "limit_val_batches": 0, "accelerator": "cpu", "default_root_dir": str(tmp_path)}
    full = _Recorder()
    L.Trainer(max_epochs=2, **kw).fit(full, datamodule=dm())
    epochs = [[b for e, b in full.seen if e == k] for k in (0, 1)]
    assert len(epochs[0]) == len(epochs[1]) == 10 and epochs[0] != epochs[1]  # reshuffled per epoch

    ckpt = ModelCheckpoint(dirpath=tmp_path / "ck", every_n_train_steps=13, save_top_k=-1, filename="mid")
    part = _Recorder()
    L.Trainer(max_epochs=2, max_steps=14, callbacks=[ckpt], **kw).fit(part, datamodule=dm())
    state = torch.load(tmp_path / "ck" / "mid.ckpt", weights_only=False)["loops"]["fit_loop"]["state_dict"]
    assert state["combined_loader"] == [{"epoch": 1, "yielded": 3, "seed": 0}]
    rest = _Recorder()
    L.Trainer(max_epochs=2, **kw).fit(rest, datamodule=dm(), ckpt_path=tmp_path / "ck" / "mid.ckpt")
    assert part.seen[:13] + rest.seen == full.seen  # the resumed run continues the same order
