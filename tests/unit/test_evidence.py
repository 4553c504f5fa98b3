"""Where a quote lies in its source's text, a text registered later, and corrections that
change a figure or a date bringing evidence of their own: in memory."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.application import Records
from domain.errors import UnknownSourceError
from domain.source import Source
from domain.values import Evidence, SearchableText, collapse_whitespace, quote_span
from tests.unit.conftest import (
    COMMISSION,
    QUOTE,
    RECORDER,
    SESSION,
    SOURCE,
    SOURCE_TEXT,
    UNTEXTED_SOURCE,
    evidence,
    refused,
    report_turnover,
)

TEXT = "Trade grew  by\n17.5 percent, to 4.4\u00a0billion. Baku hosted it."


@pytest.mark.parametrize(
    ("quote", "found"),
    [
        ("grew by 17.5", "grew  by\n17.5"),  # white space collapsed, found as the text has it
        ("4.4 billion.", "4.4\u00a0billion."),
        ("Trade", "Trade"),
        ("percent, to", "percent, to"),
        ("  hosted\tit. ", "hosted it."),
    ],
)
def test_a_quote_is_located_at_offsets_of_the_text_as_registered(quote: str, found: str) -> None:
    span = quote_span(TEXT, quote)
    assert span is not None
    start, end = span
    assert TEXT[start:end] == found


@pytest.mark.parametrize("quote", ["by 17", "Bak", "grew by 17.5 per", "billion. Bakuhosted", " "])
def test_a_quote_cutting_a_word_or_a_number_short_is_not_located(quote: str) -> None:
    assert quote_span(TEXT, quote) is None


def pattern_span(text: str, quote: str) -> tuple[int, int] | None:
    """The span a pattern with each space of the collapsed quote a run of white space finds
    in the text itself: what a quote's offsets mean, found the slow way."""
    words = collapse_whitespace(quote).split(" ")
    if not words[0]:
        return None
    collapsed = " ".join(words)
    before = r"(?<!\w)" if collapsed[:1].isalnum() else ""
    after = r"(?!\w|[.,]\d)" if collapsed[-1:].isalnum() else ""
    match = re.search(before + r"\s+".join(re.escape(word) for word in words) + after, text)
    return None if match is None else match.span()


# Texts of few characters, so that quotes occur in them often, and cut words short often.
PIECES = st.text(alphabet="ab1 .,\n\u00a0_-", max_size=40)


@given(text=PIECES, start=st.integers(0, 40), length=st.integers(0, 12), quote=PIECES)
def test_a_quote_is_found_where_the_pattern_finds_it(
    text: str, start: int, length: int, quote: str
) -> None:
    searchable = SearchableText(text)
    for candidate in (text[start : start + length], quote):
        assert searchable.span(candidate) == pattern_span(text, candidate)


def test_a_quote_is_located_where_the_quote_check_finds_it() -> None:
    source = Source.register(
        slug="src-1",
        title="t",
        publisher="p",
        language="en",
        text=SOURCE_TEXT,
        recorded_by=RECORDER,
        recorded_on=date(2024, 12, 1),
    )
    assert source.text is not None
    for quote in (QUOTE, "Доля", "no such words here"):
        span = source.locate(quote)
        assert (span is not None) == source.quotes(quote)
        if span is not None:
            assert " ".join(source.text[span[0] : span[1]].split()) == " ".join(quote.split())


def test_a_source_without_text_locates_nothing_until_its_text_is_registered(app: Records) -> None:
    source = app.source(UNTEXTED_SOURCE)
    assert source.text is None
    assert source.locate("anything") is None

    recorded = app.register_source_text(
        UNTEXTED_SOURCE, text="The sides noted  growth.", recorded_by=RECORDER
    )

    assert recorded.aggregate.sha256 is not None
    assert app.source(UNTEXTED_SOURCE).locate("noted growth") == (10, 23)
    assert app.check_evidence(Evidence(UNTEXTED_SOURCE, "noted growth")) == ("verified", (10, 23))
    assert app.check_evidence(Evidence(UNTEXTED_SOURCE, "fell")) == ("mismatch", None)


def test_a_second_text_is_refused_and_an_unknown_source_has_none(app: Records) -> None:
    app.register_source_text(UNTEXTED_SOURCE, text="First text.", recorded_by=RECORDER)
    for text in ("First text.", "Another text."):
        with refused(app, "text") as refusal:
            app.register_source_text(UNTEXTED_SOURCE, text=text, recorded_by=RECORDER)
        assert "never changes" in refusal.message("text")
    with refused(app, "text"):
        app.register_source_text(SOURCE, text="Other.", recorded_by=RECORDER)
    with pytest.raises(UnknownSourceError):
        app.register_source_text("no-such-source", text="x", recorded_by=RECORDER)


def test_an_empty_text_is_refused(app: Records) -> None:
    with refused(app, "text"):
        app.register_source_text(UNTEXTED_SOURCE, text="  \n", recorded_by=RECORDER)


def test_quotes_of_a_source_without_text_are_refused_when_texts_are_required(
    app: Records,
) -> None:
    sid = report_turnover(app)
    app.require_source_text = True
    with refused(app, "evidence[0].source") as refusal:
        app.correct_statistic(
            sid,
            changes={"remarks": "As the ministry said."},
            reason="r",
            evidence=evidence(source=UNTEXTED_SOURCE),
            recorded_by=RECORDER,
        )
    assert "no registered text" in refusal.message("evidence[0].source")
    report_turnover(app, key=SESSION)  # a source with text is quoted as before


def test_a_figure_corrected_without_evidence_is_refused_naming_the_field(app: Records) -> None:
    sid = report_turnover(app)
    with refused(app, "evidence") as refusal:
        app.correct_statistic(
            sid, changes={"value": "4.45E9", "qualifier": "exact"}, reason="r", recorded_by=RECORDER
        )
    assert "value, qualifier" in refusal.message("evidence")
    # A correction of its remarks alone needs none, and keeps the evidence as it was.
    app.correct_statistic(
        sid, changes={"remarks": "As released."}, reason="r", recorded_by=RECORDER
    )
    statistic = app.session(COMMISSION, SESSION).statistics[sid]
    assert statistic.evidence == (Evidence(SOURCE, QUOTE),)
    assert statistic.superseded_evidence == ()


def test_a_session_date_corrected_without_evidence_is_refused(app: Records) -> None:
    with refused(app, "evidence") as refusal:
        app.correct_session(
            COMMISSION, SESSION, changes={"start": "2024-05-17"}, reason="r", recorded_by=RECORDER
        )
    assert "start" in refusal.message("evidence")
    app.correct_session(
        COMMISSION, SESSION, changes={"summary": "Trade."}, reason="r", recorded_by=RECORDER
    )


def test_texts_are_required_when_the_environment_says_so() -> None:
    popo = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    assert Records({**popo, "DIPREC_REQUIRE_SOURCE_TEXT": "true"}).require_source_text
    assert not Records({**popo, "DIPREC_REQUIRE_SOURCE_TEXT": "false"}).require_source_text
    assert not Records(popo).require_source_text


def test_a_source_without_text_is_read_again_once_its_memory_is_old(
    app: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = app.source(UNTEXTED_SOURCE)
    assert app.source(UNTEXTED_SOURCE) is first  # remembered a while
    monkeypatch.setattr(Records, "textless_source_seconds", 0.0)
    assert app.source(UNTEXTED_SOURCE) is not first  # then read again: its text may be new
    texted = app.source(SOURCE)
    assert app.source(SOURCE) is texted  # a text never changes: remembered as long as it fits
