"""Security scenarios a text named -> `scenario:`, the `zones:` they need and `events:` thresholds.

Zones are placed in regions every clip of the layout has (recipe/security.py lists them); a
place the text names ("by the gate", "near the entrance") picks the region and spot per layout.
"""
from __future__ import annotations

from typing import Any

# place -> layout type -> (region, at, size_m); size None = the whole region
PLACE_ZONES: dict[str, dict[str, tuple[str, list | None, list | None]]] = {
    "far": {"parking_lot": ("lot", [0.5, 0.85], [12, 5]), "street": ("plaza", [0.5, 0.85], [8, 3]),
            "indoor": ("floor", [0.5, 0.85], [6, 3])},
    "entrance": {"parking_lot": ("walkway", None, None), "street": ("plaza", [0.5, 0.8], [6, 3]),
                 "indoor": ("entrance", None, None)},
    "desk": {"indoor": ("floor", [0.15, 0.7], [3, 3])},
    "walkway": {"parking_lot": ("walkway", None, None), "street": ("plaza", [0.5, 0.3], [10, 3]),
                "indoor": ("floor", [0.5, 0.2], [8, 3])},
    "seats": {"parking_lot": ("walkway", None, None), "street": ("plaza", [0.5, 0.5], [8, 4]),
              "indoor": ("floor", [0.5, 0.45], [8, 6])},
    "middle": {"parking_lot": ("lot", [0.5, 0.5], [10, 8]), "street": ("plaza", [0.5, 0.5], [10, 4]),
               "indoor": ("floor", [0.5, 0.5], [8, 6])},
    "aisle": {"parking_lot": ("aisle0", None, None), "indoor": ("floor", [0.5, 0.5], [4, 10])},
    "corner": {"parking_lot": ("lot", [0.15, 0.8], [6, 6]), "street": ("plaza", [0.15, 0.5], [5, 4]),
               "indoor": ("floor", [0.15, 0.8], [4, 4])},
}
RESTRICTED = {"parking_lot": ("lot", [0.5, 0.8], [16, 6]), "street": ("plaza", [0.5, 0.5], [8, 4]),
              "indoor": ("floor", [0.15, 0.7], [3, 3])}
TRIPWIRE = {"parking_lot": ("lot", [0.5, 0.55]), "street": ("plaza", [0.5, 0.5]), "indoor": ("floor", [0.5, 0.5])}
ZONE_ROLE = {"loitering": "loitering", "intrusion": "restricted", "crowd": "watch"}
DURATION_FIELD = {"loitering": "duration_s", "crowd": "dwell_s", "illegal_parking": "dwell_s",
                  "tamper": "duration_s"}
# seconds a clip needs for the scenario to play out with its default timings
NEEDS_S = {"loitering": 25, "abandoned_bag": 16, "fall": 9, "crowd": 20, "illegal_parking": 25,
           "wrong_way": 12, "intrusion": 12, "line_crossing": 12, "running": 8, "tamper": 12}
PERSON_SCENARIOS = ("loitering", "abandoned_bag", "fall", "running", "intrusion", "line_crossing")
ORDER = ("intrusion", "line_crossing", "loitering", "abandoned_bag", "fall", "running", "crowd",
         "illegal_parking", "wrong_way", "tamper")


