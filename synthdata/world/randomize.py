"""Domain randomisation (recipe `scene.randomize`; Tremblay et al., CVPR-W 2018): draw one clip's
options (`sample_randomize`) and build them into its World (`apply_randomize`).

Drawn from a stream of the clip seed of its own, after every other draw, so a recipe without the
block samples exactly as before and adding it never moves people or vehicles. What it makes:
- textures: solid procedural textures (render/patterns.py SOLID_CHECKS .. MARBLE) in random colours
  on the ground, on static scenery (walls, facades, fences, pillars, clutter) and on vehicle bodies;
- distractors: unlabelled clutter (cones, bins, crates, bollards, poles, barriers, signs, balls,
  blocks) added to the static scene, in view, clear of every actor's path: it occludes actors and
  casts and takes shadows like any scenery, and labels stay exact (it is not a track);
- color_cast: per-channel gains on the sun, sky, ambient and lamp colours;
- lights: extra coloured omni lights above the ground in view.
"""
from __future__ import annotations

import colorsys
import dataclasses

import numpy as np

from synthdata.recipe.distributions import sampler
from synthdata.world.geometry.camera import Camera
from synthdata.world.geometry.shapes import ShapeBuilder, place
from synthdata.world.randomize_params import (DistractorParams, LightParams, RandomizeParams, TextureParams,
                                              VehicleTexture)
from synthdata.world.spec import ClipSpec, Track
from synthdata.world.types import MATERIAL, Lighting, PointLight, Shapes

TEXTURE_KINDS = (15, 16, 17, 18, 19)     # render/patterns.py SOLID_CHECKS, SOLID_STRIPES, BLOTCH, DOTS, MARBLE
STREAM = 0xD0A                           # the randomisation's own stream of the clip seed
RADIUS = {"cone": 0.2, "bin": 0.35, "crate": 0.45, "bollard": 0.15, "pole": 0.1, "barrier": 0.9, "sign": 0.35,
          "ball": 0.3, "block": 0.5, "stand": 0.35, "chair": 0.35, "stanchion": 0.2}   # footprint radius at scale 1 (m)
NATURAL = {"cone": (0.9, 0.22, 0.02), "bin": (0.05, 0.18, 0.08), "bollard": (0.12, 0.12, 0.13),
           "barrier": (0.8, 0.75, 0.7), "block": (0.45, 0.44, 0.42), "stand": (0.8, 0.8, 0.78),
           "chair": (0.06, 0.06, 0.07), "stanchion": (0.55, 0.55, 0.57)}


def random_color(rng: np.random.Generator, value: float | None = None) -> list[float]:
    """A linear RGB colour of any hue and saturation; lightness `value` (sRGB, 0..1) or any."""
    v = float(rng.uniform(0.08, 1)) if value is None else value
    r, g, b = colorsys.hsv_to_rgb(float(rng.random()), float(rng.uniform(0.15, 1)), v)
    return [float(c) ** 2.2 for c in (r, g, b)]


def _texture(rng: np.random.Generator, scale_m: float, contrast: float) -> TextureParams:
    """Two random colours that differ clearly in lightness, so the pattern always shows."""
    v1 = float(rng.uniform(0.1, 1.0))
    v2 = min(max(v1 + float(rng.uniform(0.3, 0.6)) * (1 if v1 < 0.55 else -1), 0.03), 1.0)   # a lightness
    return TextureParams(int(rng.choice(TEXTURE_KINDS)), random_color(rng, v1), random_color(rng, v2), float(scale_m),
                         float(contrast), int(rng.integers(0, 2**31)))


def _path_points(track: Track, step: float = 0.25) -> np.ndarray:
    """Ground points every `step` metres along a track's key positions (N, 2)."""
    xy = np.asarray(track.xy, float).reshape(-1, 2)
    out = [xy[:1]]
    for a, b in zip(xy[:-1], xy[1:]):
        n = max(int(np.ceil(np.linalg.norm(b - a) / step)), 1)
        out.append(a + (b - a) * np.linspace(0, 1, n + 1)[1:, None])
    return np.concatenate(out)


