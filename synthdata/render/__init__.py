"""See synthdata/kernel_cache.py: imported before any kernel of this package is compiled or loaded."""
import synthdata.kernel_cache  # noqa: F401
