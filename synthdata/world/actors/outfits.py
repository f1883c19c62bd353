"""Who a person is and what they wear: anthropometrics, skin, hair, outfit and action, sampled
from explicit rng draws (the recipe's people group gives the distributions it sets; everything
else has defaults from the tables below). Deterministic for a seed; no render/ import."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from synthdata.world.actors import palettes
from synthdata.world.actors.actions import ACTIONS
from synthdata.world.spec import BagParams, Outfit, PersonParams

AGES = {"adult": 0.84, "child": 0.08, "elderly": 0.08}
TOP_STYLES = {"tshirt": 0.2, "shirt": 0.12, "sweater": 0.13, "hoodie": 0.14, "jacket": 0.2, "coat": 0.14, "dress": 0.07}
BOTTOM_STYLES = {"trousers": 0.36, "jeans": 0.4, "shorts": 0.1, "skirt": 0.14}
HAT_STYLES = {"none": 0.68, "cap": 0.13, "beanie": 0.12, "hood": 0.07}
TOP_FABRICS = {"plain": 0.56, "stripes": 0.1, "checks": 0.08, "print": 0.13, "two_tone": 0.08, "knit": 0.02,
               "hivis": 0.03}
HAIR_STYLES = {"short": 0.5, "long": 0.26, "ponytail": 0.1, "bald": 0.08, "covered": 0.06}
# default actions per behaviour (a recipe's `action` replaces them; unfit draws become "none")
DEFAULT_ACTIONS = {
    "walk": {"none": 0.64, "phone_call": 0.06, "phone_look": 0.08, "carry_box": 0.04, "push_pram": 0.03,
             "push_trolley": 0.03, "walk_together": 0.1, "wave": 0.02},
    "stand": {"none": 0.3, "phone_call": 0.12, "phone_look": 0.15, "weight_shift": 0.17, "sit": 0.1, "crouch": 0.06,
              "wave": 0.05, "carry_box": 0.05},
    "loiter": {"none": 0.6, "phone_call": 0.15, "phone_look": 0.25},
    "visit": {"none": 0.75, "phone_call": 0.06, "phone_look": 0.12, "carry_box": 0.04, "wave": 0.03},
    "run": {"none": 1.0},
}
PROP_SIZE = {"box": ((0.3, 0.5), (0.25, 0.4), (0.2, 0.35)), "pram": ((0.55, 0.62), (0.75, 0.9), (0.95, 1.05)),
             "trolley": ((0.5, 0.58), (0.8, 0.95), (0.95, 1.05))}
PROP_COLORS = {"box": {"#a67b4f": 0.7, "#c8a878": 0.2, "#e8e4dc": 0.1},
               "pram": {"#151515": 0.4, "#2b3a55": 0.2, "#5c5c5c": 0.2, "#7a1f24": 0.1, "#3f4f2f": 0.1},
               "trolley": {"#9a9ea3": 0.7, "#b3262e": 0.15, "#1f5fa6": 0.15}}


def pick(rng: np.random.Generator, table: dict[str, float]) -> str:
    return palettes.weighted(rng, table)


def physique(p: PersonParams, age: str, rng: np.random.Generator) -> None:
    """Age-dependent anthropometrics: a child's height, head and legs, an elderly stoop; body
    shape (shoulder and hip widths)."""
    p.age = age
    wide_hips = rng.random() < 0.5
    p.hips = float(rng.uniform(1.06, 1.2) if wide_hips else rng.uniform(0.94, 1.04))
    p.shoulders = float(np.clip(p.shoulders * (rng.uniform(0.9, 0.97) if wide_hips else rng.uniform(1.0, 1.1)), 0.8, 1.25))
    p.head_scale = float(np.clip(rng.normal(1.0, 0.04), 0.9, 1.1))
    p.leg_ratio = float(np.clip(rng.normal(1.0, 0.025), 0.94, 1.06))
    if age == "child":
        p.height_m = float(rng.uniform(1.0, 1.5))
        youth = (1.5 - p.height_m) / 0.5                       # 0 (tall child) .. 1 (small child)
        p.head_scale = float(1.12 + 0.3 * youth + rng.normal(0, 0.02))
        p.leg_ratio = float(0.93 - 0.07 * youth)
        p.build = float(np.clip(p.build * 0.92, 0.8, 1.1))
        p.speed_mps = p.speed_mps * 0.85
    elif age == "elderly":
        p.height_m = p.height_m * 0.97
        p.stoop = float(rng.uniform(0.06, 0.28))
        p.speed_mps = p.speed_mps * float(rng.uniform(0.6, 0.85))


def outfit(p: PersonParams, group: Any, draw: Callable, rng: np.random.Generator) -> Outfit:
    """Garments, fabrics and colours; sets p.top_color / bottom_color / hair when unset."""
    def opt(name: str, table: dict[str, float]) -> str:
        v = getattr(group, name, None) if group is not None else None
        return str(draw(v)) if v is not None else pick(rng, table)

    top, bottom, hat = opt("top", TOP_STYLES), opt("bottom", BOTTOM_STYLES), opt("hat", HAT_STYLES)
    if p.age == "child" and top == "coat":
        top = "jacket"
    fabric = opt("fabric", TOP_FABRICS)
    if top == "sweater" and fabric == "plain" and rng.random() < 0.6:
        fabric = "knit"
    if hat == "hood" and top not in ("hoodie", "jacket", "coat"):
        hat = "beanie"
    o = Outfit(top=top, bottom=bottom, hat=hat, top_fabric=fabric, seed=int(rng.integers(0, 2**31 - 1)),
               loose=float(rng.uniform(1.0, 1.12)), coat_open=bool(rng.random() < 0.4),
               inner_color=pick(rng, palettes.CLOTHES), top_color2=pick(rng, palettes.CLOTHES),
               bottom_color2=pick(rng, palettes.TROUSERS), hat_color=pick(rng, palettes.HATS),
               scarf=bool(rng.random() < (0.3 if top in ("coat", "jacket") else 0.06)),
               scarf_color=pick(rng, palettes.CLOTHES), fabric_scale_m=float(rng.uniform(0.02, 0.07)))
    if fabric == "hivis":
        o.top_color2 = "#c8c8c8"
    elif fabric in ("stripes", "checks", "print") and rng.random() < 0.5:
        o.top_color2 = str(rng.choice(["#f2f2ee", "#151515"]))
    if o.bottom == "jeans":
        o.bottom_fabric = "denim"
    elif o.bottom == "skirt" and rng.random() < 0.15:
        o.bottom_fabric = "checks"
    if group is None or getattr(group, "top_color", None) is None:
        p.top_color = pick(rng, palettes.HIVIS) if fabric == "hivis" else pick(rng, palettes.CLOTHES)
    if group is None or getattr(group, "bottom_color", None) is None:
        p.bottom_color = pick(rng, palettes.DENIM) if bottom == "jeans" else pick(rng, palettes.TROUSERS)
    p.sleeves = "short" if top == "tshirt" and rng.random() < 0.7 else p.sleeves
    return o


def person_looks(p: PersonParams, group: Any, draw: Callable, rng: np.random.Generator) -> None:
    """Age, body, skin, hair and outfit of a sampled person (in place)."""
    age_dist = getattr(group, "age", None) if group is not None else None
    age = str(draw(age_dist)) if age_dist is not None else (pick(rng, AGES) if group is not None else "adult")
    physique(p, age, rng)
    p.skin_color = pick(rng, palettes.SKIN_TONES)
    hair_dist = getattr(group, "hair", None) if group is not None else None
    p.hair = str(draw(hair_dist)) if hair_dist is not None else pick(rng, HAIR_STYLES)
    if age == "elderly" and rng.random() < 0.7:
        p.hair_color = palettes.pick(rng, palettes.GREY_HAIR)
    if p.hair != "helmet":
        p.outfit = outfit(p, group, draw, rng)
        if p.outfit.hat in ("beanie", "hood") and p.hair == "bald":
            p.hair = "covered"


def choose_action(p: PersonParams, group: Any, draw: Callable, rng: np.random.Generator) -> str:
    """The person's action: the recipe's `action` distribution or the behaviour's defaults;
    an action that does not fit the behaviour (sitting while walking) becomes "none"."""
    v = getattr(group, "action", None) if group is not None else None
    a = str(draw(v)) if v is not None else pick(rng, DEFAULT_ACTIONS.get(p.behavior, {"none": 1.0}))
    if p.age == "child" and a in ("push_pram", "push_trolley", "carry_box"):
        a = "none"
    return a if p.behavior in ACTIONS[a].behaviours else "none"


def prop_for(p: PersonParams, rng: np.random.Generator) -> BagParams | None:
    """The box, pram or trolley of a person's action (track ids set by the caller)."""
    style = ACTIONS[p.action].prop
    if style not in PROP_SIZE:
        return None
    size = [float(rng.uniform(*r)) for r in PROP_SIZE[style]]
    return BagParams(track_id=0, owner_track_id=0, style=style, color=pick(rng, PROP_COLORS[style]), size_m=size,
                     hand="both")
