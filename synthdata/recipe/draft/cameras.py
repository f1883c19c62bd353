"""Several cameras from words ("three cameras", "2 ptz cameras", "several views"): the drafted
camera, copied into `scene.cameras` and spread along the layout's near edge (mapping.py calls it
once the camera is drafted)."""
from __future__ import annotations

from synthdata.recipe.draft.builder import Builder
from synthdata.recipe.draft.grammar import Reading

MAX_CAMERAS, SPREAD_PAN_DEG = 8, 35.0       # "N cameras": at most this many, the ends turned this far inwards


def spread_cameras(b: Builder, r: Reading, ignored: list) -> None:
    """"three cameras": `scene.cameras`, each the drafted camera, spread along the near edge
    (lateral -0.8..0.8) and turned towards the middle, in place of `scene.camera`."""
    said = r.cameras
    if said is None or said.value < 2:
        return
    if b.get(("scene", "cameras")) is not None:
        ignored.append((said.words, "the recipe already lists its cameras (scene.cameras); edit them there"))
        return
    n = min(said.value, MAX_CAMERAS)
    if n != said.value:
        b.warn(f"'{said.words}': a draft spreads at most {MAX_CAMERAS} cameras; using {MAX_CAMERAS}")
    base = b.get(("scene", "camera")) or {}
    old = {path[2]: note for path, note in b.notes.items() if path[:2] == ("scene", "camera") and len(path) == 3}
    b.notes = {path: note for path, note in b.notes.items() if path[:2] != ("scene", "camera")}
    cams = []
    for i in range(n):
        lateral = round(-0.8 + 1.6 * i / (n - 1), 2)
        cam = {"name": f"cam{i}", **{k: v for k, v in base.items() if k not in ("lateral", "pan_deg")},
               "lateral": lateral, "pan_deg": round(-SPREAD_PAN_DEG * lateral)}
        cams.append(cam)
        at = ("scene", "cameras", i)
        b.notes[at + ("name",)] = f"from '{said.words}'"
        for key, note in old.items():
            if key in cam and key not in ("lateral", "pan_deg"):
                b.notes[at + (key,)] = note
        b.notes[at + ("lateral",)] = "default: spread along the near edge"
        b.notes[at + ("pan_deg",)] = "default: turned towards the middle"
    scene = b.get(("scene",))        # `cameras` where `camera` was
    b.data["scene"] = {("cameras" if k == "camera" else k): (cams if k == "camera" else v) for k, v in scene.items()}
    if "cameras" not in b.data["scene"]:
        b.data["scene"]["cameras"] = cams