class ScenarioPlanner:
    """Adds scenarios to a recipe mapping through `put(path, value, note)` of mapping.Builder."""

    def __init__(self, builder: Any, layout: str):
        self.b, self.layout = builder, layout

    def zone_names(self) -> dict[str, dict]:
        return {z.get("name"): z for z in self.b.get(("zones",), []) or [] if isinstance(z, dict)}

    def has_zone(self, kind: str, roles: tuple[str, ...] | None) -> bool:
        """A recipe zone, or one the layout brings (a plate's sketch), of this kind and role."""
        zones = [*self.zone_names().values(), *self.b.layout_zones]
        return any(z.get("kind", "zone") == kind and (roles is None or (z.get("role") or "restricted") in roles)
                   for z in zones)

    def add_zone(self, zone: dict[str, Any], note: str) -> str:
        names = self.zone_names()
        base, name, k = zone["name"], zone["name"], 2
        while name in names:
            name, k = f"{base}_{k}", k + 1
        zone["name"] = name
        zones = self.b.get(("zones",), None)
        index = len(zones) if isinstance(zones, list) else 0
        if not isinstance(zones, list):
            self.b.put(("zones",), [], None)
        self.b.put(("zones", index), zone, note)
        return name

    def place_zone(self, name: str, place: Any, role: str) -> str | None:
        """A zone at the place the text named; None when this layout has no such place."""
        spots = PLACE_ZONES.get(place.value, {})
        if self.layout not in spots:
            return None
        region, at, size = spots[self.layout]
        zone: dict[str, Any] = {"name": _slug(place.extra), "role": role, "region": region}
        if at is not None:
            zone["at"], zone["size_m"] = at, size
        return self.add_zone(zone, f"{role} zone for the {name} from '{place.words}'")

    def add(self, name: str, said: Any, place: Any | None, duration: Any | None,
            probability: Any | None) -> float:
        """Add scenario `name`; returns the seconds a clip needs for it."""
        path = ("scenario", name)
        fields: dict[str, Any] = {}
        notes: dict[str, str] = {}
        for key, v in said.value.items():
            fields[key] = v.value
            notes[key] = f"from '{v.words}'"
        if probability is not None:
            fields["probability"] = probability.value
            notes["probability"] = f"from '{probability.words}'"
        need = float(NEEDS_S[name])
        if duration is not None and name in DURATION_FIELD:
            d = min(max(duration.value, 1.0), 2880.0)       # the fields allow up to an hour
            if d != duration.value:
                self.b.warn(f"'{duration.words}': a {name} lasts 1 s to 48 min here; using {d:g} s")
            fields[DURATION_FIELD[name]] = {"uniform": [round(d, 2), round(d * 1.25, 2)]}
            notes[DURATION_FIELD[name]] = f"from '{duration.words}'"
            need = max(need - 20, 0) + d * 1.25 + 6
            self._threshold(name, d, duration.words)
        role = ZONE_ROLE.get(name)
        if role and place is not None:
            zone = self.place_zone(name, place, role)
            if zone is None:
                self.b.warn(f"'{place.words}': a {self.layout} layout has no such place; the {name} "
                            f"happens anywhere")
            else:
                fields["zone"] = zone
        self._required_zones(name, fields)
        if "probability" not in fields:
            fields = {"probability": 1.0, **fields}
            notes["probability"] = "default: in every clip (say 'sometimes' or 'in 30% of clips')"
        self.b.put(path, fields, f"from '{said.words}'")
        for key, note in notes.items():
            self.b.note(path + (key,), note)
        return need

    def _threshold(self, name: str, d: float, words: str) -> None:
        """Event thresholds short enough for the duration the text gave."""
        if name == "loitering" and d * 0.8 < 10:
            self.b.put(("events", "loitering_s"), round(max(1.0, d * 0.8), 1),
                       f"loitering events need a dwell this long; shortened for '{words}'")
        if name == "illegal_parking" and d * 0.6 < 5:
            self.b.put(("events", "parking_s"), round(max(1.0, d * 0.6), 1),
                       f"illegal-parking events need this long; shortened for '{words}'")
        if name == "crowd" and d * 0.6 < 1:
            self.b.put(("events", "crowd_min_s"), round(max(0.3, d * 0.6), 1), f"shortened for '{words}'")

    def _required_zones(self, name: str, fields: dict[str, Any]) -> None:
        if "zone" in fields:
            return
        L = self.layout
        if name == "intrusion" and not self.has_zone("zone", ("restricted",)):
            region, at, size = RESTRICTED.get(L, ("layout", [0.5, 0.7], [6, 4]))
            fields["zone"] = self.add_zone({"name": "restricted_area", "role": "restricted", "region": region,
                                            "at": at, "size_m": size, "painted": True},
                                           "default: a restricted zone for the intrusion")
        elif name == "line_crossing" and not self.has_zone("tripwire", None):
            region, at = TRIPWIRE.get(L, ("layout", [0.5, 0.5]))
            fields["tripwire"] = self.add_zone({"name": "perimeter", "kind": "tripwire", "region": region,
                                                "at": at, "yaw_deg": 0},
                                               "default: a tripwire across the scene for the line crossing")
        elif name == "illegal_parking" and not self.has_zone("zone", ("no_parking",)):
            if L == "street":
                self.b.put(("scene", "layout", "street_parking"), True, "illegal parking needs the kerbside lane")
                zone = {"name": "no_parking_zone", "role": "no_parking", "region": "parking_lane", "painted": True}
            else:   # parking lot: across the first aisle; other layouts (plate): the middle of the ground
                zone = {"name": "no_parking_zone", "role": "no_parking",
                        "region": "aisle0" if L == "parking_lot" else "layout",
                        "at": [0.5, 0.5], "size_m": [12, 6] if L == "parking_lot" else [6, 4], "painted": True}
            fields["zone"] = self.add_zone(zone, "default: a painted no-parking zone for the illegal parking")
        elif name == "wrong_way" and not self.has_zone("zone", ("lane",)):
            if L == "indoor":
                zone = {"name": "one_way", "role": "lane", "region": "floor", "direction_deg": 90,
                        "categories": ["person"]}
                fields["actor"] = "person"
            elif L == "street":
                zone = {"name": "near_lane", "role": "lane", "region": "lane_eastbound0"}
                if fields.get("actor") == "person":        # people are watched only when the lane says so
                    zone["categories"] = ["person"]
            else:   # a layout without named lanes (plate): a one-way band across the middle
                zone = {"name": "one_way", "role": "lane", "region": "layout", "at": [0.5, 0.5],
                        "size_m": [20, 4], "direction_deg": 0}
                if fields.get("actor") == "person":
                    zone["categories"] = ["person"]
            fields["zone"] = self.add_zone(zone, "default: a one-way lane for the wrong-way movement")


def _slug(word: str) -> str:
    return "_".join(w for w in word.replace("-", " ").split() if w.isalnum())[:40] or "zone"
