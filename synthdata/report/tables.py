"""DuckDB over a dataset's tables: one connection with `clips`, `tracks`, `objects` and `events`
read from the pyarrow datasets of `io.reader` (local folders and fsspec URLs alike), each
Parquet column needed read once.

Histograms are computed in SQL: `bin_case` turns bin edges into one CASE expression, so every
aggregation is a GROUP BY, never a Python loop over rows.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from synthdata.io.contract import CONTRACT, TABLES
from synthdata.io.reader import Dataset


# What is read (once, by pyarrow, with its threads) and handed to DuckDB without a copy: every
# column but the clips' `params` JSON, and of the objects only the columns the report
# aggregates (not keypoints, masks or world positions).
OBJECT_COLUMNS = [c for c in CONTRACT["objects"].names
                  if c in ("clip_id", "camera", "frame", "track_id", "category", "x", "y", "w", "h", "visibility",
                           "truncation", "depth")]
SKIP_COLUMNS = {"params"}


def connect(ds: Dataset, *, threads: int | None = None) -> Any:
    """A DuckDB connection with the dataset's tables (the columns above) under their names."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    for name in TABLES:
        table = ds.table(name)
        cols = [c for c in (OBJECT_COLUMNS if name == "objects" else table.schema.names)
                if c in table.schema.names and c not in SKIP_COLUMNS]
        con.register(name, table.to_table(columns=cols, use_threads=True))
    return con


def rows(con: Any, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    return con.execute(sql, list(params)).fetchall()


def scalar(con: Any, sql: str, params: Sequence[Any] = ()) -> Any:
    return con.execute(sql, list(params)).fetchone()[0]


def columns(con: Any, table: str) -> dict[str, str]:
    """Column name -> DuckDB type name of a registered table."""
    return {r[0]: str(r[1]) for r in rows(con, f"DESCRIBE SELECT * FROM {table}")}


@dataclass
class Histogram:
    """Counts of values in bins [edges[i], edges[i+1]); with `open_ended` the last bin is
    [edges[-1], inf), otherwise values >= edges[-1] fall in the last bin (so 1.0 counts in 0.9-1).
    `counts` maps a series (a category, or "all") to one count per bin."""

    name: str
    title: str
    unit: str
    edges: list[float]
    open_ended: bool
    counts: dict[str, list[int]] = field(default_factory=dict)
    integer: bool = False     # integer values: bin [4, 5) reads "4", [4, 6) reads "4-5"

    @property
    def num_bins(self) -> int:
        return len(self.edges) if self.open_ended else len(self.edges) - 1

    @property
    def labels(self) -> list[str]:
        e = [_fmt(v) for v in self.edges]
        if self.integer:
            ints = [int(v) for v in self.edges]
            out = [f"{a}" if b - a == 1 else f"{a}-{b - 1}" for a, b in zip(ints[:-1], ints[1:])]
            return out + [f"{ints[-1]}+"] if self.open_ended else out
        out = [f"{a}-{b}" for a, b in zip(e[:-1], e[1:])]
        return out + [f"{e[-1]}+"] if self.open_ended else out

    def total(self) -> list[int]:
        sums = [0] * self.num_bins
        for series in self.counts.values():
            sums = [a + b for a, b in zip(sums, series)]
        return sums

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "unit": self.unit, "edges": self.edges, "open_ended": self.open_ended,
                "labels": self.labels, "counts": self.counts, "total": self.total()}


def _fmt(v: float) -> str:
    return f"{v:g}"


def bin_case(expr: str, edges: Sequence[float], open_ended: bool) -> str:
    """SQL giving the 0-based bin index of `expr` (see Histogram); values below edges[0] go
    to bin 0."""
    inner = list(edges[1:]) if open_ended else list(edges[1:-1])
    if not inner:
        return "0"
    whens = " ".join(f"WHEN {expr} < {float(e)!r} THEN {i}" for i, e in enumerate(inner))
    return f"CASE {whens} ELSE {len(inner)} END"


def histogram(con: Any, hist: Histogram, source: str, expr: str, *, series: str | None = None,
              where: str = "TRUE") -> Histogram:
    """Fill `hist` with the counts of `expr` over `source` rows matching `where`, one series per
    value of the SQL expression `series` (or one series "all")."""
    key = series or "'all'"
    result = rows(con, f"SELECT {key} AS s, {bin_case(expr, hist.edges, hist.open_ended)} AS b, count(*) "
                       f"FROM {source} WHERE ({where}) AND {expr} IS NOT NULL AND NOT isnan({expr}::DOUBLE) "
                       f"GROUP BY ALL ORDER BY 1, 2")
    for s, b, n in result:
        hist.counts.setdefault(str(s), [0] * hist.num_bins)[int(b)] += int(n)
    return hist


def integer_edges(top: float, max_bins: int = 24) -> list[float]:
    """Edges of integer bins covering 0..top: width 1 while that gives at most `max_bins` bins,
    otherwise a round width (1, 2, 5 x 10^k); the last bin is open-ended from the last edge."""
    top = max(int(math.ceil(top)), 1)
    width = 1
    for scale in (1, 10, 100, 1000, 10000, 100000, 1000000):
        for w in (1, 2, 5):
            width = w * scale
            if top // width + 1 <= max_bins:
                return [float(width * i) for i in range(top // width + 1)]
    return [float(width * i) for i in range(top // width + 1)]


def uniform_edges(lo: float, hi: float, bins: int = 12) -> list[float]:
    """`bins` equal bins over [lo, hi] (closed at hi); a degenerate range gets one bin."""
    if not hi > lo:
        return [float(lo), float(lo) + 1.0]
    step = (hi - lo) / bins
    return [float(lo + step * i) for i in range(bins)] + [float(hi)]
