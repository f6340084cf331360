"""Loading records: local JSON/JSONL (the paper's exact formats), URLs fetched once into the cache, hub ids offline."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path

import pytest

from safetuned.data.sources import load_records
from safetuned.errors import DataError

PAPER = Path(__file__).parent / "fixtures" / "paper"


def test_paper_files_load_with_ids_and_sha(tmp_path):
    src = load_records(PAPER / "alpaca_small.json", cache_dir=tmp_path, tag="base")
    assert src.origin == "local" and len(src.records) == 6
    assert src.sha256 == hashlib.sha256((PAPER / "alpaca_small.json").read_bytes()).hexdigest()
    assert src.records[1] == {"id": "base:1", "instruction": "Translate the sentence into French.",
                              "input": "The cat is sleeping.", "output": "Le chat dort."}
    safety = load_records(PAPER / "safety_only_data_Instructions.json", cache_dir=tmp_path)
    assert [r["id"] for r in safety.records][:2] == ["safety_only_data_Instructions:0", "safety_only_data_Instructions:1"]
    assert safety.records[0]["output"].startswith("I'm sorry, but I cannot help")
    premixed = load_records(PAPER / "saferpaca_Instructions_300.json", cache_dir=tmp_path, limit=5)
    assert len(premixed.records) == 5 and premixed.records[4]["instruction"].startswith("Explain how to pick a lock")


def test_jsonl_and_missing_input(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text('{"instruction": "a", "output": "b"}\n\n{"instruction": "c", "input": null, "output": "d"}\n')
    recs = load_records(path, cache_dir=tmp_path).records
    assert recs == [{"id": "data:0", "instruction": "a", "input": "", "output": "b"},
                    {"id": "data:1", "instruction": "c", "input": "", "output": "d"}]


@pytest.mark.parametrize(
    ("name", "text", "pattern"),
    [
        ("bad.json", '[{"instruction": "a", "output": "b"},\n {"instruction": oops}]', r"bad.json: invalid JSON at line 2"),
        ("bad.jsonl", '{"instruction": "a", "output": "b"}\n{"instruction": "a",\n', r"bad.jsonl: invalid JSON at line 2"),
        ("nokey.json", '[{"instruction": "a", "output": "b"}, {"instruction": "x"}]', r"nokey.json: record 1 key 'output' is missing"),
        ("num.json", '[{"instruction": 3, "output": "b"}]', r"num.json: record 0 key 'instruction' is not a string \(int\)"),
        ("dict.json", '{"instructions": ["a"]}', r"dict.json: expected a JSON list"),
        ("inp.json", '[{"instruction": "a", "input": 5, "output": "b"}]', r"record 0 key 'input' is not a string"),
    ],
)
def test_malformed_files_name_file_and_place(tmp_path, name, text, pattern):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DataError, match=pattern) as e:
        load_records(path, cache_dir=tmp_path)
    assert "\n" not in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"data file not found: .*nowhere.json"):
        load_records(tmp_path / "nowhere.json", cache_dir=tmp_path)


@pytest.fixture
def server():
    """A local HTTP server over the paper fixtures that counts the requests it answers."""
    hits: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(PAPER), **kw)

        def do_GET(self):
            hits.append(self.path)
            super().do_GET()

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", hits
    httpd.shutdown()
    httpd.server_close()


def test_url_is_fetched_once_then_cached(tmp_path, server):
    base_url, hits = server
    url = f"{base_url}/alpaca_small.json"
    first = load_records(url, cache_dir=tmp_path, tag="base")
    assert hits == ["/alpaca_small.json"] and first.origin == "url" and len(first.records) == 6
    cached = list((tmp_path / "downloads").rglob("alpaca_small.json"))
    assert len(cached) == 1 and cached[0].read_bytes() == (PAPER / "alpaca_small.json").read_bytes()
    second = load_records(url, cache_dir=tmp_path, tag="base")
    assert hits == ["/alpaca_small.json"]  # no second request
    assert second.records == first.records and second.sha256 == first.sha256
    with pytest.raises(DataError, match=r"cannot download .*missing.json"):
        load_records(f"{base_url}/missing.json", cache_dir=tmp_path)
    assert not list((tmp_path / "downloads").rglob("missing.json*"))


def test_hub_id_offline_says_what_to_download(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(DataError) as e:
        load_records("nobody-here/alpaca-cleaned-xyz", cache_dir=tmp_path, tag="base")
    msg = str(e.value)
    assert "\n" not in msg
    assert "nobody-here/alpaca-cleaned-xyz" in msg and "data.base.source" in msg and "download" in msg
