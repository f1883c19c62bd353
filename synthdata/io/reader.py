"""Reading a finished dataset: tables as pyarrow datasets, clips decoded from their byte range.

    ds = open_dataset("out/")              # or "s3://bucket/out"
    ds.objects.to_table(filter=...)        # pyarrow.dataset.Dataset over every shard
    frames = ds.read_clip(ds.clip_ids()[0])  # (T, H, W, 3) uint8 RGB, frame i = row frame i
    maps = ds.read_clip(cid, modalities=["rgb", "depth", "flow"])   # dict of numpy arrays
    ds.cameras(cid)                        # ["north", "south", ...] (schema 3: several cameras)
    frames = ds.read_clip(cid, camera="north")   # a clip with several cameras: name one

Only files listed in dataset.json are read, so a stray or half-written shard never leaks in.
A clip is read with one ranged read of its tar (no tar scan): `video_offset`, `video_size`; each
dense modality likewise (`<modality>_offset`, `<modality>_size`, schema version 2; io/dense.py).
Datasets of schema version 1 (no dense columns) read as before, with rgb only. Before version 3
every clip has one camera, read as "cam0". A clip with several cameras has one clips row (video,
dense maps) per camera; methods taking a clip id take `camera=` too, which may be left out only
when the clip has one camera.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import pyarrow as pa

from synthdata.errors import DatasetError
from synthdata.io import dense as D
from synthdata.io.contract import TABLES
from synthdata.io.manifest import read_manifest
from synthdata.io.store import Store, store_for
from synthdata.io.video import VideoClip

CLIP_INDEX_COLUMNS = ["clip_id", "shard", "video_member", "video_offset", "video_size", "width", "height",
                      "fps", "num_frames"]
SINGLE_CAMERA = "cam0"       # the camera of a clip with one (and of every clip before schema version 3)
DENSE_INDEX_COLUMNS = ["modalities"] + [f"{m}_{k}" for m in D.DENSE for k in ("offset", "size")]


class Dataset:
    """A finished synthdata dataset (local folder or fsspec URL). Cheap to open; tables and the
    clip index load on first use; the last `cache_clips` clips' MP4 bytes are kept in memory."""

    def __init__(self, path: str, *, cache_clips: int = 2):
        self.path = path
        self.store: Store = store_for(path)
        self.manifest: dict[str, Any] = read_manifest(self.store)
        self._tables: dict[str, Any] = {}
        self._index: dict[str, dict[str, Any]] | None = None
        self._views: dict[tuple[str, str], dict[str, Any]] = {}
        self._cameras: dict[str, list[str]] = {}
        self._videos: OrderedDict[tuple[str, str], VideoClip] = OrderedDict()
        self._spans: OrderedDict[tuple[str, str, str], list[tuple[str, bytes]]] = OrderedDict()
        self._cache_clips = cache_clips

    def __repr__(self) -> str:
        c = self.manifest.get("counts", {})
        return (f"Dataset({self.path!r}, name={self.manifest.get('name')!r}, clips={c.get('clips')}, "
                f"frames={c.get('frames')}, objects={c.get('objects')})")

    def __getstate__(self) -> dict[str, Any]:  # picklable for DataLoader workers: no open handles
        return {"path": self.path, "manifest": self.manifest, "cache_clips": self._cache_clips}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path, self.manifest, self._cache_clips = state["path"], state["manifest"], state["cache_clips"]
        self.store = store_for(self.path)
        self._tables, self._index, self._videos, self._spans = {}, None, OrderedDict(), OrderedDict()
        self._views, self._cameras = {}, {}

    # tables -----------------------------------------------------------------------------------
    def table_files(self, name: str) -> list[str]:
        """Paths (relative to the dataset root) of the table's Parquet files, in shard order."""
        prefix = f"tables/{name}/"
        return [rel for s in self.manifest["shards"] for rel in s["files"] if rel.startswith(prefix)]

    def table(self, name: str) -> Any:
        """One table over every shard as a pyarrow.dataset.Dataset."""
        import pyarrow.dataset as pads

        if name not in TABLES:
            raise DatasetError(f"no table {name!r}; tables are {', '.join(TABLES)}")
        if name not in self._tables:
            fs, root = self.store.arrow_filesystem()
            paths = [f"{root}/{rel}" for rel in self.table_files(name)]
            self._tables[name] = pads.dataset(paths, format="parquet", filesystem=fs)
        return self._tables[name]

    @property
    def clips(self) -> Any:
        return self.table("clips")

    @property
    def tracks(self) -> Any:
        return self.table("tracks")

    @property
    def objects(self) -> Any:
        return self.table("objects")

    @property
    def events(self) -> Any:
        return self.table("events")

    @property
    def categories(self) -> list[str]:
        return list(self.manifest.get("categories", []))

    # clips ------------------------------------------------------------------------------------
    @property
    def index(self) -> dict[str, dict[str, Any]]:
        """clip_id -> {shard, video_member, video_offset, video_size, width, height, fps, num_frames,
        camera} of the clip's first camera (`view_info` has every camera's)."""
        if self._index is None:
            have = set(self.clips.schema.names)
            cols = CLIP_INDEX_COLUMNS + [c for c in DENSE_INDEX_COLUMNS + ["camera"] if c in have]
            index: dict[str, dict[str, Any]] = {}
            for r in self.clips.to_table(columns=cols).to_pylist():
                r["camera"] = r.get("camera") or SINGLE_CAMERA
                self._views[(r["clip_id"], r["camera"])] = r
                self._cameras.setdefault(r["clip_id"], []).append(r["camera"])
                index.setdefault(r["clip_id"], r)
            self._index = index
        return self._index

    def cameras(self, clip_id: str | None = None) -> list[str]:
        """The clip's camera names (in table order); with no clip, every name in the dataset."""
        if clip_id is None:
            self.index
            return sorted({c for cams in self._cameras.values() for c in cams})
        self.clip_info(clip_id)
        return list(self._cameras[clip_id])

    def views(self) -> list[tuple[str, str]]:
        """(clip_id, camera) of every video in the dataset, in table order."""
        self.index
        return list(self._views)

    def modalities(self, clip_id: str, camera: str | None = None) -> list[str]:
        """What is stored for the clip: "rgb" and its dense modalities (none in version-1 data)."""
        return list(self.view_info(clip_id, camera).get("modalities") or ["rgb"])

    def clip_ids(self) -> list[str]:
        return list(self.index)

    def clip_info(self, clip_id: str) -> dict[str, Any]:
        """The clip's index entry (its first camera's; see `view_info`)."""
        try:
            return self.index[clip_id]
        except KeyError:
            raise DatasetError(f"{self.path}: no clip {clip_id!r}") from None

    def view_info(self, clip_id: str, camera: str | None = None) -> dict[str, Any]:
        """The index entry of the clip's video from `camera` (None: the clip's only camera)."""
        info = self.clip_info(clip_id)
        cams = self._cameras[clip_id]
        if camera is None:
            if len(cams) > 1:
                raise DatasetError(f"{self.path}: clip {clip_id} has cameras {', '.join(cams)}: name one "
                                   f"(camera=...)")
            return info
        try:
            return self._views[(clip_id, camera)]
        except KeyError:
            raise DatasetError(f"{self.path}: clip {clip_id} has no camera {camera!r} (it has "
                               f"{', '.join(cams)})") from None

    def read_clip_bytes(self, clip_id: str, camera: str | None = None) -> bytes:
        """The clip's MP4 file (from `camera`), read from its tar with one ranged read."""
        info = self.view_info(clip_id, camera)
        return self.store.read_range(f"videos/shard-{info['shard']:06d}.tar", info["video_offset"],
                                     info["video_size"])

    def video(self, clip_id: str, camera: str | None = None) -> VideoClip:
        """The clip's video (from `camera`) for frame access (its bytes are cached)."""
        key = (clip_id, self.view_info(clip_id, camera)["camera"])
        if key in self._videos:
            self._videos.move_to_end(key)
            return self._videos[key]
        clip = VideoClip(self.read_clip_bytes(*key))
        self._videos[key] = clip
        while len(self._videos) > self._cache_clips:
            self._videos.popitem(last=False)
        return clip

    def read_clip(self, clip_id: str, modalities: list[str] | None = None, *, camera: str | None = None) -> Any:
        """Every frame of the clip (from `camera`), (T, H, W, 3) uint8 RGB; frame i is the labels' frame i.

        With `modalities` (e.g. ["rgb", "depth", "flow"]) a dict of numpy arrays instead: rgb
        (T, H, W, 3) uint8, depth (T, H, W) float32 metres along the camera axis (inf: sky),
        flow / backflow (T, H, W, 2) float32 pixels (NaN where invalid), instances (T, H, W)
        int32 track ids (0 = none), classes (T, H, W) uint8 (README "Dense ground truth")."""
        if modalities is None:
            return self.video(clip_id, camera).decode()
        return {m: (self.video(clip_id, camera).decode() if m == "rgb" else self.read_dense(clip_id, m, camera=camera))
                for m in modalities}

    def _span(self, clip_id: str, modality: str, camera: str | None) -> list[tuple[str, bytes]]:
        info = self.view_info(clip_id, camera)
        key = (clip_id, info["camera"], modality)
        if key in self._spans:
            self._spans.move_to_end(key)
            return self._spans[key]
        if modality not in D.DENSE:
            raise DatasetError(f"no modality {modality!r}; modalities are rgb, {', '.join(D.DENSE)}")
        offset = info.get(f"{modality}_offset")
        if offset is None:
            raise DatasetError(f"{self.path}: clip {clip_id} has no {modality} stored (it has "
                               f"{', '.join(self.modalities(clip_id, info['camera']))}); generate with "
                               f"output.modalities")
        data = self.store.read_range(f"videos/shard-{info['shard']:06d}.tar", offset, info[f"{modality}_size"])
        members = D.split_span(data)
        want = [D.member_name(D.member_key(info), modality, f) for f in range(info["num_frames"])]
        if [n for n, _ in members] != want:
            raise DatasetError(f"{self.path}: clip {clip_id}: the {modality} byte range does not hold "
                               f"its {info['num_frames']} frames in order")
        self._spans[key] = members
        while len(self._spans) > 2 * self._cache_clips * len(D.DENSE):
            self._spans.popitem(last=False)
        return members

    def dense_members(self, clip_id: str, modality: str, *, camera: str | None = None) -> list[tuple[str, bytes]]:
        """(member name, PNG bytes) of each frame of a dense modality, in frame order."""
        return list(self._span(clip_id, modality, camera))

    def read_dense_raw(self, clip_id: str, modality: str, start: int = 0, stop: int | None = None, *,
                       camera: str | None = None) -> np.ndarray:
        """Frames [start, stop) of a dense modality as stored: the PNGs' integers (io/dense.py)."""
        members = self._span(clip_id, modality, camera)
        stop = len(members) if stop is None else stop
        return np.stack([D.decode_png(modality, data) for _, data in members[start:stop]])

    def read_dense(self, clip_id: str, modality: str, start: int = 0, stop: int | None = None, *,
                   camera: str | None = None) -> np.ndarray:
        """Frames [start, stop) of a dense modality in reader form (see read_clip)."""
        return D.dequantise(modality, self.read_dense_raw(clip_id, modality, start, stop, camera=camera))

    def read_frames(self, clip_id: str, start: int, stop: int, *, channels_first: bool = False,
                    threads: int = 1, camera: str | None = None) -> np.ndarray:
        """Frames [start, stop) of the clip (from `camera`), decoded from the nearest keyframe
        before `start`: (T, H, W, 3) uint8 RGB, or (T, 3, H, W) with `channels_first`; `threads`
        FFmpeg decoder threads."""
        return self.video(clip_id, camera).frames(start, stop, channels_first=channels_first, threads=threads)

    def _rows_for(self, name: str, clip_id: str, columns: list[str] | None, camera: str | None = None) -> pa.Table:
        import pyarrow.parquet as pq

        info = self.clip_info(clip_id)
        fs, root = self.store.arrow_filesystem()
        path = f"{root}/tables/{name}/shard-{info['shard']:06d}.parquet"
        filters = [("clip_id", "=", clip_id)]
        if camera is not None:
            self.view_info(clip_id, camera)
            if "camera" in self.clips.schema.names:
                filters.append(("camera", "=", camera))
        return pq.read_table(path, filesystem=fs, columns=columns, filters=filters)

    def objects_for(self, clip_id: str, columns: list[str] | None = None, *, camera: str | None = None) -> pa.Table:
        """The clip's object rows (sorted by camera, frame, track_id), reading only its shard's row
        groups; with `camera`, that camera's only."""
        return self._rows_for("objects", clip_id, columns, camera)

    def tracks_for(self, clip_id: str, columns: list[str] | None = None) -> pa.Table:
        """The clip's tracks: one row per global identity (the same track_id in every camera)."""
        return self._rows_for("tracks", clip_id, columns)

    def events_for(self, clip_id: str, columns: list[str] | None = None, *, camera: str | None = None) -> pa.Table:
        """The clip's events (one row per camera for a clip with several; `camera`: its only)."""
        return self._rows_for("events", clip_id, columns, camera)


def open_dataset(path: str, *, cache_clips: int = 2) -> Dataset:
    """Open a finished dataset; DatasetError (one line) when `path` is not one."""
    return Dataset(path, cache_clips=cache_clips)
