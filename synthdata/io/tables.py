"""Parquet tables of schema version 1 (DESIGN.md §3): schemas, row conversion, writing.

Every shard's file of a table has exactly the schema below, so the files of all shards read as one
`pyarrow.dataset` (and in DuckDB, pandas, Polars, Hugging Face `datasets`) without unification.

Typing of values that the schema does not name: clips, tracks and events rows may carry any extra
keys (scene attributes such as `sun_elevation_deg`); they are stored, key-sorted, in the JSON
string column `attributes` (merged with an `attributes` dict or JSON string the row already has).
A column's type therefore never depends on the values one shard happened to see. Object rows
must use the columns below only: an unknown key is an error (add the column here).

Categorical columns are plain strings in Arrow and dictionary-encoded in Parquet (Hugging Face
`datasets` cannot read Arrow dictionary types). Frames are 0-based; boxes are pixels, top-left
origin; world units are metres.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from synthdata.recipe.appearance import APPEARANCE_COLUMNS  # per-clip effect columns

SCHEMA_VERSION = 1
META_KEY = b"synthdata"
TABLES = ("clips", "tracks", "objects", "events")

f32, f64, i32, i64, s = pa.float32(), pa.float64(), pa.int32(), pa.int64(), pa.string()
_ARROW = {str: s, float: f64, int: i64, bool: pa.bool_()}
MASK = pa.struct([("size", pa.list_(i32)), ("counts", s)])

SCHEMAS: dict[str, pa.Schema] = {
    "clips": pa.schema([
        ("clip_id", s), ("shard", i32), ("video_member", s), ("video_offset", i64), ("video_size", i64),
        ("width", i32), ("height", i32), ("fps", f64), ("num_frames", i32), ("seed", i64), ("params", s),
        ("fx", f64), ("fy", f64), ("cx", f64), ("cy", f64), ("skew", f64), ("k1", f64), ("k2", f64),
        ("camera_model", s),
        ("R", pa.list_(f64)), ("t", pa.list_(f64)), ("cam_x", f64), ("cam_y", f64), ("cam_z", f64),
        ("camera_moves", pa.bool_()), ("indoor", pa.bool_()),
        ("layout", s), ("time_of_day", s), ("weather", s), ("scenario", s), ("tamper", s),
        *[(name, _ARROW[typ]) for name, typ in APPEARANCE_COLUMNS if name != "weather"],
        ("attributes", s),
    ]),
    "tracks": pa.schema([
        ("clip_id", s), ("track_id", i32), ("category", s), ("subtype", s), ("first_frame", i32),
        ("last_frame", i32), ("num_frames", i32), ("attributes", s),
    ]),
    "objects": pa.schema([
        ("clip_id", s), ("frame", i32), ("track_id", i32), ("category", s),
        ("x", f32), ("y", f32), ("w", f32), ("h", f32), ("ax", f32), ("ay", f32), ("aw", f32), ("ah", f32),
        ("visibility", f32), ("truncation", f32), ("depth", f32),
        ("keypoints", pa.list_(f32)), ("mask", MASK),
        ("world_x", f32), ("world_y", f32), ("world_z", f32), ("heading", f32),
        ("visible_pixels", i32), ("amodal_pixels", i32), ("action", s),
    ]),
    "events": pa.schema([
        ("clip_id", s), ("event_id", i32), ("type", s), ("track_id", i32), ("track_ids", pa.list_(i32)),
        ("zone", s), ("start_frame", i32), ("end_frame", i32), ("attributes", s),
    ]),
}

# Keys a row must carry (the writer fills clips' shard/video_* itself); others default to null.
REQUIRED: dict[str, tuple[str, ...]] = {
    "clips": ("clip_id", "width", "height", "fps", "num_frames", "seed", "params"),
    "tracks": ("clip_id", "track_id", "category", "first_frame", "last_frame"),
    "objects": ("frame", "track_id", "category"),
    "events": ("clip_id", "event_id", "type", "start_frame", "end_frame"),
}
SORT_KEYS: dict[str, tuple[str, ...]] = {
    "clips": ("clip_id",),
    "tracks": ("clip_id", "track_id"),
    "objects": ("clip_id", "frame", "track_id"),
    "events": ("clip_id", "event_id"),
}
CATEGORICAL: dict[str, list[str]] = {
    "clips": ["clip_id", "camera_model", "layout", "time_of_day", "weather"],
    "tracks": ["clip_id", "category", "subtype"],
    "objects": ["clip_id", "category", "action"],
    "events": ["clip_id", "type", "zone"],
}
ROW_GROUP_ROWS = 1 << 17


def _json_default(v: Any) -> Any:
    if hasattr(v, "tolist"):  # numpy scalars and arrays
        return v.tolist()
    raise TypeError(f"value of type {type(v).__name__} is not JSON-serialisable")


def dumps(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces) used for every JSON string column."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default)


def _attributes(row: Mapping[str, Any], known: set[str]) -> str | None:
    extra = {k: v for k, v in row.items() if k not in known}
    given = row.get("attributes")
    if isinstance(given, str):
        given = json.loads(given) if given else {}
    merged = {**(given or {}), **extra}
    return dumps(merged) if merged or given is not None else None


def check_required(name: str, present: Iterable[str], where: str) -> None:
    lacking = [k for k in REQUIRED[name] if k not in set(present)]
    if lacking:
        raise ValueError(f"{where}: {name} rows lack required keys {lacking}")


def rows_to_table(name: str, rows: list[Mapping[str, Any]], *, where: str = "") -> pa.Table:
    """clips/tracks/events rows (dicts) -> a table of SCHEMAS[name]; extra keys go to `attributes`."""
    schema = SCHEMAS[name]
    known = set(schema.names)
    for row in rows:
        check_required(name, row.keys(), where)
    cols = {}
    for field in schema:
        if field.name == "attributes":
            values = [_attributes(r, known) for r in rows]
        else:
            values = [r.get(field.name) for r in rows]
        cols[field.name] = _array(values, field, where)
    return pa.table(cols, schema=schema)


def _fix_mask(m: Any) -> Any:
    if m is None or isinstance(m.get("counts"), str):
        return m
    return {"size": [int(v) for v in m["size"]], "counts": m["counts"].decode("ascii")}


def objects_to_table(columns: Mapping[str, list], *, clip_id: str, where: str = "") -> pa.Table:
    """Object columns (name -> list of values, one entry per row) -> a table of the objects schema.

    `clip_id` fills a missing clip_id column; absent optional columns are null."""
    schema = SCHEMAS["objects"]
    unknown = sorted(set(columns) - set(schema.names))
    if unknown:
        raise ValueError(f"{where}: unknown object columns {unknown}; add them to io/tables.py SCHEMAS")
    check_required("objects", columns.keys(), where)
    lengths = {k: len(v) for k, v in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"{where}: object columns have different lengths {lengths}")
    n = next(iter(lengths.values()), 0)
    cols = {}
    for field in schema:
        values = columns.get(field.name)
        if values is None:
            values = [clip_id] * n if field.name == "clip_id" else [None] * n
        elif field.name == "mask":
            values = [_fix_mask(m) for m in values]
        cols[field.name] = _array(values, field, where)
    return pa.table(cols, schema=schema)


def _array(values: list, field: pa.Field, where: str) -> pa.Array:
    try:
        return pa.array(values, type=field.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as e:
        raise ValueError(f"{where}: column {field.name!r}: expected {field.type}: {e}") from None


def empty_table(name: str) -> pa.Table:
    return SCHEMAS[name].empty_table()


def sort_table(table: pa.Table, name: str) -> pa.Table:
    """Rows in the contract's order (SORT_KEYS[name]); stable."""
    return table.sort_by([(k, "ascending") for k in SORT_KEYS[name]])


