"""The tone curve of shaded hits (pixel.tone: exp and pow per value) looked up in its step table
(hit_shading.hit_tone_table / tone_steps.step_level) gives the same display level for every value."""
from __future__ import annotations

import numpy as np
from numba import njit

from synthdata.render.background_pass import SHADE_JIT
from synthdata.render.tone_steps import step_level
from synthdata.render.hit_shading import hit_tone_table
from synthdata.render.pixel import tone


@njit(**SHADE_JIT)      # the flags shade_hits compiles with
def _both(values, first, cut, direct, looked_up):
    for i in range(values.shape[0]):
        direct[i] = tone(values[i])
        looked_up[i] = step_level(values[i], first, cut)


def test_the_step_table_gives_tones_levels():
    first, cut = hit_tone_table()
    rng = np.random.default_rng(0)
    thr = np.unique(cut[~np.isnan(cut)])
    assert len(thr) == 255                              # one step up to each of the levels 1..255
    near = (thr[:, None].view(np.int64) + np.arange(-3, 4)[None, :]).view(np.float64).ravel()   # +- 3 ulp
    values = np.concatenate([near, rng.uniform(0, 6, 200_000), rng.exponential(0.01, 200_000) ** 2,
                             [0.0, -1.0, -0.0, 1e-300, 5e-324, 4.0, 4.4, 10.0, 1e300, np.inf]])
    direct, looked_up = np.empty(len(values)), np.empty(len(values))
    _both(values, first, cut, direct, looked_up)
    assert np.array_equal(direct, looked_up)
    assert direct.min() == 0 and direct.max() == 255
