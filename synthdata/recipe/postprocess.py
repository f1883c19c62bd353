"""`postprocess:`: what is done to each rendered chunk before it is encoded (a learned refiner,
refine/), in a recipe or in one entry of a mix (recipe/mix.py)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from synthdata.recipe.types import Model


class PostprocessSpec(Model):
    """Steps applied to each rendered chunk before encoding; labels never change."""

    refiner: str | None = Field(None, description="a refiner checkpoint from `synthdata refiner train` "
                                "(a path relative to the recipe file, or absolute)")
    strength: float = Field(1.0, ge=0, le=1, description="0 = the render as is, 1 = fully refined")
    precision: Literal["auto", "float32"] = Field(
        "auto", description="auto: the refiner's residual in bfloat16 on CPUs with bfloat16 in hardware "
        "(about 1.7x faster; values within one or two 8-bit levels of float32's), float32 elsewhere; float32: always")

    @field_validator("refiner")
    @classmethod
    def _refiner(cls, v: str | None) -> str | None:
        if v is None:
            return None
        from pathlib import Path

        from synthdata.errors import BadInput
        from synthdata.refine.apply import load_refiner

        path = str(Path(v).expanduser().resolve())
        try:
            load_refiner(path)
        except BadInput as e:
            raise ValueError(str(e)) from None
        return path
