"""Partial dates and periods: the imprecise dates a diplomatic record is made of.

A partial date names a whole calendar span: ``2024`` (a year), ``2020-Q4`` (a quarter),
``2024-05`` (a month) or ``2024-05-17`` (a day). A period is an interval of partial dates,
``2024-01/2024-05`` (January to May inclusive), or a single partial date (``2023``).

Both are values: immutable, hashable, ordered by the span they cover (first day, then last
day), with containment and overlap tests.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import IntEnum
from typing import Self

from domain.errors import shown


class Precision(IntEnum):
    """How much of a partial date is known, coarsest first."""

    YEAR = 1
    QUARTER = 2
    MONTH = 3
    DAY = 4


# ASCII digits only, and ``\Z`` rather than ``$``, which would also match before a final "\n".
_PARTIAL_DATE = re.compile(
    r"^(?P<year>\d{4})(?:-Q(?P<quarter>[1-4])|-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?\Z",
    re.ASCII,
)

PARTIAL_DATE_FORMS = "YYYY, YYYY-Qn, YYYY-MM or YYYY-MM-DD"
# The years a partial date may name: four digits, as Python's dates hold them (PostgreSQL's
# ``date``, where the read models keep a date's first and last day, holds more). There is no
# year 0000; the record's dates are historical and present, so no bound is narrower.
MIN_YEAR = 1
MAX_YEAR = 9999


class PartialDateError(ValueError):
    """A string that is not a partial date."""


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A calendar span known to year, quarter, month or day precision."""

    first_day: date
    last_day: date
    precision: Precision

    @classmethod
    def parse(cls, text: str) -> Self:
        match = _PARTIAL_DATE.match(text)
        if match is None:
            msg = f"{shown(text)} is not a partial date; expected {PARTIAL_DATE_FORMS}"
            raise PartialDateError(msg)
        year = int(match["year"])
        if year < MIN_YEAR:
            msg = f"{text!r} has no year 0000"
            raise PartialDateError(msg)
        if match["quarter"]:
            quarter = int(match["quarter"])
            first_month = 3 * quarter - 2
            last_month = first_month + 2
            return cls(
                date(year, first_month, 1),
                date(year, last_month, calendar.monthrange(year, last_month)[1]),
                Precision.QUARTER,
            )
        if match["month"]:
            month = int(match["month"])
            if not 1 <= month <= 12:
                msg = f"{text!r} has no month {month:02d}"
                raise PartialDateError(msg)
            if match["day"]:
                try:
                    day = date(year, month, int(match["day"]))
                except ValueError:
                    msg = f"{text!r} is not a day of the calendar"
                    raise PartialDateError(msg) from None
                return cls(day, day, Precision.DAY)
            last = calendar.monthrange(year, month)[1]
            return cls(date(year, month, 1), date(year, month, last), Precision.MONTH)
        return cls(date(year, 1, 1), date(year, 12, 31), Precision.YEAR)

    @classmethod
    def of_day(cls, day: date) -> Self:
        return cls(day, day, Precision.DAY)

    def __str__(self) -> str:
        year = f"{self.first_day.year:04d}"
        if self.precision is Precision.YEAR:
            return year
        if self.precision is Precision.QUARTER:
            return f"{year}-Q{(self.first_day.month + 2) // 3}"
        if self.precision is Precision.MONTH:
            return f"{year}-{self.first_day.month:02d}"
        return self.first_day.isoformat()

    def __repr__(self) -> str:
        return f"PartialDate({str(self)!r})"

    @property
    def sort_key(self) -> tuple[date, date]:
        return (self.first_day, self.last_day)

    def __lt__(self, other: PartialDate) -> bool:
        return self.sort_key < other.sort_key

    def __le__(self, other: PartialDate) -> bool:
        return self.sort_key <= other.sort_key

    def __gt__(self, other: PartialDate) -> bool:
        return self.sort_key > other.sort_key

    def __ge__(self, other: PartialDate) -> bool:
        return self.sort_key >= other.sort_key

    def contains(self, other: PartialDate) -> bool:
        """Whether every day of ``other`` lies within this span."""
        return self.first_day <= other.first_day and other.last_day <= self.last_day

    def overlaps(self, other: PartialDate) -> bool:
        return self.first_day <= other.last_day and other.first_day <= self.last_day

    def is_certainly_before(self, other: PartialDate) -> bool:
        """Whether this span ends before ``other`` begins, whatever the unknown parts are."""
        return self.last_day < other.first_day

    def is_after_day(self, day: date) -> bool:
        """Whether this span begins after ``day``: a statement about the future."""
        return self.first_day > day


@dataclass(frozen=True, slots=True)
class Period:
    """An interval of partial dates, both ends inclusive."""

    start: PartialDate
    end: PartialDate

    @classmethod
    def parse(cls, text: str) -> Self:
        if "/" not in text:
            single = PartialDate.parse(text)
            return cls(single, single)
        start_text, _, end_text = text.partition("/")
        start = PartialDate.parse(start_text)
        end = PartialDate.parse(end_text)
        if end.is_certainly_before(start):
            msg = f"{shown(text)} ends before it starts"
            raise PartialDateError(msg)
        return cls(start, end)

    def __str__(self) -> str:
        if self.start == self.end:
            return str(self.start)
        return f"{self.start}/{self.end}"

    def __repr__(self) -> str:
        return f"Period({str(self)!r})"

    @property
    def first_day(self) -> date:
        return self.start.first_day

    @property
    def last_day(self) -> date:
        return self.end.last_day

    @property
    def sort_key(self) -> tuple[date, date]:
        return (self.first_day, self.last_day)

    def __lt__(self, other: Period) -> bool:
        return self.sort_key < other.sort_key

    def __le__(self, other: Period) -> bool:
        return self.sort_key <= other.sort_key

    def __gt__(self, other: Period) -> bool:
        return self.sort_key > other.sort_key

    def __ge__(self, other: Period) -> bool:
        return self.sort_key >= other.sort_key

    def contains(self, other: Period | PartialDate) -> bool:
        return self.first_day <= other.first_day and other.last_day <= self.last_day

    def overlaps(self, other: Period | PartialDate) -> bool:
        return self.first_day <= other.last_day and other.first_day <= self.last_day
