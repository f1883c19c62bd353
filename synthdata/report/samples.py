"""Sample frames for the report: labels drawn with the preview's code, zones projected from the
clip's stored camera.

The samples spread evenly over the videos (sorted by clip_id, then camera: a clip with several
cameras has one video per camera); in each, the frame with the most
visible objects (the earliest of equals; the middle frame of a clip without objects). Zones and
tripwires come from the clip's ClipSpec (`params` -> security.zones, ground-plane metres) and are
projected with the frame-0 camera of the clips row, so they are exact for static cameras and
drawn only for those.
"""
from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from synthdata.io.reader import Dataset
from synthdata.render.preview import draw_labels
from synthdata.report.tables import columns, rows

ZONE_COLOR = (255, 200, 0)
TRIPWIRE_COLOR = (0, 230, 255)
DRAW_COLUMNS = ["frame", "track_id", "category", "x", "y", "w", "h", "ax", "ay", "aw", "ah", "keypoints"]
MIN_WIDTH = 320        # narrower frames are enlarged (whole pixels) before labels are drawn
CAMERA_COLUMNS = ["clip_id", "camera", "width", "height", "fx", "fy", "cx", "cy", "k1", "k2", "camera_model", "R",
                  "cam_x", "cam_y", "cam_z", "camera_moves", "params"]


@dataclass
class Sample:
    clip_id: str
    frame: int
    objects: int            # object rows drawn
    zones: int              # zones and tripwires drawn
    image: str              # data: URL of the JPEG
    width: int
    height: int
    camera: str = "cam0"


def pick_frames(con: Any, n: int) -> list[tuple[str, str, int]]:
    """(clip_id, camera, frame) of up to `n` sample frames, spread over the videos."""
    cam = "camera" if "camera" in columns(con, "clips") else "'cam0'"
    clips = rows(con, f"SELECT clip_id, {cam} AS camera, num_frames FROM clips ORDER BY clip_id, camera")
    if not clips or n <= 0:
        return []
    picks = sorted({int(round(i)) for i in np.linspace(0, len(clips) - 1, min(n, len(clips)))})
    chosen = [clips[i] for i in picks]
    best = {(c, v): f for c, v, f in rows(
        con, f"SELECT clip_id, camera, arg_min(frame, -n * 1000000 + frame) FROM "
             f"(SELECT clip_id, {cam} AS camera, frame, count(h) AS n FROM objects WHERE clip_id IN "
             f"(SELECT unnest(?::VARCHAR[])) GROUP BY ALL) GROUP BY clip_id, camera", [[c for c, _, _ in chosen]])}
    return [(c, v, int(best.get((c, v), max(nf, 1) // 2))) for c, v, nf in chosen]


def draw_zones(img: Image.Image, zones: list[dict], camera: Any) -> int:
    """Draw ground-plane zones (closed polygons) and tripwires (lines) with their names; returns
    how many were drawn (those at least partly in front of the camera)."""
    d = ImageDraw.Draw(img)
    drawn = 0
    for z in zones:
        pts = np.asarray(z.get("points") or [], float).reshape(-1, 2)
        if len(pts) < 2:
            continue
        world = np.concatenate([pts, np.zeros((len(pts), 1))], axis=1)
        uv, _ = camera.project(world, 0)
        uv = uv[np.isfinite(uv).all(axis=1)]
        if len(uv) < 2:
            continue
        tripwire = z.get("kind") == "tripwire" or len(pts) == 2
        col = TRIPWIRE_COLOR if tripwire else ZONE_COLOR
        line = [tuple(p) for p in uv] + ([] if tripwire else [tuple(uv[0])])
        d.line(line, fill=col, width=1)
        x, y = uv.mean(axis=0)
        d.text((float(x), float(y)), str(z.get("name", "")), fill=col)
        drawn += 1
    return drawn


def _scale_row(r: dict[str, Any], s: int) -> None:
    """Pixel coordinates of an object row on a frame enlarged `s` times (pixel (i, j) becomes the
    block starting at (s i, s j))."""
    if s == 1:
        return
    for k in ("x", "y", "w", "h", "ax", "ay", "aw", "ah"):
        if r[k] is not None:
            r[k] = r[k] * s
    if r.get("keypoints"):
        r["keypoints"] = [v * s if i % 3 < 2 else v for i, v in enumerate(r["keypoints"])]


def _camera(row: dict[str, Any], scale: int = 1) -> Any:
    """The clip's frame-0 camera; with `scale`, for the frame enlarged that many times."""
    from synthdata.world.geometry.camera import Camera

    R = np.asarray(row["R"], float).reshape(1, 3, 3)
    C = np.array([[row["cam_x"], row["cam_y"], row["cam_z"]]], float)
    return Camera(int(row["width"]) * scale, int(row["height"]) * scale, np.array([row["fx"] * scale], float),
                  np.array([row["fy"] * scale], float), float(row["cx"]) * scale, float(row["cy"]) * scale, R, C,
                  float(row["k1"] or 0.0), float(row["k2"] or 0.0), row["camera_model"] or "pinhole")


def _zones(row: dict[str, Any]) -> list[dict]:
    try:
        spec = json.loads(row.get("params") or "{}")
    except ValueError:
        return []
    security = spec.get("security") if isinstance(spec, dict) else None
    zones = security.get("zones") if isinstance(security, dict) else None
    return zones if isinstance(zones, list) else []


def render_sample(ds: Dataset, clip_id: str, frame: int, *, max_width: int = 480,
                  camera: str | None = None) -> Sample:
    """One sample frame (of `camera`'s video) with labels and (static camera) zones drawn, as an
    embedded JPEG."""
    import pyarrow.compute as pc

    camera = ds.view_info(clip_id, camera)["camera"]
    rgb = ds.read_frames(clip_id, frame, frame + 1, camera=camera)[0]
    table = ds.objects_for(clip_id, columns=DRAW_COLUMNS, camera=camera)
    table = table.filter(pc.equal(table["frame"], frame))
    objects = table.to_pylist()
    scale = int(np.clip(np.ceil(MIN_WIDTH / rgb.shape[1]), 1, 8))   # small frames: labels stay legible
    if scale > 1:
        rgb = np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)
    for r in objects:
        if r["x"] is not None and (r["w"] is None or r["h"] is None):
            r["x"] = None
        _scale_row(r, scale)
    img = draw_labels(rgb, objects)
    zones = 0
    clip = _clip_row(ds, clip_id, camera)
    if clip is not None and not clip.get("camera_moves") and clip.get("R") is not None:
        zones = draw_zones(img, _zones(clip), _camera(clip, scale))
    if img.width > max_width:
        img = img.resize((max_width, round(img.height * max_width / img.width)), Image.BILINEAR)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=85)
    url = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return Sample(clip_id, frame, len(objects), zones, url, img.width, img.height, camera)


def _clip_row(ds: Dataset, clip_id: str, camera: str) -> dict[str, Any] | None:
    import pyarrow.compute as pc

    names = set(ds.clips.schema.names)
    cols = [c for c in CAMERA_COLUMNS if c in names]
    t = [r for r in ds.clips.to_table(columns=cols, filter=pc.field("clip_id") == clip_id).to_pylist()
         if r.get("camera", camera) == camera]
    if not t or not {"fx", "cam_x", "R"} <= names:
        return None
    return t[0]
