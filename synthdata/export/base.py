"""What every exporter shares: options, the Exporter interface, and a staged output folder.

An exporter turns a finished dataset (io/reader.py) into a foreign layout on local disk:

    class MyFormat(Exporter):
        name = "my-format"
        def export(self, source: ExportSource, out: str) -> dict: ...   # counts for the summary

`source` streams one clip at a time (frames decoded lazily, object rows already filtered by the
options); `out` is an empty staging folder that becomes the user's `--out` only when `export`
returns, so a failed export never leaves a half-written folder behind or damages an earlier one.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from synthdata.errors import BadInput

EXPORT_MANIFEST = "export.json"   # written into every export; marks a folder --overwrite may replace


@dataclass(frozen=True)
class ExportOptions:
    """Options shared by the formats (format-specific ones are listed in Exporter.options).

    min_visibility: objects whose visibility (visible / amodal pixels, 0..1) is below this are
                    left out; hidden objects have visibility 0.
    categories:     only these categories, in this order (their class ids follow the order);
                    None = every category, in the canonical order of world/types.py.
    clips:          only the first N clips (in clip_id order); None = all.
    jpeg_quality:   Pillow JPEG quality of the exported frames (1..100).
    workers:        threads encoding JPEG files.
    val_fraction:   (yolo) fraction of clips in the validation split, chosen by a hash of clip_id.
    min_height:     (reid) crops at least this many pixels tall.
    frame_step:     (reid) a crop every this many frames.
    test_fraction:  (reid) fraction of identities in the test split, chosen by a hash of clip and track.
    """

    min_visibility: float = 0.0
    categories: tuple[str, ...] | None = None
    clips: int | None = None
    jpeg_quality: int = 95
    workers: int = 4
    val_fraction: float = 0.2
    min_height: int = 32
    frame_step: int = 5
    test_fraction: float = 0.5

    COMMON: ClassVar[tuple[str, ...]] = ("min_visibility", "categories", "clips", "jpeg_quality", "workers")

    @classmethod
    def build(cls, fmt: str, allowed_extra: tuple[str, ...], given: dict[str, Any]) -> ExportOptions:
        """Options from keywords; BadInput (one line) for an unknown or out-of-range one."""
        names = {f.name for f in fields(cls)}
        for key in given:
            if key not in names:
                raise BadInput(f"export: unknown option {key!r}; options are "
                               f"{', '.join(sorted(names))}")
            if key not in cls.COMMON and key not in allowed_extra:
                raise BadInput(f"--{key.replace('_', '-')}: does not apply to --format {fmt}")
        values = {k: v for k, v in given.items() if v is not None}
        if isinstance(values.get("categories"), str):
            values["categories"] = tuple(c.strip() for c in values["categories"].split(",") if c.strip())
        elif values.get("categories") is not None:
            values["categories"] = tuple(values["categories"])
        opts = cls(**values)
        opts._check()
        return opts

    def _check(self) -> None:
        if not 0.0 <= self.min_visibility <= 1.0:
            raise BadInput(f"--min-visibility: expected a number in 0..1, got {self.min_visibility}")
        if self.clips is not None and self.clips < 1:
            raise BadInput(f"--clips: expected a positive number of clips, got {self.clips}")
        if not 1 <= self.jpeg_quality <= 100:
            raise BadInput(f"--jpeg-quality: expected 1..100, got {self.jpeg_quality}")
        if not 1 <= self.workers <= 64:
            raise BadInput(f"--workers: expected 1..64, got {self.workers}")
        if not 0.0 <= self.val_fraction <= 1.0:
            raise BadInput(f"--val-fraction: expected a number in 0..1, got {self.val_fraction}")
        if self.min_height < 1 or self.frame_step < 1:
            raise BadInput(f"--min-height and --frame-step: expected whole numbers of at least 1, got "
                           f"{self.min_height} and {self.frame_step}")
        if not 0.0 <= self.test_fraction <= 1.0:
            raise BadInput(f"--test-fraction: expected a number in 0..1, got {self.test_fraction}")
        if self.categories is not None and not self.categories:
            raise BadInput("--categories: expected a comma-separated list such as person,car, got nothing")
        if self.categories is not None and len(set(self.categories)) != len(self.categories):
            raise BadInput(f"--categories: a category is listed twice in {','.join(self.categories)}")

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["categories"] = list(self.categories) if self.categories is not None else None
        return d


class Exporter:
    """One foreign format. Subclasses set `name`, `description`, optionally `options` (names of
    ExportOptions fields beyond the common ones they use), and implement `export`."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    options: ClassVar[tuple[str, ...]] = ()

    def export(self, source: Any, out: str) -> dict[str, Any]:
        """Write the format into the empty folder `out`; return counts for the summary."""
        raise NotImplementedError


def _entries(path: str) -> list[str]:
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


def check_output(out: str, *, overwrite: bool, source: str | None = None) -> str:
    """The absolute output folder, after refusing what must not be written to (BadInput)."""
    target = os.path.abspath(os.path.expanduser(out))
    if os.path.exists(target) and not os.path.isdir(target):
        raise BadInput(f"--out {out}: exists and is not a folder")
    if source is not None and "://" not in source:
        src = os.path.abspath(os.path.expanduser(source))
        if os.path.commonpath([src, target]) in (src, target):
            raise BadInput(f"--out {out}: must lie outside the dataset folder {source}")
    if _entries(target):
        if not overwrite:
            raise BadInput(f"--out {out}: folder is not empty; pass --overwrite to replace an earlier export")
        if not os.path.exists(os.path.join(target, EXPORT_MANIFEST)):
            raise BadInput(f"--out {out}: folder is not empty and holds no {EXPORT_MANIFEST} (not an "
                           f"earlier export); refusing to replace it even with --overwrite")
    return target


@contextmanager
def staged_output(target: str) -> Iterator[str]:
    """Yield an empty staging folder next to `target`; on success its contents replace those of
    `target` (created if needed); on failure it is removed and `target` is left untouched."""
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.partial-", dir=parent)
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    os.makedirs(target, exist_ok=True)
    for name in _entries(target):              # an earlier export (check_output made sure)
        path = os.path.join(target, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    for name in _entries(work):
        os.replace(os.path.join(work, name), os.path.join(target, name))
    os.rmdir(work)


def write_json(path: str, value: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1, sort_keys=False)
        f.write("\n")
