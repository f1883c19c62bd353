"""`draft --from`: edit the base recipe's own text, so its comments and layout survive.

The draft (mapping.build) gives the new mapping; `patch(base_text, new, notes)` diffs it against
the base mapping and edits only those lines: a changed one-line value is replaced in place (its
comment becomes the note, with the old value), a new key is inserted at the end of its block
mapping, a new list item at the end of its block list. Anything else (a value spread over several
lines that changes shape, flow-style parents, removed keys) makes `patch` return None, and the
caller writes the whole recipe instead. The result is checked: it must load to exactly `new`.
"""
from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from synthdata.recipe.draft.writer import entry_lines, item_lines, scalar, with_comment


class _Unpatchable(Exception):
    pass


def patch(base_text: str, new: dict[str, Any], notes: dict[tuple, str], header: list[str]) -> str | None:
    """The base text with the draft's changes applied, or None when it cannot be edited in place."""
    try:
        root = yaml.compose(base_text, Loader=yaml.SafeLoader)
        base = yaml.safe_load(base_text)
        if not isinstance(root, MappingNode) or not isinstance(base, dict):
            return None
        lines = base_text.splitlines()
        edits: list[tuple[int, list[str]]] = []             # (line to insert before, new lines)
        _diff(root, base, new, (), notes, lines, edits)
    except (_Unpatchable, yaml.YAMLError):
        return None
    # bottom up; at one line, later insertions (an outer block's new keys) go in first so that an
    # inner block's new keys, inserted after them at the same place, end up above them
    for _, _, at, replacement in sorted(((at, i, at, rep) for i, (at, rep) in enumerate(edits)), reverse=True):
        lines[at:at] = replacement
    text = "\n".join([f"# {h}" if h else "#" for h in header] + lines) + "\n"
    try:
        if yaml.safe_load(text) != new:
            return None
    except yaml.YAMLError:
        return None
    return text


def _diff(node: Node, old: Any, new: Any, path: tuple, notes: dict, lines: list[str],
          edits: list[tuple[int, list[str]]]) -> None:
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict) and isinstance(node, MappingNode) \
            and not node.flow_style:
        if set(old) - set(new):
            raise _Unpatchable("a key was removed")
        children = {k.value: v for k, v in node.value if isinstance(k, ScalarNode)}
        added = [k for k in new if k not in old]
        for key in old:
            _diff(children[key], old[key], new[key], path + (key,), notes, lines, edits)
        if added:
            indent = node.value[0][0].start_mark.column
            at = _last_line(node) + 1
            out: list[str] = []
            for key in added:
                if not path and isinstance(new[key], (dict, list)):
                    out.append("")                       # a new top-level section: a blank line first
                out += entry_lines(key, new[key], path + (key,), indent, notes)
            edits.append((at, out))
        return
    if isinstance(old, list) and isinstance(new, list) and isinstance(node, SequenceNode) \
            and not node.flow_style and node.value and len(new) >= len(old):
        for i, (child, o) in enumerate(zip(node.value, old)):
            _diff(child, o, new[i], path + (i,), notes, lines, edits)
        if len(new) > len(old):
            dash = _dash_column(node, lines)
            out = []
            for i in range(len(old), len(new)):
                out += item_lines(new[i], path + (i,), dash, notes)
            edits.append((_last_line(node) + 1, out))
        return
    _replace(node, old, new, path, notes, lines, edits)


def _replace(node: Node, old: Any, new: Any, path: tuple, notes: dict, lines: list[str],
             edits: list[tuple[int, list[str]]]) -> None:
    """A value on one line (scalar or flow collection) replaced in place."""
    start, end = node.start_mark, node.end_mark
    if start.line != end.line or isinstance(new, (dict, list)) and new and not _flowable(new):
        raise _Unpatchable("a value over several lines")
    line = lines[start.line]
    code = line[:start.column] + scalar(new)
    was = f"was {scalar(old)}"
    note = notes.get(path) or "; ".join(f"{'.'.join(map(str, p[len(path):]))}: {n}" for p, n in notes.items()
                                        if len(p) > len(path) and p[:len(path)] == path)
    lines[start.line] = with_comment(code, f"{note} ({was})" if note else was)   # same line count


def _flowable(value: Any) -> bool:
    return "\n" not in scalar(value)


def _last_line(node: Node) -> int:
    """0-based index of the last line holding this node's content."""
    if isinstance(node, MappingNode) and node.value and not node.flow_style:
        return max(_last_line(v) for _, v in node.value)
    if isinstance(node, SequenceNode) and node.value and not node.flow_style:
        return max(_last_line(v) for v in node.value)
    end = node.end_mark
    return end.line if end.column > 0 else end.line - 1


def _dash_column(node: SequenceNode, lines: list[str]) -> int:
    first = node.value[0]
    text = lines[first.start_mark.line]
    dash = text.rfind("-", 0, first.start_mark.column + 1)
    if dash < 0:
        raise _Unpatchable("list item without a dash on its line")
    return dash
