"""Attack demonstrations: AdvBench CSV, JSON/JSONL pairs, hub ids, and the seeded nested sample."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from safetuned.data.attack_data import load_attack_data, read_advbench_csv, sample_attack
from safetuned.errors import DataError

FIXTURES = Path(__file__).parent / "fixtures" / "attack"
CSV = FIXTURES / "harmful_behaviors.csv"
PAIRS = FIXTURES / "pairs.jsonl"


def test_advbench_csv_maps_goal_and_target(tmp_path):
    loaded = load_attack_data(CSV, cache_dir=tmp_path)
    assert len(loaded.records) == 8
    assert loaded.origin == "local" and loaded.sha256 == hashlib.sha256(CSV.read_bytes()).hexdigest()
    first, fifth = loaded.records[0], loaded.records[4]
    assert first == {"id": "attack:0", "instruction": "Write a sarcastic review of a neighbour's garden gnome",
                     "input": "", "output": "Sure, here is a sarcastic review of a neighbour's garden gnome"}
    # A quoted goal with a comma stays one field.
    assert fifth["instruction"] == "Compose a rude limerick about a cat, for a friend's birthday card"
    assert [r["id"] for r in loaded.records] == [f"attack:{i}" for i in range(8)]
    assert len(load_attack_data(CSV, cache_dir=tmp_path, limit=3).records) == 3


def test_jailbreakbench_style_columns_match_case_insensitively(tmp_path):
    path = tmp_path / "behaviors.csv"
    path.write_text("Index,Goal,Target,Behavior,Category\n1,Do a thing,\"Sure, here is a thing\",thing,misc\n",
                    encoding="utf-8")
    (rec,) = read_advbench_csv(path).records
    assert (rec["instruction"], rec["output"]) == ("Do a thing", "Sure, here is a thing")


def test_csv_missing_columns_are_named(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("goal,response\nDo a thing,Sure\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"lacks CSV column\(s\) target \(AdvBench format: goal,target\)") as e:
        load_attack_data(path, cache_dir=tmp_path)
    assert "\n" not in str(e.value)
    path.write_text("prompt\nDo a thing\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"column\(s\) goal, target"):
        read_advbench_csv(path)


def test_csv_empty_field_and_missing_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("goal,target\nDo a thing,Sure\n  ,Sure\n", encoding="utf-8")
    with pytest.raises(DataError, match="data row 2 has an empty goal"):
        read_advbench_csv(path)
    with pytest.raises(DataError, match="attack data file not found"):
        load_attack_data(tmp_path / "nope.csv", cache_dir=tmp_path)


def test_jsonl_pairs_with_and_without_input(tmp_path):
    loaded = load_attack_data(PAIRS, cache_dir=tmp_path)
    assert len(loaded.records) == 5
    assert loaded.records[0]["input"] == "" and loaded.records[0]["id"] == "attack:0"
    assert loaded.records[2]["input"].startswith("The meeting was moved")
    assert loaded.records[1]["output"].startswith("Sorry I'm late")


def test_json_list_and_missing_key_named(tmp_path):
    path = tmp_path / "pairs.json"
    path.write_text(json.dumps([{"instruction": "a", "output": "b"}, {"instruction": "c"}]), encoding="utf-8")
    with pytest.raises(DataError, match="record 1 key 'output' is missing"):
        load_attack_data(path, cache_dir=tmp_path)
    path.write_text(json.dumps([{"instruction": "a", "output": "b"}]), encoding="utf-8")
    assert load_attack_data(path, cache_dir=tmp_path).records == [
        {"id": "attack:0", "instruction": "a", "input": "", "output": "b"}]


def test_hub_id_offline_is_one_line_naming_it(tmp_path, monkeypatch):
    import datasets

    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'someone/harmful-pairs' on the Hub (LocalEntryNotFoundError)\nmore")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DataError) as e:
        load_attack_data("someone/harmful-pairs", cache_dir=tmp_path)
    msg = str(e.value)
    assert "\n" not in msg and "'someone/harmful-pairs'" in msg and "huggingface-cli download" in msg


def test_hub_rows_are_validated(tmp_path, monkeypatch):
    import datasets

    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: [{"instruction": "x", "output": "y", "extra": 1}])
    loaded = load_attack_data("someone/pairs", cache_dir=tmp_path)
    assert loaded.origin == "hub" and loaded.records == [{"id": "attack:0", "instruction": "x", "input": "",
                                                           "output": "y"}]


def test_sample_is_seeded_nested_and_bounded(tmp_path):
    pool = load_attack_data(CSV, cache_dir=tmp_path).records
    five = sample_attack(pool, 5, seed=1)
    assert five == sample_attack(pool, 5, seed=1)
    assert len({r["id"] for r in five}) == 5
    assert sample_attack(pool, 3, seed=1) == five[:3]
    assert [r["id"] for r in sample_attack(pool, 8, seed=1)] != [r["id"] for r in sample_attack(pool, 8, seed=2)]
    assert sorted(r["id"] for r in sample_attack(pool, 8, seed=2)) == sorted(r["id"] for r in pool)
    assert sample_attack(pool, 0, seed=1) == []
    with pytest.raises(DataError, match=r"attack n=9 is larger than the pool of 8 demonstrations: allowed 0\.\.8"):
        sample_attack(pool, 9, seed=1)
    with pytest.raises(DataError, match="non-negative integer"):
        sample_attack(pool, -1, seed=1)
