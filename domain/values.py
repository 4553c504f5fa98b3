"""Value types and vocabularies of the record, and the checks every command shares.

Checks take a :class:`~domain.errors.Problems` collector and a field name, so one command
reports all its bad fields at once.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Final, Literal, get_args
from urllib.parse import urlsplit

from domain.codes import is_country, is_currency
from domain.dates import PartialDate, PartialDateError, Period
from domain.errors import Problems, shown

# --- vocabularies -----------------------------------------------------------------------------

SessionKind = Literal["plenary", "co_chairs_meeting", "working_group"]
SessionFormat = Literal["in_person", "videoconference", "hybrid"]
Topic = Literal[
    "trade",
    "investment",
    "agriculture",
    "transport",
    "energy",
    "tourism",
    "humanitarian",
    "interregional",
    "finance",
    "industry",
    "health",
    "education",
    "digital",
    "other",
]
Measure = Literal[
    "trade_turnover",
    "exports",
    "imports",
    "non_oil_exports",
    "agricultural_exports",
    "fruit_vegetable_exports",
    "freight_volume",
    "tourist_arrivals",
    "investment",
    "agreements_signed",
    "settlement_share_national_currency",
]
ValueKind = Literal["level", "change_pct", "share_pct", "rank", "count"]
Qualifier = Literal["exact", "approximately", "more_than", "less_than", "at_least", "at_most"]
NamedUnit = Literal["percent", "tonne", "count", "rank", "person"]
#: How far a quote is known to back its fact: found in its source's registered text, not
#: checkable (the source has no text), or not found in the text registered later.
EvidenceStatus = Literal["verified", "unverified", "mismatch"]

SESSION_KINDS: Final = get_args(SessionKind)
SESSION_FORMATS: Final = get_args(SessionFormat)
TOPICS: Final = get_args(Topic)
MEASURES: Final = get_args(Measure)
VALUE_KINDS: Final = get_args(ValueKind)
QUALIFIERS: Final = get_args(Qualifier)
NAMED_UNITS: Final = get_args(NamedUnit)

#: The units each kind of value may be given in; ``"currency"`` stands for any ISO 4217 code.
UNITS_BY_VALUE_KIND: Final[dict[str, tuple[str, ...]]] = {
    "level": ("currency", "tonne", "person", "count"),
    "change_pct": ("percent",),
    "share_pct": ("percent",),
    "rank": ("rank",),
    "count": ("count", "person"),
}

# --- limits -----------------------------------------------------------------------------------

MAX_NAME = 200
MAX_TITLE = 500
MAX_QUOTE = 2_000
MAX_TEXT = 5_000
MAX_URL = 2_000
MAX_SOURCE_TEXT_BYTES = 1_048_576
MAX_EVIDENCE = 50
# All the quotes of one fact's evidence together, in characters: two and a half of the longest
# quotes, where a real fact quotes a sentence or two. Evidence is what accumulates on a
# session's, a statistic's and a tenure's rows, so this is the bound their growth is made of.
MAX_QUOTED = 5_000
MAX_LIST = 100
# The read models keep ordinals in an ``integer`` column, and sort sessions by them; no
# commission meets more than a few hundred times.
MIN_ORDINAL = 1
MAX_ORDINAL = 100_000

# How far one aggregate grows. Its read-model rows copy what accumulates, and a versioned row
# is written whole again by every event that changes it, so a row's versions grow with the
# square of its events: each bound below makes one such growth finite. Real commissions record
# a handful of postponements, corrections and declarations per session, a few dozen statistics,
# a co-chair or two per party per decade; each bound allows several times that. Sizes are of
# the worst case, measured: every field at its limit, every character four bytes in UTF-8 (as
# jsonb keeps it; Latin or Cyrillic text takes a quarter to a half). No row then comes near
# jsonb's 256 MB, and an event writes at most one version of each row it changes, ≈ 9 MB,
# where registering a source already stores ≈ 2 MB (its text, in the event and the history).
#
# A session's row holds at most ≈ 8.3 MB (≈ 6.6 MB of it its corrections, each keeping the
# record before and after: 100 co-chairs of the longest names and titles are 0.3 MB), and its
# versions, one per event (at most 43), ≈ 220 MB.
MAX_POSTPONEMENTS = 10  # per session; with a cancellation, at most 11 reasons
MAX_SESSION_CORRECTIONS = 10  # of a session's own record
MAX_DECLARATIONS = 20  # cited per session (a protocol is signed at most once)
# Each statistic is a row of its own, of at most ≈ 0.32 MB (its evidence accumulates with its
# corrections), its versions (at most 12) ≈ 2.4 MB. The bound on statistics keeps a session's
# stream finite (≈ 12,000 events); a session's answer, which lists every statistic, can still
# reach ≈ 45 MB at 1,000 of the largest, and ≈ 320 MB if each was also corrected ten times.
MAX_STATISTICS = 1_000  # reported per session, retracted ones included
MAX_STATISTIC_CORRECTIONS = 10  # per statistic: its revisions are at most 11
# A commission's co-chairs row holds at most ≈ 2.1 MB (a tenure keeps the evidence of its
# appointment and of its end), and its versions, one per appointment or end (at most 81),
# ≈ 90 MB.
MAX_TENURES = 40  # co-chair appointments per commission, ended ones included

# The bounds of a figure. What the record holds is money (world trade in USD is below 1E15),
# tonnes and persons (below 1E10), changes and shares in percent to a millionth of a point,
# ranks and counts; each bound leaves room to spare. Within them every figure fits the read
# models' ``numeric`` column (which holds at most 16,383 digits after the point), and the
# answers, which write figures in plain notation (``4.4E9`` as ``4400000000``), write any
# figure in at most 26 characters. The bounds hold for zero too: ``0E-16384`` is refused.
MIN_MAGNITUDE = -12  # a figure other than zero is at least 1E-12 in size,
MAX_MAGNITUDE = 17  # and below 1E18 (so a figure's exponent, zero's too, is at most 17);
MAX_SCALE = 18  # at most 18 digits after the point: 1E-12 with six more digits;
MAX_DIGITS = 24  # at most 24 digits (leading zeros aside): a figure near 1E18 to six places;
MAX_DECIMAL_TEXT = 40  # and the string is at most 40 characters: any such figure fits in 30.

# ``\Z``, not ``$``: ``$`` also matches before a final "\n", which would let "slug\n" through.
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}\Z")
SESSION_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}\Z")
SLUG_RULE = "lower-case letters, digits and '-', 3 to 64 characters, not starting with '-'"


# --- value types ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evidence:
    """A verbatim quote of a registered source that backs a fact."""

    source: str
    quote: str


@dataclass(frozen=True, slots=True)
class Place:
    city: str
    country: str


@dataclass(frozen=True, slots=True)
class Representative:
    """A person acting for one party: a co-chair or a signatory."""

    party: str
    name: str
    title: str


# --- shared checks ----------------------------------------------------------------------------


def normalize(text: str) -> str:
    """Text as the record stores it: Unicode NFC, otherwise exactly as given."""
    return unicodedata.normalize("NFC", text)


def collapse_whitespace(text: str) -> str:
    """Text for quote matching: NFC, every run of white space one space."""
    return " ".join(normalize(text).split())


def quote_pattern(quote: str) -> re.Pattern[str]:
    """Finds ``quote`` in collapsed text as whole words: a quote may not cut a word or a
    number short, so "grew by 17" does not match "grew by 17.5", nor "Baku" match "Bakurin"."""
    collapsed = collapse_whitespace(quote)
    before = r"(?<!\w)" if collapsed[:1].isalnum() else ""
    after = r"(?!\w|[.,]\d)" if collapsed[-1:].isalnum() else ""
    return re.compile(before + re.escape(collapsed) + after)


def quote_span(text: str, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` first occurs in ``text`` (see :meth:`SearchableText.span`)."""
    return SearchableText(text).span(quote)


