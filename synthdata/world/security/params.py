"""Typed security scripts of one clip: what `ClipSpec.security` holds (DESIGN.md §1).

world/security/behaviours.py samples them from the recipe's `zones:`, `events:` and `scenario:` sections;
world/security/enact.py applies them to the simulated World (falls, bag drops, zones), and world/security/events.py
labels the events with the thresholds in `events`. The camera-tampering schedule is part of the
clip's look (Appearance.tampering, world/appearance.py). Units: metres, seconds; frames 0-based.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from synthdata.world.security.events import EventConfig


@dataclass
class ZoneParams:
    """A resolved zone (ground polygon) or tripwire (directed line), world metres."""

    name: str
    kind: str                                   # zone | tripwire
    points: list[list[float]]                   # (N, 2) ground x, y
    painted: bool = False                       # outline drawn on the ground
    role: str | None = None                     # zone: restricted | no_parking | lane | loitering | watch
    direction: list[float] | None = None        # lane: allowed unit direction [dx, dy]
    crossing: str | None = None                 # tripwire: both | a_to_b | b_to_a
    categories: list[str] | None = None         # who the zone watches; None: per event default

    def attributes(self) -> dict[str, Any]:
        """World Zone attributes (world/security/events.py reads them): the fields that are set."""
        out: dict[str, Any] = {"painted": self.painted}
        for k in ("role", "direction", "crossing", "categories"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        return out


@dataclass
class FallScript:
    """Person `track_id` falls `direction` (forward | backward) from start_s over duration_s."""

    track_id: int
    start_s: float
    duration_s: float
    direction: str


@dataclass
class PickupScript:
    """Person `by_track_id` lifts the bag between lift_s and held_s, then carries it."""

    by_track_id: int
    lift_s: float
    held_s: float


@dataclass
class BagDropScript:
    """The bag is lowered from its owner's hand between drop_s and rest_s to rest at rest_xy."""

    bag_track_id: int
    owner_track_id: int
    drop_s: float
    rest_s: float
    rest_xy: list[float]
    yaw: float
    pickup: PickupScript | None = None


@dataclass
class ActRecord:
    """A scripted behaviour that happened, and the actors acting it out (empty: none could be planned).
    `behavior` is the recipe's `scenario:` key (intrusion, loitering, ...)."""

    behavior: str
    start_s: float
    track_ids: list[int]


@dataclass
class SecurityParams:
    """Zones, event thresholds and the scripts of one clip. `acts` is None when the recipe has no
    `scenario:` (the clips table then has no scenario column values)."""

    zones: list[ZoneParams] = field(default_factory=list)
    events: EventConfig = field(default_factory=EventConfig)
    falls: list[FallScript] = field(default_factory=list)
    bag_drops: list[BagDropScript] = field(default_factory=list)
    acts: list[ActRecord] | None = None
