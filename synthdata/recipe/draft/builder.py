"""The mutable recipe mapping a draft is written into, and the finished Draft."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Draft:
    """A drafted recipe mapping, a comment per path, header lines and what the user should hear."""

    data: dict[str, Any]
    notes: dict[tuple, str]
    header: list[str] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Builder:
    """Writes values into a nested recipe mapping and remembers why each was written."""

    def __init__(self, base: dict[str, Any] | None):
        self.fresh = base is None
        self.data: dict[str, Any] = copy.deepcopy(base) if base is not None else {}
        self.notes: dict[tuple, str] = {}
        self.warnings: list[str] = []
        self.layout_zones: list[dict[str, Any]] = []     # zones the layout brings (a plate's sketch)
        self.plate_size: tuple[int, int] | None = None

    def get(self, path: tuple, default: Any = None) -> Any:
        node: Any = self.data
        for key in path:
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and isinstance(key, int) and key < len(node):
                node = node[key]
            else:
                return default
        return node

    def put(self, path: tuple, value: Any, note: str | None) -> None:
        node: Any = self.data
        for i, key in enumerate(path[:-1]):
            if isinstance(node, list):
                node = node[key]
                continue
            if not isinstance(node.get(key), dict | list):
                node[key] = [] if isinstance(path[i + 1], int) else {}
            node = node[key]
        if isinstance(node, list) and path[-1] == len(node):
            node.append(value)
        else:
            node[path[-1]] = value
        if note:
            self.notes[path] = note

    def default(self, path: tuple, value: Any, note: str) -> None:
        """A value the text did not give: only in a fresh draft, and only where nothing is set."""
        if self.fresh and self.get(path) is None:
            self.put(path, value, f"default: {note}")

    def note(self, path: tuple, text: str) -> None:
        self.notes[path] = text

    def warn(self, text: str) -> None:
        self.warnings.append(text)
