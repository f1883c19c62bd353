"""Background surface shading at one pixel, shared by the CPU and CUDA kernels' loops
(render/kernels.py `shade_surfaces`, render/gpu.py): the same maths, only the loops differ."""
from __future__ import annotations

from synthdata.render.inline import inlined
from synthdata.render.pixel import shade_pair_terms, view_terms


@inlined
def shade_surface(y, x, albedo, normal, point, material, sunlit, C, fwd, light, mats, points, lit, dark):
    """Linear radiance of background pixel (y, x) into lit (sunlit 0..1) and dark (sun blocked),
    seen from C (3,) along the optical axis fwd (3,)."""
    r, g, b, r2, g2, b2 = surface_radiance(y, x, albedo, normal, point, material, sunlit, C, fwd, light, mats, points)
    lit[y, x, 0], lit[y, x, 1], lit[y, x, 2] = r, g, b
    dark[y, x, 0], dark[y, x, 1], dark[y, x, 2] = r2, g2, b2


@inlined
def surface_radiance(y, x, albedo, normal, point, material, sunlit, C, fwd, light, mats, points):
    """(r, g, b) lit and (r2, g2, b2) with the sun blocked, linear, of background pixel (y, x)."""
    ndl, ndh = surface_terms(y, x, normal, point, C, light)
    return surface_radiance_terms(y, x, albedo, normal, point, material, sunlit, C, fwd, light, mats, points, ndl, ndh)


@inlined
def surface_terms(y, x, normal, point, C, light):
    """The `view_terms` (n.l, n.h) of background pixel (y, x) seen from C."""
    return view_terms(normal[y, x, 0], normal[y, x, 1], normal[y, x, 2], point[y, x, 0], point[y, x, 1],
                      point[y, x, 2], C[0], C[1], C[2], light)


@inlined
def surface_radiance_terms(y, x, albedo, normal, point, material, sunlit, C, fwd, light, mats, points, ndl, ndh):
    """`surface_radiance` given the pixel's `surface_terms`."""
    return shade_pair_terms(albedo[y, x, 0], albedo[y, x, 1], albedo[y, x, 2], material[y, x],
                            normal[y, x, 0], normal[y, x, 1], normal[y, x, 2],
                            point[y, x, 0], point[y, x, 1], point[y, x, 2], C[0], C[1], C[2],
                            fwd[0], fwd[1], fwd[2], sunlit[y, x], 0.0, light, mats, points, 0.0, 0.0, 0.0, ndl, ndh)