def _in_view(camera: Camera, xy: np.ndarray, z: float = 0.0) -> bool:
    uv, depth = camera.project(np.array([[xy[0], xy[1], z]]), 0)
    u, v = uv[0]
    return bool(depth[0] > 0 and np.isfinite(u) and 0 <= u < camera.width and 0 <= v < camera.height)


def _spot(rng: np.random.Generator, camera: Camera, bounds, near: float, far: float) -> np.ndarray:
    """A ground point in the layout, near..far metres from the camera on the ground, in view
    (a few tries; the last candidate otherwise)."""
    c = camera.C[0, :2]
    fwd = camera.R[0, 2, :2]
    heading = float(np.arctan2(fwd[1], fwd[0])) if np.linalg.norm(fwd) > 1e-6 else 0.0
    half = min(float(np.arctan(camera.width / (2.0 * float(camera.fx[0])))), np.radians(80.0))
    xy = c
    for _ in range(12):
        a = heading + rng.uniform(-half, half)
        d = rng.uniform(near, far)
        xy = c + d * np.array([np.cos(a), np.sin(a)])
        xy = np.clip(xy, [bounds[0], bounds[1]], [bounds[2], bounds[3]])
        if _in_view(camera, xy):
            break
    return xy


def sample_randomize(spec, clip: ClipSpec, camera: Camera, layout) -> RandomizeParams | None:
    """Draw the clip's randomisation from recipe `scene.randomize` (None when no option can apply).
    `clip` is the otherwise finished ClipSpec (its actors' paths keep distractors away);
    `layout` its built Layout (bounds, obstacles)."""
    if not spec.active:
        return None
    rng = np.random.default_rng(np.random.SeedSequence([int(clip.seed), STREAM]))
    draw = sampler(rng)
    out = RandomizeParams()
    plate = clip.layout.type == "plate"
    coin = {name: bool(rng.random() < getattr(spec, name).p)
            for name in ("textures", "distractors", "color_cast", "lights")}
    if coin["textures"]:
        t = spec.textures
        out.applied.append("textures")
        surfaces = set(t.surfaces)
        if "ground" in surfaces and not plate:
            out.ground = _texture(rng, draw(t.scale_m), draw(t.contrast))
        if "walls" in surfaces and not plate:
            out.walls = _texture(rng, draw(t.scale_m), draw(t.contrast))
        if "vehicles" in surfaces:
            for v in clip.vehicles:
                out.vehicles.append(VehicleTexture(v.track_id, _texture(rng, rng.uniform(0.05, 0.5), draw(t.contrast))))
    if coin["distractors"] and not plate:
        d = spec.distractors
        out.applied.append("distractors")
        paths = [(_path_points(p.track), 0.8) for p in clip.people]     # room for a pram, trolley or bag
        paths += [(_path_points(v.track), 0.5 * float(np.hypot(v.length_m, v.width_m))) for v in clip.vehicles]
        taken: list[tuple[np.ndarray, float]] = []
        for _ in range(int(draw(d.count))):
            kind, scale = draw(d.kinds), float(draw(d.size))
            r = RADIUS[kind] * scale
            for _ in range(20):
                xy = _spot(rng, camera, layout.bounds, float(draw(d.near_m)), float(draw(d.far_m)))
                clear = all(np.min(np.linalg.norm(pts - xy, axis=1)) > r + rad + 0.3 for pts, rad in paths if len(pts))
                clear = clear and all(np.linalg.norm(q - xy) > r + rq + 0.2 for q, rq in taken)
                if len(layout.obstacles):
                    clear = clear and float(layout.obstacles.distance(xy[None])[0]) > r
                if clear:
                    color = list(NATURAL[kind]) if kind in NATURAL and rng.random() < 0.5 else random_color(rng)
                    out.distractors.append(DistractorParams(kind, [float(xy[0]), float(xy[1])],
                                                            float(rng.uniform(-np.pi, np.pi)), scale, color))
                    taken.append((xy, r))
                    break
    if coin["color_cast"]:
        out.applied.append("color_cast")
        s = float(draw(spec.color_cast.strength))
        hue = np.array(colorsys.hsv_to_rgb(float(rng.random()), 1.0, 1.0)) ** 2.2
        gains = (1 - s) + s * 3.0 * hue / hue.sum()
        out.color_cast = [float(g) for g in gains / (0.2126 * gains[0] + 0.7152 * gains[1] + 0.0722 * gains[2])]
    if coin["lights"]:
        li = spec.lights
        out.applied.append("lights")
        for _ in range(int(draw(li.count))):
            xy = _spot(rng, camera, layout.bounds, 2.0, 25.0)
            hue = np.array(colorsys.hsv_to_rgb(float(rng.random()), float(rng.uniform(0.3, 1.0)), 1.0)) ** 2.2
            z = float(draw(li.height_m))
            if layout.ceiling_m:                             # indoors: below the ceiling
                z = min(z, float(layout.ceiling_m) - 0.2)
            out.lights.append(LightParams([float(xy[0]), float(xy[1]), z],
                                          [float(c) for c in hue], float(draw(li.intensity)), float(draw(li.range_m))))
    return out


