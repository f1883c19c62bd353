"""The output folder before a run: resume, refuse or replace (DESIGN.md §5).

A folder belongs to a recipe through the recipe sha256 recorded in its shard markers and
dataset.json (an unreadable marker is a leftover, as the io layer treats it). `prepare_out`
keeps what the same recipe already committed, refuses a folder made from another recipe unless
`overwrite`, and refuses a non-empty folder that holds no synthdata files at all. Only files
named like synthdata's own layout (DESIGN.md §3) are ever removed.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from typing import Any

from synthdata.errors import DatasetError

# The per-shard files synthdata writes into OUT (relative paths); a group holds the index.
SHARD_FILE = re.compile(r"_shards/shard-(\d{6})\.json|videos/shard-(\d{6})\.tar"
                        r"|tables/[a-z_]+/shard-(\d{6})\.parquet")


def normalise_out(out: str) -> str:
    """A URL is kept as given; a local path becomes absolute (workers may run elsewhere)."""
    if "://" in out:
        return out.rstrip("/")
    return os.path.abspath(os.path.expanduser(out))


def open_fs(out: str) -> tuple[Any, str]:
    """(fsspec filesystem, root path inside it) for OUT, through the io layer's store."""
    from synthdata.io.store import store_for

    store = store_for(out)
    if hasattr(store, "fs"):
        return store.fs, store.root
    import fsspec

    return fsspec.filesystem("file"), store.root


def _relative(root: str, path: str) -> str:
    root = root.rstrip("/")
    return path[len(root) + 1:] if path.startswith(root + "/") else path


def _shard_of(rel: str) -> int | None:
    m = SHARD_FILE.fullmatch(rel)
    if not m:
        return None
    index = next((g for g in m.groups() if g is not None), None)
    return int(index) if index is not None else None


def _manifest_sha(fs: Any, root: str) -> str | None:
    """The recipe sha256 in OUT's dataset.json; None when there is none or it is not synthdata's."""
    try:
        sha = json.loads(fs.cat_file(f"{root}/dataset.json")).get("recipe_sha256")
    except Exception:  # noqa: BLE001 - missing or unreadable: not a record of any recipe
        return None
    return sha if isinstance(sha, str) else None


def recorded_shas(out: str) -> set[str]:
    """The recipe hashes OUT's dataset.json and committed shard markers carry (none for a new
    or empty folder)."""
    from synthdata.io import shard as io_shard

    fs, root = open_fs(out)
    if not fs.isdir(root):
        return set()
    top = _manifest_sha(fs, root) if fs.exists(f"{root}/dataset.json") else None
    found = {str(m.get("recipe_sha256")) for m in io_shard.committed_shards(out).values()}
    return found | ({top} if top else set())


def prepare_out(out: str, sha: str, num_shards: int, *, overwrite: bool = False,
                clean: bool = True) -> dict[int, dict]:
    """Make OUT ready for the recipe with hash `sha`; return the markers it already committed.

    Refuses (DatasetError, exit 2) a folder from another recipe unless `overwrite`, which then
    removes that dataset's files (only synthdata's own: dataset.json, recipe.yaml, report.html,
    markers and shard files), an unfinished one of this recipe made by another synthdata version
    unless `overwrite` (which regenerates those shards), a local OUT that cannot be created, and a
    non-empty folder holding no synthdata files. With `clean`, leftovers of
    interrupted commits are removed (never while another run may be writing shards)."""
    from synthdata.io import shard as io_shard

    fs, root = open_fs(out)
    if fs.exists(root) and not fs.isdir(root):
        raise DatasetError(f"--out {out}: is a file, expected a folder")
    if "://" not in out:
        check_can_create(out)
    files = [_relative(root, p) for p in (fs.find(root) if fs.exists(root) else [])]
    top = _manifest_sha(fs, root) if "dataset.json" in files else None
    committed = io_shard.committed_shards(out) if files else {}
    markers = {i: str(m.get("recipe_sha256")) for i, m in committed.items()}
    ours = [rel for rel in files if _shard_of(rel) is not None or rel == "dataset.json" and top]
    if files and not ours and not all(io_shard.is_leftover(rel) for rel in files):
        raise DatasetError(f"--out {out}: the folder is not empty and holds no synthdata dataset "
                           f"({len(files)} files, no dataset.json or _shards/); choose an empty or "
                           f"new folder")
    foreign = sorted({s for s in [top, *markers.values()] if s is not None and s != sha})
    if foreign:
        if not overwrite:
            raise DatasetError(f"--out {out}: holds a dataset made from a different recipe (recipe sha256 "
                               f"{foreign[0][:12]}, this recipe {sha[:12]}); choose another --out or "
                               f"pass --overwrite to replace it")
        _remove_foreign(fs, root, files, sha, top, markers, num_shards)
    stale = _other_version(out, committed, markers, sha, num_shards, overwrite)
    if stale:
        _remove_shards(fs, root, files, stale)
        markers.update({i: "" for i in stale})
    if clean and files:
        io_shard.clean_leftovers(out, committed if not foreign and not stale else None)
    return {i: m for i, m in committed.items() if markers[i] == sha and i < num_shards}


