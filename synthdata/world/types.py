"""Plain data types of a simulated clip: metres, seconds, frames; no pixels, no torch.

Conventions
- World frame: right-handed, z up, ground plane z = 0, metres.
- Frames are 0-based; arrays with a leading T axis hold one entry per frame. A leading axis of
  size 1 means "the same in every frame" (static geometry, a fixed camera).
- Track ids are 1-based and unique within a clip; 0 means background in instance buffers.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from synthdata.world.appearance import Appearance
from synthdata.world.geometry.camera import Camera
from synthdata.world.randomize_params import TextureParams

# Primitive kinds (CONE: a tapered capsule, the hull of two spheres of different radii; FRUSTUM: a
# truncated cone with flat ends and an elliptic section, a skirt or a coat's hem)
ELLIPSOID, CAPSULE, BOX, CONE, FRUSTUM = 0, 1, 2, 3, 4

# Materials (render/ maps them to visible and near-infrared reflectance)
MATERIALS = ("default", "cloth", "skin", "hair", "paint", "glass", "rubber", "metal",
             "retroreflective", "foliage", "concrete", "wood", "light")
MATERIAL = {name: i for i, name in enumerate(MATERIALS)}

# COCO-17 keypoint order
COCO_KEYPOINTS = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
                  "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
                  "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")
COCO_SKELETON = ((15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7),
                 (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6))

CATEGORIES = ("person", "car", "van", "truck", "bus", "bicycle", "motorcycle", "bag", "cart")


@dataclass
class Shapes:
    """Solid primitives of one body (or of the static layout) over T frames, world metres.

    kind:     (P,) int8, ELLIPSOID | CAPSULE | BOX | CONE | FRUSTUM
    center:   (T, P, 3) ellipsoid/box centre; capsule/cone/frustum end A
    end:      (T, P, 3) capsule/cone/frustum end B (ignored for other kinds)
    axes:     (T, P, 3, 3) world-from-local rotation, columns are the local x, y, z axes
              (ellipsoid/box; frustum: z from A to B, x the short axis of its section;
              ignored for capsules and cones)
    size:     (T, P, 3) ellipsoid semi-axes / box half-extents along the local axes;
              capsule radius in size[..., 0]; cone radii at end A and end B in size[..., 0] and [..., 1];
              frustum: the radii along local y at A and B, and the section's x/y ratio (<= 1)
    color:    (P, 3) float32 linear albedo in 0..1
    material: (P,) int8 index into MATERIALS
    Surface patterns (render/patterns.py), all optional (None = flat colour everywhere):
    pattern:  (P,) int8 pattern kind (render/patterns.py PATTERNS; 0 = none)
    pattern_color: (P, 3) float32 linear secondary colour the pattern mixes in
    pattern_scale: (P,) float32 the pattern's feature size, metres
    pattern_seed:  (P,) int32 varies the pattern from one person to the next
    """

    kind: np.ndarray
    center: np.ndarray
    end: np.ndarray
    axes: np.ndarray
    size: np.ndarray
    color: np.ndarray
    material: np.ndarray
    pattern: np.ndarray | None = None
    pattern_color: np.ndarray | None = None
    pattern_scale: np.ndarray | None = None
    pattern_seed: np.ndarray | None = None

    @property
    def has_patterns(self) -> bool:
        return self.pattern is not None and bool(np.any(self.pattern))

    def patterns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(pattern, pattern_color, pattern_scale, pattern_seed), zeros where unset."""
        P = self.num_shapes
        if self.pattern is None:
            return (np.zeros(P, np.int8), np.zeros((P, 3), np.float32), np.zeros(P, np.float32),
                    np.zeros(P, np.int32))
        return self.pattern, self.pattern_color, self.pattern_scale, self.pattern_seed

    def _with_frames(self, s: slice) -> "Shapes":
        return Shapes(self.kind, self.center[s], self.end[s], self.axes[s], self.size[s], self.color,
                      self.material, self.pattern, self.pattern_color, self.pattern_scale, self.pattern_seed)

    @property
    def num_frames(self) -> int:
        return self.center.shape[0]

    @property
    def num_shapes(self) -> int:
        return self.kind.shape[0]

    def at(self, t: int) -> "Shapes":
        """The shapes in frame t (a T=1 view); static shapes return themselves."""
        if self.num_frames == 1:
            return self
        return self._with_frames(slice(t, t + 1))

    def frames(self, start: int, stop: int) -> "Shapes":
        if self.num_frames == 1:
            return self
        return self._with_frames(slice(start, stop))

    def bounding_spheres(self) -> tuple[np.ndarray, np.ndarray]:
        """Centres (T, P, 3) and radii (T, P) of spheres enclosing each primitive."""
        cone = (self.kind == CONE) | (self.kind == FRUSTUM)
        cap = (self.kind == CAPSULE) | cone
        centre = np.where(cap[None, :, None], 0.5 * (self.center + self.end), self.center)
        half_len = 0.5 * np.linalg.norm(self.end - self.center, axis=-1)
        r_cap = half_len + np.where(cone[None], self.size[..., :2].max(axis=-1), self.size[..., 0])
        r_ell = self.size.max(axis=-1)
        r_box = np.linalg.norm(self.size, axis=-1)
        radius = np.where(cap[None], r_cap, np.where((self.kind == BOX)[None], r_box, r_ell))
        return centre, radius

    @staticmethod
    def concat(parts: list["Shapes"]) -> "Shapes":
        """Stack the primitives of several bodies with the same number of frames (or T=1)."""
        parts = [p for p in parts if p.num_shapes]
        if not parts:
            return Shapes.empty()
        t = max(p.num_frames for p in parts)

        def grow(a: np.ndarray) -> np.ndarray:
            return np.broadcast_to(a, (t,) + a.shape[1:]) if a.shape[0] != t else a

        pats = [p.patterns() for p in parts] if any(p.pattern is not None for p in parts) else None
        return Shapes(
            kind=np.concatenate([p.kind for p in parts]),
            center=np.concatenate([grow(p.center) for p in parts], axis=1),
            end=np.concatenate([grow(p.end) for p in parts], axis=1),
            axes=np.concatenate([grow(p.axes) for p in parts], axis=1),
            size=np.concatenate([grow(p.size) for p in parts], axis=1),
            color=np.concatenate([p.color for p in parts]),
            material=np.concatenate([p.material for p in parts]),
            **({} if pats is None else dict(
                pattern=np.concatenate([q[0] for q in pats]), pattern_color=np.concatenate([q[1] for q in pats]),
                pattern_scale=np.concatenate([q[2] for q in pats]), pattern_seed=np.concatenate([q[3] for q in pats]))),
        )

    @staticmethod
    def empty(num_frames: int = 1) -> "Shapes":
        return Shapes(np.zeros(0, np.int8), np.zeros((num_frames, 0, 3)), np.zeros((num_frames, 0, 3)),
                      np.zeros((num_frames, 0, 3, 3)), np.zeros((num_frames, 0, 3)),
                      np.zeros((0, 3), np.float32), np.zeros(0, np.int8))


