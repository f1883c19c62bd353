"""Recipe sections describing who is in the scene and how they behave.

Each group's values are drawn again for every member, so `behavior: {choice: {walk: 0.7,
stand: 0.3}}` mixes behaviours within one group. Colours left as None come from built-in
palettes of everyday clothing and car paints.
"""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field

from synthdata.recipe.scene import Color
from synthdata.recipe.types import Choice, Flag, Int, Model, Num
from synthdata.world.actors.actions import ACTIONS
from synthdata.world.actors.clothing import BOTTOMS, FABRIC_KIND, HAIRS, HATS, TOPS


class PeopleSpec(Model):
    type: Literal["person"]
    count: Int(0, 500) = 4
    behavior: Choice("walk", "run", "loiter", "stand", "visit") = "walk"
    height_m: Num(1.2, 2.2) = {"uniform": [1.5, 2.0]}
    speed_mps: Num(0, 8) = {"uniform": [1.0, 1.6]}          # walking speed
    run_speed_mps: Num(1, 10) = {"uniform": [2.8, 4.5]}     # speed of people who run
    build: Num(0.7, 1.5) = {"normal": [1.0, 0.08], "clip": [0.8, 1.25]}   # girth, 1 = average
    carries_bag: Flag = {"bernoulli": 0.2}
    bag_style: Choice("backpack", "handbag") = {"choice": ["backpack", "handbag"]}
    enters: Flag = {"bernoulli": 0.4}      # walkers/runners: start outside the view and walk in
    leaves: Flag = {"bernoulli": 0.5}      # walkers/runners: head out of the view
    loiter_radius_m: Num(0.5, 30) = {"uniform": [1.5, 3.5]}
    stop_s: Num(0.5, 600) = {"uniform": [3, 12]}     # visitors: how long they stop at their spot
    top_color: Color | None = None
    bottom_color: Color | None = None
    # who they are, what they wear and do; None = built-in defaults (world/actors/outfits.py)
    age: Choice("child", "adult", "elderly") | None = None      # default adult 84 %, child 8 %, elderly 8 %
    action: Choice(*ACTIONS) | None = None     # default per behaviour; unfit draws become none
    top: Choice(*TOPS) | None = None
    bottom: Choice(*BOTTOMS) | None = None
    hat: Choice(*HATS) | None = None
    hair: Choice(*HAIRS[:5]) | None = None
    fabric: Choice(*FABRIC_KIND) | None = None     # the top's fabric (plain, denim, stripes, hivis...)


class VehiclesSpec(Model):
    type: Literal["vehicle"]
    count: Int(0, 200) = 2
    kind: Choice("car", "van", "truck", "bus", "bicycle", "motorcycle") = {"choice": {"car": 0.8, "van": 0.2}}
    behavior: Choice("drive", "park", "parked") = "drive"
    speed_mps: Num(0, 40) = {"uniform": [3.0, 8.0]}
    enters: Flag = {"bernoulli": 0.7}      # drive: come in from outside the view (else already in view)
    color: Color | None = None


ActorGroup = Annotated[Union[PeopleSpec, VehiclesSpec], Field(discriminator="type")]
