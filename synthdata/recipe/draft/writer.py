"""A recipe mapping -> commented YAML text: block style for sections, flow style for values.

    scene:
      lighting:
        time_of_day: night                    # from 'night'
      weather:
        rain_intensity: {uniform: [0.15, 0.35]}   # light, from 'light rain'

`notes` maps a path (a tuple of keys and list indices) to the comment written after its line.
"""
from __future__ import annotations

from typing import Any

import yaml

from synthdata.recipe.distributions import KINDS

COMMENT_COLUMN = 44


def dump(data: dict[str, Any], notes: dict[tuple, str] | None = None, header: list[str] | None = None) -> str:
    lines = [_comment(h, "") for h in header or []]
    notes = notes or {}
    top = list(data.items())
    for i, (key, value) in enumerate(top):
        if i and (isinstance(value, (dict, list)) and value and not _is_leaf(value)):
            lines.append("")
        _emit(lines, key, value, (key,), 0, notes, "")
    return "\n".join(lines) + "\n"


def scalar(value: Any) -> str:
    """One value in YAML flow style: 3, night, '#ffffff', {uniform: [1, 2]}, [640, 480]."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False, allow_unicode=True)
    text = text.strip()
    return text[:-4].rstrip() if text.endswith("\n...") else text


def _is_dist(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and (
        (len(value) == 1 and next(iter(value)) in KINDS) or set(value) == {"normal", "clip"})


def _is_leaf(value: Any) -> bool:
    if isinstance(value, dict):
        return not value or _is_dist(value)
    if isinstance(value, list):
        return all(_is_leaf(v) for v in value)
    return True


def _comment(text: str, code: str) -> str:
    text = " ".join(str(text).split())
    if not code:
        return f"# {text}" if text else "#"
    return f"{code.ljust(COMMENT_COLUMN - 1)} # {text}" if len(code) < COMMENT_COLUMN - 1 else f"{code}  # {text}"


def _line(lines: list[str], code: str, note: str | None) -> None:
    lines.append(_comment(note, code) if note else code)


def _emit(lines: list[str], key: Any, value: Any, path: tuple, indent: int, notes: dict, lead: str) -> None:
    """`key: value` at `indent`; `lead` replaces the indent for the first line of a list item ('- ')."""
    pad = lead or " " * indent
    note = notes.get(path)
    k = scalar(key)
    if _is_leaf(value):
        _line(lines, f"{pad}{k}: {scalar(value)}", note)
        return
    _line(lines, f"{pad}{k}:", note)
    if isinstance(value, dict):
        for sub_key, sub in value.items():
            _emit(lines, sub_key, sub, path + (sub_key,), indent + 2, notes, "")
        return
    for i, item in enumerate(value):
        _item(lines, item, path + (i,), indent + 2, notes)


def _item(lines: list[str], item: Any, path: tuple, dash: int, notes: dict) -> None:
    """One list item whose '- ' starts at column `dash`."""
    if isinstance(item, dict) and item and not _is_dist(item):
        for n, (sub_key, sub) in enumerate(item.items()):
            sub_path = path + (sub_key,)
            if n == 0 and path in notes and sub_path not in notes:
                notes = {**notes, sub_path: notes[path]}
            _emit(lines, sub_key, sub, sub_path, dash + 2, notes, " " * dash + "- " if n == 0 else "")
    else:
        _line(lines, f"{' ' * dash}- {scalar(item)}", notes.get(path))


def entry_lines(key: Any, value: Any, path: tuple, indent: int, notes: dict[tuple, str]) -> list[str]:
    """The lines of one `key: value` entry at `indent` (for inserting into an existing recipe)."""
    lines: list[str] = []
    _emit(lines, key, value, path, indent, notes, "")
    return lines


def item_lines(item: Any, path: tuple, dash: int, notes: dict[tuple, str]) -> list[str]:
    """The lines of one list item at dash column `dash`."""
    lines: list[str] = []
    _item(lines, item, path, dash, notes)
    return lines


def with_comment(code: str, note: str) -> str:
    return _comment(note, code)
