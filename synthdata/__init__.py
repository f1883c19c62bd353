"""synthdata: labelled surveillance-style video from YAML recipes."""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
