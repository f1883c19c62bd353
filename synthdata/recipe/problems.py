"""Pydantic validation errors -> one located line per problem.

    recipe.yaml:14: actors[1].count: expected a whole number or a distribution such as ..., got 'many'
    recipe.yaml:7: scene.camera.heigth_m: unknown key; expected one of height_m, ... (did you mean height_m?)
    override 'output.clips=0': output.clips: expected a number >= 1, got 0

Paths are the user's: dotted keys, list indices in brackets, without pydantic's union branch
labels (the discriminator tag in `actors.1.person.count`). Each path is located through a
LineMap (overrides.py) at its own line or, failing that, its nearest recorded ancestor's.
"""
from __future__ import annotations

import difflib
import types
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from synthdata.errors import RecipeError
from synthdata.recipe.distributions import show_value
from synthdata.recipe.overrides import LineMap, Segment, format_path


def validate(data: Any, lines: LineMap, source: str, model: type[BaseModel],
             found_before: Sequence[tuple[int, str]] = (), found_after: Sequence[str] = ()) -> Any:
    """`model.model_validate(data)`, turning every pydantic error into one located line.

    `found_before` holds (line, problem) pairs found while reading (duplicate keys),
    `found_after` malformed overrides. All problems are raised together as one RecipeError:
    file lines in order, then overrides.
    """
    ranked = [((0, line), text) for line, text in found_before] + [((2, 0), text) for text in found_after]
    try:
        result = model.model_validate(data)
    except ValidationError as e:
        found: dict[tuple[str, str], list[str]] = {}
        merge: set[tuple[str, str]] = set()
        order: list[tuple[tuple[int, int], tuple[str, str]]] = []
        for err in e.errors(include_url=False):
            segs, branched, message = _describe(err, data, model)
            where, line = _where(lines, segs, source)
            key = (f"{where}:{line}" if line is not None else where, format_path(segs))
            if key not in found:
                found[key] = []
                order.append(((0, line) if line is not None else (1, 0), key))
            if message not in found[key]:
                found[key].append(message)
            if branched:
                merge.add(key)
        for rank, key in order:
            msgs = [" or ".join(found[key])] if key in merge else found[key]
            ranked += [(rank, f"{key[0]}: {key[1]}: {m}" if key[1] else f"{key[0]}: {m}") for m in msgs]
    else:
        if not ranked:
            return result
    problems = [text for _, text in sorted(ranked, key=lambda r: r[0])]
    raise RecipeError(problems[0], source=source, problems=problems)


def _where(lines: LineMap, segs: list[Segment], source: str) -> tuple[str, int | None]:
    """The source and line of the nearest recorded ancestor of `segs` (itself first)."""
    for k in range(len(segs), -1, -1):
        pos = lines.get(format_path(segs[:k]))
        if isinstance(pos, str):
            return pos, None
        if pos is not None:
            return source, pos
    return source, None


def _describe(err: dict, data: Any, model: type[BaseModel]) -> tuple[list[Segment], bool, str]:
    """(path in the user's data, whether a union branch label was dropped, message)."""
    segs, branched, parent, here = _resolve(model, err["loc"], data)
    t, ctx, inp = err["type"], err.get("ctx") or {}, err.get("input")
    got = f", got {show_value(inp)}"
    if t == "extra_forbidden":
        names = _field_names(parent)
        msg = "unknown key"
        if names:
            msg += f"; expected one of {', '.join(names)}"
            close = difflib.get_close_matches(str(segs[-1]), names, n=1, cutoff=0.6)
            if close:
                msg += f" (did you mean {close[0]}?)"
        return segs, False, msg
    if t == "missing":
        return segs, branched, "missing required key"
    if t in ("union_tag_invalid", "union_tag_not_found"):
        disc = str(ctx.get("discriminator", "type")).strip("'\"")
        tags = ", ".join(_union_tags(here, disc)) or "a valid value"
        if t == "union_tag_not_found":
            return segs, False, f"missing key {disc!r} (one of {tags})"
        return [*segs, disc], False, f"expected one of {tags}, got {show_value(ctx.get('tag'))}"
    return segs, branched, _message(t, ctx, err.get("msg", ""), got)