# ---- building the drawn values into the World (world/simulate.py) ----------------------------
def distractor_shapes(d: DistractorParams) -> Shapes:
    """One piece of clutter, standing on the ground at d.xy, turned by d.yaw, scaled by d.scale."""
    f, c = d.scale, tuple(d.color)
    b = ShapeBuilder(1)
    dark, white = (0.03, 0.03, 0.03), (0.8, 0.8, 0.8)
    if d.kind == "cone":
        b.box([0, 0, 0.02 * f], [0.2 * f, 0.2 * f, 0.02 * f], dark, "rubber")
        b.cone([0, 0, 0.13 * f], [0, 0, 0.4 * f], 0.13 * f, 0.09 * f, c, "default")   # rounded ends: lifted
        b.cone([0, 0, 0.4 * f], [0, 0, 0.52 * f], 0.09 * f, 0.075 * f, white, "retroreflective")
        b.cone([0, 0, 0.52 * f], [0, 0, 0.72 * f], 0.075 * f, 0.02 * f, c, "default")
    elif d.kind == "bin":
        b.box([0, 0, 0.5 * f], [0.3 * f, 0.3 * f, 0.5 * f], c, "paint")
        b.box([0, 0, 1.02 * f], [0.33 * f, 0.33 * f, 0.03 * f], dark, "default")
    elif d.kind == "crate":
        b.box([0, 0, 0.3 * f], [0.4 * f, 0.3 * f, 0.3 * f], c, "wood")
    elif d.kind == "bollard":
        b.capsule([0, 0, 0.11 * f], [0, 0, 0.85 * f], 0.11 * f, c, "metal")
        b.box([0, 0, 0.7 * f], [0.115 * f, 0.115 * f, 0.04 * f], white, "retroreflective")
    elif d.kind == "pole":
        b.capsule([0, 0, 0.06 * f], [0, 0, 3.0 * f], 0.06 * f, c, "metal")
    elif d.kind == "barrier":
        for y in (-0.8, 0.8):
            b.box([0, y * f, 0.45 * f], [0.2 * f, 0.04 * f, 0.45 * f], dark, "metal")
        b.box([0, 0, 0.85 * f], [0.03 * f, 0.9 * f, 0.12 * f], c, "paint")
    elif d.kind == "sign":
        b.capsule([0, 0, 0.03 * f], [0, 0, 2.2 * f], 0.03 * f, (0.3, 0.3, 0.32), "metal")
        b.box([0.04 * f, 0, 2.2 * f], [0.015 * f, 0.32 * f, 0.32 * f], c, "retroreflective")
    elif d.kind == "ball":
        b.ellipsoid([0, 0, 0.3 * f], [0.3 * f, 0.3 * f, 0.3 * f], c, "default")
    elif d.kind == "stand":          # a standing table: round top on one thin post, a cross foot
        steel = (0.55, 0.55, 0.57)
        b.ellipsoid([0, 0, 1.08 * f], [0.3 * f, 0.3 * f, 0.015 * f], c, "paint")
        b.capsule([0, 0, 0.04 * f], [0, 0, 1.07 * f], 0.025 * f, steel, "metal")
        b.box([0, 0, 0.015 * f], [0.28 * f, 0.02 * f, 0.015 * f], steel, "metal")
        b.box([0, 0, 0.015 * f], [0.02 * f, 0.28 * f, 0.015 * f], steel, "metal")
    elif d.kind == "chair":          # four thin legs, a seat and a back
        steel = (0.35, 0.35, 0.37)
        for x in (-0.19, 0.19):
            for y in (-0.19, 0.19):
                b.capsule([x * f, y * f, 0.015 * f], [x * f, y * f, 0.44 * f], 0.015 * f, steel, "metal")
        b.box([0, 0, 0.46 * f], [0.22 * f, 0.22 * f, 0.025 * f], c, "paint")
        b.box([-0.2 * f, 0, 0.68 * f], [0.02 * f, 0.21 * f, 0.2 * f], c, "paint")
    elif d.kind == "stanchion":      # a queue post: round base, thin post, cap
        b.ellipsoid([0, 0, 0.02 * f], [0.16 * f, 0.16 * f, 0.02 * f], dark, "metal")
        b.capsule([0, 0, 0.05 * f], [0, 0, 0.95 * f], 0.025 * f, c, "metal")
        b.ellipsoid([0, 0, 0.97 * f], [0.04 * f, 0.04 * f, 0.03 * f], c, "metal")
    else:   # block
        b.box([0, 0, 0.4 * f], [0.5 * f, 0.5 * f, 0.4 * f], c, "concrete")
    return place(b.build(), np.array([[d.xy[0], d.xy[1], 0.0]]), np.array([d.yaw]))


