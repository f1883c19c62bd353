"""What the shard writer receives: plain records of rows and frames, defined here so that io/ needs
nothing from the stages that make them (the pipeline builds them; tests build them by hand).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class FrameChunk:
    """Frames [start, start + len(frames)) of a clip and their object rows.

    frames: (t, H, W, 3) uint8 RGB (numpy, or a torch tensor on any device).
    objects: objects-table column name -> list of values, one per row, rows sorted by
             (frame, track_id); columns of the contract only (io/contract.py OBJECTS).
    dense: dense modality -> (n, H, W[, 2]) numpy maps of that modality's next n frames, in the
           form readers get (labels/dense.py; io/dense.py stores them). Forward flow lags one
           frame behind, so n may differ from len(frames); over a clip each adds up to its frames.
    done: called with no arguments by a consumer that has finished with `frames` and holds no view
          of them (the shard writer, once the chunk is encoded): their maker may then write into
          that memory again. Optional; a consumer that keeps the frames never calls it.
    prepare: the frames' last steps, still running elsewhere while the next chunk renders: called
          once, with no arguments, before `frames` are read (the shard writer calls it on its
          encoder's thread), it returns the frames to read (`frames` finished in place, or new ones
          of the same shape). Optional; None: `frames` are final. Only a consumer that asked for
          it gets one (pipeline.generate_clip `defer`).
    """

    start: int
    frames: Any
    objects: dict[str, list]
    dense: dict[str, Any] = field(default_factory=dict)
    done: Callable[[], None] | None = None
    prepare: Callable[[], Any] | None = None


@dataclass
class ClipRecord:
    """One clip ready to be written. `chunks` is consumed once, in frame order.

    clip_row: clips-table values known before writing (every contract column except shard,
              video_member, video_offset, video_size, which the writer fills in); keys outside
              the contract go to the `attributes` JSON column.
    tracks, events: rows for those tables (clip_id is filled in when absent).
    timings: seconds per stage spent making the clip (summed into the shard marker).
    modalities: the dense modalities (io/contract.py DENSE_MODALITIES) its chunks carry.
    camera: the name of the camera whose frames `chunks` are ("cam0" for a single camera).
    views: the same clip seen by further cameras (same clip_id and scene; each with its own
           camera name, clip_row, chunks, events and modalities; their `tracks` stay empty: a
           clip's tracks are global). With views, tar members carry the camera's name.
    """

    clip_id: str
    clip_row: dict[str, Any]
    tracks: list[dict[str, Any]]
    events: list[dict[str, Any]]
    chunks: Iterator[FrameChunk]
    timings: dict[str, float] = field(default_factory=dict)
    modalities: list[str] = field(default_factory=list)
    camera: str = "cam0"
    views: list[ClipRecord] = field(default_factory=list)


@dataclass(frozen=True)
class VideoSettings:
    """H.264 encoding of every clip of a shard (a clip row's `video_crf` overrides `crf`)."""

    crf: int = 23
    preset: str = "veryfast"
    gop: int = 0


class ShardRef(Protocol):
    """The shard being written: clips [first_clip, first_clip + num_clips) of a recipe
    (plan.ShardSpec is one)."""

    @property
    def index(self) -> int: ...

    @property
    def first_clip(self) -> int: ...

    @property
    def num_clips(self) -> int: ...

    @property
    def recipe_sha256(self) -> str: ...

    @property
    def name(self) -> str: ...
