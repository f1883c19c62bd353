"""JSON Schema fragments for recipe values; `schema.recipe_json_schema()` assembles the whole schema.

    synthdata schema > recipe.schema.json

Editors with a YAML language server use it to complete and check recipes; `synthdata draft --llm`
sends it to a chat endpoint as the response format. The value fragments below describe the
distribution grammar of distributions.py for the field types of types.py: a constant, or a
one-key mapping such as {uniform: [a, b]}. Loading a recipe stays the authority (it also checks
cross-field rules a schema cannot state, such as zone references).
"""
from __future__ import annotations

from typing import Any

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_NUMBER_KEY = r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$"
# field fragments point at shared $defs through this key; recipe_json_schema turns it into a $ref
# (pydantic resolves every "$ref" it sees against its own definitions, so they cannot be written there)
_REF = "x-synthdata-def"


def _obj(key: str, value: dict[str, Any], **extra: dict[str, Any]) -> dict[str, Any]:
    """A one-key distribution mapping {key: value} (plus optional extra keys)."""
    return {"type": "object", "properties": {key: value, **extra}, "required": [key],
            "additionalProperties": False}


def _pair(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item, "minItems": 2, "maxItems": 2}


def _choice(item: dict[str, Any], key_schema: dict[str, Any]) -> dict[str, Any]:
    weights = {"type": "object", "propertyNames": key_schema, "minProperties": 1,
               "additionalProperties": {"type": "number", "minimum": 0}}
    return _obj("choice", {"anyOf": [{"type": "array", "items": item, "minItems": 1}, weights]})


def distribution_defs() -> dict[str, Any]:
    """Shared $defs: the numeric distributions (bounds are checked when the recipe is loaded)."""
    num, whole = {"type": "number"}, {"type": "integer"}
    poisson = _obj("poisson", {"type": "number", "minimum": 0})
    randint = _obj("randint", _pair(whole))
    return {
        "number_distribution": {"anyOf": [_obj("uniform", _pair(num)),
                                          _obj("normal", _pair(num), clip=_pair(num)), randint, poisson,
                                          _choice(num, {"pattern": _NUMBER_KEY})]},
        "integer_distribution": {"anyOf": [randint, poisson, _choice(whole, {"pattern": _NUMBER_KEY})]},
        "flag": {"anyOf": [{"type": "boolean"}, _obj("bernoulli", {"type": "number", "minimum": 0, "maximum": 1}),
                           _choice({"type": "boolean"}, {"enum": ["true", "false"]})],
                 "description": "true, false, or {bernoulli: p} (true with probability p)"},
    }


def number_schema(minimum: float | None = None, maximum: float | None = None, *,
                  integer: bool = False) -> dict[str, Any]:
    """A number in [minimum, maximum] or a numeric distribution (integer fields: whole numbers)."""
    scalar: dict[str, Any] = {"type": "integer" if integer else "number"}
    if minimum is not None:
        scalar["minimum"] = minimum
    if maximum is not None:
        scalar["maximum"] = maximum
    kind = "integer" if integer else "number"
    return {"anyOf": [scalar, {_REF: f"{kind}_distribution"}]}


def choice_schema(allowed: tuple[str, ...] = ()) -> dict[str, Any]:
    """One of `allowed` (any string when empty), or {choice: [...]} / {choice: {value: weight}}."""
    item: dict[str, Any] = {"enum": list(allowed)} if allowed else {"type": "string"}
    what = ", ".join(allowed) if allowed else "a string"
    return {"anyOf": [item, _choice(item, item)], "description": f"one of {what}, or {{choice: [...]}} over them"}


def flag_schema() -> dict[str, Any]:
    """true/false, {bernoulli: p} or {choice: [true, false]}."""
    return {"anyOf": [{_REF: "flag"}]}


def color_schema() -> dict[str, Any]:
    """An sRGB hex colour '#rrggbb' or a choice over them."""
    item = {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}
    return {"anyOf": [item, _choice(item, item)],
            "description": "an sRGB colour '#rrggbb', or {choice: [...]} over colours"}


def resolve_refs(node: Any) -> Any:
    if isinstance(node, dict):
        if _REF in node:
            return {"$ref": f"#/$defs/{node[_REF]}"}
        return {k: resolve_refs(v) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve_refs(v) for v in node]
    return node
