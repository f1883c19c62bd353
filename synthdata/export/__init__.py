"""Exporters to foreign formats, registered by name.

    from synthdata.export import export_dataset
    summary = export_dataset("out/", "coco-video", "out-coco/", min_visibility=0.25, categories="person")

Each format is an Exporter subclass in its own module (base.py has the interface); adding one
is a module plus a line in EXPORTERS.
"""
from __future__ import annotations

import time
from typing import Any

from synthdata.errors import BadInput
from synthdata.export.base import (
    EXPORT_MANIFEST,
    Exporter,
    ExportOptions,
    check_output,
    staged_output,
    write_json,
)
from synthdata.export.coco import CocoExporter
from synthdata.export.coco_video import CocoVideoExporter
from synthdata.export.flow import FlowExporter
from synthdata.export.mot import MotExporter
from synthdata.export.mtmc import MtmcExporter
from synthdata.export.reid import ReidExporter
from synthdata.export.yolo import YoloExporter

EXPORTERS: dict[str, type[Exporter]] = {
    cls.name: cls for cls in (CocoVideoExporter, CocoExporter, MotExporter, YoloExporter, FlowExporter, MtmcExporter,
                              ReidExporter)
}

__all__ = ["EXPORTERS", "ExportOptions", "Exporter", "export_dataset", "get_exporter"]


def get_exporter(fmt: str) -> type[Exporter]:
    """The exporter class of a format name; BadInput listing the formats otherwise."""
    try:
        return EXPORTERS[fmt]
    except KeyError:
        raise BadInput(f"--format {fmt}: unknown format; formats are {', '.join(EXPORTERS)}") from None


def export_dataset(path: str, fmt: str, out: str, *, overwrite: bool = False, **options: Any) -> dict[str, Any]:
    """Export the finished dataset at `path` (folder or fsspec URL) as `fmt` into the local folder
    `out`, one clip at a time. Options: see ExportOptions. `out` must be empty, or an earlier
    export when `overwrite`; it is replaced only once the export has succeeded. Returns the
    summary that is also written to `out/export.json`."""
    from synthdata import __version__
    from synthdata.export.source import ExportSource
    from synthdata.io.reader import open_dataset

    cls = get_exporter(fmt)
    opts = ExportOptions.build(fmt, cls.options, options)
    dataset = open_dataset(path)
    target = check_output(out, overwrite=overwrite, source=path)
    source = ExportSource(dataset, opts)
    t0 = time.perf_counter()
    with staged_output(target) as work:
        counts = cls().export(source, work)
        summary = {
            "format": fmt, "out": target, "synthdata_version": __version__,
            "source": {"path": path, "name": source.manifest.get("name"),
                       "recipe_sha256": source.manifest.get("recipe_sha256")},
            "options": {k: v for k, v in opts.to_json().items() if k in ExportOptions.COMMON + cls.options},
            "categories": source.categories,
            "counts": counts,
            "dropped": dict(sorted(source.dropped.items())),
        }
        write_json(f"{work}/{EXPORT_MANIFEST}", summary)
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    return summary
