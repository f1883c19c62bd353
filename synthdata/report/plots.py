"""matplotlib (Agg) figures of the report, returned as inline SVG text.

Text stays text in the SVG (smaller, selectable); ids are salted so the same data gives the same
bytes.
"""
from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

from synthdata.report.coverage import Parameter
from synthdata.report.stats import EventSpan
from synthdata.report.tables import Histogram

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
          "#17becf"]
STYLE = {"svg.fonttype": "none", "svg.hashsalt": "synthdata-report", "font.size": 9, "axes.spines.top": False,
         "axes.spines.right": False, "axes.titlesize": 10, "axes.titleweight": "bold"}


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def to_svg(fig: Any) -> str:
    """The figure as an <svg> element (no XML prolog), then closed."""
    plt = _plt()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _style(fn):  # run a plotting function under the report's rc style
    def wrapped(*a: Any, **kw: Any) -> str:
        with _plt().rc_context(STYLE):
            return fn(*a, **kw)
    wrapped.__doc__ = fn.__doc__
    return wrapped


@_style
def bars(title: str, values: dict[str, int] | dict[str, Sequence[int]], *, series: Sequence[str] = ("",),
         ylabel: str = "count", horizontal: bool = False) -> str:
    """Bars per key; with several `series`, each value is a sequence (one per series), grouped."""
    plt = _plt()
    keys = list(values)
    h = max(2.2, 0.28 * len(keys) + 0.8) if horizontal else 2.8
    fig, ax = plt.subplots(figsize=(6.4, h))
    longest = max((len(str(k)) for k in keys), default=1)
    if horizontal:
        fig.subplots_adjust(left=min(0.45, 0.06 + 0.011 * longest), right=0.97, top=1 - 0.35 / h, bottom=0.55 / h)
    else:
        fig.subplots_adjust(left=0.1, right=0.98, top=0.9, bottom=0.34 if len(keys) > 6 else 0.16)
    n = len(series)
    width = 0.8 / n
    for j, name in enumerate(series):
        ys = [(v[j] if n > 1 else v) for v in values.values()]  # type: ignore[index]
        pos = [i + (j - (n - 1) / 2) * width for i in range(len(keys))]
        (ax.barh if horizontal else ax.bar)(pos, ys, width, label=name or None, color=COLORS[j % len(COLORS)])
    from matplotlib.ticker import MaxNLocator

    (ax.xaxis if horizontal else ax.yaxis).set_major_locator(MaxNLocator(integer=True))
    if horizontal:
        ax.set_yticks(range(len(keys)), keys)
        ax.invert_yaxis()
        ax.set_xlabel(ylabel)
    else:
        ax.set_xticks(range(len(keys)), keys, rotation=30 if len(keys) > 6 else 0, ha="right" if len(keys) > 6 else "center")
        ax.set_ylabel(ylabel)
    ax.set_title(title)
    if n > 1:
        ax.legend(frameon=False)
    return to_svg(fig)


@_style
def histogram(hist: Histogram, *, ylabel: str = "count", log: bool = False) -> str:
    """Stacked bars, one colour per series (category), one bar per bin."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 2.8))
    fig.subplots_adjust(left=0.1, right=0.98, top=0.9, bottom=0.3)
    bottom = [0] * hist.num_bins
    for j, (name, counts) in enumerate(hist.counts.items()):
        ax.bar(range(hist.num_bins), counts, 0.85, bottom=bottom, label=name, color=COLORS[j % len(COLORS)])
        bottom = [a + b for a, b in zip(bottom, counts)]
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    labels = hist.labels
    rotate = hist.num_bins > 8 or max((len(s) for s in labels), default=0) > 7
    ax.set_xticks(range(hist.num_bins), labels, rotation=45 if rotate else 0, ha="right" if rotate else "center")
    ax.set_xlabel(hist.unit)
    ax.set_ylabel(ylabel)
    if log and max(bottom, default=0) > 0:
        ax.set_yscale("symlog", linthresh=1)
    ax.set_title(hist.title)
    if len(hist.counts) > 1:
        ax.legend(frameon=False, fontsize=8)
    return to_svg(fig)


@_style
def timeline(clips: list[tuple[str, int]], spans: list[EventSpan]) -> str:
    """One row per clip (0..num_frames), one coloured bar per event over its frames."""
    plt = _plt()
    types = sorted({s.type for s in spans})
    color = {t: COLORS[i % len(COLORS)] for i, t in enumerate(types)}
    row = {c: i for i, (c, _) in enumerate(clips)}
    h = 1.0 + 0.32 * len(clips)
    fig, ax = plt.subplots(figsize=(7.5, h))
    longest = max((len(c) for c, _ in clips), default=1)
    fig.subplots_adjust(left=min(0.4, 0.04 + 0.0095 * longest), right=0.8, top=1 - 0.3 / h, bottom=0.5 / h)
    for c, nf in clips:
        ax.broken_barh([(0, nf)], (row[c] - 0.4, 0.8), facecolors="#eeeeee")
    lanes: dict[str, int] = {}
    for s in spans:
        if s.clip_id not in row:
            continue
        k = lanes[s.clip_id] = lanes.get(s.clip_id, -1) + 1
        y = row[s.clip_id] - 0.35 + 0.7 * ((k % 3) / 3)
        ax.broken_barh([(s.start_frame, max(s.end_frame - s.start_frame + 1, 1))], (y, 0.7 / 3),
                       facecolors=color[s.type])
    ax.set_yticks(range(len(clips)), [c for c, _ in clips])
    ax.invert_yaxis()
    ax.set_xlabel("frame")
    ax.set_title("Events per clip")
    handles = [plt.Rectangle((0, 0), 1, 1, color=color[t]) for t in types]
    ax.legend(handles, types, frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return to_svg(fig)


@_style
def coverage_grid(params: list[Parameter], cols: int = 3) -> str:
    """Small multiples: one panel per varied parameter (bars of levels or a histogram)."""
    from matplotlib.ticker import MaxNLocator

    plt = _plt()
    rows_ = math.ceil(len(params) / cols)
    fig, axes = plt.subplots(rows_, cols, figsize=(3.3 * cols, 2.4 * rows_), squeeze=False)
    fig.subplots_adjust(left=0.06, right=0.99, top=1 - 0.3 / (2.4 * rows_), bottom=0.7 / (2.4 * rows_),
                        hspace=0.75, wspace=0.3)
    for ax, p in zip(axes.flat, params):
        if p.levels is not None:
            keys = list(p.levels)
            ax.bar(range(len(keys)), list(p.levels.values()), 0.8, color=COLORS[0])
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xticks(range(len(keys)), [k[:14] for k in keys], rotation=35 if len(keys) > 3 else 0,
                          ha="right" if len(keys) > 3 else "center", fontsize=7)
        elif p.hist is not None:
            e = p.hist.edges
            ax.stairs(p.hist.total(), e, fill=True, color=COLORS[0])
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlim(e[0], e[-1])
            ax.tick_params(axis="x", labelsize=7)
        ax.set_title(p.title, fontsize=9)
        ax.set_ylabel("clips", fontsize=8)
    for ax in list(axes.flat)[len(params):]:
        ax.axis("off")
    return to_svg(fig)
