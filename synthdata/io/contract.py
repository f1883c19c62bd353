"""The table contract (DESIGN.md §3), declared once: every table's columns, Arrow types, required
and dictionary-encoded columns, sort keys, and the schema metadata each Parquet file carries.

labels/ builds rows against it, io/ writes it (io/tables.py), and verify, inspect, the readers and
the exporters read it. To add a column, add one `Column` to its table below (a new schema version
adds its columns here too, e.g. with `TableContract.with_columns`); nothing else lists columns.

Conventions: frames are 0-based; boxes are pixels, top-left origin, float32 x, y, w, h; keypoints
are COCO-17 `[x, y, v] * 17`; masks are COCO RLE; world units are metres.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa

SCHEMA_VERSION = 3               # 2 added dense modalities to clips, 3 cameras, refiner and `action` columns (below); 1 and 2 are still read
READABLE_VERSIONS = (1, 2, 3)
META_KEY = b"synthdata"   # the Parquet schema-metadata key of every table file

f32, f64, i32, i64, s, b = pa.float32(), pa.float64(), pa.int32(), pa.int64(), pa.string(), pa.bool_()
MASK = pa.struct([("size", pa.list_(i32)), ("counts", s)])


@dataclass(frozen=True)
class Column:
    """One column: its name, Arrow type, whether every row must give it, and whether Parquet
    dictionary-encodes it (categorical strings; plain strings in Arrow)."""

    name: str
    type: pa.DataType
    required: bool = False
    categorical: bool = False

    @property
    def field(self) -> pa.Field:
        return pa.field(self.name, self.type)


def col(name: str, typ: pa.DataType, *, req: bool = False, cat: bool = False) -> Column:
    return Column(name, typ, req, cat)


@dataclass(frozen=True)
class TableContract:
    """A table's columns in file order and the order of its rows (`sort_keys`, ascending)."""

    name: str
    columns: tuple[Column, ...]
    sort_keys: tuple[str, ...]

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name}: duplicate columns in {names}")
        if not set(self.sort_keys) <= set(names):
            raise ValueError(f"table {self.name}: sort keys {self.sort_keys} are not all columns")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([c.field for c in self.columns])

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def categorical(self) -> list[str]:
        return [c.name for c in self.columns if c.categorical]

    def with_columns(self, *columns: Column, before: str | None = None) -> TableContract:
        """This table with `columns` added (before column `before`, else at the end)."""
        cols = list(self.columns)
        at = self.names.index(before) if before is not None else len(cols)
        return replace(self, columns=tuple(cols[:at]) + columns + tuple(cols[at:]))


# Per-clip appearance columns (weather, lighting, sensor, optics, mount, overlay), one value per clip:
# the fields of world/appearance.py's Appearance (its `appearance_columns()`), listed again here
# because io/ imports nothing from world/; tests/test_io_contract.py and tests/test_appearance_typed.py
# fail when the two lists differ. `weather` is a scene column, declared above it.
APPEARANCE: tuple[Column, ...] = tuple(col(n, t) for n, t in (
    ("rain_intensity", f64), ("snow_intensity", f64), ("fog_visibility_m", f64), ("wetness", f64),
    ("puddles", f64), ("snow_cover", f64), ("wind_deg", f64), ("overcast", f64), ("vehicle_lights", b),
    ("nir", b), ("ir_range_m", f64), ("sensor_gain", f64), ("full_well_e", f64), ("read_noise_e", f64),
    ("auto_exposure_s", f64), ("light_changes", i64), ("vignetting", f64), ("defocus_px", f64),
    ("focus_m", f64), ("shutter", f64), ("rolling_shutter_ms", f64), ("shake_deg", f64), ("shake_hz", f64),
    ("ptz", b), ("ptz_presets", i64), ("ptz_dwell_s", f64), ("ptz_speed_deg_s", f64), ("lens_dirt", f64),
    ("raindrops", i64), ("overlay", b), ("camera_name", s), ("overlay_start", s), ("overlay_position", s),
    ("ptz_phase_s", f64), ("video_crf", i64), ("effects_seed", i64),
))

CLIPS_V1 = TableContract("clips", (
    col("clip_id", s, req=True, cat=True), col("shard", i32), col("video_member", s), col("video_offset", i64),
    col("video_size", i64), col("width", i32, req=True), col("height", i32, req=True), col("fps", f64, req=True),
    col("num_frames", i32, req=True), col("seed", i64, req=True), col("params", s, req=True),
    col("fx", f64), col("fy", f64), col("cx", f64), col("cy", f64), col("skew", f64), col("k1", f64),
    col("k2", f64), col("camera_model", s, cat=True),
    col("R", pa.list_(f64)), col("t", pa.list_(f64)), col("cam_x", f64), col("cam_y", f64), col("cam_z", f64),
    col("camera_moves", b), col("indoor", b),
    col("layout", s, cat=True), col("time_of_day", s, cat=True), col("weather", s, cat=True),
    col("scenario", s), col("tamper", s),
    *APPEARANCE,
    col("attributes", s),
), ("clip_id",))

