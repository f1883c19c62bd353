"""Recipe sections describing who is in the scene and how they behave."""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field

from synthdata.recipe.types import Choice, Flag, Int, Model, Num


class PeopleSpec(Model):
    type: Literal["person"]
    count: Int(0, 500) = 4
    behavior: Choice("walk", "run", "loiter", "stand") = "walk"
    height_m: Num(1.2, 2.2) = {"uniform": [1.5, 2.0]}
    speed_mps: Num(0, 8) = {"uniform": [1.0, 1.6]}
    carries_bag: Flag = {"bernoulli": 0.2}


class VehiclesSpec(Model):
    type: Literal["vehicle"]
    count: Int(0, 200) = 2
    kind: Choice("car", "van", "truck", "bus", "bicycle", "motorcycle") = {"choice": {"car": 0.8, "van": 0.2}}
    behavior: Choice("drive", "park", "parked") = "drive"
    speed_mps: Num(0, 40) = {"uniform": [3.0, 8.0]}


ActorGroup = Annotated[Union[PeopleSpec, VehiclesSpec], Field(discriminator="type")]
