"""CUDA kernels of the renderer (numba-cuda), with the same arguments as render/kernels.py.

The per-pixel maths is render/pixel.py, compiled here for CUDA: the same source as the CPU
kernels, so the two devices cannot drift apart. The CPU kernels loop in primitive order; here
one thread owns one pixel of one frame and loops over the primitives whose window holds it, in
the same order and with the same comparisons, so both give the same z-buffer and tie-breaks.

`cuda_kernels()` returns launchers named like the CPU kernels plus `array(tensor)` (a CUDA array
view of a torch CUDA tensor), and four that only the CUDA path has: `ground`, `paint` and
`resample`, the background passes that the CPU runs as host loops on the same per-pixel maths
(render/background_pass.py, render/pose_cache.py), and `pose_rays`, a pose's rays on the steps of
world/geometry/camera_kernels.py. Host arrays reach the kernels through render/uploads.py (each
sent once while unchanged). Under numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1) the same
launchers run on the CPU with numpy arrays, which is how CI executes this file on every commit.
numba-cuda is an optional dependency (`pip install "synthdata[cuda]"`).
"""
from __future__ import annotations

import math
import sys
from types import SimpleNamespace
from typing import Any

import numpy as np
from numba import config

from synthdata.errors import SynthdataError
from synthdata.render.background_pass import ground_pixel, painted, tone_pixel
from synthdata.render.counter_noise import noise_sample, sensor_value
from synthdata.render.hit_shading import shade_hit
from synthdata.render.inline import check_numpy, register_for_cuda
from synthdata.render.motion_blur import MIN_BLUR_PX, pixel_motion, reach, streak_rgb
from synthdata.render.pixel import (encode, encode32, hit_primitive, in_shadow, lamp_response, moving_irradiance,
                                    normal_primitive, on_silhouette, shadow_form, soften, sun_basis, zbuffer_hit)
from synthdata.render.pose_cache import mix_channel, reference_pixel, reference_surface
from synthdata.render.surface_shading import shade_surface
from synthdata.render.uploads import Launcher, grid, queued_sender
from synthdata.world.geometry.camera_kernels import (UNDISTORT_STEPS, image_plane, settled, turn,
                                                         undistort_step, unit)

try:        # module level: numba's simulator swaps this global for its own CUDA module
    from numba import cuda
except ImportError:   # pragma: no cover - depends on the machine
    cuda = None

_launchers: Any = None