TRACKS_V2 = TableContract("tracks", (
    col("clip_id", s, req=True, cat=True), col("track_id", i32, req=True), col("category", s, req=True, cat=True),
    col("subtype", s, cat=True), col("first_frame", i32, req=True), col("last_frame", i32, req=True),
    col("num_frames", i32), col("attributes", s),
), ("clip_id", "track_id"))

OBJECTS_V2 = TableContract("objects", (
    col("clip_id", s, cat=True), col("frame", i32, req=True), col("track_id", i32, req=True),
    col("category", s, req=True, cat=True),
    col("x", f32), col("y", f32), col("w", f32), col("h", f32),            # visible box (null when hidden)
    col("ax", f32), col("ay", f32), col("aw", f32), col("ah", f32),        # amodal box
    col("visibility", f32), col("truncation", f32), col("depth", f32),
    col("keypoints", pa.list_(f32)), col("mask", MASK),
    col("world_x", f32), col("world_y", f32), col("world_z", f32), col("heading", f32),
    col("visible_pixels", i32), col("amodal_pixels", i32),
), ("clip_id", "frame", "track_id"))

EVENTS = TableContract("events", (
    col("clip_id", s, req=True, cat=True), col("event_id", i32, req=True), col("type", s, req=True, cat=True),
    col("track_id", i32), col("track_ids", pa.list_(i32)), col("zone", s, cat=True),
    col("start_frame", i32, req=True), col("end_frame", i32, req=True), col("attributes", s),
), ("clip_id", "event_id"))

# Schema version 2: the dense modalities a clip stores ("rgb" first) and, per dense modality, the
# byte range of its PNG members in the clip's tar (io/dense.py), null when not stored.
DENSE_MODALITIES = ("depth", "flow", "backflow", "instances", "classes")
DENSE_COLUMNS: tuple[Column, ...] = (col("modalities", pa.list_(s)),) + tuple(
    col(f"{m}_{k}", i64) for m in DENSE_MODALITIES for k in ("offset", "size"))
CLIPS_V2 = CLIPS_V1.with_columns(*DENSE_COLUMNS)
# Schema version 3 also records the refiner applied to the clip's frames (postprocess.refiner: the
# checkpoint's sha256 and the strength), null when none was.
REFINER_COLUMNS: tuple[Column, ...] = (col("refiner_sha256", s), col("refiner_strength", f64))
# Schema version 3: what a person does (world/actors/actions.py), per object row (this frame) and
# per track (the action the person was given); null for other categories.
ACTION = col("action", s, cat=True)
OBJECTS, TRACKS = OBJECTS_V2.with_columns(ACTION), TRACKS_V2.with_columns(ACTION)

# Schema version 3: several cameras over one scene. clips, objects and events carry the `camera`
# (its name; "cam0" for a recipe's single camera) right after clip_id and sort by it after clip_id;
# one clips row per camera of a clip. track_id is the global identity, the same in every camera.
CAMERA = col("camera", s, cat=True)


def _with_camera(table: TableContract, before: str) -> TableContract:
    keys = table.sort_keys
    return replace(table.with_columns(CAMERA, before=before), sort_keys=keys[:1] + ("camera",) + keys[1:])


V2 = {t.name: t for t in (CLIPS_V2, TRACKS_V2, OBJECTS_V2, EVENTS)}
CLIPS = _with_camera(CLIPS_V2.with_columns(*REFINER_COLUMNS), "shard")
CONTRACT: dict[str, TableContract] = {t.name: t for t in (
    CLIPS, TRACKS, _with_camera(OBJECTS, "frame"), _with_camera(EVENTS, "event_id"))}
TABLES: tuple[str, ...] = tuple(CONTRACT)


def contract_for(name: str, version: int = SCHEMA_VERSION) -> TableContract:
    """Table `name` as files of schema `version` hold it (version 1: clips without DENSE_COLUMNS;
    versions 1 and 2: no `camera` column nor REFINER_COLUMNS, no `action`)."""
    if version < 2 and name == "clips":
        return CLIPS_V1
    return V2[name] if version < 3 else CONTRACT[name]

# Columns of the clips table that the shard writer fills in (the rest come from the clip's row).
WRITER_CLIP_COLUMNS = ("shard", "video_member", "video_offset", "video_size") + tuple(c.name for c in DENSE_COLUMNS)


def dumps(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces) used for every JSON string column."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default)


def _json_default(v: Any) -> Any:
    if hasattr(v, "tolist"):  # numpy scalars and arrays
        return v.tolist()
    raise TypeError(f"value of type {type(v).__name__} is not JSON-serialisable")


def file_metadata(recipe_sha256: str, synthdata_version: str, table: str) -> dict[bytes, bytes]:
    """The schema metadata every Parquet file carries under the key b"synthdata"."""
    meta = {"schema_version": SCHEMA_VERSION, "recipe_sha256": recipe_sha256,
            "synthdata_version": synthdata_version, "table": table}
    return {META_KEY: dumps(meta).encode()}


def read_metadata(schema: pa.Schema) -> dict[str, Any] | None:
    """The b"synthdata" metadata of a file's schema as a dict; None when absent or unreadable."""
    raw = (schema.metadata or {}).get(META_KEY)
    try:
        meta = json.loads(raw) if raw else None
    except ValueError:
        return None
    return meta if isinstance(meta, dict) else None