_NON_SPACE: Final = re.compile(r"\S+")


class SearchableText:
    """A source's text as quotes are looked for in it: every run of white space one space, as
    :func:`collapse_whitespace` makes it, with the way back to the offsets of the text itself.

    Made once per text and kept with it: a quote is then found by a plain substring search,
    with no pattern compiled for it (compiling one cost a millisecond a quote).
    """

    __slots__ = ("_collapsed_starts", "_text_starts", "collapsed")

    def __init__(self, text: str) -> None:
        """``text`` as the record stores a source's text (NFC)."""
        words = [match.span() for match in _NON_SPACE.finditer(text)]
        self.collapsed: Final = " ".join(text[start:end] for start, end in words)
        # Where each word (a run of non-space) starts, in the collapsed text and in the text.
        self._text_starts = array("q", (start for start, _ in words))
        collapsed_starts = array("q")
        at = 0
        for start, end in words:
            collapsed_starts.append(at)
            at += end - start + 1
        self._collapsed_starts = collapsed_starts

    @property
    def size(self) -> int:
        """About how many bytes it holds: its characters and two offsets a word."""
        return len(self.collapsed) + 16 * len(self._text_starts)

    def find(self, quote: str) -> tuple[int, int] | None:
        """Where ``quote``, white space collapsed, first occurs in the collapsed text as whole
        words, as :func:`quote_pattern` finds it; None if it does not."""
        needle = collapse_whitespace(quote)
        if not needle:
            return None
        at = self.collapsed.find(needle)
        if at == -1:
            return None
        if not self._cuts_a_word(needle, at):
            return at, at + len(needle)
        # The first occurrence cuts a word or a number short: the pattern looks further, at C
        # speed, however many such occurrences a text holds.
        match = quote_pattern(needle).search(self.collapsed, at + 1)
        return None if match is None else match.span()

    def span(self, quote: str) -> tuple[int, int] | None:
        """Where ``quote`` first occurs, as character offsets into the text itself:
        ``text[start:end]`` is the quote as the source words it, its own line breaks and runs
        of spaces included. None if it does not occur."""
        found = self.find(quote)
        if found is None:
            return None
        start, end = found
        return self._in_text(start), self._in_text(end - 1) + 1

    def _in_text(self, offset: int) -> int:
        """The text's offset of the collapsed text's character at ``offset`` (never a space
        between words: a quote starts and ends on a word)."""
        word = bisect_right(self._collapsed_starts, offset) - 1
        return self._text_starts[word] + offset - self._collapsed_starts[word]

    def _cuts_a_word(self, needle: str, at: int) -> bool:
        text = self.collapsed
        if needle[0].isalnum() and at > 0 and _is_word_character(text[at - 1]):
            return True
        end = at + len(needle)
        if not needle[-1].isalnum() or end >= len(text):
            return False
        following = text[end]
        return _is_word_character(following) or (
            following in ".," and end + 1 < len(text) and text[end + 1].isdecimal()
        )


