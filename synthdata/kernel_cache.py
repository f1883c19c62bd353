"""numba's on-disk kernel cache, kept fresh against every source file of the package.

numba keys a cached kernel to the file that defines it (its modification time and size) alone.
The package's kernels inline maths from other modules (render/pixel.py, render/hit_shading.py,
world/types.py constants, ...), so after an edit or a `git pull` that changed only those, numba
would load the old machine code and render what the old sources said, silently. Here every
synthdata kernel's cache entry is also keyed to a digest of the contents of all the package's
Python files: a change anywhere compiles the kernels again (once; the first-run message says so)
and otherwise nothing changes. Kernels of other packages keep numba's own keys.

`install()` runs when this module is imported; the packages whose modules define cached kernels
(world, render, labels, refine) import it first, before any kernel is decorated.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from numba.core import caching

ROOT = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def package_digest() -> str:
    """sha256 over the relative path and the bytes of every .py file of the package (a few ms)."""
    h = hashlib.sha256()
    for f in sorted(ROOT.rglob("*.py")):
        h.update(str(f.relative_to(ROOT)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _inside(py_file: str) -> bool:
    try:
        Path(py_file).resolve().relative_to(ROOT)
    except (OSError, ValueError):
        return False
    return True


def _keyed(base: type) -> type:
    """A subclass of numba's cache locator `base` for the package's own files, whose source stamp
    adds the package digest (numba compares stamps with ==, so a tuple serves)."""
    class Locator(base):
        @classmethod
        def from_function(cls, py_func, py_file):
            if not _inside(py_file):
                return None
            return super().from_function(py_func, py_file)

        def get_source_stamp(self):
            return (super().get_source_stamp(), package_digest())

    Locator.__name__ = Locator.__qualname__ = "Synthdata" + base.__name__
    return Locator


LOCATORS = tuple(_keyed(b) for b in (caching.UserProvidedCacheLocator, caching.InTreeCacheLocator,
                                      caching.UserWideCacheLocator))


def install() -> None:
    """Put the package's locators first in numba's list (once): they answer for the package's
    files in numba's own order (NUMBA_CACHE_DIR, then the source tree, then the user's cache)."""
    classes = caching.CacheImpl._locator_classes
    if not any(c in LOCATORS for c in classes):
        classes[:0] = LOCATORS


install()
