"""Camera tampering: covered and sprayed lenses change exactly the scheduled frames and keep the
labels true to the pixels; a knocked camera moves the geometry every label is drawn from."""
from __future__ import annotations

import numpy as np
import torch

from synthdata.labels.extents import track_extents
from synthdata.labels.rows import label_chunk
from synthdata.render.renderer import Renderer
from synthdata.render.tamper import COVER_DEPTH_M, apply_tampering, cover_alpha
from synthdata.world.appearance import TamperEntry
from synthdata.world.security.enact import enact
from synthdata.world.security.events import detect_events
from tests.scenes import random_world

COVER = {"kind": "covered", "start_frame": 1, "end_frame": 2, "ramp_frames": 1, "side": "left", "coverage": 0.6,
         "color": "#202020"}
BLUR = {"kind": "blur", "start_frame": 2, "end_frame": 3, "ramp_frames": 1, "strength": 1.0, "color": "#808080"}


def render(world, tamper: bool):
    batch = Renderer(world, "cpu").render(0, world.num_frames)
    if tamper:
        apply_tampering(batch.rgb, world, 0, world.num_frames, batch.instance, batch.depth)
    return batch


def test_cover_changes_only_its_frames_and_clears_the_labels_it_hides():
    world = random_world(3, T=4, width=96, height=64, n_people=5)
    clean = render(world, False)
    world.appearance = world.appearance.with_values(tampering=[COVER])
    got = render(world, True)
    for f in (0, 3):
        assert torch.equal(got.rgb[f], clean.rgb[f]) and torch.equal(got.instance[f], clean.instance[f])
    a, _ = cover_alpha(TamperEntry(**COVER), 1.0, 64, 96, torch.device("cpu"))
    opaque = a >= 0.5
    assert 0.4 < opaque.float().mean() < 0.65
    for f in (1, 2):
        assert not got.instance[f][opaque].any() and torch.all(got.depth[f][opaque] == COVER_DEPTH_M)
        assert torch.equal(got.instance[f][~opaque], clean.instance[f][~opaque])
        assert got.rgb[f][opaque].float().mean() < 40                   # a dark cover
    # a label drawn from the tampered buffers sees only what is left in view
    rows = label_chunk(world, got, "c", track_extents(world))
    for f, tid, x, w in zip(rows["frame"], rows["track_id"], rows["x"], rows["w"]):
        if f in (1, 2) and x is not None:
            cols = np.flatnonzero((got.instance[f] == tid).any(0).numpy())
            assert (x, w) == (float(cols[0]), float(cols[-1] - cols[0] + 1))


def test_spray_blurs_the_scheduled_frames_only():
    world = random_world(4, T=4, width=96, height=64)
    clean = render(world, False)
    world.appearance = world.appearance.with_values(tampering=[BLUR])
    got = render(world, True)
    assert torch.equal(got.rgb[:2], clean.rgb[:2])
    edges = lambda im: (im.float()[:, 1:] - im.float()[:, :-1]).abs().mean()   # noqa: E731
    for f in (2, 3):
        assert edges(got.rgb[f]) < 0.5 * edges(clean.rgb[f])
        assert torch.equal(got.instance[f], clean.instance[f])          # blur hides nothing from labels


def test_knocked_camera_moves_the_geometry_and_is_one_event():
    world = random_world(5, T=12, width=96, height=64)
    entry = {"kind": "moved", "start_frame": 5, "end_frame": 7, "ramp_frames": 3, "pan_deg": 10.0, "tilt_deg": 0.0}
    world.appearance = world.appearance.with_values(tampering=[entry])
    enact(world, None)
    cam = world.camera
    assert cam.R.shape == (12, 3, 3) and not cam.is_static
    uv, _ = cam.project(np.broadcast_to([[0.0, 5.0, 0.0]], (12, 1, 3)))
    u = uv[:, 0, 0]
    assert np.allclose(u[:5], u[0]) and np.allclose(u[8:], u[8]) and abs(u[8] - u[0]) > 5
    assert np.all(np.diff(u[4:8]) != 0) and np.isclose(u[7], u[8])     # turns over frames 5-7 exactly
    # amodal boxes come from the moved camera too
    ext = track_extents(world)
    assert not np.allclose(ext.box[:, 0], ext.box[:, 11], equal_nan=True)
    evs = [e for e in detect_events(world) if e.track_id is None and not e.track_ids]
    got = [(e.type, e.start_frame, e.end_frame, e.attributes["kind"]) for e in evs]
    assert got == [("camera_tamper", 5, 7, "moved")]