def _is_word_character(char: str) -> bool:
    """What a pattern's ``\\w`` matches."""
    return char.isalnum() or char == "_"


def is_storable(text: str) -> bool:
    """Text every store takes: valid Unicode (no lone surrogates) without NUL characters."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_web_address(url: str) -> bool:
    """An http(s) address naming a host, with no white space or control (or other invisible
    formatting) characters, which no address has and which could hide what it points at."""
    if not url.startswith(("https://", "http://")):
        return False
    if any(char.isspace() or unicodedata.category(char).startswith("C") for char in url):
        return False
    try:
        return bool(urlsplit(url).hostname)
    except ValueError:  # a malformed port or IPv6 host
        return False


def check_text(
    problems: Problems, field: str, text: str, limit: int, *, required: bool = True
) -> str:
    if not is_storable(text):
        problems.add(field, "contains a NUL character or a lone surrogate, which is not text")
        return text
    text = normalize(text)
    if required and not text.strip():
        problems.add(field, "must not be empty")
    elif len(text) > limit:
        problems.add(field, f"is {len(text)} characters long; at most {limit} are allowed")
    return text


def check_optional_text(problems: Problems, field: str, text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    return check_text(problems, field, text, limit)


def check_slug(problems: Problems, field: str, slug: str) -> None:
    problems.require(bool(SLUG.match(slug)), field, f"{shown(slug)} is not a valid id: {SLUG_RULE}")


def check_country(problems: Problems, field: str, code: str) -> bool:
    return problems.require(
        is_country(code),
        field,
        f"{shown(code)} is not an ISO 3166-1 alpha-2 country code "
        "(two upper-case letters, e.g. AZ)",
    )


def check_party(problems: Problems, field: str, code: str, parties: Sequence[str]) -> bool:
    if not check_country(problems, field, code):
        return False
    return problems.require(
        code in parties,
        field,
        f"{code} is not a party of this commission ({' and '.join(parties)})",
    )


def check_choice(problems: Problems, field: str, value: str, choices: Sequence[str]) -> bool:
    return problems.require(
        value in choices, field, f"{shown(value)} is not one of: {', '.join(choices)}"
    )


def parse_partial_date(
    problems: Problems, field: str, text: str | None, *, not_after: date | None = None
) -> PartialDate | None:
    """Parses a partial date; with ``not_after``, refuses a date beginning after that day."""
    if text is None:
        return None
    try:
        parsed = PartialDate.parse(text)
    except PartialDateError as error:
        problems.add(field, str(error))
        return None
    if not_after is not None and parsed.is_after_day(not_after):
        problems.add(field, f"{parsed} is after the day it is recorded ({not_after})")
    return parsed


def parse_period(
    problems: Problems, field: str, text: str | None, *, not_after: date | None = None
) -> Period | None:
    if text is None:
        return None
    try:
        parsed = Period.parse(text)
    except PartialDateError as error:
        problems.add(field, str(error))
        return None
    if not_after is not None and parsed.start.is_after_day(not_after):
        problems.add(field, f"{parsed} begins after the day it is recorded ({not_after})")
    return parsed


def check_end_not_before_start(
    problems: Problems, field: str, start: PartialDate | None, end: PartialDate | None
) -> None:
    if start is not None and end is not None and end.is_certainly_before(start):
        problems.add(field, f"{end} is before the start, {start}")


def check_place(
    problems: Problems, field: str, place: Place | None, parties: Sequence[str]
) -> Place | None:
    """Checks a place and returns it as the record stores it (the city's name in NFC)."""
    if place is None:
        return None
    with problems.within(field + "."):
        city = check_text(problems, "city", place.city, MAX_NAME)
        check_party(problems, "country", place.country, parties)
    return Place(city, place.country)


def check_representatives(
    problems: Problems, field: str, people: Sequence[Representative], parties: Sequence[str]
) -> list[Representative]:
    problems.require(len(people) <= MAX_LIST, field, f"at most {MAX_LIST} people are allowed")
    checked: list[Representative] = []
    for index, person in enumerate(people[:MAX_LIST]):
        with problems.within(f"{field}[{index}]."):
            check_party(problems, "party", person.party, parties)
            name = check_text(problems, "name", person.name, MAX_NAME)
            title = check_text(problems, "title", person.title, MAX_TITLE)
        checked.append(Representative(person.party, name, title))
    return checked


def check_evidence_shape(
    problems: Problems, evidence: Sequence[Evidence], *, required: bool = True
) -> list[Evidence]:
    """Checks the quotes' form; whether each occurs in its source is the application's check."""
    if required and not evidence:
        problems.add("evidence", "a fact needs at least one {source, quote}")
    problems.require(
        len(evidence) <= MAX_EVIDENCE, "evidence", f"at most {MAX_EVIDENCE} items are allowed"
    )
    checked: list[Evidence] = []
    for index, item in enumerate(evidence[:MAX_EVIDENCE]):
        with problems.within(f"evidence[{index}]."):
            check_slug(problems, "source", item.source)
            quote = check_text(problems, "quote", item.quote, MAX_QUOTE)
        checked.append(Evidence(item.source, quote))
    quoted = sum(len(item.quote) for item in checked)
    problems.require(
        quoted <= MAX_QUOTED,
        "evidence",
        f"its quotes hold {quoted:,} characters in all; at most {MAX_QUOTED:,} are allowed",
    )
    return checked


def parse_decimal(problems: Problems, field: str, text: str) -> Decimal | None:
    """A finite decimal written as a string (``"4.4E9"``, ``"17.5"``, ``"260"``) within the
    bounds of a figure: its size, its digits, the digits after its point and its length."""
    if not isinstance(text, str) or not text.strip():
        problems.add(field, 'must be a decimal number written as a string, e.g. "4.4E9"')
        return None
    if len(text) > MAX_DECIMAL_TEXT:  # refused unread: nothing this long is a figure
        problems.add(
            field, f"is {len(text)} characters long; at most {MAX_DECIMAL_TEXT} are allowed"
        )
        return None
    if text != text.strip() or "_" in text or not text.isascii():
        problems.add(field, f"{text!r} is not a plain decimal number")
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        problems.add(field, f"{text!r} is not a decimal number")
        return None
    if not value.is_finite():
        problems.add(field, f"{text!r} is not a finite number")
        return None
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # a finite number's
    if len(digits) > MAX_DIGITS:
        problems.add(field, f"{text!r} has {len(digits)} digits; at most {MAX_DIGITS} are allowed")
    elif exponent < -MAX_SCALE:
        problems.add(
            field,
            f"{text!r} has {-exponent} digits after the point; at most {MAX_SCALE} are allowed",
        )
    elif value and not MIN_MAGNITUDE <= value.adjusted() <= MAX_MAGNITUDE:
        problems.add(
            field,
            f"{text!r} is out of range: a figure is 0, or at least 1E{MIN_MAGNITUDE} "
            f"and below 1E{MAX_MAGNITUDE + 1} in size",
        )
    elif exponent > MAX_MAGNITUDE:
        problems.add(
            field,
            f"{text!r} is zero written with exponent {exponent}; at most "
            f"{MAX_MAGNITUDE} is allowed (write 0)",
        )
    else:
        return value
    return None


def check_value_for_kind(problems: Problems, field: str, value: Decimal, value_kind: str) -> None:
    is_integer = value == value.to_integral_value()
    if value_kind == "level":
        problems.require(value >= 0, field, "a level cannot be negative")
    elif value_kind == "share_pct":
        problems.require(0 <= value <= 100, field, "a share must lie between 0 and 100 percent")
    elif value_kind == "change_pct":
        problems.require(value > -100, field, "a change must be greater than -100 percent")
    elif value_kind == "rank":
        problems.require(is_integer and value >= 1, field, "a rank is a whole number from 1")
    elif value_kind == "count":
        problems.require(is_integer and value >= 0, field, "a count is a whole number from 0")


def check_unit_for_kind(problems: Problems, field: str, unit: str, value_kind: str) -> None:
    if unit in NAMED_UNITS:
        kind_of_unit = unit
    elif is_currency(unit):
        kind_of_unit = "currency"
    else:
        problems.add(
            field,
            f"{shown(unit)} is not a unit: use an ISO 4217 currency code (e.g. USD) "
            f"or one of {', '.join(NAMED_UNITS)}",
        )
        return
    allowed = UNITS_BY_VALUE_KIND.get(value_kind)
    if allowed is not None and kind_of_unit not in allowed:
        described = ", ".join("an ISO 4217 currency" if u == "currency" else u for u in allowed)
        problems.add(field, f"a {value_kind} is given in {described}, not {unit}")
