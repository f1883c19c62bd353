"""Each camera/weather effect changes pixels the way it claims, leaves labels alone, and is
deterministic and independent of how a clip is cut into chunks."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from synthdata.render.effects import Effects, exposure_factors
from synthdata.render.overlay import INK, OUTLINE, block_mask, overlay_lines
from synthdata.render.renderer import Renderer
from synthdata.render.shading import tonemap, untonemap_lut
from synthdata.world.appearance import Appearance
from synthdata.world.types import Actor, Lighting, PointLight, World
from tests.scenes import box_body, random_world

W, H = 96, 64


def make(seed: int = 0, T: int = 2, *, people: int = 3, boxes: int = 1, **appearance) -> World:
    w = random_world(seed, T=T, width=W, height=H, n_people=people, n_boxes=boxes)
    w.appearance = Appearance().with_values(**{"sensor_gain": 0.0, "effects_seed": 5, **appearance})
    return w


def night(w: World, lights=()) -> World:
    w.lighting = Lighting("night", (0.3, -0.4, 0.87), (0.6, 0.7, 1.0), 0.03, (0.3, 0.35, 0.5), 0.05,
                          (0.004, 0.006, 0.015), (0.025, 0.03, 0.045), 3.0, list(lights), shadows=False)
    return w


def render(w: World, start: int = 0, stop: int | None = None):
    return Renderer(w, "cpu").render(start, w.num_frames if stop is None else stop)


def lum(rgb: torch.Tensor) -> np.ndarray:
    return rgb.float().numpy() @ np.array([0.2126, 0.7152, 0.0722])


def test_tone_curve_round_trip_is_exact():
    assert torch.equal(tonemap(untonemap_lut("cpu"), 1.0).long(), torch.arange(256))


def test_fog_pulls_far_pixels_towards_the_fog_colour():
    clear, foggy = render(make()), render(make(fog_visibility_m=30.0))
    air = tonemap(Effects(make(), "cpu").air, 1.0).float().numpy()
    depth = clear.depth[0].numpy()
    d0 = np.abs(clear.rgb[0].float().numpy() - air).sum(-1)
    d1 = np.abs(foggy.rgb[0].float().numpy() - air).sum(-1)
    ok = d0 > 12
    near, far = ok & (depth < 14), ok & (depth > 22) & np.isfinite(depth)
    assert near.sum() > 20 and far.sum() > 20
    assert (d1[far] / d0[far]).mean() < 0.6 * (d1[near] / d0[near]).mean()
    assert np.abs(foggy.rgb[0].float().numpy()[~np.isfinite(depth)] - air).max() <= 1   # sky is all fog
    assert torch.equal(clear.instance, foggy.instance)


def test_near_infrared_is_monochrome_even_with_every_effect_on():
    w = night(make(T=3, nir=True, ir_range_m=20.0, sensor_gain=8.0, rain_intensity=0.8, wetness=1.0, puddles=0.5,
                   overlay=True, vignetting=0.4, lens_dirt=0.5, raindrops=6, defocus_px=2.0, shutter=0.8,
                   fog_visibility_m=60.0, vehicle_lights=True),
              [PointLight((2.0, 6.0, 5.0), (1.0, 0.7, 0.4), 20.0, 20.0)])
    rgb = render(w).rgb
    assert torch.equal(rgb[..., 0], rgb[..., 1]) and torch.equal(rgb[..., 1], rgb[..., 2])
    assert rgb.float().std() > 5                                  # not a flat grey frame


def _person_only(nir: bool) -> World:
    w = make(people=1, boxes=0)
    w.actors[0].shapes.color[:5] = 0.03                          # black clothing (material cloth)
    w.static = w.static.__class__.empty()
    if nir:
        night(w)
        w.appearance = w.appearance.with_values(nir=True, ir_range_m=30.0)
    return w


def test_dark_clothing_is_dark_by_day_and_bright_in_near_infrared():
    for nir, brighter in ((False, False), (True, True)):
        b = render(_person_only(nir))
        inst, y = b.instance[0].numpy(), lum(b.rgb[0])
        person = inst == 1
        ys, xs = np.nonzero(person)
        ring = np.zeros_like(person)
        ring[max(ys.min() - 4, 0):ys.max() + 5, max(xs.min() - 4, 0):xs.max() + 5] = True
        ground = ring & ~person & np.isfinite(b.depth[0].numpy())
        assert (np.median(y[person]) > np.median(y[ground])) == brighter, nir


def test_retroreflective_returns_the_illuminator_and_light_falls_off_with_distance():
    w = night(make(people=0, boxes=0, nir=True, ir_range_m=25.0))
    w.static = w.static.__class__.empty()
    cars = [box_body(2, [x, 6.0, 0], [0, 0, 0], half=(0.6, 0.3, 0.4), color=(0.3, 0.3, 0.3)) for x in (-1.5, 1.5)]
    cars[1].material[:] = 8                                      # retroreflective
    w.actors = [Actor(i + 1, "car", s, np.zeros((2, 3)), np.zeros(2), np.ones(2, bool)) for i, s in enumerate(cars)]
    b = render(w)
    inst, y, depth = b.instance[0].numpy(), lum(b.rgb[0]), b.depth[0].numpy()
    assert y[inst == 2].mean() > 1.5 * y[inst == 1].mean()
    ground = (inst == 0) & np.isfinite(depth)
    assert y[ground & (depth < 10)].mean() > 1.5 * y[ground & (depth > 20)].mean()


def test_vignetting_darkens_corners_not_the_centre():
    plain, vig = lum(render(make(T=1)).rgb[0]), lum(render(make(T=1, vignetting=0.6)).rgb[0])
    corners = [(slice(0, 6), slice(0, 6)), (slice(0, 6), slice(-6, None)), (slice(-6, None), slice(0, 6)),
               (slice(-6, None), slice(-6, None))]
    for c in corners:
        assert vig[c].mean() < 0.9 * plain[c].mean()
    centre = (slice(H // 2 - 3, H // 2 + 3), slice(W // 2 - 3, W // 2 + 3))
    assert vig[centre].mean() > 0.95 * plain[centre].mean()


def test_sensor_noise_grows_with_gain_and_differs_per_frame():
    clean = render(make(T=2)).rgb.float()
    spread = {}
    for g in (1.0, 16.0):
        noisy = render(make(T=2, sensor_gain=g)).rgb.float()
        spread[g] = (noisy - clean).std().item()
        if g == 16.0:
            d = noisy - clean
            assert not torch.equal(d[0], d[1])                    # fresh noise every frame
    assert 0 < spread[1.0] < 0.5 * spread[16.0]


def test_overlay_burns_the_running_timestamp_and_name_and_occludes():
    start = "2024-05-17 09:59:59"
    w = make(T=11, overlay=True, camera_name="GATE 2", overlay_start=start)
    r = Renderer(w, "cpu")
    first, later = r.render(0, 1), r.render(10, 11)
    for b, frame in ((first, 0), (later, 10)):
        ink, edge = block_mask(overlay_lines(start, "GATE 2", frame, w.fps), 1)
        ink, edge = ink[:H - 2, :W - 2], edge[:H - 2, :W - 2]          # cropped to the frame
        h, wd = ink.shape
        region = b.rgb[0, 2:2 + h, 2:2 + wd, 0].numpy()
        assert (region[ink] == INK).all() and (region[edge] == OUTLINE).all()
        assert (b.instance[0, 2:2 + h, 2:2 + wd].numpy()[ink | edge] == 0).all()
    assert overlay_lines(start, "GATE 2", 10, 10.0)[0] == "2024-05-17 10:00:00"
    assert not torch.equal(first.rgb[0, 2:12, 66:90], later.rgb[0, 2:12, 66:90])   # the hour digits


def _mover(**appearance) -> World:
    w = make(people=0, boxes=0, **appearance)
    w.static = w.static.__class__.empty()
    sh = box_body(2, [-2.0, 5.0, 0], [0.8, 0, 0], half=(1.0, 0.5, 0.6), color=(0.9, 0.85, 0.1))
    w.actors = [Actor(1, "car", sh, np.zeros((2, 3)), np.zeros(2), np.ones(2, bool))]
    return w


def test_motion_blur_smears_movers_along_their_motion_only():
    sharp, blurred = render(_mover()), render(_mover(shutter=1.0))
    assert torch.equal(sharp.instance, blurred.instance)
    changed = (sharp.rgb[0].int() - blurred.rgb[0].int()).abs().sum(-1).numpy() > 6
    ys, xs = np.nonzero(sharp.instance[0].numpy() == 1)
    assert changed.sum() > 20
    cy, cx = np.nonzero(changed)
    assert cy.min() >= ys.min() - 2 and cy.max() <= ys.max() + 2          # along x, not up/down
    assert cx.min() < xs.min() or cx.max() > xs.max()                       # smeared past its edges
    assert cx.min() >= xs.min() - 20 and cx.max() <= xs.max() + 20


def test_defocus_blurs_depths_away_from_focus():
    def detail(rgb, sel):
        g = lum(rgb)
        return np.abs(np.diff(g, axis=1))[sel[:, :-1]].mean()
    base = render(make(T=1))
    far = (base.depth[0].numpy() > 20) & np.isfinite(base.depth[0].numpy())
    near_focus = render(make(T=1, defocus_px=3.0, focus_m=4.0))
    far_focus = render(make(T=1, defocus_px=3.0, focus_m=float(np.median(base.depth[0].numpy()[far]))))
    assert detail(near_focus.rgb[0], far) < 0.6 * detail(base.rgb[0], far)
    assert detail(far_focus.rgb[0], far) > detail(near_focus.rgb[0], far)


def test_rain_streaks_and_snow_flakes_are_light_and_fall():
    dry = render(make(T=2))
    for key in ("rain_intensity", "snow_intensity"):
        wet = render(make(T=2, **{key: 1.0}))
        assert torch.equal(dry.instance, wet.instance)
        d = lum(wet.rgb) - lum(dry.rgb)
        assert (d > 4).sum() > 50 and d[np.abs(d) > 4].mean() > 0
        assert not np.array_equal(d[0] > 4, d[1] > 4)                      # particles move


def test_wet_ground_is_darker_but_mirrors_lights_and_snow_covers_it():
    lamp = [PointLight((0.0, 8.0, 4.0), (1.0, 0.8, 0.6), 25.0, 30.0)]
    dry, wet = render(night(make(T=1), lamp)), render(night(make(T=1, wetness=1.0, puddles=0.3), lamp))
    ground = (dry.instance[0].numpy() == 0) & np.isfinite(dry.depth[0].numpy())
    d = lum(wet.rgb[0]) - lum(dry.rgb[0])
    assert np.median(d[ground]) < 0 and d[ground].max() > 25             # darker, with bright glints
    day, snowy = render(make(T=1)), render(make(T=1, snow_cover=1.0))
    assert lum(snowy.rgb[0])[ground].mean() > 1.4 * lum(day.rgb[0])[ground].mean()


def test_vehicle_lights_light_the_road_ahead_and_glow_red_behind():
    from tests.scenes import lit_vehicle
    def world(on: bool) -> World:
        w = night(make(T=2, people=0, boxes=0, vehicle_lights=on))
        w.static = w.static.__class__.empty()
        sh = lit_vehicle(2, [-4.0, 6.0, 0], [0.3, 0, 0])
        w.actors = [Actor(1, "car", sh, np.array([[-4.0, 6.0, 0], [-3.7, 6.0, 0]]), np.zeros(2), np.ones(2, bool))]
        return w
    off, on = render(world(False)), render(world(True))
    uv = np.stack(np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5), -1)
    g = off.instance[0].numpy() == 0
    gp = world(False).camera.ground_point(uv)
    dx = gp[..., 0] - (-4.0)
    lane = np.abs(gp[..., 1] - 6.0) < 1.5
    ahead, behind = g & lane & (dx > 4) & (dx < 12), g & lane & (dx < -2.5) & (dx > -4)
    gain = lum(on.rgb[0]) - lum(off.rgb[0])
    assert ahead.sum() > 10 and gain[ahead].mean() > 20 and gain[ahead].mean() > 3 * max(gain[behind].mean(), 1)
    red = on.rgb[0].float().numpy() - off.rgb[0].float().numpy()
    assert red[behind][:, 0].mean() > red[behind][:, 1].mean() + 1
    assert torch.equal(off.instance, on.instance)


def test_kept_scratch_of_motion_blur_and_light_pools_is_left_clean():
    """Motion blur's and the light pools' whole-frame scratch is the thread's, kept from call to
    call (render/planes.py `kept`): after a render it is as it was made (zeros, -1), and a scene
    rendered after others gives the frames it gives alone in a fresh thread."""
    from concurrent.futures import ThreadPoolExecutor

    from synthdata.render import planes
    from tests.scenes import lit_vehicle

    def lit(shutter: float) -> World:
        w = night(make(T=2, people=2, boxes=0, vehicle_lights=True, shutter=shutter))
        sh = lit_vehicle(2, [-4.0, 6.0, 0], [0.3, 0, 0])
        w.actors = w.actors + [Actor(9, "car", sh, np.array([[-4.0, 6.0, 0], [-3.7, 6.0, 0]]), np.zeros(2),
                                     np.ones(2, bool))]
        return w

    def alone() -> torch.Tensor:
        return render(_mover(shutter=1.0)).rgb.clone()

    def after_others():
        first = [render(w).rgb.clone() for w in (lit(0.5), _mover(shutter=0.6), lit(1.0))]
        frames = render(_mover(shutter=1.0)).rgb.clone()
        kept = planes._local.__dict__["kept"]
        best, src, _, _, _, row_m, _, _, _ = kept["motion_blur"][1]
        return first, frames, best, src, row_m, kept["light_pools"][1][0]

    with ThreadPoolExecutor(1) as a, ThreadPoolExecutor(1) as b:
        want = a.submit(alone).result()
        first, got, best, src, row_m, acc = b.submit(after_others).result()
    assert torch.equal(got, want)
    # (src[..., 1], the column, is read only where the row src[..., 0] is set)
    assert not best.any() and (src[..., 0] == -1).all() and not row_m.any() and not acc.any()
    assert not torch.equal(first[0], first[2])          # the shutters differ: each call really blurred


def test_auto_exposure_lags_behind_a_light_change():
    f = exposure_factors([[3, 2.0]], 30, 10.0, 0.5)
    assert np.allclose(f[:3], 1) and f[3] > 2.5 and np.all(np.diff(f[3:]) < 0) and f[-1] < 1.1
    assert np.allclose(exposure_factors([[3, 2.0]], 30, 10.0, 0.0), 1)   # instant adaptation
    b = render(make(T=12, light_schedule=[[3, 2.0]], auto_exposure_s=0.5))
    m = lum(b.rgb).reshape(12, -1).mean(1)
    assert m[3] > 1.3 * m[2] and abs(m[11] - m[2]) < 0.3 * (m[3] - m[2])


def test_lens_dirt_and_raindrops_are_fixed_on_the_glass():
    clean = render(make(T=2))
    for key, value in (("lens_dirt", 1.0), ("raindrops", 12)):
        dirty = render(make(T=2, **{key: value}))
        assert torch.equal(clean.instance, dirty.instance)
        d = (dirty.rgb.int() - clean.rgb.int()).abs().sum(-1).numpy() > 6
        assert d[0].sum() > 30
        if key == "raindrops":
            assert (d[0] == d[1]).mean() > 0.95                              # same drops in every frame


@pytest.mark.parametrize("seed", [2])
def test_everything_on_is_deterministic_and_chunking_does_not_matter(seed):
    app = {"sensor_gain": 6.0, "shutter": 0.7, "vignetting": 0.3, "defocus_px": 1.5, "raindrops": 5, "lens_dirt": 0.4,
               "rain_intensity": 0.5, "snow_intensity": 0.3, "wetness": 0.7, "puddles": 0.3, "fog_visibility_m": 80.0,
               "overlay": True, "light_schedule": [[1, -1.0]], "shake_deg": 0.5, "vehicle_lights": True}
    from synthdata.world.geometry.camera_motion import apply_camera_motion
    def world():
        w = make(seed, T=3, **app)
        w.camera = apply_camera_motion(w.camera, w.appearance, 3, w.fps)
        return w
    whole = render(world())
    again = render(world())
    assert torch.equal(whole.rgb, again.rgb) and torch.equal(whole.instance, again.instance)
    r = Renderer(world(), "cpu")
    parts = [r.render(0, 1), r.render(1, 3)]
    assert torch.equal(whole.rgb, torch.cat([p.rgb for p in parts]))
    assert torch.equal(whole.instance, torch.cat([p.instance for p in parts]))


def test_each_light_is_summed_only_where_it_can_reach_and_nothing_is_lost(monkeypatch):
    """Per-light windows (the box of a head light's cone, a tail light's range, cut to the tiles of
    receiving points in reach) give exactly the pixels of summing every light over the whole
    frame; the boxes hold the cone."""
    from synthdata.render import raster
    from synthdata.render import shadow_windows
    from tests.scenes import lit_vehicle
    w = night(make(T=2, people=0, boxes=0, vehicle_lights=True, sensor_gain=0.0))
    w.static = w.static.__class__.empty()
    w.actors = [Actor(i + 1, "car", lit_vehicle(2, [x, y, 0], [0.3, 0.1, 0], yaw=yaw),
                      np.array([[x, y, 0], [x + 0.3, y + 0.1, 0]]), np.full(2, yaw), np.ones(2, bool))
                for i, (x, y, yaw) in enumerate([(-4.0, 6.0, 0.0), (3.0, 12.0, 2.5), (0.0, 3.0, -1.2)])]
    fast = render(w)
    huge = lambda pos, axis, reach, cos: raster._CUBE[None] * 1e4 * np.ones((len(reach), 1, 3))
    monkeypatch.setattr(shadow_windows, "light_reach_boxes", huge)
    everywhere = lambda centre, radius, pos, *rest: np.tile([0, 0, w.width, w.height], (len(pos), 1))
    monkeypatch.setattr(shadow_windows, "reach_windows", everywhere)       # nor the tiles in reach
    assert torch.equal(fast.rgb, render(w).rgb)
    monkeypatch.undo()
    tiles = raster.receiver_tiles(np.zeros((20, 20, 3)) + [1.0, 2.0, 0.0], np.ones((20, 20), bool))
    win = raster.reach_windows(*tiles, np.array([[1.0, 2.0, 5.0], [1.0, 2.0, 30.0], [1.0, 2.0, 5.0]]),
                               np.array([6.0, 6.0, 6.0]), np.array([[0, 0, -1.0], [0, 0, -1.0], [0, 0, 1.0]]),
                               np.array([-1.0, -1.0, 0.5]), 20, 20)
    assert win.tolist() == [[0, 0, 20, 20], [0, 0, 0, 0], [0, 0, 0, 0]]    # in reach; too far; cone turned away
    w.appearance = w.appearance.with_values(vehicle_lights=False)
    assert (fast.rgb.int() - render(w).rgb.int()).abs().sum(-1).gt(20).sum() > 200     # the pools are there
    # a spot light's box holds its cone: random points inside the cone and in range lie inside
    rng = np.random.default_rng(0)
    axis = np.array([[0.9, 0.2, -0.12]])
    axis /= np.linalg.norm(axis)
    box = raster.light_reach_boxes(np.array([[1.0, 2.0, 0.7]]), axis, np.array([40.0]), np.array([np.cos(0.6)]))[0]
    v = rng.normal(size=(20000, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    pts = np.array([1.0, 2.0, 0.7]) + v * rng.uniform(0, 40, (20000, 1))
    inside = (v @ axis[0] >= np.cos(0.6)) & (pts[:, 2] >= 0)
    assert inside.sum() > 100
    assert np.all((pts[inside] >= box.min(0) - 1e-9) & (pts[inside] <= box.max(0) + 1e-9))
    assert np.prod(box.max(0) - box.min(0)) < 0.5 * 80 ** 3          # much smaller than the range cube


@pytest.mark.parametrize("position", ["top_left", "bottom_right"])
def test_overlay_occluders_written_ahead_are_what_the_overlay_writes_and_go_back(position):
    """mark_overlay writes the overlay's occluders into the label planes before the picture is
    finished (render/renderer.py defer) and puts back the scene under them when asked."""
    import torch

    from synthdata.render.overlay import draw_overlay, mark_overlay

    g = torch.Generator().manual_seed(0)
    inst = torch.randint(1, 9, (3, 240, 320), generator=g, dtype=torch.int32)
    depth, part = torch.rand((3, 240, 320), generator=g) + 1, torch.randint(0, 5, (3, 240, 320), generator=g)
    part = part.to(torch.int16)
    rgb = torch.zeros((3, 240, 320, 3), dtype=torch.uint8)
    args = (range(8, 11), "2024-05-01 23:59:58", "GATE 2", 2.0, position)
    drawn = [p.clone() for p in (inst, depth, part)]
    draw_overlay(rgb, *drawn[:2], args[0], *args[1:], part=drawn[2])
    marked = [p.clone() for p in (inst, depth, part)]
    undo = mark_overlay(*marked, *args)
    for a, b in zip(marked, drawn):
        assert torch.equal(a, b)
    assert (marked[0] == 0).sum() > 100
    undo()
    for a, b in zip(marked, (inst, depth, part)):
        assert torch.equal(a, b)


@pytest.mark.parametrize("kind", ["rain", "snow"])
def test_compiled_precipitation_gives_the_torch_operations_bits(kind, monkeypatch):
    """On the CPU the particles are drawn by a compiled pass (render/precip_pass.py); the torch
    operations (a GPU's, and the near-infrared illuminator's boost) give the same bits, and only
    the pixels a particle reaches change."""
    from synthdata.render import precip_pass
    from synthdata.render.weather import PARTICLE_NEAR_M, WeatherT, precipitation

    calls = []
    real = precip_pass.splat_particles
    monkeypatch.setattr(precip_pass, "splat_particles", lambda *a: calls.append(1) or real(*a))
    rng = np.random.default_rng(3)
    T, H, W = 3, 90, 120
    x = torch.from_numpy(rng.uniform(0.0, 1.2, (T, H, W, 3)).astype(np.float32))
    depth = torch.from_numpy(rng.uniform(0.5, 40.0, (T, H, W)).astype(np.float32))
    depth[:, :30] = PARTICLE_NEAR_M / 2            # a near wall across the top: no particle in front
    w = WeatherT(rain=0.8 if kind == "rain" else 0.0, snow=0.8 if kind == "snow" else 0.0, wind_deg=12.0, seed=5)
    colour = torch.tensor([0.31, 0.33, 0.36])
    args = (np.arange(7, 7 + T), 12.5, np.full(T, 300.0), w, 0.3, colour)
    fast = x.clone()
    precipitation(fast, depth, *args)
    assert len(calls) == T                          # the compiled pass drew every frame
    slow = x.clone()
    precipitation(slow, depth, *args, compiled=False)
    assert len(calls) == T and torch.equal(fast, slow)
    changed = (fast != x).any(-1)
    assert changed.any() and not changed[:, :30].any()
    assert (fast[changed] >= 0).all()
