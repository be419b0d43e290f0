"""Median and range of repeated measurements, and how they are shown."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    median: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        if self.n == 1:
            return f"{self.median:.1f}"
        return f"{self.median:.1f} ({self.low:.1f}-{self.high:.1f})"


def summarize(values: Sequence[float]) -> Summary | None:
    if not values:
        return None
    return Summary(statistics.median(values), min(values), max(values), len(values))


def show(summary: Summary | None) -> str:
    return "-" if summary is None else str(summary)


def ratio(value: Summary | None, reference: Summary | None) -> str:
    """value's median over reference's median, as "2.9x"."""
    if value is None or reference is None or reference.median <= 0:
        return "-"
    return f"{value.median / reference.median:.2f}x"
