"""ClipSpec -> World: deterministic; no random choices are made here (DESIGN.md §1).

Builds the layout, the camera, the lighting, then every actor from its track: vehicles first
(riders sit on them), then people, then carried bags following their owners' hands or backs.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from synthdata.world.actors.actions import seat_height
from synthdata.world.actors.bodies import Proportions, Skeleton, person_actor
from synthdata.world.actors.motion import TrackState, frame_times, track_state
from synthdata.world.actors.props import bag_actor, bench
from synthdata.world.actors.vehicles import rider_mount, vehicle_actor
from synthdata.world.geometry.camera import Camera
from synthdata.world.geometry.camera_motion import apply_camera_motion
from synthdata.world.layouts.registry import build_layout
from synthdata.world.lighting import make_lighting
from synthdata.world.planning.planner import PERSON_TURN_S, VEHICLE_TURN_S
from synthdata.world.randomize import apply_randomize
from synthdata.world.security.enact import enact
from synthdata.world.spec import CameraParams, ClipSpec, PersonParams, VehicleParams
from synthdata.world.types import Actor, CameraView, Shapes, World


def make_camera(p: CameraParams, width: int, height: int) -> Camera:
    """A fixed camera (per-frame arrays of length 1)."""
    return Camera.from_pose(width, height, position=tuple(p.position), pan_deg=p.pan_deg, tilt_deg=p.tilt_deg,
                            roll_deg=p.roll_deg, hfov_deg=p.hfov_deg, k1=p.k1, k2=p.k2, model=p.model)


def _ground(st: TrackState) -> np.ndarray:
    return np.concatenate([st.xy, np.zeros((len(st.xy), 1))], 1)


def penumbra_px(cloud_cover: float) -> float:
    """Softness of actors' shadows on a plate: a clear sky's sun gives near-hard edges, cloud
    spreads them (Gaussian sigma in plate pixels)."""
    return 0.5 + 3.5 * float(cloud_cover)


def simulate(spec: ClipSpec) -> World:
    layout = build_layout(spec.layout)
    camera = make_camera(spec.camera, spec.width, spec.height)
    times = frame_times(spec.num_frames, spec.fps)
    actors: list[Actor] = []
    rides: dict[int, tuple[VehicleParams, TrackState]] = {}
    for v in spec.vehicles:
        st = track_state(v.track, times, VEHICLE_TURN_S)
        actors.append(vehicle_actor(v, st))
        rides[v.track_id] = (v, st)
    owners: dict[int, tuple[PersonParams, Skeleton, np.ndarray]] = {}
    seats: list[Shapes] = []
    for p in spec.people:
        if p.riding_track_id is not None:
            v, st = rides[p.riding_track_id]
            actor, sk = person_actor(p, st, times, _ground(st), st.yaw, rider_mount(v, st, p.height_m))
        else:
            st = track_state(p.track, times, PERSON_TURN_S)
            actor, sk = person_actor(p, st, times, _ground(st), st.yaw)
            if p.action == "sit":                      # the bench under a sitting person
                seats.append(bench(_ground(st)[0], float(st.yaw[0]), seat_height(Proportions.of(p))))
        actors.append(actor)
        owners[p.track_id] = (p, sk, actor.present)
    for bag in spec.bags:
        p, sk, present = owners[bag.owner_track_id]
        actors.append(bag_actor(bag, p, sk, present))
    actors.sort(key=lambda a: a.track_id)
    base = camera
    camera = apply_camera_motion(camera, spec.appearance, spec.num_frames, spec.fps)   # shake, PTZ, rolling shutter
    static = Shapes.concat([layout.static, *seats]) if seats else layout.static
    world = World(num_frames=spec.num_frames, fps=spec.fps, camera=camera, static=static,
                  ground=layout.ground, lighting=make_lighting(spec.lighting, layout.lamps), actors=actors,
                  indoor=layout.indoor, appearance=spec.appearance, texture_seed=spec.texture_seed,
                  noise_seed=spec.noise_seed,
                  backdrop=None if layout.backdrop is None else dataclasses.replace(
                      layout.backdrop, camera=base, shadow_softness_px=penumbra_px(spec.lighting.cloud_cover)))
    world.camera_name = spec.camera_name
    world.more_views = [CameraView(v.name, apply_camera_motion(make_camera(v.camera, spec.width, spec.height),
                                                               v.appearance, spec.num_frames, spec.fps),
                                   v.appearance) for v in spec.more_views]
    # -- security scenario (world/security/enact.py): falls, bag drops, tampering, zones; events from geometry
    world = apply_randomize(world, spec.randomize)     # domain randomisation (world/randomize.py)
    return enact(world, spec.security)
