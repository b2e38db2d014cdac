"""Tables that fit the terminal: what gives way, and in which order, when it is narrow.

Every table the CLI prints is a ``FittedTable``: columns that say what kind of value they hold,
rows of cells. When the table is laid out (by Rich, at the console's width) the policy is:

1. everything at its natural width, when it fits;
2. otherwise titles are ellipsized and URLs shortened, to ``COMFORT`` cells if any layout
   allows it, never below ``MIN_MAIN``; a URL column whose rows all share one origin
   (``https://host``) drops it and names it in the header;
3. if that is not enough, columns give way in a fixed order: the low-value ones (``drop=1``:
   status, character count), then the reason after a verdict, then title, URL and matched text
   share one column (a line each), then the columns of ``drop=2``, ``3``...; whatever need not
   give way after a later step comes back;
4. below that, one record per block: the key and the verdict on a line, then a line per field.

Ids and verdicts are never cut. The choice is made at render time, from ``options.max_width``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from .shorten import ellipsize, shorten_url, url_origin

__all__ = [
    "MIN_MAIN",
    "MIN_TEXT",
    "VERDICT_STYLES",
    "Cell",
    "Column",
    "FittedTable",
    "Kind",
    "Verdict",
]

MIN_MAIN = 30  # a title or a URL is never given fewer cells than this in a table
# Side by side, a title and a URL of 30 cells each say less than the same two stacked in one
# column of 50: side by side needs this many each, and no column comes back for less.
COMFORT = 40
MIN_TEXT = 20  # nor is a column of wrapped text (changes, matched text)
GAP = 2  # cells between two columns: a divider and one cell of padding

VERDICT_STYLES = {
    "ok": "green",
    "not_found": "red",
    "soft_404": "magenta",
    "blocked": "yellow",
    "server_error": "red",
    "unreachable": "bright_black",
}


class Kind(StrEnum):
    ID = "id"  # whole, always shown: the key of a row
    VERDICT = "verdict"  # whole, always shown; the reason after it may go
    TITLE = "title"  # one line each, ellipsized at the end
    URL = "url"  # one line each, shortened in the middle
    TEXT = "text"  # wrapped over several lines
    SMALL = "small"  # whole (dates, numbers, states); the column goes when space runs out


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    kind: Kind = Kind.SMALL
    drop: int = 0  # 0: always shown; else given up in increasing order (1 first)
    justify: Literal["left", "right"] = "left"
    style: str = ""
    stack: bool = False  # shares one column with the other stacking ones when narrow


@dataclass(frozen=True, slots=True)
class Verdict:
    """A verdict cell: the verdict in its colour, the reason after it unless it is a status."""

    verdict: str
    reason: str | None = None

    def text(self, with_reason: bool = True) -> Text:
        out = Text(self.verdict or "—", style=VERDICT_STYLES.get(self.verdict, ""))
        if with_reason and self.reason and not self.reason.startswith("http_"):
            out.append(f" ({self.reason})", style="dim")
        return out


Cell = str | Text | Verdict | None


# -- layout -------------------------------------------------------------------------------------

_FLEXIBLE = (Kind.TITLE, Kind.URL, Kind.TEXT)
_Step = tuple[str, int]  # ("drop", rank), ("reasons", 0) or ("stack", 0)


@dataclass(slots=True)
class _Measure:
    """Natural widths of every column, measured once."""

    columns: Sequence[Column]
    rows: Sequence[Sequence[Cell]]
    natural: list[int] = field(default_factory=list)
    verdict_short: list[int] = field(default_factory=list)  # verdict columns without reasons

    def __post_init__(self) -> None:
        for i, column in enumerate(self.columns):
            cells = [row[i] for row in self.rows]
            self.natural.append(max([cell_len(column.header), *(_width(c) for c in cells)]))
            if column.kind is Kind.VERDICT:
                short = [
                    cell_len(c.verdict) if isinstance(c, Verdict) else _width(c) for c in cells
                ]
                self.verdict_short.append(max([cell_len(column.header), *short]))
            else:
                self.verdict_short.append(self.natural[-1])

    @property
    def can_stack(self) -> bool:
        return sum(1 for c in self.columns if c.stack) > 1

    def need(self, i: int, reasons: bool, floor: int = MIN_MAIN) -> int:
        """Cells column ``i`` needs: its natural width, or ``floor`` for a title or a URL."""
        column = self.columns[i]
        if column.kind is Kind.VERDICT and not reasons:
            return self.verdict_short[i]
        if column.kind in (Kind.TITLE, Kind.URL):
            return min(self.natural[i], floor)
        if column.kind is Kind.TEXT:
            return min(self.natural[i], MIN_TEXT)
        return self.natural[i]


def _width(cell: Cell) -> int:
    if cell is None:
        return 0
    if isinstance(cell, Verdict):
        return cell.text(True).cell_len
    plain = cell.plain if isinstance(cell, Text) else cell
    return max((cell_len(line) for line in plain.splitlines()), default=0)


@dataclass(frozen=True, slots=True)
class _Layout:
    slots: tuple[tuple[int, ...], ...]  # printed columns, each one column index or a stack
    reasons: bool


def _layout(columns: Sequence[Column], steps: Iterable[_Step]) -> _Layout:
    applied = set(steps)
    dropped = {rank for kind, rank in applied if kind == "drop"}
    stacked = ("stack", 0) in applied
    slots: list[tuple[int, ...]] = []
    stack: list[int] = []
    for i, column in enumerate(columns):
        if column.drop and column.drop in dropped:
            continue
        if stacked and column.stack:
            if not stack:
                slots.append(())  # placeholder where the stack goes
            stack.append(i)
            continue
        slots.append((i,))
    slots = [slot or tuple(stack) for slot in slots]
    return _Layout(tuple(slots), ("reasons", 0) not in applied)


def _steps(columns: Sequence[Column]) -> list[_Step]:
    ranks = sorted({c.drop for c in columns if c.drop})
    steps: list[_Step] = [("drop", r) for r in ranks if r == 1]
    if any(c.kind is Kind.VERDICT for c in columns):
        steps.append(("reasons", 0))
    if sum(1 for c in columns if c.stack) > 1:
        steps.append(("stack", 0))
    return steps + [("drop", r) for r in ranks if r > 1]


def _needs(layout: _Layout, m: _Measure, comfort: bool = False) -> list[int]:
    """What each slot needs; titles and URLs side by side (or, with ``comfort``, any) need
    ``COMFORT`` cells, else ``MIN_MAIN``."""
    needs = []
    for slot in layout.slots:
        stackable = len(slot) == 1 and m.columns[slot[0]].stack and m.can_stack
        floor = COMFORT if comfort or stackable else MIN_MAIN
        needs.append(max(m.need(i, layout.reasons, floor) for i in slot))
    return needs


def _total(layout: _Layout, m: _Measure, comfort: bool = False) -> int:
    return sum(_needs(layout, m, comfort)) + GAP * (len(layout.slots) - 1)


def _choose_layout(columns: Sequence[Column], m: _Measure, width: int) -> _Layout | None:
    """The layout that gives up least and fits ``width``; None when only blocks fit.

    Titles and URLs get ``COMFORT`` cells if some layout allows it, else ``MIN_MAIN``.
    """
    steps = _steps(columns)
    for comfort in (True, False):
        for j in range(len(steps) + 1):
            applied = steps[:j]
            if _total(_layout(columns, applied), m, comfort) <= width:
                # Undo the earlier steps that the later ones made unnecessary.
                for step in reversed(applied[:-1]):
                    trial = [s for s in applied if s != step]
                    if _total(_layout(columns, trial), m, comfort) <= width:
                        applied = trial
                return _layout(columns, applied)
    return None


def _distribute(
    needs: list[int], naturals: list[int], flexible: list[bool], spare: int
) -> list[int]:
    """Share ``spare`` cells among the flexible slots, none past its natural width."""
    widths = list(needs)
    while spare > 0:
        growable = [k for k, f in enumerate(flexible) if f and widths[k] < naturals[k]]
        if not growable:
            break
        share = max(spare // len(growable), 1)
        for k in growable:
            add = min(share, naturals[k] - widths[k], spare)
            widths[k] += add
            spare -= add
    return widths


# -- rendering ----------------------------------------------------------------------------------


class FittedTable:
    """A table that lays itself out for the width it is printed at (see the module docstring)."""

    def __init__(
        self, columns: Sequence[Column], rows: Iterable[Sequence[Cell]], title: str | None = None
    ) -> None:
        self.columns = list(columns)
        self.rows = [list(row) for row in rows]
        self.title = title
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"row of {len(row)} cells for {len(self.columns)} columns")

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        measure = _Measure(self.columns, self.rows)
        layout = _choose_layout(self.columns, measure, width)
        if layout is None:
            yield self._blocks(width)
        else:
            yield self._table(layout, measure, width)

    # -- table mode ---------------------------------------------------------------------------

    def _common_origins(self) -> dict[int, str]:
        """URL columns whose every row shares one origin: that origin."""
        found: dict[int, str] = {}
        for i, column in enumerate(self.columns):
            if column.kind is not Kind.URL:
                continue
            urls = [_plain(row[i]) for row in self.rows if _plain(row[i])]
            origins = {url_origin(url) for url in urls}
            if len(origins) == 1 and "" not in origins and len(urls) > 1:
                found[i] = origins.pop()
        return found

    def _table(self, layout: _Layout, m: _Measure, width: int) -> Table:
        needs = _needs(layout, m)
        flexible = [any(self.columns[i].kind in _FLEXIBLE for i in slot) for slot in layout.slots]

        def naturals() -> list[int]:
            return [max(m.natural[i] for i in slot) for slot in layout.slots]

        spare = width - sum(needs) - GAP * (len(layout.slots) - 1)
        widths = _distribute(needs, naturals(), flexible, spare)
        # A URL column too narrow for its URLs drops the origin they all share, if they do.
        stripped: dict[int, str] = {}
        for i, origin in self._common_origins().items():
            k = next((k for k, slot in enumerate(layout.slots) if i in slot), None)
            if k is not None and widths[k] < m.natural[i]:
                stripped[i] = origin
                paths = [_plain(row[i])[len(origin) :] or "/" for row in self.rows]
                m.natural[i] = max(cell_len(path) for path in paths)
        if stripped:
            widths = _distribute(needs, naturals(), flexible, spare)
        table = Table(
            title=self.title,
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            padding=(0, 1, 0, 0),
            header_style="bold",
        )
        for slot, w in zip(layout.slots, widths, strict=True):
            first = self.columns[slot[0]]
            header = " / ".join(self._header(i, stripped.get(i)) for i in slot)
            fixed = all(self.columns[i].kind not in _FLEXIBLE for i in slot)
            table.add_column(
                header,
                justify=first.justify if len(slot) == 1 else "left",
                width=w,
                no_wrap=fixed,
                overflow="fold",
            )
        for row in self.rows:
            cells: list[Text] = []
            for slot, w in zip(layout.slots, widths, strict=True):
                parts = [self._cell(row[i], i, w, layout.reasons, stripped.get(i)) for i in slot]
                cells.append(Text("\n").join(part for part in parts if part.plain))
            table.add_row(*cells)
        return table

    def _header(self, i: int, origin: str | None) -> str:
        header = self.columns[i].header
        return f"{header} (on {origin})" if origin else header

    def _cell(self, cell: Cell, i: int, width: int, reasons: bool, origin: str | None) -> Text:
        column = self.columns[i]
        if isinstance(cell, Verdict):
            return cell.text(reasons)
        if column.kind is Kind.TITLE:
            lines = [ellipsize(line, width) for line in _plain(cell).splitlines()]
            return Text("\n".join(lines), style=column.style)
        if column.kind is Kind.URL:
            lines = []
            for line in _plain(cell).splitlines():
                if origin and line.startswith(origin):
                    line = line[len(origin) :] or "/"
                lines.append(shorten_url(line, width))
            return Text("\n".join(lines), style=column.style)
        if isinstance(cell, Text):
            return cell
        return Text(cell or "", style=column.style)

    # -- block mode ---------------------------------------------------------------------------

    def _blocks(self, width: int) -> Table:
        key = next((i for i, c in enumerate(self.columns) if c.kind is Kind.ID), 0)
        verdict = next((i for i, c in enumerate(self.columns) if c.kind is Kind.VERDICT), None)
        others = [i for i in range(len(self.columns)) if i not in (key, verdict)]
        label_width = max(
            [max((_width(row[key]) for row in self.rows), default=0)]
            + [2 + cell_len(self.columns[i].header) for i in others]
        )
        value_width = max(width - label_width - 1, 1)
        grid = Table.grid(padding=(0, 1, 0, 0))
        grid.add_column(no_wrap=True, width=label_width)
        grid.add_column(width=value_width, overflow="fold")
        if self.title:
            grid.add_row("", Text(self.title, style="bold"))
        for n, row in enumerate(self.rows):
            if n or self.title:
                grid.add_row("", "")
            head: Text | str = ""
            if verdict is not None:
                head = self._cell(row[verdict], verdict, value_width, True, None)
            grid.add_row(Text(_plain(row[key]), style=self.columns[key].style or "bold"), head)
            for i in others:
                value = self._cell(row[i], i, value_width, True, None)
                if value.plain:
                    grid.add_row(Text("  " + self.columns[i].header, style="dim"), value)
        return grid


def _plain(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Verdict):
        return cell.verdict
    return cell.plain if isinstance(cell, Text) else cell