def file_metadata(recipe_sha256: str, synthdata_version: str, name: str) -> dict[bytes, bytes]:
    """Schema metadata every Parquet file carries under the key b"synthdata"."""
    meta = {"schema_version": SCHEMA_VERSION, "recipe_sha256": recipe_sha256,
            "synthdata_version": synthdata_version, "table": name}
    return {META_KEY: dumps(meta).encode()}


def write_parquet(path: str, name: str, parts: list[pa.Table], metadata: dict[bytes, bytes]) -> int:
    """Write `parts` (each of SCHEMAS[name], already sorted) to one Parquet file; each part starts
    its own row group, so a reader can skip to one clip's rows. zstd; dictionary-encoded
    categorical columns; the same parts give the same bytes. Returns the row count."""
    import pyarrow.parquet as pq

    schema = SCHEMAS[name].with_metadata(metadata)
    rows = 0
    order = pq.SortingColumn.from_ordering(schema, [(k, "ascending") for k in SORT_KEYS[name]])
    with pq.ParquetWriter(path, schema, compression="zstd", use_dictionary=CATEGORICAL[name],
                          write_statistics=True, sorting_columns=order) as writer:
        for part in parts:
            if part.num_rows:
                writer.write_table(part.replace_schema_metadata(metadata), row_group_size=ROW_GROUP_ROWS)
                rows += part.num_rows
    return rows
