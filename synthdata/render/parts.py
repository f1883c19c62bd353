"""Values of FrameBatch.part besides a primitive's index within its actor (render/renderer.py):
PART_SCENE for the static scene and sky, PART_LENS where something at the lens (a tampering
cover, the burned-in overlay) hides the scene."""
from __future__ import annotations

PART_SCENE, PART_LENS = -1, -2
