"""Deterministic uncompressed tar shards (WebDataset layout: `<key>.<ext>` members).

Every member gets the same mtime, owner and mode, and members are written in the order they are
added, so the same content gives a byte-identical tar on every run. `add` returns where the
member's data starts and how long it is, so a reader can `seek(offset); read(size)` one member
without scanning the tar.
"""
from __future__ import annotations

import io
import os
import tarfile
from typing import BinaryIO

MTIME = 0          # 1970-01-01T00:00:00Z for every member
MODE = 0o644


class TarShardWriter:
    """Appends members to a new tar file at `path`; `close()` writes the end-of-archive blocks."""

    def __init__(self, path: str):
        self._tar = tarfile.open(path, mode="w", format=tarfile.USTAR_FORMAT)
        self.members: list[dict] = []

    def add(self, name: str, fileobj: BinaryIO, size: int) -> tuple[int, int]:
        """Add `size` bytes from `fileobj` as member `name`; returns (data offset, size)."""
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, MTIME, MODE
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.type = tarfile.REGTYPE
        self._tar.addfile(info, fileobj)
        padded = -(-size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE
        offset = self._tar.offset - padded   # the data sits right before the padding ends
        self.members.append({"name": name, "offset": offset, "size": size})
        return offset, size

    def add_bytes(self, name: str, data: bytes) -> tuple[int, int]:
        return self.add(name, io.BytesIO(data), len(data))

    def add_span(self, members: list[tuple[str, bytes]]) -> tuple[int, int]:
        """Add consecutive members; returns (offset of the first member's header, bytes up to the
        end of the last member's padded data): a range that parses as a tar stream."""
        start = self._tar.offset
        for name, data in members:
            self.add_bytes(name, data)
        return start, self._tar.offset - start

    def add_file(self, name: str, path: str) -> tuple[int, int]:
        with open(path, "rb") as f:
            return self.add(name, f, os.fstat(f.fileno()).st_size)

    def close(self) -> None:
        self._tar.close()

    def __enter__(self) -> TarShardWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