def _build() -> Any:
    if cuda is None:   # pragma: no cover - depends on the machine
        raise SynthdataError('the CUDA renderer needs numba-cuda: pip install "synthdata[cuda]"')
    check_numpy()
    register_for_cuda()

    @cuda.jit
    def raster(prm, kinds, win, prim_body, body_track, rays, C, fwd, depth, dist, gprim, inst, stamp, own, boxes):
        x, y = cuda.grid(2)
        t = cuda.blockIdx.z
        H, W = depth.shape[1], depth.shape[2]
        if x >= W or y >= H:
            return
        tr = t if rays.shape[0] > 1 else 0
        tc = t if C.shape[0] > 1 else 0
        tp = t if prm.shape[0] > 1 else 0
        dx, dy, dz = rays[tr, y, x, 0], rays[tr, y, x, 1], rays[tr, y, x, 2]
        scale = dx * fwd[tc, 0] + dy * fwd[tc, 1] + dz * fwd[tc, 2]
        last = -1
        for p in range(win.shape[1]):
            if not (win[t, p, 0] <= x < win[t, p, 2] and win[t, p, 1] <= y < win[t, p, 3]):
                continue
            s = hit_primitive(kinds[p], C[tc, 0], C[tc, 1], C[tc, 2], dx, dy, dz, prm[tp, p])
            if s == math.inf:
                continue
            z = np.float32(s * scale)
            b = prim_body[p]
            if b != last:            # a body's primitives are contiguous: its first hit here
                last = b
                cuda.atomic.add(own, (b, t), 1)
                cuda.atomic.min(boxes, (b, t, 0), y)
                cuda.atomic.min(boxes, (b, t, 1), x)
                cuda.atomic.max(boxes, (b, t, 2), y + 1)
                cuda.atomic.max(boxes, (b, t, 3), x + 1)
            zbuffer_hit(t, y, x, z, s, p, b, depth, dist, gprim, inst, prim_body, body_track)

    @cuda.jit
    def shade_hits(prm, kinds, surface, material, done, gprim, dist, rays, C, fwd, frame0, light, mats, points,
                   dpos, daxis, dcol, drange, dcos, first, cut, rgb):
        x, y = cuda.grid(2)
        t = cuda.blockIdx.z
        H, W = gprim.shape[1], gprim.shape[2]
        if x >= W or y >= H:
            return
        p = gprim[t, y, x]
        if p < 0 or done[p]:
            return
        shade_hit(t, y, x, t if rays.shape[0] > 1 else 0, t if C.shape[0] > 1 else 0, t if prm.shape[0] > 1 else 0,
                  frame0 + t, prm, kinds, surface, material, gprim, dist, rays, C, fwd, light, mats, points,
                  dpos, daxis, dcol, drange, dcos, first, cut, rgb)

    @cuda.jit
    def shade_surfaces(albedo, normal, point, material, receiver, sunlit, C, fwd, light, mats, points, lit, dark):
        x, y = cuda.grid(2)
        if x >= receiver.shape[1] or y >= receiver.shape[0] or not receiver[y, x]:
            return
        shade_surface(y, x, albedo, normal, point, material, sunlit, C, fwd, light, mats, points, lit, dark)

    @cuda.jit
    def shade_tone(albedo, normal, point, material, receiver, sunlit, sky, C, fwd, light, mats, points, first, cut,
                   exposure, rgb, rgb_shadow):
        x, y = cuda.grid(2)
        if x >= receiver.shape[1] or y >= receiver.shape[0]:
            return
        tone_pixel(y, x, albedo, normal, point, material, receiver, sunlit, sky, C, fwd, light, mats, points, first, cut,
                   exposure, rgb, rgb_shadow)

    @cuda.jit
    def surfaces(prm, kinds, gprim, dist, rays, C, point, normal):
        x, y = cuda.grid(2)
        t = cuda.blockIdx.z
        if x >= gprim.shape[2] or y >= gprim.shape[1]:
            return
        p = gprim[t, y, x]
        if p < 0:
            return
        tr = t if rays.shape[0] > 1 else 0
        tc = t if C.shape[0] > 1 else 0
        s = dist[t, y, x]
        px = C[tc, 0] + s * rays[tr, y, x, 0]
        py = C[tc, 1] + s * rays[tr, y, x, 1]
        pz = C[tc, 2] + s * rays[tr, y, x, 2]
        nx, ny, nz = normal_primitive(kinds[p], px, py, pz, prm[t if prm.shape[0] > 1 else 0, p])
        point[t, y, x, 0], point[t, y, x, 1], point[t, y, x, 2] = px, py, pz
        normal[t, y, x, 0], normal[t, y, x, 1], normal[t, y, x, 2] = nx, ny, nz

    @cuda.jit
    def sun_shadows(prm, kinds, win, sun, which, origin, receiver, inst, shadowed, rgb, rgb_shadow, first):
        x, y = cuda.grid(2)
        t = cuda.blockIdx.z
        if x >= inst.shape[2] or y >= inst.shape[1]:
            return
        u = which[t]
        if shadowed[t, y, x] or inst[t, y, x] != 0 or not receiver[u, y, x]:
            return
        sx, sy, sz = sun[0], sun[1], sun[2]
        e1x, e1y, e1z, e2x, e2y, e2z = sun_basis(sx, sy, sz)
        tp = t if prm.shape[0] > 1 else 0
        for p in range(win.shape[1]):
            if not (win[t, p, 0] <= x < win[t, p, 2] and win[t, p, 1] <= y < win[t, p, 3]):
                continue
            kind = kinds[p]
            row = prm[tp, p]
            m00 = m01 = m11 = 0.0
            if kind == 0:
                m00, m01, m11 = shadow_form(row, sx, sy, sz, e1x, e1y, e1z, e2x, e2y, e2z)
            if in_shadow(kind, origin[u, y, x, 0], origin[u, y, x, 1], origin[u, y, x, 2], row,
                         sx, sy, sz, e1x, e1y, e1z, e2x, e2y, e2z, m00, m01, m11):
                shadowed[t, y, x] = 1
                if rgb.shape[0] > 0:
                    rgb[t, y, x, 0] = rgb_shadow[u, y, x, 0]
                    rgb[t, y, x, 1] = rgb_shadow[u, y, x, 1]
                    rgb[t, y, x, 2] = rgb_shadow[u, y, x, 2]
                return

    @cuda.jit
    def light_pools(rgb, inst, win, which, receiver, point, normal, albedo, material, frame0, lut, enc, light, mats,
                    dpos, daxis, dcol, drange, dcos, lwin):
        x, y = cuda.grid(2)
        t = cuda.blockIdx.z
        if not (win[t, 0] <= x < win[t, 2] and win[t, 1] <= y < win[t, 3]):
            return
        u = which[t]
        if inst[t, y, x] != 0 or not receiver[u, y, x]:
            return
        nx, ny, nz = normal[u, y, x, 0], normal[u, y, x, 1], normal[u, y, x, 2]
        er, eg, eb = moving_irradiance(nx, ny, nz, point[u, y, x, 0], point[u, y, x, 1], point[u, y, x, 2],
                                       frame0 + t, dpos, daxis, dcol, drange, dcos)
        r, g, b = lamp_response(albedo[u, y, x, 0], albedo[u, y, x, 1], albedo[u, y, x, 2], material[u, y, x],
                                er, eg, eb, light, mats)
        e = light[9]
        rgb[t, y, x, 0] = encode(lut[rgb[t, y, x, 0]] + r * e, enc)
        rgb[t, y, x, 1] = encode(lut[rgb[t, y, x, 1]] + g * e, enc)
        rgb[t, y, x, 2] = encode(lut[rgb[t, y, x, 2]] + b * e, enc)

    @cuda.jit
    def antialias_px(src, inst, rgb):
        x, y = cuda.grid(2)
        t = cuda.blockIdx.z
        H, W = inst.shape[1], inst.shape[2]
        if x >= W or y >= H:
            return
        if not on_silhouette(inst, t, y, x):
            return
        for c in range(3):
            rgb[t, y, x, c] = soften(src, t, y, x, c)

    @cuda.jit
    def decode_linear(rgb, lut, gain, depth, fog_m, air, xo):
        x, y = cuda.grid(2)
        t = cuda.blockIdx.z
        if x >= rgb.shape[2] or y >= rgb.shape[1]:
            return
        f = 0.0
        if fog_m > 0.0:
            f = 1.0 - math.exp(-3.912 * depth[t, y, x] / fog_m)
        for c in range(3):
            v = lut[rgb[t, y, x, c]] * gain[t]
            if fog_m > 0.0:
                v = v * (1.0 - f) + air[c] * f
            xo[t, y, x, c] = v

    @cuda.jit
    def sensor_encode(xi, seeds, a, b, mono, vignette, enc, rgb):
        x, y = cuda.grid(2)
        t = cuda.blockIdx.z
        H, W = xi.shape[1], xi.shape[2]
        if x >= W or y >= H:
            return
        noisy = a > 0.0 or b > 0.0
        C = xi.shape[3]
        base = (y * W + x) * C
        for c in range(C):
            v = xi[t, y, x, c]
            if vignette.shape[0] > 0:
                v *= vignette[y, x]
            if noisy:
                v = sensor_value(v, noise_sample(seeds[t], base if mono else base + c), a, b)
            rgb[t, y, x, c] = encode32(v, enc)

    @cuda.jit
    def motion_velocity(inst, depth, rays, cams, steps, disp, everything, moves, shutter, max_px, vel, mag):
        x, y = cuda.grid(2)
        t = cuda.blockIdx.z
        H, W = inst.shape[1], inst.shape[2]
        if x >= W or y >= H:
            return
        mag[t, y, x] = 0.0
        tid = inst[t, y, x]
        if steps[t, 0] + steps[t, 1] <= 0.0 or not (everything[t] or moves[t, tid]):
            return
        ri = t if rays.shape[0] > 1 else 0
        vx, vy = pixel_motion(cams[t, 0], cams[t, 1], cams[t, 2], rays[ri, y, x, 0], rays[ri, y, x, 1], rays[ri, y, x, 2],
                              depth[t, y, x], disp[t, tid, 0], disp[t, tid, 1], disp[t, tid, 2], steps[t, 0],
                              steps[t, 1], shutter, max_px)
        m = np.float32(math.sqrt(vx * vx + vy * vy))
        if m >= MIN_BLUR_PX:
            vel[t, y, x, 0], vel[t, y, x, 1], mag[t, y, x] = vx, vy, m

    @cuda.jit
    def motion_gather(xi, inst, moves, vel, mag, r, out):
        """Each pixel finds the fastest moving pixel whose reach covers it (the CPU kernel's
        scatter, as a gather: row-major scan, the first wins ties) and streaks along its motion."""
        x, y = cuda.grid(2)
        t = cuda.blockIdx.z
        H, W = xi.shape[1], xi.shape[2]
        if x >= W or y >= H:
            return
        bm, bp = np.float32(0.0), -1
        for qy in range(max(y - r, 0), min(y + r + 1, H)):
            for qx in range(max(x - r, 0), min(x + r + 1, W)):
                m = mag[t, qy, qx]
                if m >= MIN_BLUR_PX and m > bm:
                    rr = reach(m) if moves[t, inst[t, qy, qx]] else 0
                    if abs(qy - y) <= rr and abs(qx - x) <= rr:
                        bm, bp = m, qy * W + qx
        if bp >= 0:
            out[t, y, x, 0], out[t, y, x, 1], out[t, y, x, 2] = streak_rgb(xi[t], y, x, vel[t, bp // W, bp % W, 0],
                                                                           vel[t, bp // W, bp % W, 1])
        else:
            for c in range(3):
                out[t, y, x, c] = xi[t, y, x, c]

    @cuda.jit
    def copy4(src, dst):
        x, y = cuda.grid(2)
        t = cuda.blockIdx.z
        if x < dst.shape[2] and y < dst.shape[1]:
            for c in range(dst.shape[3]):
                dst[t, y, x, c] = src[t, y, x, c]

    def motion_blur(xi: Any, inst: Any, depth: Any, rays: Any, cams: Any, steps: Any, disp: Any, everything: Any,
                    moves: Any, shutter: float, max_px: float, vel: Any, mag: Any) -> None:
        if not (inst.shape[0] and inst.shape[1] and inst.shape[2]):
            return
        g = grid(inst.shape)
        args = on_device((xi, inst, depth, rays, cams, steps, disp, everything, moves, shutter, max_px, vel, mag),
                         (0, 11, 12))
        motion_velocity[g](*args[1:])
        if isinstance(mag, np.ndarray):      # the simulator
            top = float(np.max(mag))
        else:                                # reduced on the GPU: only the largest comes back
            import torch
            top = float(torch.as_tensor(mag, device="cuda").max())
        if top >= MIN_BLUR_PX:
            xi, inst, moves, vel, mag = args[0], args[1], args[8], args[11], args[12]
            out = scratch(xi)
            motion_gather[g](xi, inst, moves, vel, mag, reach(top), out)
            copy4[g](out, xi)

    @cuda.jit
    def resample_px(src, src_albedo, src_material, rays, R, fx, fy, cx, cy, Wr, Hr, surfaces, lit, dark, albedo,
                    material):
        """A pose's colours read from its clip's reference view (render/pose_cache.py)."""
        x, y = cuda.grid(2)
        if x >= lit.shape[1] or y >= lit.shape[0]:
            return
        i, j, a, b = reference_pixel(rays[y, x, 0], rays[y, x, 1], rays[y, x, 2], R, fx, fy, cx, cy, Wr, Hr)
        for c in range(3):
            lit[y, x, c] = mix_channel(src, i, j, a, b, c)
            dark[y, x, c] = mix_channel(src, i, j, a, b, c + 3)
        if surfaces:
            reference_surface(src_albedo, src_material, i, j, a, b, albedo, material, y, x)

    @cuda.jit
    def ground_px(rays, C, fwd, max_range, lat, hue, base, beyond, extent, scales, consts, texture, depth, point, gpt,
                  ok, albedo):
        x, y = cuda.grid(2)
        if x < depth.shape[1] and y < depth.shape[0]:
            ground_pixel(y, x, rays, C, fwd, max_range, lat[0], lat[1], lat[2], hue, base, beyond, extent, scales,
                         consts, texture, depth, point, gpt, ok, albedo)

    @cuda.jit
    def paint_px(albedo, material, gpt, valid, win, lo, hi, kind, first, pts, half, colour, mat):
        """Each pixel takes the last paint item over it (the CPU `_paint`'s order)."""
        x, y = cuda.grid(2)
        if x >= valid.shape[1] or y >= valid.shape[0] or not valid[y, x]:
            return
        for i in range(win.shape[0]):
            if win[i, 0] <= x < win[i, 2] and win[i, 1] <= y < win[i, 3] and \
                    painted(i, gpt[y, x, 0], gpt[y, x, 1], lo, hi, kind, first, pts, half):
                albedo[y, x, 0], albedo[y, x, 1], albedo[y, x, 2] = colour[i, 0], colour[i, 1], colour[i, 2]
                material[y, x] = mat[i]

    plane_at, step, held, turned, unit_of = (cuda.jit(device=True)(f.py_func)
                                             for f in (image_plane, undistort_step, settled, turn, unit))

    @cuda.jit
    def pose_rays_px(cx, cy, fx, fy, skew, k1, k2, fold, R, out, unsettled):
        """Camera.pixel_rays' steps; counts the pixels whose steps did not settle."""
        x, y = cuda.grid(2)
        if x >= out.shape[1] or y >= out.shape[0]:
            return
        xd, yd = plane_at(y, x, cx, cy, fx, fy, skew)
        u, v = xd, yd
        if not (k1 == 0.0 and k2 == 0.0):
            for _ in range(UNDISTORT_STEPS):
                u, v = step(u, v, xd, yd, k1, k2)
            if math.isfinite(fold) and not held(u, v, xd, yd, k1, k2, fold):
                cuda.atomic.add(unsettled, 0, 1)
        a, b, c = turned(u, v, 1.0, R)
        out[y, x, 0], out[y, x, 1], out[y, x, 2] = unit_of(a, b, c)

    @cuda.jit
    def part_index_px(gprim, local, part):
        x, y = cuda.grid(2)
        t = cuda.blockIdx.z
        if x < part.shape[2] and y < part.shape[1]:
            p = gprim[t, y, x]
            part[t, y, x] = local[p] if p >= 0 else -1

    go = Launcher(cuda, None if getattr(config, "ENABLE_CUDASIM", 0) else queued_sender(cuda))
    on_device, scratch, launch, launch2 = go.on_device, go.scratch, go.frames, go.image

    def antialias(rgb: Any, inst: Any, boxes: Any, mark: Any) -> None:
        """Every silhouette pixel of the frames (the same pixels the CPU finds in the boxes)."""
        if inst.shape[0] and len(boxes):
            antialias_px[grid(inst.shape)](go.copy(rgb), inst, rgb)

    def array(t: Any) -> Any:
        if isinstance(t, np.ndarray) or getattr(t, "device", None) is None or t.device.type != "cuda":
            return t.detach().numpy() if hasattr(t, "detach") else t
        return cuda.as_cuda_array(t.detach())

    return SimpleNamespace(array=array, uploads=go.uploads, to_device=go.send,
                           raster=launch(raster, 8, (8, 9, 10, 11, 13, 14), (12,)),
                           shade_hits=launch(shade_hits, 5, (21,)), surfaces=launch(surfaces, 2, (6, 7)),
                           shade_surfaces=launch2(shade_surfaces, 4, (11, 12)),
                           shade_tone=launch2(shade_tone, 4, (15, 16)), light_pools=launch(light_pools, 0, (0,)),
                           sun_shadows=launch(sun_shadows, 7, (8, 9)), antialias=antialias,
                           decode_linear=launch(decode_linear, 0, (6,)), sensor_encode=launch(sensor_encode, 0, (7,)),
                           motion_blur=motion_blur, part_index=launch(part_index_px, 2, (2,)),
                           resample=launch2(resample_px, 12, (12, 13, 14, 15)),
                           ground=launch2(ground_px, 12, (12, 13, 14, 15, 16)), paint=launch2(paint_px, 3, (0, 1)),
                           pose_rays=launch2(pose_rays_px, 9, (9, 10)))


def cuda_kernels() -> Any:
    """The CUDA launchers (built once per process)."""
    global _launchers
    if _launchers is None:
        if not getattr(config, "ENABLE_CUDASIM", 0):       # numba-cuda compiles at the first launch
            print("synthdata: compiling the CUDA render kernels (once per process, as they are first "
                  "launched; tens of seconds) ...", file=sys.stderr, flush=True)
        _launchers = _build()
    return _launchers
