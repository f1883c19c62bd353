"""What a draft needs to know about a plate folder (`synthdata plate init`): its picture size, its
sketch and the zones the sketch draws. Read through the recipe's own plate layout, when this
synthdata has one (scene.layout.type: plate); without it a plate in the text is reported unused."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from synthdata.errors import BadInput, SynthdataError

SKETCH_NAMES = ("sketch.json", "sketch.png")


@dataclass
class PlateFacts:
    dir: str
    sketch: str | None                     # a sketch found in the folder (None: none there)
    size: tuple[int, int]                  # plate picture [width, height] in pixels
    zones: list[dict[str, Any]] = field(default_factory=list)   # the sketch's zones: name, kind, role


def plate_supported() -> bool:
    from synthdata.recipe.scene import LayoutSpec

    return "plate" in LayoutSpec.model_fields and hasattr(LayoutSpec, "plate_scene")


def read_plate(folder: str) -> PlateFacts:
    """The plate folder's facts; BadInput (one line) when it is not a usable plate."""
    from pydantic import ValidationError

    from synthdata.recipe.scene import LayoutSpec

    if not os.path.isdir(folder):
        raise BadInput(f"plate {folder}: no such folder; make one with `synthdata plate init`")
    sketch = next((os.path.join(folder, n) for n in SKETCH_NAMES if os.path.isfile(os.path.join(folder, n))), None)
    try:
        scene = LayoutSpec(type="plate", plate=folder, sketch=sketch).plate_scene()
    except ValidationError as e:
        raise BadInput(f"plate {folder}: {e.errors()[0].get('msg', 'not a usable plate')}") from None
    except SynthdataError as e:
        raise BadInput(f"plate {folder}: {str(e).splitlines()[0]}") from None
    zones = [{"name": z.get("name"), "kind": z.get("kind", "zone"), "role": z.get("role")}
             for z in scene.get("zones", [])]
    w, h = scene["size"]
    return PlateFacts(folder, sketch, (int(w), int(h)), zones)
