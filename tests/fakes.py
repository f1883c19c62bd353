"""Small synthetic clips and datasets whose labels match their pixels, made without the renderer.

For tests of writers, readers, datasets and exporters: `fake_clip` paints two rectangles (a
"person" drawn over a "car") on a background whose stripe moves with the frame index, builds an
instance buffer from the same rectangles and derives every label from it (visible box = extent
of the instance's pixels, COCO RLE mask, visibility = visible / amodal pixels). The car is
hidden in the clip's last frame (null visible box and mask). `write_fake_dataset` commits a
whole dataset through ShardWriter and finalize_dataset. Test helpers, not part of the package.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from synthdata.io import rle
from synthdata.io.contract import dumps

PERSON, CAR = 1, 2
COLORS = {PERSON: (220, 40, 40), CAR: (40, 60, 220)}


def _amodal(track: int, index: int, frame: int, width: int, height: int) -> tuple[int, int, int, int]:
    """Integer amodal box (x, y, w, h) of a track; the person walks right, the car drives left
    and leaves the image on the left edge."""
    if track == PERSON:
        return 2 + 3 * frame + index % 3, 4, 10, height // 2 + 6
    return width - 24 - 5 * frame, height - 18, 16, 12


def fake_frames(index: int, *, width: int = 64, height: int = 48,
                num_frames: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """(frames (T, H, W, 3) uint8 RGB, instance ids (T, H, W) int32; 0 = background)."""
    frames = np.empty((num_frames, height, width, 3), np.uint8)
    ids = np.zeros((num_frames, height, width), np.int32)
    ramp = np.linspace(20, 120, width, dtype=np.float32)[None, :]
    for f in range(num_frames):
        frames[f] = np.stack([ramp + 10 * (index % 5), ramp * 0 + 90, 140 - ramp / 2], -1).astype(np.uint8)
        x = (7 * f) % max(1, width - 4)
        frames[f, :, x:x + 4] = (250, 250, 120)            # the frame's stripe
        hidden_car = f == num_frames - 1
        for track in (CAR, PERSON):                          # the person is drawn over the car
            if track == CAR and hidden_car:
                continue
            ax, ay, aw, ah = _amodal(track, index, f, width, height)
            x0, y0, x1, y1 = max(ax, 0), max(ay, 0), min(ax + aw, width), min(ay + ah, height)
            if x1 > x0 and y1 > y0:
                frames[f, y0:y1, x0:x1] = COLORS[track]
                ids[f, y0:y1, x0:x1] = track
    return frames, ids


def fake_objects(index: int, clip_id: str, ids: np.ndarray, *, masks: bool = True) -> list[dict[str, Any]]:
    """Object rows (sorted by frame, track_id) derived from the instance buffer `ids`."""
    rows = []
    num_frames, height, width = ids.shape
    for f in range(num_frames):
        for track in (PERSON, CAR):
            ax, ay, aw, ah = _amodal(track, index, f, width, height)
            m = ids[f] == track
            vis_px = int(m.sum())
            ext = rle.extent(rle.encode(m)) if vis_px else None
            inside = max(0, min(ax + aw, width) - max(ax, 0)) * max(0, min(ay + ah, height) - max(ay, 0))
            kp = None
            if track == PERSON:
                kp = [v for j in range(17) for v in (ax + 1 + (j % 4) * 2.0, ay + 1 + j * 1.0, 2.0)]
            rows.append({
                "clip_id": clip_id, "frame": f, "track_id": track,
                "category": "person" if track == PERSON else "car",
                "x": ext and ext[0], "y": ext and ext[1], "w": ext and ext[2], "h": ext and ext[3],
                "ax": ax, "ay": ay, "aw": aw, "ah": ah,
                "visibility": vis_px / (aw * ah), "truncation": 1 - inside / (aw * ah),
                "depth": 8.0 + 4 * track, "keypoints": kp,
                "mask": rle.encode(m) if masks and vis_px else None,
                "world_x": 0.5 * f, "world_y": float(track), "world_z": 0.0, "heading": 0.0,
                "visible_pixels": vis_px, "amodal_pixels": aw * ah,
            })
    return rows


def _columns(rows: list[dict]) -> dict[str, list]:
    keys = rows[0].keys() if rows else ()
    return {k: [r[k] for r in rows] for k in keys}


def fake_clip(index: int, *, name: str = "fake", width: int = 64, height: int = 48, num_frames: int = 6,
              fps: float = 12.5, chunk_frames: int = 4, masks: bool = True, device: str = "cpu",
              rider: bool = False) -> Any:
    """A ClipRecord for clip `index` whose frames arrive as torch tensors on `device`; with
    `rider`, the person's track says it rides the car (tracks attribute `riding_track_id`)."""
    import torch

    from synthdata.io.records import ClipRecord, FrameChunk

    cid = f"{name}-{index:06d}"
    frames, ids = fake_frames(index, width=width, height=height, num_frames=num_frames)
    objects = fake_objects(index, cid, ids, masks=masks)
    row = {
        "clip_id": cid, "width": width, "height": height, "fps": fps, "num_frames": num_frames,
        "seed": 1000 + index, "params": dumps({"index": index, "name": name}),
        "fx": 50.0, "fy": 50.0, "cx": width / 2, "cy": height / 2, "k1": 0.0, "k2": 0.0,
        "camera_model": "pinhole", "R": [1.0, 0, 0, 0, 1, 0, 0, 0, 1], "t": [0.0, 0.0, 6.0],
        "cam_x": 0.0, "cam_y": -2.0, "cam_z": 6.0, "layout": "street", "time_of_day": "day",
        "weather": "clear", "sun_elevation_deg": 45.0,
    }
    person_attrs = {"shirt": "red", **({"riding_track_id": CAR} if rider else {})}
    tracks = [{"track_id": PERSON, "category": "person", "first_frame": 0, "last_frame": num_frames - 1,
               "attributes": dumps(person_attrs), "height_m": 1.7},
              {"track_id": CAR, "category": "car", "first_frame": 0, "last_frame": num_frames - 1,
               "attributes": "{}"}]
    events = [{"event_id": 0, "type": "enter", "track_id": PERSON, "track_ids": [PERSON], "zone": "door",
               "start_frame": 0, "end_frame": min(1, num_frames - 1), "attributes": "{}"}]
    if index % 2:
        events.append({"event_id": 1, "type": "group", "track_id": None, "track_ids": [PERSON, CAR],
                       "zone": None, "start_frame": 0, "end_frame": num_frames - 1, "attributes": "{}"})

    def chunks() -> Iterator[Any]:
        for start in range(0, num_frames, chunk_frames):
            stop = min(start + chunk_frames, num_frames)
            part = [r for r in objects if start <= r["frame"] < stop]
            yield FrameChunk(start, torch.from_numpy(frames[start:stop]).to(device), _columns(part))

    return ClipRecord(cid, row, tracks, events, chunks(), {"render": 0.001 * num_frames})


