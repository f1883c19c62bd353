"""Pydantic field types for recipe values that may vary (see distributions.py)."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, WithJsonSchema

from synthdata.recipe.distributions import Dist, parse_bool, parse_choice, parse_number
from synthdata.recipe.json_schema import choice_schema, flag_schema, number_schema


class Model(BaseModel):
    """Base of every recipe section: unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, validate_default=True)


def _ser(d: Any) -> Any:
    return d.to_yaml() if isinstance(d, Dist) else d


def Num(minimum: float | None = None, maximum: float | None = None) -> Any:
    """A float constant or numeric distribution whose outcomes lie in [minimum, maximum]."""
    return Annotated[Dist, BeforeValidator(lambda v: parse_number(v, minimum=minimum, maximum=maximum)),
                     PlainSerializer(_ser), WithJsonSchema(number_schema(minimum, maximum))]


def Int(minimum: float | None = None, maximum: float | None = None) -> Any:
    """A whole-number constant or integer distribution (randint, poisson, choice)."""
    return Annotated[Dist, BeforeValidator(lambda v: parse_number(v, integer=True, minimum=minimum,
                                                                  maximum=maximum)),
                     PlainSerializer(_ser), WithJsonSchema(number_schema(minimum, maximum, integer=True))]


def Choice(*allowed: str) -> Any:
    """One of `allowed`, or {choice: [...]} / {choice: {value: weight}} over them."""
    return Annotated[Dist, BeforeValidator(lambda v: parse_choice(v, allowed or None)), PlainSerializer(_ser),
                     WithJsonSchema(choice_schema(allowed))]


Flag = Annotated[Dist, BeforeValidator(parse_bool), PlainSerializer(_ser), WithJsonSchema(flag_schema())]
