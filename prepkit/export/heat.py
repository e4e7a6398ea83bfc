"""Intensity levels of a review heatmap, shared by the dashboard's glyphs and the report's SVG.

The levels split 1..busiest into equal ranges, the busiest day always in the darkest, so a faint
cell means "a light day compared with the busiest one shown" in both, and their legends name the
same counts.
"""

from __future__ import annotations

from collections.abc import Sequence

LEVELS = 4


def limits(busiest: int, levels: int = LEVELS) -> tuple[int, ...]:
    """The highest count of each level: 1..`busiest` split into `levels` equal ranges, so a
    count `c` is at level ceil(levels * c / busiest). With fewer distinct counts than levels the
    lighter levels stay empty (a busiest day of 1 is drawn in the darkest, not the faintest)."""
    return tuple(level * busiest // levels for level in range(1, levels + 1))


def level(count: int, highs: Sequence[int]) -> int:
    """0 for no reviews, else the 1-based level whose range holds `count`."""
    if count <= 0:
        return 0
    return next((i for i, high in enumerate(highs, 1) if count <= high), len(highs))


def ranges(highs: Sequence[int]) -> list[tuple[int, int, int]]:
    """(level, lowest, highest count) of each level a count can fall in, for a legend: levels
    whose range is empty are left out, so every level a legend names can appear in the map."""
    out = []
    low = 1
    for index, high in enumerate(highs, 1):
        if high >= low:
            out.append((index, low, high))
            low = high + 1
    return out