def fake_recipe(*, name: str = "fake", clips: int = 4, clips_per_shard: int = 2, num_frames: int = 6,
                fps: float = 12.5, width: int = 64, height: int = 48, masks: bool = True) -> Any:
    from synthdata.recipe.schema import Recipe

    return Recipe.model_validate({"name": name, "seed": 7, "output": {
        "clips": clips, "clips_per_shard": clips_per_shard, "frames_per_clip": num_frames, "fps": fps,
        "resolution": [width, height], "masks": masks, "video": {"gop": 4}}})


def write_fake_dataset(out: str, *, rider: bool = False, **kw: Any) -> dict[str, Any]:
    """Write and finalize a fake dataset (keywords as `fake_recipe`, `rider` as `fake_clip`);
    returns the manifest."""
    from synthdata.pipeline import finalize_dataset, shard_writer
    from synthdata.plan import plan

    recipe = fake_recipe(**kw)
    o = recipe.output
    markers = {}
    for spec in plan(recipe):
        with shard_writer(out, spec, recipe) as w:
            for i in spec.clip_indices:
                w.add_clip(fake_clip(i, name=recipe.name, width=o.resolution[0], height=o.resolution[1],
                                     num_frames=o.frames_per_clip, fps=o.fps, masks=o.masks, rider=rider))
            markers[spec.index] = w.commit()
    return finalize_dataset(out, recipe, markers, {"wall_s": 0.0})