@dataclass
class Actor:
    """One labelled object (a track) over the clip.

    position: (T, 3) ground contact point in world metres (z = 0 when on the ground)
    heading:  (T,) yaw in radians, 0 along +x, counter-clockwise
    present:  (T,) bool, the object exists in the world in that frame (a bag before it is
              brought in, a person who has not entered yet): absent frames get no row
    keypoints: (T, 17, 3) COCO-17 joint positions for people, else None
    keypoint_radius: (17,) body radius around each joint in metres (depth-test margin)
    attributes: JSON-serialisable facts for the tracks table (height_m, colours, behaviour...)
    actions: (T,) str, what a person does in each frame (world/actors/actions.py: walk, run, stand,
             ride, phone_call, carry_box, sit...), the objects table's `action`; None otherwise
    """

    track_id: int
    category: str
    shapes: Shapes
    position: np.ndarray
    heading: np.ndarray
    present: np.ndarray
    keypoints: np.ndarray | None = None
    keypoint_radius: np.ndarray | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    actions: np.ndarray | None = None

    @property
    def num_frames(self) -> int:
        return self.position.shape[0]


@dataclass
class GroundPaint:
    """Flat markings on the ground plane: filled polygons and stroked polylines (metres).

    Drawn in order; later items cover earlier ones.
    kind: "polygon" | "line"; points: (N, 2) ground x, y; width: line width in metres;
    color: linear RGB 0..1; material: MATERIALS name (e.g. "retroreflective" paint).
    """

    kind: str
    points: np.ndarray
    color: tuple[float, float, float]
    width: float = 0.12
    material: str = "default"


@dataclass
class Ground:
    """Appearance of the ground plane z = 0 (render/ turns it into pixels)."""

    texture: str = "asphalt"           # asphalt | concrete | tiles | grass | paving
    color: tuple[float, float, float] = (0.22, 0.22, 0.23)
    texture_scale_m: float = 0.5       # size of the texture's features
    texture_contrast: float = 0.15
    tile_m: float = 0.6                # tiles/paving: tile size
    paint: list[GroundPaint] = field(default_factory=list)
    extent: tuple[float, float, float, float] = (-200.0, -200.0, 200.0, 200.0)  # xmin ymin xmax ymax
    beyond_color: tuple[float, float, float] = (0.25, 0.3, 0.2)   # ground outside extent


@dataclass
class PointLight:
    position: tuple[float, float, float]
    color: tuple[float, float, float] = (1.0, 0.85, 0.6)
    intensity: float = 1.0       # irradiance at 1 m, in units of the sun's irradiance
    range_m: float = 25.0        # no contribution beyond this distance
    direction: tuple[float, float, float] | None = None  # spotlight axis (headlights), None = omni
    cone_deg: float = 60.0       # spotlight full cone angle


