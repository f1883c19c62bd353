"""Importing OpenCV with an install hint when it is missing."""
from __future__ import annotations

import os
from typing import Any

from synthdata.errors import BadInput


def cv2() -> Any:
    """The cv2 module, or BadInput telling the user how to install it."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")      # FFmpeg's own chatter off: errors are ours
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    try:
        import cv2 as _cv2
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise BadInput("the plate commands need OpenCV: pip install 'synthdata[plate]' "
                       f"(or opencv-python-headless<5); import failed: {e}") from None
    return _cv2
