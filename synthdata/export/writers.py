"""Output helpers shared by exporters: threaded JPEG files and JSON documents streamed to disk."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, Any

import numpy as np


class JpegWriter:
    """Writes (H, W, 3) uint8 RGB frames as JPEG files on `workers` threads (Pillow releases the
    GIL while it encodes). At most 2 * workers frames wait in memory; the first error is raised
    by `write` or `close`. Use as a context manager."""

    def __init__(self, *, quality: int = 95, workers: int = 4):
        self.quality = quality
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="jpeg")
        self._pending: deque[Future] = deque()
        self._limit = 2 * workers
        self.written = 0

    def _save(self, rgb: np.ndarray, path: str) -> None:
        from PIL import Image

        # 4:4:4 chroma: the frames were already 4:2:0 in the video; subsampling again blurs the
        # colours at object edges a second time (mean error 3x that of 4:4:4 at quality 95)
        Image.fromarray(rgb, "RGB").save(path, format="JPEG", quality=self.quality, subsampling=0)

    def write(self, rgb: np.ndarray, path: str) -> None:
        while len(self._pending) >= self._limit:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._save, np.ascontiguousarray(rgb), path))
        self.written += 1

    def close(self) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> JpegWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
            return
        for f in self._pending:          # already failing: do not let a write error hide the cause
            f.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)


def dumps(value: Any) -> str:
    """Compact JSON for one array item (no NaN: exported numbers are always finite)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


class JsonDocument:
    """A JSON object whose large arrays are appended item by item and spooled to temporary files,
    so writing a COCO file of millions of annotations keeps only one item in memory.

        doc = JsonDocument(path, arrays=("images", "annotations"))
        doc.append("images", {...})
        doc.close({"info": ..., "categories": [...]}, order=("info", "images", ...))
    """

    def __init__(self, path: str, arrays: tuple[str, ...]):
        self.path = path
        folder = os.path.dirname(path) or "."
        self._spool: dict[str, IO[str]] = {
            k: tempfile.TemporaryFile("w+", encoding="utf-8", dir=folder) for k in arrays}
        self.counts = {k: 0 for k in arrays}

    def append(self, array: str, item: Any) -> None:
        f = self._spool[array]
        f.write(("," if self.counts[array] else "") + "\n" + dumps(item))
        self.counts[array] += 1

    def close(self, values: dict[str, Any], order: tuple[str, ...]) -> None:
        """Write the document: keys in `order`, each from `values` or a spooled array."""
        try:
            with open(self.path, "w", encoding="utf-8") as out:
                out.write("{")
                for i, key in enumerate(order):
                    out.write(("," if i else "") + "\n" + json.dumps(key) + ":")
                    if key in self._spool:
                        f = self._spool[key]
                        f.seek(0)
                        out.write("[")
                        shutil.copyfileobj(f, out)
                        out.write("\n]")
                    else:
                        out.write(json.dumps(values[key], separators=(",", ":"), allow_nan=False))
                out.write("\n}\n")
        finally:
            for f in self._spool.values():
                f.close()