def texture_shapes(shapes: Shapes, t: TextureParams, which: np.ndarray) -> Shapes:
    """`shapes` with texture t on the primitives `which` (bool (P,)): base and second colour
    blended over each primitive's own colour by the texture's contrast."""
    pat, col2, scale, seed = (np.array(a, copy=True) for a in shapes.patterns())
    color = shapes.color.copy()
    k = float(t.contrast)
    own = shapes.color[which].astype(np.float64)
    color[which] = (1 - k) * own + k * np.asarray(t.color)
    col2[which] = (1 - k) * own + k * np.asarray(t.color2)
    pat[which], scale[which], seed[which] = t.pattern, t.scale_m, t.seed
    return dataclasses.replace(shapes, color=color.astype(np.float32), pattern=pat.astype(np.int8),
                               pattern_color=col2.astype(np.float32), pattern_scale=scale.astype(np.float32),
                               pattern_seed=seed.astype(np.int32))


def cast_lighting(lighting: Lighting, r: RandomizeParams) -> Lighting:
    """Lighting with the colour cast on every light's colour and the extra lights added."""
    g = np.asarray(r.color_cast if r.color_cast is not None else (1.0, 1.0, 1.0))
    tint = lambda c: tuple(float(x) for x in np.asarray(c) * g)   # noqa: E731
    lamps = [dataclasses.replace(p, color=tint(p.color)) for p in lighting.point_lights]
    lamps += [PointLight(tuple(li.position), tint(li.color), li.intensity, li.range_m) for li in r.lights]
    return dataclasses.replace(lighting, sun_color=tint(lighting.sun_color), ambient_color=tint(lighting.ambient_color),
                               sky_top=tint(lighting.sky_top), sky_horizon=tint(lighting.sky_horizon),
                               point_lights=lamps)


def apply_randomize(world, r: RandomizeParams | None):
    """The World with the clip's randomisation built in (`r` None: unchanged)."""
    if r is None:
        return world
    statics = [world.static] + [distractor_shapes(d) for d in r.distractors]
    static = Shapes.concat(statics) if r.distractors else world.static
    textured = {v.track_id: v.texture for v in r.vehicles}
    paint = MATERIAL["paint"]
    actors = [a if a.track_id not in textured else
              dataclasses.replace(a, shapes=texture_shapes(a.shapes, textured[a.track_id], a.shapes.material == paint))
              for a in world.actors]
    info = dict(world.info, randomize=",".join(r.applied) or "none", distractors=len(r.distractors))
    return dataclasses.replace(world, static=static, actors=actors, lighting=cast_lighting(world.lighting, r),
                               ground_texture=r.ground, wall_texture=r.walls, info=info)
