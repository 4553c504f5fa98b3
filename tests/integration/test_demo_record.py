"""The demo record: every fact DOMAIN.md lists, each quoted verbatim from the seed article."""

from __future__ import annotations

from decimal import Decimal

from api.demo import COMMISSION, SESSION, SOURCE, all_quotes, load_demo
from domain.application import Records
from domain.values import collapse_whitespace


def test_every_demo_quote_occurs_in_the_seed_article(seed_article: str) -> None:
    article = collapse_whitespace(seed_article)
    missing = [quote for quote in all_quotes() if collapse_whitespace(quote) not in article]
    assert missing == []


def test_the_demo_record_holds_every_fact_of_the_article(pg_records: Records) -> None:
    load_demo(pg_records)

    source = pg_records.source(SOURCE)
    assert source.publisher.startswith("Azerbaijan State News Agency")
    commission = pg_records.commission(COMMISSION)
    assert commission.parties == ["AZ", "RU"]
    assert {(t.party, t.name) for t in commission.current_co_chairs} == {
        ("AZ", "Shahin Mustafayev"),
        ("RU", "Alexei Overchuk"),
    }
    session = pg_records.session(COMMISSION, SESSION)
    assert session.status == "convened"
    assert str(session.start) == "2024"
    assert session.place is not None
    assert (session.place.city, session.place.country) == ("Baku", "AZ")
    assert session.protocol is not None
    assert {p.party for p in session.protocol.signatories} == {"AZ", "RU"}
    [declaration] = session.declarations
    assert declaration.title == "Declaration on allied interaction"
    assert str(declaration.dated) == "2022-02-22"
    assert declaration.characterization == "particularly significant"
    figures = {
        (s.measure, s.value_kind): (s.value, s.qualifier, str(s.period) if s.period else None)
        for s in session.statistics.values()
    }
    assert figures == {
        ("agreements_signed", "count"): (Decimal("260"), "more_than", None),
        ("trade_turnover", "rank"): (Decimal("3"), "exact", None),
        ("non_oil_exports", "rank"): (Decimal("1"), "exact", None),
        ("trade_turnover", "change_pct"): (Decimal("17.5"), "exact", "2023"),
        ("trade_turnover", "level"): (Decimal("4.4E9"), "approximately", "2023"),
        ("agricultural_exports", "rank"): (Decimal("10"), "at_most", None),
        ("fruit_vegetable_exports", "change_pct"): (Decimal("9"), "approximately", "2023"),
        ("freight_volume", "change_pct"): (Decimal("10"), "more_than", "2023"),
        ("tourist_arrivals", "rank"): (Decimal("1"), "exact", None),
    }
    assert all(
        evidence.source == SOURCE for s in session.statistics.values() for evidence in s.evidence
    )


def test_loading_the_demo_twice_adds_nothing(pg_records: Records) -> None:
    first = load_demo(pg_records)
    position = pg_records.recorder.max_notification_id()

    second = load_demo(pg_records)

    assert first.added
    assert second.added == []
    assert pg_records.recorder.max_notification_id() == position
