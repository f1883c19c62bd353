"""The kernel cache follows every source of the package (synthdata/kernel_cache.py): a kernel that
inlines a helper from another module is compiled again when only the helper changed."""
from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import synthdata
from synthdata import kernel_cache

# a kernel module and the helper it inlines, in a stand-in package the locators answer for
KERNEL = textwrap.dedent("""
    from numba import njit
    from helper import SCALE

    @njit(cache=True)
    def kernel(x):
        return x * SCALE
""")
RUN = textwrap.dedent("""
    import sys
    from pathlib import Path
    from synthdata import kernel_cache
    kernel_cache.ROOT = Path(sys.argv[1]).resolve()
    sys.path.insert(0, sys.argv[1])
    import kernel
    print(kernel.kernel(2), type(kernel.kernel._cache._impl.locator).__name__)
""")


def _run(folder: Path) -> str:
    out = subprocess.run([sys.executable, "-c", RUN, str(folder)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_a_changed_helper_compiles_the_kernel_again(tmp_path):
    (tmp_path / "kernel.py").write_text(KERNEL)
    (tmp_path / "helper.py").write_text("SCALE = 3\n")
    assert _run(tmp_path) == "6 SynthdataInTreeCacheLocator"
    assert list((tmp_path / "__pycache__").glob("kernel.kernel-*.nbi"))      # cached on disk
    assert _run(tmp_path).startswith("6 ")                                    # and loaded
    (tmp_path / "helper.py").write_text("SCALE = 5\n")                         # kernel.py untouched
    assert _run(tmp_path).startswith("10 ")


def test_every_cached_kernel_of_the_package_is_keyed_to_the_package():
    """Each numba dispatcher with an on-disk cache in the package's modules uses a package locator
    (its module's package imports kernel_cache before the kernel is decorated)."""
    seen = 0
    for info in pkgutil.walk_packages(synthdata.__path__, "synthdata."):
        path = Path(synthdata.__path__[0], *info.name.split(".")[1:])
        src = path.with_suffix(".py")
        if info.ispkg or not src.exists() or "cache=True" not in src.read_text():
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            cache = getattr(value, "_cache", None)
            impl = getattr(cache, "_impl", None)
            if impl is not None and getattr(value, "__module__", None) == info.name:
                assert isinstance(impl.locator, kernel_cache.LOCATORS), (info.name, value)
                seen += 1
    assert seen >= 30


def test_the_digest_follows_file_contents(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("X = 1\n")
    monkeypatch.setattr(kernel_cache, "ROOT", tmp_path)
    kernel_cache.package_digest.cache_clear()
    try:
        first = kernel_cache.package_digest()
        (tmp_path / "a.py").write_text("X = 2\n")
        kernel_cache.package_digest.cache_clear()
        assert kernel_cache.package_digest() != first
    finally:
        kernel_cache.package_digest.cache_clear()
