"""Importing OpenCV with an install hint when it is missing."""
from __future__ import annotations

from typing import Any

from synthdata.errors import BadInput


def cv2() -> Any:
    """The cv2 module, or BadInput telling the user how to install it."""
    try:
        import cv2 as _cv2
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise BadInput("the plate commands need OpenCV: pip install 'synthdata[plate]' "
                       f"(or opencv-python-headless<5); import failed: {e}") from None
    return _cv2
