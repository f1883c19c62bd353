"""Coverage of the recipe's varied parameters, read from whatever columns the clips table has.

Every scene/effect column of the clips table (and every scalar key of its JSON `attributes`
column) is one parameter; camera height, tilt and horizontal field of view are derived from the
stored extrinsics/intrinsics. A parameter with one value over all clips is listed as fixed; a
varied one is a bar chart (strings, flags and integers with few values) or a histogram (numbers).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from synthdata.report.tables import Histogram, columns, histogram, rows, uniform_edges

# clips columns that identify or locate a clip, or duplicate a derived parameter: not coverage
SKIP = {"clip_id", "shard", "video_member", "video_offset", "video_size", "seed", "params", "R", "t",
        "fx", "fy", "cx", "cy", "skew", "cam_z", "attributes", "effects_seed", "overlay_start", "camera_name"}
SKIP_SUFFIXES = ("_seed", "_id")


def _byte_range(name: str, names: set[str]) -> bool:
    """`X_offset` / `X_size` pairs locate bytes inside shard files (videos, dense maps)."""
    base = name.removesuffix("_offset").removesuffix("_size")
    return base != name and {f"{base}_offset", f"{base}_size"} <= names
# parameters derived in SQL: name -> (expression, title)
DERIVED = {
    "camera_height_m": ("cam_z", "camera height (m)"),
    "camera_tilt_deg": ("degrees(asin(-R[9]))", "camera tilt below horizontal (deg)"),
    "camera_hfov_deg": ("CASE WHEN camera_model = 'fisheye' THEN degrees(width / fx) "
                        "ELSE 2 * degrees(atan(width / (2 * fx))) END", "horizontal field of view (deg)"),
}
FIRST = ("time_of_day", "weather", "layout", "indoor", "camera_height_m", "camera_tilt_deg", "camera_hfov_deg",
         "camera_model", "nir", "video_crf", "scenario", "tamper", "sensor_gain", "ptz", "camera_moves")
MAX_LEVELS = 12     # a string/integer parameter with more distinct values shows its top levels
FLOATS = ("DOUBLE", "FLOAT", "REAL", "DECIMAL")
INTEGERS = ("INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "UINTEGER", "UBIGINT", "USMALLINT", "UTINYINT")
SAFE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Parameter:
    """One clip parameter: `levels` (value -> clips) for bar charts, `hist` for numbers."""

    name: str
    title: str
    distinct: int
    levels: dict[str, int] | None = None
    hist: Histogram | None = None
    value: str | None = None        # the single value of a fixed parameter

    @property
    def varied(self) -> bool:
        return self.distinct > 1

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"title": self.title, "distinct": self.distinct}
        if self.value is not None:
            out["value"] = self.value
        if self.levels is not None:
            out["levels"] = self.levels
        if self.hist is not None:
            out["histogram"] = self.hist.to_json()
        return out


def _kind(typ: str) -> str:
    base = typ.split("(")[0]
    return "float" if base in FLOATS else "int" if base in INTEGERS else "text"


def _expressions(con: Any) -> dict[str, tuple[str, str, str]]:
    """name -> (SQL expression over clips, title, kind: float | int | text)."""
    cols = columns(con, "clips")
    out: dict[str, tuple[str, str, str]] = {}
    have = set(cols)
    for name, (expr, title) in DERIVED.items():
        needed = {"cam_z"} if name == "camera_height_m" else ({"R"} if "tilt" in name else {"fx", "width"})
        if needed <= have:
            out[name] = (expr, title, "float")
    for name, typ in cols.items():
        if (name in SKIP or name in out or name.endswith(SKIP_SUFFIXES) or _byte_range(name, have)
                or typ.endswith("[]") or typ.startswith("STRUCT")):
            continue
        out[name] = (f'"{name}"', name.replace("_", " "), _kind(typ))
    if "attributes" in cols:
        keys = rows(con, "SELECT DISTINCT unnest(json_keys(attributes)) AS k FROM clips "
                         "WHERE attributes IS NOT NULL AND json_type(attributes) = 'OBJECT' ORDER BY k")
        for (key,) in keys:
            if not SAFE_KEY.fullmatch(key) or key in out:
                continue
            raw = f"json_extract_string(attributes, '$.{key}')"
            numeric = rows(con, f"SELECT count({raw}) = count(TRY_CAST({raw} AS DOUBLE)) FROM clips")[0][0]
            out[key] = (f"TRY_CAST({raw} AS DOUBLE)" if numeric else raw, key.replace("_", " "),
                        "float" if numeric else "text")
    return out


def coverage(con: Any) -> list[Parameter]:
    """Every clip parameter that has a value, the named FIRST ones first, then by name."""
    exprs = _expressions(con)
    order = [n for n in FIRST if n in exprs] + sorted(n for n in exprs if n not in FIRST)
    if not order:
        return []
    distinct = rows(con, "SELECT " + ", ".join(f"count(DISTINCT {exprs[n][0]})" for n in order) + " FROM clips")[0]
    out = []
    for name, n in zip(order, distinct):
        expr, title, kind = exprs[name]
        p = Parameter(name, title, int(n))
        if n == 0:      # null in every clip
            continue
        if n == 1:
            v = rows(con, f"SELECT any_value({expr})::VARCHAR FROM clips")[0][0]
            p.value = "null" if v is None else v
        elif kind == "float" or (kind == "int" and n > MAX_LEVELS):
            lo, hi = rows(con, f"SELECT min({expr})::DOUBLE, max({expr})::DOUBLE FROM clips")[0]
            p.hist = histogram(con, Histogram(name, title, "", uniform_edges(lo, hi), False), "clips", expr)
        else:
            levels = rows(con, f"SELECT coalesce({expr}::VARCHAR, 'null') AS v, count(*) AS n FROM clips "
                               f"GROUP BY 1 ORDER BY n DESC, v LIMIT {MAX_LEVELS}")
            p.levels = {str(v): int(c) for v, c in levels}
            if kind == "int":  # integer levels in value order (CRF 18, 23, 28), not by count
                p.levels = dict(sorted(p.levels.items(), key=lambda kv: _number(kv[0])))
        out.append(p)
    return out


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("inf")
