"""The printed table: each figure with its baseline, the ratio (median, and its range over rounds), target, PASS/MISS."""

from __future__ import annotations

from typing import Any

TARGETS = {  # figure: the minimum it must reach
    "train_tokens_per_s_ratio_vs_hf_grouped": 1.3,
    "train_tokens_per_s_ratio_vs_hf": 1.3,
    "nonpad_fraction": 0.95,
    "generation_speedup_vs_hf_generate": 2.0,
    "generation_speedup_vs_sequential": 8.0,
}
Row = tuple[str, str, str, str, str, str, str]


def _fmt(x: Any, digits: int = 2) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return str(x)


def spread(rounds: list[float] | None, digits: int = 2) -> str:
    """`min-max (n)` of a figure's rounds."""
    if not rounds:
        return ""
    return f"{min(rounds):.{digits}f}-{max(rounds):.{digits}f} ({len(rounds)})"


def _status(key: str, value: float | None) -> tuple[str, str]:
    if key not in TARGETS:
        return "", ""
    return f">= {TARGETS[key]}", "" if value is None else ("PASS" if value >= TARGETS[key] else "MISS")


def _train_rows(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    if "train_tokens_per_s_ratio_vs_hf_grouped" in r:
        key = "train_tokens_per_s_ratio_vs_hf_grouped"
        rows.append(("train tokens/s vs HF Trainer + group_by_length", _fmt(r["train_tokens_per_s"], 0),
                     _fmt(r["train_tokens_per_s_hf_grouped"], 0), _fmt(r[key]), spread(r.get(f"{key}_rounds")),
                     *_status(key, r[key])))
    if "train_tokens_per_s_ratio_vs_hf" in r:
        key = "train_tokens_per_s_ratio_vs_hf"
        rows.append(("train tokens/s vs HF Trainer, alpaca-lora set-up", _fmt(r["train_tokens_per_s"], 0),
                     _fmt(r["train_tokens_per_s_baseline"], 0), _fmt(r[key]), spread(r.get("train_ratio_per_round")),
                     *_status(key, r[key])))
        rows.append(("train batch cells/s (incl. padding) vs alpaca-lora", _fmt(r["train_cells_per_s"], 0),
                     _fmt(r["train_cells_per_s_baseline"], 0),
                     _fmt(r["train_cells_per_s"] / r["train_cells_per_s_baseline"]), "", "", ""))
    rows.append(("non-pad fraction of training batches", _fmt(r["nonpad_fraction"], 3),
                 _fmt(r.get("nonpad_fraction_baseline"), 3), "", "", *_status("nonpad_fraction", r["nonpad_fraction"])))
    if "train_peak_rss_mb_baseline" in r:
        rows.append(("train loop peak RSS MB", _fmt(r["train_peak_rss_mb"], 0), _fmt(r["train_peak_rss_mb_baseline"], 0),
                     _fmt(r["train_peak_rss_mb"] / r["train_peak_rss_mb_baseline"]), "", "", ""))
    for dtype in ("fp32", "bf16"):
        key = f"train_flops_fraction_of_peak_{dtype}"
        if key in r:
            gflops = r["train_flops_per_s"] if dtype == "fp32" else r["train_levers"]["ours+bf16"]["flops_per_s"]
            rows.append((f"train GFLOP/s vs measured {dtype} matmul peak", _fmt(gflops / 1e9, 1),
                         _fmt(r[f"peak_matmul_gflops_{dtype}"], 1), _fmt(r[key], 3), spread(r.get(f"{key}_rounds"), 3),
                         "", ""))
    for impl, lever in (r.get("train_levers") or {}).items():
        rows.append((f"  lever {impl}: tokens/s vs ours", _fmt(lever["tokens_per_s"], 0),
                     _fmt(r["train_tokens_per_s"], 0), _fmt(lever.get("ratio_vs_ours")),
                     spread(lever.get("ratio_vs_ours_rounds")), "", ""))
        if "ratio_vs_hf_grouped_same_levers" in lever:
            rows.append((f"  lever {impl}: vs HF grouped with the same lever", "", "",
                         _fmt(lever["ratio_vs_hf_grouped_same_levers"]),
                         spread(lever.get("ratio_vs_hf_grouped_same_levers_rounds")), "", ""))
    return rows


def _generation_rows(r: dict[str, Any]) -> list[Row]:
    g = r.get("generation") or {}
    rows: list[Row] = []
    if "generation_speedup_vs_hf_generate" in r:
        key = "generation_speedup_vs_hf_generate"
        rows.append(("generation s vs model.generate, same batches", _fmt(r["generation_seconds"]),
                     _fmt(r["generation_seconds_hf_generate"]), _fmt(r[key]), spread(r.get(f"{key}_rounds")),
                     *_status(key, r[key])))
    key = "generation_speedup_vs_sequential"
    seq_rounds = [s / b for s, b in zip(g.get("sequential_s", []), g.get("batched_s", []))]
    rows.append(("generation s vs one prompt at a time", _fmt(r["generation_seconds"]),
                 _fmt(r["generation_seconds_baseline"]), _fmt(r[key]), spread(seq_rounds), *_status(key, r[key])))
    if r.get("generation_speedup_ceiling") is not None:
        rows.append(("  ceiling: sequential / batched prefill only", "", "", _fmt(r["generation_speedup_ceiling"]),
                     "", "", ""))
    for lever, x in (r.get("generation_levers") or {}).items():
        rows.append((f"  lever {lever}: generation s vs ours", _fmt(x["seconds"]), _fmt(r["generation_seconds"]),
                     _fmt(x["speedup_vs_ours"]), spread(x.get("speedup_vs_ours_rounds")), "", ""))
        rows.append((f"  lever {lever}: vs model.generate", "", "", _fmt(x["speedup_vs_hf_generate"]),
                     spread(x.get("speedup_vs_hf_generate_rounds")), "", ""))
    rows.append(("generation texts identical (all ways)", _fmt(r["generation_identical"]), "", "", "", "true",
                 "PASS" if r["generation_identical"] else "MISS"))
    return rows


def table_rows(r: dict[str, Any]) -> list[Row]:
    """(figure, ours, baseline, ratio, rounds, target, PASS/MISS) for every figure measured."""
    rows: list[Row] = []
    if "train_tokens_per_s" in r:
        rows += _train_rows(r)
    if "generation_seconds" in r:
        rows += _generation_rows(r)
    if "second_job_data_prep_seconds" in r:
        rows.append(("data prep s: later sweep job vs first (cold)", _fmt(r["second_job_data_prep_seconds"]),
                     _fmt(r["first_job_data_prep_seconds"]), _fmt(r["data_prep_speedup_second_job"]), "", "", ""))
    if "sweep_seconds" in r:
        name = "demo sweep s (N=" if r.get("demo_sweep_seconds") is not None else "quick sweep s (N="
        rows.append((name + ",".join(map(str, r["sweep_ns"])) + ")", _fmt(r["sweep_seconds"], 1), "", "", "", "", ""))
    if "peak_rss_mb" in r:
        rows.append(("training job peak RSS MB", _fmt(r["peak_rss_mb"], 0), "", "", "", "", ""))
    return rows


def format_table(r: dict[str, Any]) -> str:
    head = ("figure", "ours", "baseline", "ratio", "rounds min-max (n)", "target", "")
    rows = [head, *table_rows(r)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)