def _other_version(out: str, committed: dict[int, dict], markers: dict[int, str], sha: str, num_shards: int,
                   overwrite: bool) -> set[int]:
    """This recipe's committed shards made by another synthdata version, when shards remain to
    be generated: resuming would mix two versions' output (DESIGN.md §4 promises the same bytes
    only for the same version). Refused unless `overwrite`; then those shards are returned, to be
    regenerated. A finished dataset is left alone (nothing new would be written)."""
    from synthdata import __version__

    ours = {i for i, s in markers.items() if s == sha and i < num_shards}
    stale = {i for i in ours if committed[i].get("synthdata_version") != __version__}
    if not stale or len(ours) == num_shards:
        return set()
    if not overwrite:
        versions = ", ".join(sorted({str(committed[i].get("synthdata_version")) for i in stale}))
        raise DatasetError(f"--out {out}: {len(stale)} of its committed shards were made by synthdata "
                           f"{versions}, this is {__version__}; resuming would mix two versions' output: "
                           f"finish it with synthdata {versions}, or pass --overwrite to regenerate those shards")
    return stale


def _remove_shards(fs: Any, root: str, files: list[str], shards: set[int]) -> None:
    """Remove the files of `shards`, their markers last."""
    doomed = [rel for rel in files if _shard_of(rel) in shards]
    for rel in sorted(doomed, key=lambda r: (r.startswith("_shards/"), r)):
        fs.rm_file(f"{root}/{rel}")


def check_can_create(out: str) -> None:
    """Refuse (DatasetError, exit 2) a local OUT that cannot be created or written, before any
    shard is generated, instead of failing in every shard: a folder is made there and removed
    again. Leaves nothing behind."""
    base = out
    while not os.path.exists(base):
        parent = os.path.dirname(base)
        if parent == base:
            break
        base = parent
    if not os.path.isdir(base):
        raise DatasetError(f"--out {out}: cannot create the folder: {base} is a file, not a folder")
    what = "the folder" if base == out else f"its parent {base}"
    if not os.access(base, os.W_OK | os.X_OK):
        raise DatasetError(f"--out {out}: cannot write into {what} (permission denied)")
    try:        # permissions do not tell everything (root on a read-only or virtual file system)
        os.rmdir(tempfile.mkdtemp(prefix=".synthdata-probe-", dir=base))
    except OSError as e:
        raise DatasetError(f"--out {out}: cannot write into {what} ({e.strerror or e})") from None


def _remove_foreign(fs: Any, root: str, files: list[str], sha: str, top: str | None,
                    markers: dict[int, str], num_shards: int) -> None:
    """Remove the other recipe's files: its dataset.json and recipe.yaml, its markers and the
    files of its shards (and of any shard index beyond this recipe's plan). dataset.json goes
    first and markers last, so an interrupted removal never looks complete and is still
    recognised as the other recipe's."""
    foreign_shards = {i for i, s in markers.items() if s != sha}
    doomed = []
    for rel in files:
        index = _shard_of(rel)
        if index is None:
            if rel in ("dataset.json", "recipe.yaml", "report.html") and top is not None and top != sha:
                doomed.append(rel)
        elif index in foreign_shards or index >= num_shards:
            doomed.append(rel)
    for rel in sorted(doomed, key=lambda r: (r != "dataset.json", r.startswith("_shards/"), r)):
        fs.rm_file(f"{root}/{rel}")
