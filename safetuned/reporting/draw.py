"""Drawing of the report's figures: metric panels against a swept key, and the harmful-answer vs safe-refusal
trade-off, from the plot data of `safetuned.reporting.plots`.

Figures are built with matplotlib's object API on the Agg canvas, so no pyplot state or GUI backend is touched.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from safetuned.reporting.plots import Panel, Point


def _err(values: Sequence[float], lo: Sequence[float], hi: Sequence[float]) -> list[list[float]] | None:
    """matplotlib's asymmetric yerr from absolute bounds (missing bounds draw no bar)."""
    if not lo or not hi:
        return None
    below = [max(v - l, 0.0) if _finite(v, l) else 0.0 for v, l in zip(values, lo)]
    above = [max(h - v, 0.0) if _finite(v, h) else 0.0 for v, h in zip(values, hi)]
    return [below, above] if any(below) or any(above) else None


def _finite(*values: float) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=110, format="png")
    return path


def plot_panels(
    panels: Sequence[Panel], path: str | Path, title: str, xlabel: str, x_order: Sequence[Any],
    subtitle: str | None = None, ncols: int | None = None,
) -> Path:
    """A grid of panels sharing the x axis (numeric or categorical) and one legend; saved as PNG at `path`."""
    if not panels:
        raise ValueError("no panels to plot")
    path = Path(path)
    numeric = all(_finite(v) and not isinstance(v, bool) for v in x_order)
    pos = {repr(v): (float(v) if numeric else float(i)) for i, v in enumerate(x_order)}
    span = (max(pos.values()) - min(pos.values())) if len(pos) > 1 else 1.0
    ncols = ncols or (2 if len(panels) == 4 else min(3, len(panels)))
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(4.6 * ncols, 3.5 * nrows + 1.1), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    legend: dict[str, Any] = {}
    for ax, panel in zip(axes, panels):
        n = len(panel.series)
        for i, s in enumerate(panel.series):
            # Shift overlapping lines sideways a little so their error bars stay apart.
            shift = (i - (n - 1) / 2) * (0.012 * span if numeric else 0.08) if n > 1 else 0.0
            xs = [pos[repr(v)] + shift for v in s.x]
            handle = ax.errorbar(xs, s.y, yerr=_err(s.y, s.lo, s.hi), marker="o", markersize=4, capsize=3,
                                 linewidth=1.5, label=s.label or "_nolegend_")
            if s.label:
                legend.setdefault(s.label, handle)
        ax.set_title(panel.title, fontsize=10)
        ax.set_ylabel(panel.ylabel, fontsize=9)
        ax.set_xlabel(xlabel, fontsize=9)
        ax.grid(True, alpha=0.3)
        if not numeric:
            ax.set_xticks([pos[repr(v)] for v in x_order], [str(v) for v in x_order], fontsize=8)
        elif len(x_order) <= 12:
            ax.set_xticks([pos[repr(v)] for v in x_order], [_tick(v) for v in x_order], fontsize=8)
        if panel.rate:
            ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(title if not subtitle else f"{title}\n{subtitle}", fontsize=12)
    if legend:
        fig.legend(list(legend.values()), list(legend.keys()), loc="outside lower center",
                   ncol=min(len(legend), 4), fontsize=9, frameon=False)
    return _save(fig, path)


def _tick(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def plot_tradeoff(points: Sequence[Point], path: str | Path, title: str, xlabel: str, ylabel: str) -> Path:
    """One labelled point per job: harmful compliance (x) against safe-prompt refusal (y); lower-left is best."""
    if not points:
        raise ValueError("no points to plot")
    path = Path(path)
    fig = Figure(figsize=(8.0, 6.4), layout="constrained")
    ax = fig.subplots()
    groups = list(dict.fromkeys(p.group for p in points))
    for group in groups:
        pts = [p for p in points if p.group == group]
        xs, ys = [p.x for p in pts], [p.y for p in pts]
        xerr = _err(xs, [p.x_lo for p in pts], [p.x_hi for p in pts])
        yerr = _err(ys, [p.y_lo for p in pts], [p.y_hi for p in pts])
        bars = ax.errorbar(xs, ys, xerr=xerr, yerr=yerr, fmt="o", markersize=7, capsize=2, elinewidth=0.8,
                           label=group or "_nolegend_")
        for b in (*bars[1], *bars[2]):
            b.set_alpha(0.35)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=12)
    ax.grid(True, alpha=0.3)
    ax.margins(0.12)
    # Rates live in [0, 1]: show the ideal corner (0, 0) and don't let margins stretch the axes past 1.
    ax.set_xlim(-0.03, min(max(ax.get_xlim()[1], 0.1), 1.03))
    ax.set_ylim(-0.03, min(max(ax.get_ylim()[1], 0.1), 1.03))
    FigureCanvasAgg(fig)
    fig.draw_without_rendering()  # run the layout first, so label placement sees the final axes
    _place_labels(ax, points)
    if any(g for g in groups):
        ax.legend(fontsize=9)
    return _save(fig, path)


LABEL_OFFSETS = [(12, 10), (12, -16), (-12, 10), (-12, -16), (14, 26), (-14, -32), (14, -32), (-14, 26)]


def _place_labels(ax: Any, points: Sequence[Point]) -> None:
    """Annotate each point where its label stays inside the axes and farthest from points and labels so far."""
    scale = ax.figure.dpi / 72
    box = ax.get_window_extent()
    anchors = [tuple(ax.transData.transform((p.x, p.y))) for p in points]
    taken = list(anchors)
    for p, anchor in zip(points, anchors):
        width = 4.6 * scale * len(p.label)  # about 8 pt text
        spots = [_label_middle(anchor, off, width, scale) for off in LABEL_OFFSETS]

        def score(i: int, width: float = width, spots: list = spots) -> float:
            cx, cy = spots[i]
            inside = box.x0 <= cx - width / 2 and cx + width / 2 <= box.x1 and box.y0 <= cy <= box.y1
            return min(math.hypot(cx - tx, cy - ty) for tx, ty in taken) + (0 if inside else -1e6)

        best = max(range(len(LABEL_OFFSETS)), key=score)
        off = LABEL_OFFSETS[best]
        ax.annotate(p.label, (p.x, p.y), xytext=off, textcoords="offset points", fontsize=8, va="center",
                    ha="left" if off[0] > 0 else "right",
                    arrowprops={"arrowstyle": "-", "color": "0.45", "linewidth": 0.6, "shrinkB": 4})
        taken.append(spots[best])


def _label_middle(anchor: tuple[float, float], off: tuple[int, int], width: float, scale: float) -> tuple:
    """Display coordinates of the middle of a label placed at `off` points from `anchor`."""
    x0 = anchor[0] + scale * off[0]
    return (x0 + width / 2 if off[0] > 0 else x0 - width / 2), anchor[1] + scale * off[1]
