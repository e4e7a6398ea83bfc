"""A review heatmap: one cell per study day, weeks as columns, as GitHub draws contributions.

Intensity is carried by the glyph, not only by colour, so the map reads the same on a terminal
without colour (NO_COLOR) or in a screen reader's text dump:

    ·  no reviews     ░ ▒ ▓ █  four levels, up to the busiest day in view

The levels split 1..max into four equal ranges, the busiest day always in the darkest, and the
legend under the map names the counts each glyph stands for, so a faint cell always means "a
light day compared with the busiest one shown".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from prepkit.export import heat

EMPTY = "·"
LEVELS = ("░", "▒", "▓", "█")
DAY_LABELS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
LABEL_WIDTH = 3  # "Mo "
CELL_WIDTH = 2  # the glyph and a gap


def glyph(count: int, limits: Sequence[int]) -> str:
    found = heat.level(count, limits)
    return LEVELS[found - 1] if found else EMPTY


def grid_start(today: date, weeks: int) -> date:
    """The Monday that opens the first column when the last column is today's week."""
    return today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)


def days_needed(today: date, weeks: int) -> int:
    """How many study days (ending today) fill a grid of `weeks` columns."""
    return (today - grid_start(today, weeks)).days + 1


def legend(limits: Sequence[int]) -> list[tuple[str, str]]:
    """(glyph, counts) for the legend: '0' for the empty glyph, then each level's range that
    can appear in the map."""
    spans = [(LEVELS[lvl - 1], str(low) if high == low else f"{low}-{high}")
             for lvl, low, high in heat.ranges(limits)]  # fmt: skip
    return [(EMPTY, "0"), *spans]


def render_heatmap(
    counts: dict[date, int],
    today: date,
    weeks: int = 26,
    *,
    cell: Style | str = "",
    empty: Style | str = "",
    label: Style | str = "",
    today_style: Style | str = "underline",
) -> Text:
    """The map as text: a month row, seven day rows (Monday first), and a legend.

    `counts` maps study dates to reviews; dates missing from it had none. Days after `today` in
    its week are left blank.
    """
    start = grid_start(today, weeks)
    busiest = max((counts.get(start + timedelta(days=i), 0) for i in range(7 * weeks)), default=0)
    limits = heat.limits(busiest, len(LEVELS))

    months = [" "] * (LABEL_WIDTH + CELL_WIDTH * weeks)
    free = LABEL_WIDTH  # the first column a month name may start at without touching the last
    for week in range(weeks):
        monday = start + timedelta(weeks=week)
        first_of_month = next(
            (monday + timedelta(days=d) for d in range(7) if (monday + timedelta(days=d)).day == 1),
            None,
        )
        shown = first_of_month or (monday if week == 0 else None)
        if shown is None:
            continue
        name = shown.strftime("%b")
        column = LABEL_WIDTH + CELL_WIDTH * week
        if column < free or column + len(name) > len(months):
            continue
        months[column : column + len(name)] = name
        free = column + len(name) + 1
    out = Text("".join(months).rstrip(), style=label)
    for weekday in range(7):
        out.append("\n")
        out.append(f"{DAY_LABELS[weekday]:<{LABEL_WIDTH}}", style=label)
        for week in range(weeks):
            day = start + timedelta(weeks=week, days=weekday)
            if day > today:
                break
            count = counts.get(day, 0)
            mark = glyph(count, limits)
            style = cell if count else empty
            if day == today:
                out.append(mark, style=Style.combine([_style(style), _style(today_style)]))
            else:
                out.append(mark, style=style)
            if week < weeks - 1:
                out.append(" ")
    out.append("\n")
    out.append("   ")
    for index, (mark, span) in enumerate(legend(limits)):
        if index:
            out.append("  ")
        out.append(mark, style=cell if index else empty)
        out.append(f" {span}", style=label)
    out.append("  reviews a day", style=label)
    return out


def _style(style: Style | str) -> Style:
    return style if isinstance(style, Style) else Style.parse(style) if style else Style()


class Heatmap(Static):
    """Reviews per study day over the last `weeks` weeks, with a legend; see the module doc."""

    DEFAULT_CSS = """
    Heatmap {
        width: auto;
        height: auto;
    }
    Heatmap > .heatmap--cell {
        color: $success;
    }
    Heatmap > .heatmap--empty {
        color: $text-muted;
    }
    Heatmap > .heatmap--label {
        color: $text-muted;
    }
    Heatmap > .heatmap--today {
        text-style: underline;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "heatmap--cell",
        "heatmap--empty",
        "heatmap--label",
        "heatmap--today",
    }

    def __init__(
        self, weeks: int = 26, *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__("loading…", id=id, classes=classes)
        self.weeks = weeks
        self._counts: dict[date, int] | None = None
        self._today: date | None = None

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._redraw())

    def show(self, counts: dict[date, int], today: date) -> None:
        """Draw the map for these counts (study date -> reviews), today in the last column."""
        self._counts = counts
        self._today = today
        self._redraw()

    def _redraw(self) -> None:
        if self._counts is None or self._today is None:
            return
        style = self.get_component_rich_style
        self.update(
            render_heatmap(
                self._counts,
                self._today,
                self.weeks,
                cell=style("heatmap--cell", partial=True),
                empty=style("heatmap--empty", partial=True),
                label=style("heatmap--label", partial=True),
                today_style=style("heatmap--today", partial=True),
            )
        )
