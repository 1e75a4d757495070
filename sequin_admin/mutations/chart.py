"""The history's chart: stacked bars of attempts per day by outcome, laid out for an SVG
rendered on the server (no script draws it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from .models import Outcome

BAR_WIDTH = 14
BAR_GAP = 4
HEIGHT = 120
LABEL_EVERY_DAYS = 7
OUTCOME_ORDER = [o.value for o in Outcome]


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    height: int
    outcome: str
    count: int
    day: date


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    days: list[date]
    peak: int
    width: int
    height: int
    bar_width: int
    labels: list[tuple[int, str]]
    # Set when the chart counted only the newest this many attempts (selectors.CHART_LIMIT).
    limited_to: int | None = None


def chart_of(
    per_day: Mapping[date, Mapping[str, int]], *, days: list[date], limit: int | None = None
) -> Chart:
    """The geometry of the bars for `days`, from counts per day and outcome, counted among at
    most `limit` attempts."""
    counted = sum(sum(outcomes.values()) for outcomes in per_day.values())
    peak = max((sum(per_day.get(d, {}).values()) for d in days), default=0) or 1
    step = BAR_WIDTH + BAR_GAP
    bars = []
    for index, day in enumerate(days):
        top = HEIGHT
        for outcome in OUTCOME_ORDER:
            count = per_day.get(day, {}).get(outcome, 0)
            if not count:
                continue
            bar_height = max(1, round(count / peak * HEIGHT))
            top -= bar_height
            bars.append(Bar(index * step, top, bar_height, outcome, count, day))
    labels = [
        (i * step, d.strftime("%b %d")) for i, d in enumerate(days) if i % LABEL_EVERY_DAYS == 0
    ]
    return Chart(
        bars=bars,
        days=days,
        peak=peak,
        width=len(days) * step,
        height=HEIGHT,
        bar_width=BAR_WIDTH,
        labels=labels,
        limited_to=limit if limit is not None and counted >= limit else None,
    )
