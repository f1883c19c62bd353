"""Parquet tables (DESIGN.md §3): rows -> Arrow tables of the contract (io/contract.py), writing.

Every shard's file of a table has exactly its contract's schema, so the files of all shards read as one
`pyarrow.dataset` (and in DuckDB, pandas, Polars, Hugging Face `datasets`) without unification.

Typing of values that the schema does not name: clips, tracks and events rows may carry any extra
keys (scene attributes such as `sun_elevation_deg`); they are stored, key-sorted, in the JSON
string column `attributes` (merged with an `attributes` dict or JSON string the row already has).
A column's type therefore never depends on the values one shard happened to see. Object rows
must use the contract's columns only: an unknown key is an error (add the column there).

Categorical columns are plain strings in Arrow and dictionary-encoded in Parquet (Hugging Face
`datasets` cannot read Arrow dictionary types). Frames are 0-based; boxes are pixels, top-left
origin; world units are metres.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from synthdata.io.contract import CONTRACT, dumps

ROW_GROUP_ROWS = 1 << 17


def _attributes(row: Mapping[str, Any], known: set[str]) -> str | None:
    extra = {k: v for k, v in row.items() if k not in known}
    given = row.get("attributes")
    if isinstance(given, str):
        given = json.loads(given) if given else {}
    merged = {**(given or {}), **extra}
    return dumps(merged) if merged or given is not None else None


def check_required(name: str, present: Iterable[str], where: str) -> None:
    lacking = [k for k in CONTRACT[name].required if k not in set(present)]
    if lacking:
        raise ValueError(f"{where}: {name} rows lack required keys {lacking}")


def rows_to_table(name: str, rows: list[Mapping[str, Any]], *, where: str = "") -> pa.Table:
    """clips/tracks/events rows (dicts) -> a table of the contract; extra keys go to `attributes`."""
    schema = CONTRACT[name].schema
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


def objects_to_table(columns: Mapping[str, list], *, clip_id: str, camera: str | None = None,
                     where: str = "") -> pa.Table:
    """Object columns (name -> list of values, one entry per row) -> a table of the objects schema.

    `clip_id` and `camera` fill missing clip_id and camera columns; absent optional columns are
    null; no columns at all is a chunk without rows."""
    schema = CONTRACT["objects"].schema
    if not columns:
        return schema.empty_table()
    unknown = sorted(set(columns) - set(schema.names))
    if unknown:
        raise ValueError(f"{where}: unknown object columns {unknown}; add them to io/contract.py")
    check_required("objects", columns.keys(), where)
    lengths = {k: len(v) for k, v in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"{where}: object columns have different lengths {lengths}")
    n = next(iter(lengths.values()), 0)
    cols = {}
    for field in schema:
        values = columns.get(field.name)
        if values is None:
            values = [{"clip_id": clip_id, "camera": camera}.get(field.name)] * n
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
    return CONTRACT[name].schema.empty_table()


def sort_table(table: pa.Table, name: str) -> pa.Table:
    """Rows in the contract's order (its sort keys); stable."""
    return table.sort_by([(k, "ascending") for k in CONTRACT[name].sort_keys])


def write_parquet(path: str, name: str, parts: list[pa.Table], metadata: dict[bytes, bytes]) -> int:
    """Write `parts` (each of the table's contract schema, already sorted) to one Parquet file; each part starts
    its own row group, so a reader can skip to one clip's rows. zstd; dictionary-encoded
    categorical columns; the same parts give the same bytes. Returns the row count."""
    import pyarrow.parquet as pq

    table = CONTRACT[name]
    schema = table.schema.with_metadata(metadata)
    rows = 0
    order = pq.SortingColumn.from_ordering(schema, [(k, "ascending") for k in table.sort_keys])
    with pq.ParquetWriter(path, schema, compression="zstd", use_dictionary=table.categorical,
                          write_statistics=True, sorting_columns=order) as writer:
        for part in parts:
            if part.num_rows:
                writer.write_table(part.replace_schema_metadata(metadata), row_group_size=ROW_GROUP_ROWS)
                rows += part.num_rows
    return rows
