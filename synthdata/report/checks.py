"""Warnings a person should see before training on a dataset."""
from __future__ import annotations

from dataclasses import dataclass

from synthdata.report.stats import Stats

FEW_TRACKS = 10          # a category with fewer tracks is too rare to learn from
HIDDEN_SHARE = 0.25      # share of a category's object rows fully hidden
TINY_SHARE = 0.01        # share of a category's visible boxes under `tiny_px`


@dataclass
class Limits:
    few_tracks: int = FEW_TRACKS
    hidden_share: float = HIDDEN_SHARE
    tiny_share: float = TINY_SHARE


def warnings(s: Stats, limits: Limits = Limits()) -> list[str]:
    """One sentence per problem, most general first."""
    out: list[str] = []
    if s.counts["clips"] == 0:
        out.append("the dataset has no clips")
    if s.empty_clip_count:
        shown = ", ".join(s.empty_clips[:5]) + (", ..." if s.empty_clip_count > 5 else "")
        out.append(f"{s.empty_clip_count} of {s.counts['clips']} clips have no object rows at all ({shown})")
    for cat, c in s.categories.items():
        if c.tracks < limits.few_tracks:
            out.append(f"category '{cat}' has only {c.tracks} track{'' if c.tracks == 1 else 's'} "
                       f"(fewer than {limits.few_tracks}): too few samples to learn it from")
        if c.objects and c.hidden_objects / c.objects > limits.hidden_share:
            out.append(f"{c.hidden_objects / c.objects:.0%} of '{cat}' object rows are fully hidden "
                       f"({c.hidden_objects} of {c.objects}; more than {limits.hidden_share:.0%})")
        if c.visible_objects and c.tiny_boxes / c.visible_objects > limits.tiny_share:
            out.append(f"{c.tiny_boxes} visible '{cat}' boxes ({c.tiny_boxes / c.visible_objects:.1%}) are "
                       f"under {s.tiny_px:g} px wide or high")
    return out
