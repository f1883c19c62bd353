"""Recipe + clip index + seed -> ClipSpec: every random choice of one clip, made here.

All randomness comes from one `np.random.default_rng(seed)` passed down explicitly; the layout's
fine detail comes from a layout seed drawn from it. Actors are planned collision-free in a fixed
priority order (parked vehicles, parking, driving, then standing, loitering and walking people),
so the plan of a clip depends only on the recipe and the seed.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from synthdata.errors import BadInput
from synthdata.recipe.actors import PeopleSpec, VehiclesSpec
from synthdata.recipe.distributions import parse_bool, parse_choice, parse_number, sampler
from synthdata.recipe.schema import Recipe
from synthdata.world.actors import outfits, palettes
from synthdata.world.actors.bodies import plan_radius
from synthdata.world.actors.motion import frame_times
from synthdata.world.appearance_sample import sample_appearance
from synthdata.world.layouts.registry import LAYOUTS, build_layout
from synthdata.world.planning.planner import Planner, footprints_of_parked, vehicle_discs
from synthdata.world.planning.visits import plan_visit
from synthdata.world.planning.walks import plan_walk
from synthdata.world.randomize import sample_randomize
from synthdata.world.security.behaviours import sample_security
from synthdata.world.simulate import make_camera
from synthdata.world.spec import (BagParams, CameraParams, ClipSpec, LayoutParams, LightingParams, PersonParams,
                                  Track, VehicleParams, ViewParams)


def _d(kind: str, v: Any):
    return {"num": parse_number, "int": lambda x: parse_number(x, integer=True), "bool": parse_bool,
            "choice": parse_choice}[kind](v)


# Per-layout defaults for LayoutSpec fields left as None.
LAYOUT_DEFAULTS: dict[str, dict[str, Any]] = {
    "parking_lot": dict(
        size_m=(_d("num", {"uniform": [40, 60]}), _d("num", {"uniform": [35, 50]})),
        ground_color=_d("choice", {"choice": ["#3a3a3c", "#444446", "#505052", "#2f3032", "#4a4743"]}),
        ground_texture=_d("choice", "asphalt"),
        line_color=_d("choice", {"choice": {"#e8e8e0": 0.75, "#e0c040": 0.25}}),
        wall_color=_d("choice", {"choice": palettes.FACADES}),
        trees=_d("int", {"randint": [2, 8]}), light_poles=_d("int", {"randint": [2, 6]}),
        buildings=_d("int", {"randint": [0, 5]}), fence=_d("bool", {"bernoulli": 0.6}),
        bay_rows=_d("int", {"randint": [2, 4]}), islands=_d("bool", {"bernoulli": 0.5})),
    "street": dict(
        size_m=(_d("num", {"uniform": [50, 80]}), _d("num", {"uniform": [20, 30]})),
        ground_color=_d("choice", {"choice": ["#8a8580", "#9a948c", "#7d7a76", "#a39c90", "#8f8a84"]}),
        ground_texture=_d("choice", "paving"),
        line_color=_d("choice", "#e8e8e0"),
        wall_color=_d("choice", {"choice": palettes.FACADES}),
        trees=_d("int", {"randint": [2, 6]}), light_poles=_d("int", {"randint": [2, 5]}),
        buildings=_d("int", {"randint": [3, 7]}), lanes_per_direction=_d("int", {"choice": {1: 0.7, 2: 0.3}}),
        street_parking=_d("bool", {"bernoulli": 0.6}), crossing=_d("bool", {"bernoulli": 0.85}),
        benches=_d("int", {"randint": [1, 5]})),
    "indoor": dict(
        size_m=(_d("num", {"uniform": [12, 22]}), _d("num", {"uniform": [12, 22]})),
        ground_color=_d("choice", {"choice": ["#b8b2a8", "#d0ccc4", "#8c8680", "#a8a098", "#6e6a66"]}),
        ground_texture=_d("choice", "tiles"),
        line_color=_d("choice", "#303030"),
        wall_color=_d("choice", {"choice": ["#d8d4cc", "#c8c0b0", "#e4e0d8", "#a8b0b8", "#b8a890"]}),
        trees=_d("int", {"randint": [0, 4]}), pillars=_d("int", {"randint": [0, 6]}),
        doors=_d("int", {"randint": [2, 4]}), benches=_d("int", {"randint": [1, 4]}),
        ceiling_m=_d("num", {"uniform": [3.0, 4.5]})),
}
LAYOUT_DEFAULTS["plate"] = dict(size_m=(_d("num", 0.0), _d("num", 0.0)), ground_color=_d("choice", "#808080"),
                               ground_texture=_d("choice", "concrete"), line_color=_d("choice", "#e8e8e0"),
                               wall_color=_d("choice", "#808080"))
BEHAVIOUR_ORDER = {"parked": 0, "park": 1, "drive": 2, "stand": 3, "loiter": 4, "visit": 5, "walk": 5, "run": 5}


def sample_layout(spec, rng: np.random.Generator) -> LayoutParams:
    draw = sampler(rng)
    kind = draw(spec.type)
    defaults = LAYOUT_DEFAULTS[kind]

    def get(name: str):
        v = getattr(spec, name)
        return draw(v) if v is not None else (draw(defaults[name]) if name in defaults else None)

    size = spec.size_m if spec.size_m is not None else defaults["size_m"]
    out = dict(type=kind, size_m=[float(draw(size[0])), float(draw(size[1]))],
               seed=int(rng.integers(0, 2**31)))
    if kind == "plate":
        out["plate"] = dict(spec.plate_scene(), match=plate_match(spec, np.random.default_rng(rng.integers(2**63))))
    for name in ("ground_color", "ground_texture", "line_color", "wall_color", "trees", "light_poles",
                 "buildings", "fence", "bay_rows", "islands", "lanes_per_direction", "street_parking",
                 "crossing", "benches", "pillars", "doors", "ceiling_m"):
        v = get(name)
        if v is not None:
            out[name] = v
    return LayoutParams(**out)


def sample_camera(spec, layout: LayoutParams, rng: np.random.Generator) -> CameraParams:
    if layout.plate is not None:         # the plate's calibrated camera; the recipe's camera is not used
        c = layout.plate["camera"]
        return CameraParams([float(x) for x in c["position_m"]], float(c["pan_deg"]), float(c["tilt_deg"]),
                            float(c["roll_deg"]), float(c["hfov_deg"]), "pinhole", float(c["k1"]), 0.0)
    draw = sampler(rng)
    W, D = layout.size_m
    height, tilt, pan, roll = draw(spec.height_m), draw(spec.tilt_deg), draw(spec.pan_deg), draw(spec.roll_deg)
    hfov, model, k1, k2 = draw(spec.hfov_deg), draw(spec.model), draw(spec.k1), draw(spec.k2)
    distance, placement, lateral = draw(spec.distance_m), draw(spec.placement), draw(spec.lateral)
    indoor = LAYOUTS[layout.type].indoor
    y = 0.3 if indoor else -float(distance)
    if indoor:
        height = min(height, layout.ceiling_m - 0.15)
    if placement == "corner":
        side = float(rng.choice([-1.0, 1.0]))
        x = side * (W / 2 - (0.4 if indoor else 0.0))
        base = float(np.degrees(np.arctan2(-x, 0.5 * D - y)))
    else:
        x = float(lateral) * (W / 2 - 0.5) * (1.0 if indoor else 0.8)
        base = 0.0
    return CameraParams([float(x), float(y), float(height)], (base + pan + 180.0) % 360.0 - 180.0, tilt, roll,
                        hfov, model, k1, k2)


def sample_lighting(spec, indoor: bool, rng: np.random.Generator) -> LightingParams:
    draw = sampler(rng)
    tod = "indoor" if indoor else draw(spec.time_of_day)
    if spec.sun_elevation_deg is not None:
        elevation = draw(spec.sun_elevation_deg)
    else:
        elevation = float(rng.uniform(*{"day": (25, 65), "dusk": (3, 10)}.get(tod, (25, 60))))
    return LightingParams(tod, float(elevation), float(draw(spec.sun_azimuth_deg)), float(draw(spec.cloud_cover)),
                          float(draw(spec.exposure)), draw(spec.lamp_color))


def _person(group: PeopleSpec | None, behavior: str, rng: np.random.Generator) -> PersonParams:
    """Attributes of one person (group None: a rider with default looks)."""
    draw = sampler(rng)
    if group is not None:
        height, build = float(draw(group.height_m)), float(draw(group.build))
        speed = float(draw(group.run_speed_mps if behavior == "run" else group.speed_mps))
        top = draw(group.top_color) if group.top_color is not None else palettes.pick(rng, palettes.TOPS)
        bottom = draw(group.bottom_color) if group.bottom_color is not None else palettes.pick(rng, palettes.BOTTOMS)
    else:
        height, build, speed = float(rng.uniform(1.55, 1.95)), float(np.clip(rng.normal(1.0, 0.08), 0.85, 1.2)), 0.0
        top, bottom = palettes.pick(rng, palettes.TOPS), palettes.pick(rng, palettes.BOTTOMS)
    if behavior == "loiter":
        speed = min(speed, float(rng.uniform(0.5, 0.9)))
    shoulders = float(np.clip(rng.normal(1.0, 0.05) * (1 + 0.3 * (build - 1)), 0.85, 1.2))
    p = PersonParams(
        track_id=0, height_m=height, build=build, shoulders=shoulders, top_color=top, bottom_color=bottom,
        skin_color="#e0ac69", hair_color=palettes.pick(rng, palettes.HAIR),
        shoe_color=palettes.pick(rng, palettes.SHOES), hair="short",
        sleeves=str(rng.choice(["long", "short"], p=[0.6, 0.4])), behavior=behavior, speed_mps=speed,
        phase0=float(rng.uniform(0, 1)), sway_phase=float(rng.uniform(0, 2 * np.pi)),
        idle_pose="arms_down", track=Track([0.0], [[0.0, 0.0]], [0.0]))
    outfits.person_looks(p, group, draw, rng)       # age, body, skin, hair, outfit (world/actors/outfits.py)
    if group is not None:                          # scripted and riding people keep "none"
        p.action = outfits.choose_action(p, group, draw, rng)
    return p


def _vehicle(group: VehiclesSpec, kind: str, behavior: str, rng: np.random.Generator) -> VehicleParams:
    draw = sampler(rng)
    subtype, (L, W, H, rw) = palettes.vehicle_dims(kind, rng)
    color = draw(group.color) if group.color is not None else palettes.vehicle_color(kind, rng)
    speed = float(draw(group.speed_mps))
    if kind == "bicycle":
        speed = min(speed, float(rng.uniform(3.5, 7.0)))
    return VehicleParams(track_id=0, kind=kind, subtype=subtype, length_m=L, width_m=W, height_m=H, color=color,
                         behavior=behavior, speed_mps=speed, wheel_radius_m=rw, track=Track([0.0], [[0.0, 0.0]], [0.0]),
                         seat_height_m=0.82 if kind == "motorcycle" else 0.0)


def sample_clip(recipe: Recipe, index: int, *, seed: int, clip_id: str) -> ClipSpec:
    """Resolve every random choice of clip `index` (see module docstring)."""
    recipe, mix_entry = recipe.for_clip(seed)     # a mix recipe: this clip's entry (recipe/mix.py)
    rng = np.random.default_rng(seed)
    out = recipe.output
    cams = recipe.scene.camera_list()
    layout_p = sample_layout(recipe.scene.layout, rng)
    camera_p = sample_camera(cams[0][1], layout_p, rng)
    lighting_p = sample_lighting(recipe.scene.lighting, LAYOUTS[layout_p.type].indoor, rng)
    texture_seed, noise_seed = int(rng.integers(0, 2**31)), int(rng.integers(0, 2**31))
    width, height = out.resolution
    if layout_p.plate is not None:
        check_plate_size(layout_p.plate, width, height)
    layout = build_layout(layout_p)
    # further cameras draw from streams of their own, so the first camera's clip is unchanged by them
    views = [(name, sample_camera(c, layout_p, np.random.default_rng(np.random.SeedSequence([int(seed), 0xCA3, i]))),
              sensor) for i, (name, c, sensor) in enumerate(cams[1:], 1)]
    cameras = [make_camera(camera_p, width, height)] + [make_camera(p, width, height) for _, p, _ in views]
    times = frame_times(out.frames_per_clip, out.fps)
    planner = Planner(layout, cameras, times, rng)
    # -- security scenario (world/security/behaviours.py): zones, scripted actors (planned first), tampering;
    #    draws nothing from rng when the recipe has no zones and no scenario
    cast = sample_security(recipe, rng, layout, planner, 1, lambda b: _person(None, b, rng),
                           lambda kind, b: _vehicle(VehiclesSpec(type="vehicle"), kind, b, rng))
    # -- end security scenario

    draw = sampler(rng)
    requests: list[tuple[Any, str, str]] = []          # (group, kind, behaviour)
    for group in recipe.actors:
        for _ in range(int(draw(group.count))):
            if isinstance(group, PeopleSpec):
                requests.append((group, "person", draw(group.behavior)))
            else:
                requests.append((group, draw(group.kind), draw(group.behavior)))
    order = sorted(range(len(requests)), key=lambda i: (BEHAVIOUR_ORDER[requests[i][2]], i))

    people: list[PersonParams] = list(cast.people)
    vehicles: list[VehicleParams] = list(cast.vehicles)
    bags: list[BagParams] = list(cast.bags)
    dropped = 0
    next_id = cast.next_id
    pending = {}                                        # person requests of each group not yet taken
    for i in order:
        if requests[i][1] == "person":
            pending[id(requests[i][0])] = pending.get(id(requests[i][0]), 0) + 1
    for i in order:
        group, kind, behavior = requests[i]
        if kind == "person":
            if not pending[id(group)]:                  # taken as an earlier person's companion
                continue
            pending[id(group)] -= 1
            p = _person(group, behavior, rng)
            if p.action == "walk_together":             # the companion is one of the group's count
                if pending[id(group)]:
                    pending[id(group)] -= 1
                else:
                    p.action = "none"
            p.enters, p.leaves = bool(draw(group.enters)), bool(draw(group.leaves))
            extent = float(draw(group.loiter_radius_m))
            stop_s = float(draw(group.stop_s)) if behavior == "visit" else 0.0
            if not _plan_person(planner, p, extent, stop_s):
                dropped += 1
                continue
            party = [p]
            if p.action == "walk_together":             # a companion on the planned path, side by side
                mate = _person(group, behavior, rng)
                mate.action, mate.enters, mate.leaves = "walk_together", p.enters, p.leaves
                mate.speed_mps = p.speed_mps
                p.track, mate.track = side_by_side(p.track, float(rng.uniform(0.3, 0.4)))
                party.append(mate)
            for q in party:
                q.track_id, next_id = next_id, next_id + 1
                people.append(q)
            if len(party) == 2:
                p.companion_track_id, party[1].companion_track_id = party[1].track_id, p.track_id
            for q in party:
                prop = outfits.prop_for(q, rng)
                if prop is not None:
                    prop.track_id, prop.owner_track_id, next_id = next_id, q.track_id, next_id + 1
                    q.prop_track_id = prop.track_id
                    bags.append(prop)
                if draw(group.carries_bag):
                    bag = palettes.bag(draw(group.bag_style), rng)
                    hands = outfits.ACTIONS[q.action].hands
                    if bag.style == "handbag" and len(hands) == 2:
                        bag.style, bag.size_m = "backpack", [0.3, 0.16, 0.42]
                    elif bag.style == "handbag" and hands:
                        bag.hand = "left"
                    bag.track_id, bag.owner_track_id, next_id = next_id, q.track_id, next_id + 1
                    q.bag_track_id = bag.track_id
                    bags.append(bag)
        else:
            v = _vehicle(group, kind, behavior, rng)
            v.enters = bool(draw(group.enters))
            rider = None
            if kind in ("bicycle", "motorcycle") and behavior != "parked":
                rider = _person(None, "ride", rng)
                if kind == "motorcycle":
                    rider.hair, rider.hair_color = "helmet", palettes.pick(rng, palettes.HELMETS)
                else:
                    v.seat_height_m = 0.13 + 0.431 * rider.height_m
            elif kind == "bicycle":
                v.seat_height_m = 0.13 + 0.431 * float(rng.uniform(1.55, 1.95))
            if not _plan_vehicle(planner, v):
                dropped += 1
                continue
            v.track_id, next_id = next_id, next_id + 1
            vehicles.append(v)
            if rider is not None:
                rider.track, rider.speed_mps, rider.riding_track_id = v.track, v.speed_mps, v.track_id
                rider.track_id, next_id = next_id, next_id + 1
                v.rider_track_id = rider.track_id
                people.append(rider)
    # appearance (world/appearance_sample.py) draws from its own stream so the draws above never shift
    look = dict(time_of_day=lighting_p.time_of_day, indoor=LAYOUTS[layout_p.type].indoor,
                num_frames=int(out.frames_per_clip), fps=float(out.fps))
    appearance = sample_appearance(recipe, np.random.default_rng(np.random.SeedSequence([int(seed), 0xA99])),
                                   sensor=cams[0][2], **look)
    appearance = dataclasses.replace(appearance, tampering=cast.tampering)
    more_views = []
    for i, (name, camera_i, sensor) in enumerate(views, 1):
        own = sample_appearance(recipe, np.random.default_rng(np.random.SeedSequence([int(seed), 0xA99, i])),
                                sensor=sensor, **look)
        own = dataclasses.replace(own, weather=appearance.weather, lighting=appearance.lighting,   # one scene,
                                  overlay=dataclasses.replace(own.overlay, start=appearance.overlay.start))  # one clock
        more_views.append(ViewParams(name, camera_i, own))
    spec = ClipSpec(clip_id=clip_id, index=int(index), seed=int(seed), width=int(width), height=int(height),
                    fps=float(out.fps), num_frames=int(out.frames_per_clip), layout=layout_p, camera=camera_p,
                    lighting=lighting_p, people=people, vehicles=vehicles, bags=bags, texture_seed=texture_seed,
                    noise_seed=noise_seed, dropped_actors=dropped,
                    security=cast.security, appearance=appearance, camera_name=cams[0][0], more_views=more_views,
                    mix_entry=mix_entry)
    # domain randomisation (world/randomize.py) draws last, from its own stream; None without the block
    spec.randomize = sample_randomize(recipe.scene.randomize, spec, cameras[0], layout)
    return spec


def side_by_side(track: Track, half_gap: float) -> tuple[Track, Track]:
    """Two tracks half_gap metres to the left and right of `track` (same times)."""
    xy = np.asarray(track.xy, float).reshape(-1, 2)
    d = np.zeros_like(xy)
    if len(xy) > 1:
        seg = np.diff(xy, axis=0)
        d[:-1] += seg
        d[1:] += seg
    norm = np.linalg.norm(d, axis=1, keepdims=True)
    fallback = np.stack([np.cos(track.yaw), np.sin(track.yaw)], -1) if len(track.yaw) == len(xy) else \
        np.tile([1.0, 0.0], (len(xy), 1))
    d = np.where(norm > 1e-9, d / np.maximum(norm, 1e-9), fallback)
    left = np.stack([-d[:, 1], d[:, 0]], -1) * half_gap
    mk = lambda off: Track(list(track.t), (xy + off).tolist(), list(track.yaw), track.appear_s, track.vanish_s)
    return mk(left), mk(-left)


def check_plate_size(plate: dict, width: int, height: int) -> None:
    W, H = plate["size"]
    if abs(width / height - W / H) > 0.01 * W / H:
        raise BadInput(f"output.resolution: {width}x{height} has another shape than the plate {plate['dir']} "
                       f"({W}x{H}); use a resolution of the same aspect, e.g. [{W}, {H}]")


def plate_match(spec, rng: np.random.Generator) -> dict[str, Any]:
    """This clip's variation of the actors' match to the plate: exposure factor (from +- stops)
    and per-channel white-balance gains."""
    draw = sampler(rng)
    ej, wj = float(draw(spec.exposure_jitter)), float(draw(spec.white_balance_jitter))
    return {"exposure": float(2.0 ** rng.uniform(-ej, ej)),
            "white_balance": [float(1.0 + rng.uniform(-wj, wj)) for _ in range(3)]}


def _plan_person(planner: Planner, p: PersonParams, loiter_radius: float, stop_s: float) -> bool:
    r = plan_radius(p)
    got = None
    if p.behavior == "stand":
        track = planner.plan_stand(r)
        p.enters = p.leaves = False
    elif p.behavior == "loiter":
        track = planner.plan_loiter(r, loiter_radius, p.speed_mps)
        p.enters = p.leaves = False
    else:
        got = (plan_visit(planner, r, p.speed_mps, p.enters, p.leaves, stop_s) if p.behavior == "visit"
               else plan_walk(planner, r, p.speed_mps, p.enters, p.leaves))
        track = None
        if got is not None:
            track, p.enters, p.leaves = got
    if track is None:
        return False
    p.track = track
    return True


def _plan_vehicle(planner: Planner, v: VehicleParams) -> bool:
    offsets, radii = vehicle_discs(v.length_m, v.width_m)
    dims = (v.length_m, v.width_m, v.height_m)
    bays_fit = bool(planner.free_bays(v.length_m, v.width_m))
    if v.behavior in ("parked", "park") and not bays_fit:
        v.behavior = "drive"
    if not planner.layout.lanes and v.behavior != "parked":
        return False
    if v.behavior == "parked":
        got = planner.plan_parked(dims, offsets, radii)
        if got is None:
            return False
        v.track, bay = got
        planner.nav.block(footprints_of_parked(bay.center, v.track.yaw[0], v.length_m, v.width_m))
        v.enters = False
        return True
    if v.behavior == "park":
        got = planner.plan_park(dims, v.speed_mps, v.enters, offsets, radii)
    else:
        side = 1.0 if v.kind in ("bicycle", "motorcycle") else 0.0
        got = planner.plan_drive(dims, v.speed_mps, v.enters, offsets, radii, kerb_side=side)
    if got is None:
        return False
    v.track, v.enters = got
    return True
