"""KEY=VALUE overrides on a recipe mapping (DESIGN.md §5).

    output.clips=8                  scene.camera.height_m=6
    actors[0].count={poisson: 3}    actors.0.count=3          (both spell the same path)

Values are YAML read with a safe loader, so `8` is a number, `{poisson: 3}` a distribution and
`[128, 96]` a list. An override may add a key to an existing mapping (validation of the whole
recipe then decides whether that key exists) but never grows a list or digs into a value that
is not a mapping.

Paths are written the way error messages show them: dotted keys, list indices in brackets
(`actors[1].count`). A `LineMap` maps such paths to the 1-based line of the recipe file that
set them, or to the label of the override that replaced them (`override 'output.clips=8'`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml

from synthdata.errors import RecipeError
from synthdata.recipe.distributions import show_value

Segment = str | int
LineMap = dict[str, int | str]   # path -> file line, or the label of an override

_PART = re.compile(r"([^\[\]]*)((?:\[\d+\])*)")


def format_path(segments: Iterable[Segment]) -> str:
    """['actors', 1, 'count'] -> 'actors[1].count'."""
    out = ""
    for s in segments:
        if isinstance(s, int) and not isinstance(s, bool):
            out += f"[{s}]"
        else:
            out += f".{s}" if out else str(s)
    return out


def parse_path(key: str) -> list[Segment]:
    """'actors[0].count' or 'actors.0.count' -> ['actors', 0, 'count'] (digits become ints)."""
    segments: list[Segment] = []
    for part in key.split("."):
        m = _PART.fullmatch(part)
        if not m or (not m.group(1) and not m.group(2)) or (not m.group(1) and not segments):
            raise ValueError(f"malformed key {key!r}; expected a dotted path such as output.clips "
                             f"or actors[0].count")
        name = m.group(1)
        if name:
            segments.append(int(name) if name.isdigit() else name)
        segments.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return segments


def override_label(text: str) -> str:
    """How problems caused by an override name their source: override 'output.clips=8'."""
    return f"override {text!r}"


def forget(line_map: LineMap, path: str) -> None:
    """Drop the positions of `path` and everything under it (its value is being replaced)."""
    for p in [p for p in line_map if p == path or p.startswith((path + ".", path + "["))]:
        del line_map[p]


def tree_copy(value: Any) -> Any:
    """A copy of nested dicts and lists that shares nothing, not even YAML aliases."""
    if isinstance(value, dict):
        return {k: tree_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [tree_copy(v) for v in value]
    return value


def apply_overrides(data: dict, overrides: Iterable[str], line_map: LineMap) -> dict:
    """A copy of `data` with each KEY=VALUE applied in order; later ones win.

    `line_map` is updated in place: overridden paths (and mappings an override created) point
    at the override's label, so validation problems name the override instead of a file line.
    Raises RecipeError listing every malformed override.
    """
    data, problems = apply_overrides_collect(data, overrides, line_map)
    if problems:
        raise RecipeError(problems[0], problems=problems)
    return data


def apply_overrides_collect(data: dict, overrides: Iterable[str],
                            line_map: LineMap) -> tuple[dict, list[str]]:
    """Like apply_overrides, but skips malformed overrides and returns their problems."""
    data = tree_copy(data)
    problems: list[str] = []
    for text in overrides:
        try:
            _apply_one(data, text, line_map)
        except _OverrideProblem as e:
            problems.append(f"{override_label(text)}: {e}")
    return data, problems


class _OverrideProblem(Exception):
    pass


def _apply_one(data: dict, text: str, line_map: LineMap) -> None:
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise _OverrideProblem("expected KEY=VALUE such as output.clips=8 or scene.camera.height_m=6")
    try:
        segments = parse_path(key)
    except ValueError as e:
        raise _OverrideProblem(str(e)) from None
    value = parse_value(raw)
    label = override_label(text)
    node: Any = data
    walked: list[Segment] = []
    for seg in segments[:-1]:
        node, created = _child(node, seg, walked, segments)
        if created:
            line_map[format_path(walked)] = label
    last, _ = _slot(node, segments[-1], walked, segments)
    node[last] = value
    path = format_path([*walked, last])
    forget(line_map, path)
    line_map[path] = label


def parse_value(raw: str) -> Any:
    """The VALUE of KEY=VALUE, read as YAML with the safe loader (empty means null)."""
    try:
        return yaml.safe_load(raw) if raw.strip() else None
    except yaml.MarkedYAMLError as e:
        raise _OverrideProblem(f"YAML syntax error in the value: {e.problem}") from None
    except yaml.YAMLError as e:
        raise _OverrideProblem(f"YAML syntax error in the value: {str(e).splitlines()[0]}") from None


def _slot(node: Any, seg: Segment, walked: list[Segment], segments: list[Segment]) -> tuple[Segment, bool]:
    """The key or index under `node` that `seg` names, and whether it exists yet."""
    where = format_path(walked) or "the recipe"
    if isinstance(node, dict):
        key: Segment = seg if seg in node else str(seg)
        return key, key in node
    if isinstance(node, list):
        if not isinstance(seg, int):
            raise _OverrideProblem(f"{format_path(segments)}: {where} is a list; use an index such as "
                                   f"{format_path([*walked, 0])}")
        if seg >= len(node):
            have = (f"it has {len(node)} item{'s' * (len(node) != 1)} "
                    f"({format_path([*walked, 0])} to {format_path([*walked, len(node) - 1])})"
                    if node else "it is empty")
            raise _OverrideProblem(f"{format_path([*walked, seg])}: index out of range; {have}")
        return seg, True
    raise _OverrideProblem(f"{format_path(segments)}: {where} is {show_value(node)}, not a mapping or list")


def _child(node: Any, seg: Segment, walked: list[Segment], segments: list[Segment]) -> tuple[Any, bool]:
    """Step into `node[seg]`, creating an empty mapping where a key is missing or null."""
    key, exists = _slot(node, seg, walked, segments)
    created = False
    if not exists or node[key] is None:
        if isinstance(node, list):
            raise _OverrideProblem(f"{format_path(segments)}: {format_path([*walked, key])} is null, "
                                   f"not a mapping or list")
        node[key] = {}
        created = True
    walked.append(key)
    return node[key], created
