"""The printed table: each figure with its baseline, the ratio, its target and PASS/MISS."""

from __future__ import annotations

from typing import Any

TARGETS = {  # figure: the minimum it must reach
    "train_tokens_per_s_ratio_vs_hf": 1.3,
    "nonpad_fraction": 0.95,
    "generation_speedup_vs_sequential": 8.0,
}


def _fmt(x: Any, digits: int = 2) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return str(x)


def table_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    """(figure, ours, baseline, ratio, target, PASS/MISS) for every figure measured."""
    rows = []

    def status(key: str, value: float | None) -> tuple[str, str]:
        if key not in TARGETS:
            return "", ""
        return f">= {TARGETS[key]}", "" if value is None else ("PASS" if value >= TARGETS[key] else "MISS")

    if "train_tokens_per_s" in r:
        ratio = r["train_tokens_per_s_ratio_vs_hf"]
        rows.append(("train tokens/s (non-pad) vs HF Trainer", _fmt(r["train_tokens_per_s"], 0),
                     _fmt(r["train_tokens_per_s_baseline"], 0), _fmt(ratio), *status("train_tokens_per_s_ratio_vs_hf",
                                                                                     ratio)))
        if "train_tokens_per_s_hf_grouped" in r:
            rows.append(("train tokens/s vs HF + group_by_length", _fmt(r["train_tokens_per_s"], 0),
                         _fmt(r["train_tokens_per_s_hf_grouped"], 0),
                         _fmt(r["train_tokens_per_s_ratio_vs_hf_grouped"]), "", ""))
        rows.append(("train batch cells/s (incl. padding)", _fmt(r["train_cells_per_s"], 0),
                     _fmt(r["train_cells_per_s_baseline"], 0),
                     _fmt(r["train_cells_per_s"] / r["train_cells_per_s_baseline"]), "", ""))
        rows.append(("non-pad fraction of training batches", _fmt(r["nonpad_fraction"], 3),
                     _fmt(r["nonpad_fraction_baseline"], 3), _fmt(r["nonpad_fraction"] / r["nonpad_fraction_baseline"]),
                     *status("nonpad_fraction", r["nonpad_fraction"])))
        rows.append(("train loop peak RSS MB", _fmt(r["train_peak_rss_mb"], 0), _fmt(r["train_peak_rss_mb_baseline"], 0),
                     _fmt(r["train_peak_rss_mb"] / r["train_peak_rss_mb_baseline"]), "", ""))
    if "generation_seconds" in r:
        rows.append(("generation s (batched vs sequential)", _fmt(r["generation_seconds"]),
                     _fmt(r["generation_seconds_baseline"]), _fmt(r["generation_speedup_vs_sequential"]),
                     *status("generation_speedup_vs_sequential", r["generation_speedup_vs_sequential"])))
        if r.get("generation_speedup_ceiling") is not None:
            rows.append(("  ceiling: sequential / batched prefill only", "", "",
                         _fmt(r["generation_speedup_ceiling"]), "", ""))
        rows.append(("generation texts identical", _fmt(r["generation_identical"]), "", "", "true",
                     "PASS" if r["generation_identical"] else "MISS"))
    if "second_job_data_prep_seconds" in r:
        rows.append(("data prep s: later sweep job vs first (cold)", _fmt(r["second_job_data_prep_seconds"]),
                     _fmt(r["first_job_data_prep_seconds"]), _fmt(r["data_prep_speedup_second_job"]), "", ""))
    if "sweep_seconds" in r:
        name = "demo sweep s (N=" if r.get("demo_sweep_seconds") is not None else "quick sweep s (N="
        rows.append((name + ",".join(map(str, r["sweep_ns"])) + ")", _fmt(r["sweep_seconds"], 1), "", "", "", ""))
    if "peak_rss_mb" in r:
        rows.append(("training job peak RSS MB", _fmt(r["peak_rss_mb"], 0), "", "", "", ""))
    return rows


def format_table(r: dict[str, Any]) -> str:
    head = ("figure", "ours", "baseline", "ratio", "target", "")
    rows = [head, *table_rows(r)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)
