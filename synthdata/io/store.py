"""Where a dataset lives: a local folder or any fsspec URL (s3://, gs://, memory://, ...).

`store_for(out)` picks the store class from STORES by URL scheme. Paths given to a store are
relative to the dataset root and use '/'. Work files are always made on local disk first
(`staging_dir`); `publish` moves a finished file into place: an atomic os.replace locally, an
upload of the whole object remotely. `write_atomic` makes a small file appear complete or not
at all, which is what commit markers and dataset.json rely on.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from typing import Any, BinaryIO

from synthdata.errors import DatasetError

TMP_DIR = "_tmp"   # staging area inside a local dataset; `clean_leftovers` removes it


class Store:
    """A dataset root; every path argument is relative to it."""

    url: str

    def exists(self, rel: str) -> bool: raise NotImplementedError
    def isdir(self, rel: str = "") -> bool: raise NotImplementedError
    def list(self, rel: str) -> list[str]: raise NotImplementedError
    def size(self, rel: str) -> int: raise NotImplementedError
    def read_bytes(self, rel: str) -> bytes: raise NotImplementedError
    def read_range(self, rel: str, offset: int, size: int) -> bytes: raise NotImplementedError
    def open(self, rel: str) -> BinaryIO: raise NotImplementedError
    def publish(self, local_path: str, rel: str) -> None: raise NotImplementedError
    def write_atomic(self, rel: str, data: bytes) -> None: raise NotImplementedError
    def remove(self, rel: str) -> None: raise NotImplementedError
    def remove_tree(self, rel: str) -> None: raise NotImplementedError
    def prune(self, rel: str) -> None: """Remove folder `rel` if it is empty (folders only exist locally)."""
    def staging_dir(self, name: str) -> str: raise NotImplementedError

    def arrow_filesystem(self) -> tuple[Any, str]:
        """(filesystem for pyarrow, root path in it)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"


class LocalStore(Store):
    """A folder on this machine; files are published by os.replace within the same filesystem."""

    def __init__(self, url: str):
        self.url = url
        path = url.removeprefix("file://")
        self.root = os.path.abspath(os.path.expanduser(path))

    def path(self, rel: str) -> str:
        return os.path.join(self.root, *rel.split("/")) if rel else self.root

    def exists(self, rel: str) -> bool:
        return os.path.exists(self.path(rel))

    def isdir(self, rel: str = "") -> bool:
        return os.path.isdir(self.path(rel))

    def list(self, rel: str) -> list[str]:
        p = self.path(rel)
        return sorted(os.listdir(p)) if os.path.isdir(p) else []

    def size(self, rel: str) -> int:
        return os.stat(self.path(rel)).st_size

    def read_bytes(self, rel: str) -> bytes:
        with open(self.path(rel), "rb") as f:
            return f.read()

    def read_range(self, rel: str, offset: int, size: int) -> bytes:
        with open(self.path(rel), "rb") as f:
            f.seek(offset)
            return f.read(size)

    def open(self, rel: str) -> BinaryIO:
        return open(self.path(rel), "rb")

    def publish(self, local_path: str, rel: str) -> None:
        dest = self.path(rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        os.replace(local_path, dest)

    def write_atomic(self, rel: str, data: bytes) -> None:
        tmp_dir = self.path(TMP_DIR)
        os.makedirs(tmp_dir, exist_ok=True)
        tmp = os.path.join(tmp_dir, f"{uuid.uuid4().hex}.part")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        self.publish(tmp, rel)

    def remove(self, rel: str) -> None:
        if os.path.exists(self.path(rel)):
            os.remove(self.path(rel))

    def remove_tree(self, rel: str) -> None:
        shutil.rmtree(self.path(rel), ignore_errors=True)

    def prune(self, rel: str) -> None:
        try:
            os.rmdir(self.path(rel))
        except OSError:   # not empty (another writer is staging there) or already gone
            pass

    def staging_dir(self, name: str) -> str:
        """A new folder under OUT/_tmp (same filesystem, so publishing is a rename)."""
        path = self.path(f"{TMP_DIR}/{name}-{uuid.uuid4().hex[:12]}")
        os.makedirs(path)
        return path

    def arrow_filesystem(self) -> tuple[Any, str]:
        import pyarrow.fs

        return pyarrow.fs.LocalFileSystem(), self.root


class FsspecStore(Store):
    """Any fsspec URL. An object appears whole when its upload ends; nothing is renamed."""

    def __init__(self, url: str):
        import fsspec

        self.url = url.rstrip("/")
        try:
            self.fs, self.root = fsspec.core.url_to_fs(self.url)
        except ImportError as e:
            scheme = url.split("://", 1)[0]
            hint = " (pip install 'synthdata[s3]')" if scheme in ("s3", "s3a") else ""
            raise DatasetError(f"{url}: no filesystem for '{scheme}://': {e}{hint}") from None
        self.root = self.root.rstrip("/")

    def path(self, rel: str) -> str:
        return f"{self.root}/{rel}" if rel else self.root

    def exists(self, rel: str) -> bool:
        return self.fs.exists(self.path(rel))

    def isdir(self, rel: str = "") -> bool:
        return self.fs.isdir(self.path(rel))

    def list(self, rel: str) -> list[str]:
        p = self.path(rel)
        if not self.fs.isdir(p):
            return []
        return sorted(e.rstrip("/").rsplit("/", 1)[-1] for e in self.fs.ls(p, detail=False))

    def size(self, rel: str) -> int:
        return int(self.fs.size(self.path(rel)))

    def read_bytes(self, rel: str) -> bytes:
        return self.fs.cat_file(self.path(rel))

    def read_range(self, rel: str, offset: int, size: int) -> bytes:
        return self.fs.cat_file(self.path(rel), start=offset, end=offset + size)

    def open(self, rel: str) -> BinaryIO:
        return self.fs.open(self.path(rel), "rb")

    def publish(self, local_path: str, rel: str) -> None:
        self.fs.put_file(local_path, self.path(rel))
        os.remove(local_path)

    def write_atomic(self, rel: str, data: bytes) -> None:
        self.fs.pipe_file(self.path(rel), data)

    def remove(self, rel: str) -> None:
        if self.fs.exists(self.path(rel)):
            self.fs.rm_file(self.path(rel))

    def remove_tree(self, rel: str) -> None:
        if self.fs.exists(self.path(rel)):
            self.fs.rm(self.path(rel), recursive=True)

    def staging_dir(self, name: str) -> str:
        """A new local temp folder named synthdata-<name>-* (the system cleans its temp dir)."""
        return tempfile.mkdtemp(prefix=f"synthdata-{name}-")

    def arrow_filesystem(self) -> tuple[Any, str]:
        from pyarrow.fs import FSSpecHandler, PyFileSystem

        return PyFileSystem(FSSpecHandler(self.fs)), self.root


# URL scheme -> store class; any other scheme goes through fsspec.
STORES: dict[str, type[Store]] = {"": LocalStore, "file": LocalStore}


def store_for(out: str) -> Store:
    """The store for a local path or URL."""
    scheme = out.split("://", 1)[0] if "://" in out else ""
    return STORES.get(scheme, FsspecStore)(out)


def digest(f: BinaryIO, block: int = 1 << 20) -> tuple[int, str]:
    """(size in bytes, sha256 hex) of everything readable from `f`."""
    import hashlib

    h, n = hashlib.sha256(), 0
    while chunk := f.read(block):
        h.update(chunk)
        n += len(chunk)
    return n, h.hexdigest()
