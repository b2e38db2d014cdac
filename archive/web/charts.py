"""Charts drawn on the server as SVG geometry: no script, nothing to load from elsewhere.

The functions here compute rectangles and labels; templates/_charts.html draws them (escaped like
any other text, since labels are host names and reasons that came from the archive).
"""

from __future__ import annotations

from dataclasses import dataclass

from archive.query.overview import DeadTimeline

__all__ = ["PALETTE", "Bar", "BarChart", "Segment", "StackedChart", "bar_chart", "stacked_chart"]

# Colours that stay apart for the common kinds of colour blindness (Okabe and Ito's palette).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000")
WIDTH = 640


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    y: int
    width: int


@dataclass(frozen=True, slots=True)
class BarChart:
    bars: list[Bar]
    height: int
    label_width: int
    bar_height: int = 18


def bar_chart(items: list[tuple[str, int]], *, label_width: int = 180) -> BarChart:
    """Horizontal bars, one per item, scaled to the largest."""
    top = max((value for _label, value in items), default=0) or 1
    room = WIDTH - label_width - 60
    bars = [
        Bar(label, value, 6 + i * 24, max(1, round(value / top * room)))
        for i, (label, value) in enumerate(items)
    ]
    return BarChart(bars, 12 + 24 * len(items), label_width)


@dataclass(frozen=True, slots=True)
class Segment:
    x: int
    y: int
    width: int
    height: int
    colour: str
    title: str


@dataclass(frozen=True, slots=True)
class StackedChart:
    segments: list[Segment]
    ticks: list[tuple[int, str]]  # x, week label
    legend: list[tuple[str, str]]  # colour, host
    height: int
    top: int


def stacked_chart(timeline: DeadTimeline, *, height: int = 180) -> StackedChart:
    """One column per week, stacked by host: how many pages died that week."""
    weeks = len(timeline.weeks)
    totals = [sum(counts[i] for counts in timeline.hosts.values()) for i in range(weeks)]
    top = max(totals, default=0) or 1
    column = (WIDTH - 40) // max(weeks, 1)
    segments: list[Segment] = []
    legend: list[tuple[str, str]] = []
    base = [height] * weeks
    for n, (host, counts) in enumerate(timeline.hosts.items()):
        colour = PALETTE[n % len(PALETTE)]
        legend.append((colour, host))
        for i, count in enumerate(counts):
            if not count:
                continue
            tall = max(2, round(count / top * (height - 10)))
            base[i] -= tall
            week = timeline.weeks[i].isoformat()
            segments.append(
                Segment(
                    30 + i * column,
                    base[i],
                    column - 4,
                    tall,
                    colour,
                    f"{host}: {count} in the week of {week}",
                )
            )
    ticks = [
        (30 + i * column, week.strftime("%d %b"))
        for i, week in enumerate(timeline.weeks)
        if i % 2 == 0
    ]
    return StackedChart(segments, ticks, legend, height, max(totals, default=0))