@dataclass
class Lighting:
    """Light in the scene. sun_direction points from the scene towards the sun (unit)."""

    time_of_day: str = "day"                     # day | dusk | night | indoor
    sun_direction: tuple[float, float, float] = (0.3, -0.4, 0.866)
    sun_color: tuple[float, float, float] = (1.0, 0.97, 0.9)
    sun_intensity: float = 1.0
    ambient_color: tuple[float, float, float] = (0.55, 0.62, 0.75)
    ambient_intensity: float = 0.45
    sky_top: tuple[float, float, float] = (0.35, 0.55, 0.85)
    sky_horizon: tuple[float, float, float] = (0.75, 0.82, 0.9)
    exposure: float = 1.0                        # linear multiplier before the tone curve
    point_lights: list[PointLight] = field(default_factory=list)
    shadows: bool = True


@dataclass
class Zone:
    """A named ground polygon (or a tripwire polyline with a crossing direction)."""

    name: str
    kind: str                        # "zone" | "tripwire"
    points: np.ndarray               # (N, 2) ground x, y in metres
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Event:
    """A labelled event over frames [start_frame, end_frame] (inclusive, 0-based)."""

    type: str
    start_frame: int
    end_frame: int
    track_id: int | None = None
    track_ids: list[int] = field(default_factory=list)
    zone: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Backdrop:
    """A real background plate behind the scene (the `plate` layout, world/layouts/plate.py).

    image: path of the plate PNG (sha256 checked by render/), size: its [W, H] in pixels;
    occluders: foreground things in the plate that hide actors behind them, each
    {"name", "region": plate-pixel polygon [[u, v], ...], "contact": ground line [[x, y], ...]};
    receivers: ground polygons (metres) that take actors' shadows; statistics: plate.yaml's
    (noise, blur, colour); exposure / white_balance: this clip's match of actors to the plate."""

    image: str
    sha256: str
    size: tuple[int, int]
    occluders: list[dict[str, Any]] = field(default_factory=list)
    receivers: list[np.ndarray] = field(default_factory=list)
    statistics: dict[str, Any] = field(default_factory=dict)
    exposure: float = 1.0
    white_balance: tuple[float, float, float] = (1.0, 1.0, 1.0)
    camera: Camera | None = None        # the plate's calibrated camera at the output size (before shake)
    shadow_softness_px: float = 0.0     # penumbra of actors' shadows on the plate (Gaussian sigma, plate px)


@dataclass
class CameraView:
    """A further camera over a World's scene: its name, its per-frame camera and its own look
    (sensor, optics, mount, overlay; weather and light as the World's)."""

    name: str
    camera: Camera
    appearance: Appearance


@dataclass
class World:
    """Everything render/ and labels/ need for one clip, in world units.

    appearance is the clip's typed look (weather, sensor, optics, overlay, tampering;
    world/appearance.py); render/ applies it but never samples anything itself. info holds scalar
    facts about the clip (layout type, time of day, camera height...) that become clips-table
    columns. texture_seed / noise_seed seed the deterministic procedural textures and sensor noise.
    """

    num_frames: int
    fps: float
    camera: Camera
    static: Shapes
    ground: Ground
    lighting: Lighting
    actors: list[Actor] = field(default_factory=list)
    zones: list[Zone] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    indoor: bool = False
    appearance: Appearance = field(default_factory=Appearance)
    info: dict[str, Any] = field(default_factory=dict)   # scalar scene facts for the clips table
    texture_seed: int = 0
    noise_seed: int = 0
    backdrop: Backdrop | None = None     # a real plate instead of rendered ground and sky
    camera_name: str = "cam0"            # the name of `camera`
    more_views: list[CameraView] = field(default_factory=list)   # further cameras over the same scene
    ground_texture: TextureParams | None = None   # domain randomisation: a texture over the ground ...
    wall_texture: TextureParams | None = None     # ... and over static scenery (render/randomize.py)

    def camera_worlds(self) -> list[tuple[str, "World"]]:
        """(camera name, this World as that camera sees it) for every camera, `camera` first.
        The views share actors, scene and events (simulated once); each has its own camera and
        look; camera_tamper events stay with the first camera (the one tampered with)."""
        out = [(self.camera_name, self)]
        for v in self.more_views:
            out.append((v.name, replace(self, camera=v.camera, appearance=v.appearance, camera_name=v.name,
                                        more_views=[], backdrop=None,
                                        events=[e for e in self.events if e.type != "camera_tamper"])))
        return out

    @property
    def width(self) -> int:
        return self.camera.width

    @property
    def height(self) -> int:
        return self.camera.height

    def actor(self, track_id: int) -> Actor:
        for a in self.actors:
            if a.track_id == track_id:
                return a
        raise KeyError(track_id)