_EXPECT = {
    "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
    "float_type": "a number", "float_parsing": "a number", "finite_number": "a finite number",
    "bool_type": "true or false", "bool_parsing": "true or false", "string_type": "text",
    "list_type": "a list", "tuple_type": "a list", "set_type": "a list",
    "dict_type": "a mapping (key: value)", "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)", "none_required": "null",
}
_BOUND = {"greater_than": ("gt", ">"), "greater_than_equal": ("ge", ">="),
          "less_than": ("lt", "<"), "less_than_equal": ("le", "<=")}


def _message(t: str, ctx: dict, msg: str, got: str) -> str:
    if t in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    if t in _EXPECT:
        return f"expected {_EXPECT[t]}{got}"
    if t in _BOUND:
        name, op = _BOUND[t]
        return f"expected a number {op} {show_value(ctx.get(name))}{got}"
    if t in ("literal_error", "enum"):
        return f"expected {ctx.get('expected')}{got}"
    if t in ("too_short", "too_long"):
        n = ctx.get("min_length") if t == "too_short" else ctx.get("max_length")
        word = "at least" if t == "too_short" else "at most"
        return f"expected {word} {n} items, got {ctx.get('actual_length')}"
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    return msg[:1].lower() + msg[1:]


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType) and len(_members(tp)) == 1:
            tp = _members(tp)[0]
        else:
            return tp


def _members(tp: Any) -> list[Any]:
    return [a for a in get_args(tp) if a is not type(None)]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _field_names(tp: Any) -> list[str]:
    if not _is_model(tp):
        return []
    return [f.alias or name for name, f in tp.model_fields.items()]


def _union_tags(tp: Any, disc: str) -> list[str]:
    tags = []
    for m in _members(_unwrap(tp)) if get_origin(_unwrap(tp)) in (Union, types.UnionType) else []:
        f = m.model_fields.get(disc) if _is_model(m) else None
        if f is not None and get_origin(f.annotation) is Literal:
            tags += [str(a) for a in get_args(f.annotation)]
    return tags


def _child_type(tp: Any, seg: Segment) -> Any:
    if _is_model(tp):
        for name, f in tp.model_fields.items():
            if seg in (name, f.alias):
                return f.annotation
        return None
    origin, args = get_origin(tp), get_args(tp)
    if origin is tuple and args:
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
        return args[seg] if isinstance(seg, int) and seg < len(args) else None
    if origin in (list, set, frozenset) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def _resolve(model: type[BaseModel], loc: tuple, data: Any) -> tuple[list[Segment], bool, Any, Any]:
    """Map a pydantic loc onto the user's data: drop union branch labels (the discriminator
    tag of `actors.1.person.count`, or a type name). Returns (path, whether a non-discriminated
    union branch was dropped, the type holding the last segment, the type at the path)."""
    tp: Any = model
    parent: Any = None
    node: Any = data
    segs: list[Segment] = []
    branched = False
    for i, seg in enumerate(loc):
        tp = _unwrap(tp)
        if get_origin(tp) in (Union, types.UnionType):
            picked = _pick(_members(tp), seg)
            branched = branched or picked is None or not picked[1]
            tp = picked[0] if picked else None
            continue
        if tp is None and isinstance(node, dict) and seg not in node and i < len(loc) - 1:
            continue   # an unknown type's branch label
        parent, tp = tp, _child_type(tp, seg) if tp is not None else None
        if isinstance(node, dict):
            node = node.get(seg)
        elif isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node):
            node = node[seg]
        else:
            node = None
        segs.append(seg)
    return segs, branched, parent, tp


def _pick(members: list[Any], label: Any) -> tuple[Any, bool] | None:
    """The union member a loc label names: (member, True) for a discriminator tag,
    (member, False) for a member named by its type; None when unknown."""
    for m in members:
        if _is_model(m):
            for f in m.model_fields.values():
                if get_origin(f.annotation) is Literal and label in get_args(f.annotation):
                    return m, True
    for m in members:
        if getattr(m, "__name__", None) == label or str(m) == label:
            return m, False
    return None
