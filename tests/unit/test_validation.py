"""The record's refusals: each rule of DOMAIN.md's "Validation" section and of the statistics.

A refusal is an :class:`~domain.errors.InvalidCommandError` that names every offending field, or
a :class:`~domain.errors.NotFoundError` for what the record does not hold; either way nothing is
stored. ``refused(app, *fields)`` asserts all three: the error, exactly the fields named, and an
unchanged event log.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast
from uuid import UUID, uuid4

import pytest

from domain.application import Records, today
from domain.errors import (
    InvalidCommandError,
    NotFoundError,
    UnknownCommissionError,
    UnknownSessionError,
    UnknownSourceError,
    UnknownStatisticError,
)
from domain.session import SessionRecordChanges, StatisticChanges
from domain.values import (
    MAX_MAGNITUDE,
    MAX_ORDINAL,
    MAX_SCALE,
    MEASURES,
    Evidence,
    Place,
    Representative,
)
from tests.unit.conftest import (
    AZ_CO_CHAIR,
    BAKU,
    COMMISSION,
    RECORDER,
    RU_CO_CHAIR,
    SESSION,
    SOURCE,
    UNTEXTED_SOURCE,
    evidence,
    refused,
    report_turnover,
    schedule,
    stored_events,
    tomorrow,
    unchanged,
)

Command = Callable[[Records], object]


def establish(app: Records, **given: Any) -> None:
    fields: dict[str, Any] = {
        "id": "az-tr-economic",
        "parties": ["AZ", "TR"],
        "names": {"en": "Azerbaijan–Türkiye Commission"},
    }
    app.establish_commission(recorded_by=RECORDER, **(fields | given))


def register(app: Records, **given: Any) -> None:
    fields: dict[str, Any] = {
        "id": "another-source",
        "title": "Another source",
        "publisher": "A publisher",
        "language": "en",
    }
    app.register_source(recorded_by=RECORDER, **(fields | given))


def convene(app: Records, **given: Any) -> None:
    """Records a held co-chairs' meeting, valid unless ``given`` spoils it."""
    fields: dict[str, Any] = {
        "key": "2024-05-co-chairs",
        "kind": "co_chairs_meeting",
        "format": "videoconference",
        "start": "2024-05",
        "co_chairs": [AZ_CO_CHAIR, RU_CO_CHAIR],
        "topics": ["trade"],
        "evidence": evidence(),
    }
    app.record_convened_session(COMMISSION, recorded_by=RECORDER, **(fields | given))


def sign(app: Records, key: str = SESSION, **given: Any) -> None:
    fields: dict[str, Any] = {
        "title": "Protocol of the 22nd meeting",
        "signatories": [AZ_CO_CHAIR, RU_CO_CHAIR],
        "evidence": evidence(),
    }
    app.sign_protocol(COMMISSION, key, recorded_by=RECORDER, **(fields | given))


def cite(app: Records, **given: Any) -> None:
    fields: dict[str, Any] = {
        "title": "Declaration on allied interaction",
        "dated": "2022-02-22",
        "evidence": evidence(),
    }
    app.reference_declaration(COMMISSION, SESSION, recorded_by=RECORDER, **(fields | given))


def appoint(app: Records, **given: Any) -> None:
    fields: dict[str, Any] = {
        "party": "AZ",
        "name": "Ali Asadov",
        "title": "Prime Minister",
        "evidence": evidence(),
    }
    app.appoint_co_chair(COMMISSION, recorded_by=RECORDER, **(fields | given))


#: A valid example of each kind of value: the figures of the 22nd session.
EXAMPLES: dict[str, dict[str, Any]] = {
    "level": {
        "measure": "trade_turnover",
        "value": "4.4E9",
        "unit": "USD",
        "reporter": "AZ",
        "partner": "RU",
        "period": "2023",
    },
    "change_pct": {
        "measure": "fruit_vegetable_exports",
        "value": "9",
        "unit": "percent",
        "reporter": "AZ",
        "partner": "RU",
        "period": "2023",
    },
    "share_pct": {
        "measure": "settlement_share_national_currency",
        "value": "57.8",
        "unit": "percent",
        "period": "2023-12",
    },
    "rank": {"measure": "tourist_arrivals", "value": "1", "unit": "rank", "partner": "RU"},
    "count": {"measure": "agreements_signed", "value": "260", "unit": "count"},
}


def report(app: Records, value_kind: str = "level", **given: Any) -> UUID:
    """Reports a statistic at session 22, valid unless ``given`` spoils it."""
    fields: dict[str, Any] = {
        "qualifier": "approximately",
        "evidence": evidence(),
        **EXAMPLES.get(value_kind, EXAMPLES["level"]),
    }
    recorded = app.report_statistic(
        COMMISSION, SESSION, value_kind=value_kind, recorded_by=RECORDER, **(fields | given)
    )
    return recorded.statistic_id


def stored_value(app: Records, statistic: UUID) -> Decimal:
    return app.session(COMMISSION, SESSION).statistics[statistic].value


# --- countries and commissions ------------------------------------------------------------------


@pytest.mark.parametrize("code", ["az", "AZE", "Azerbaijan", "XX", "Az"])
def test_a_party_must_be_an_upper_case_iso_country_code(app: Records, code: str) -> None:
    with refused(app, "parties[0]") as refusal:
        establish(app, parties=[code, "TR"])
    assert "ISO 3166-1 alpha-2" in refusal.message("parties[0]")


@pytest.mark.parametrize(
    "parties", [[], ["AZ"], ["AZ", "AZ"], ["AZ", "RU", "TR"]], ids=["none", "one", "same", "three"]
)
def test_a_commission_needs_exactly_two_distinct_parties(app: Records, parties: list[str]) -> None:
    with refused(app, "parties"):
        establish(app, parties=parties)


@pytest.mark.parametrize("slug", ["AZ-TR", "az", "-az-tr", "az_tr", "az tr", "az-tr\n", "a" * 65])
def test_a_commission_id_must_be_a_slug(app: Records, slug: str) -> None:
    with refused(app, "id"):
        establish(app, id=slug)


def test_a_commission_id_is_given_once(app: Records) -> None:
    with refused(app, "id") as refusal:
        establish(app, id=COMMISSION, parties=["AZ", "RU"])
    assert "already established" in refusal.message("id")


def test_a_commission_id_is_refused_again_whatever_the_order_of_its_parties(
    app: Records,
) -> None:
    with refused(app, "id"):
        establish(app, id=COMMISSION, parties=["RU", "AZ"])


def test_a_commission_needs_a_name_in_a_known_language(app: Records) -> None:
    with refused(app, "names"):
        establish(app, names={})
    with refused(app, "names.english"):
        establish(app, names={"english": "Commission"})


# --- sources ------------------------------------------------------------------------------------


def test_a_source_id_is_given_once(app: Records) -> None:
    with refused(app, "id") as refusal:
        register(app, id=SOURCE)
    assert "already registered" in refusal.message("id")


@pytest.mark.parametrize("language", ["EN", "english", "xx", "en-us"])
def test_a_source_language_must_be_a_bcp_47_tag(app: Records, language: str) -> None:
    with refused(app, "language"):
        register(app, language=language)


def test_a_source_url_must_be_a_web_address(app: Records) -> None:
    with refused(app, "url"):
        register(app, url="ftp://example.org/release")


def test_source_text_of_one_mebibyte_is_accepted(app: Records) -> None:
    register(app, text="a" * 1_048_576)
    assert app.source("another-source").text == "a" * 1_048_576


def test_source_text_over_one_mebibyte_is_refused(app: Records) -> None:
    with refused(app, "text") as refusal:
        register(app, text="a" * 1_048_577)
    assert "bytes" in refusal.message("text")


def test_source_text_is_limited_in_utf_8_bytes_not_characters(app: Records) -> None:
    # 600,000 characters, each two bytes in UTF-8: 1.2 MB.
    with refused(app, "text"):
        register(app, text="ə" * 600_000)


def test_empty_source_text_is_refused_rather_than_stored(app: Records) -> None:
    with refused(app, "text"):
        register(app, text=" \n ")


# --- parties named at sessions ------------------------------------------------------------------


def test_a_host_outside_the_pair_is_refused(app: Records) -> None:
    with refused(app, "place.country") as refusal:
        app.schedule_session(
            COMMISSION,
            ordinal=23,
            kind="plenary",
            planned="2099",
            place=Place("Ankara", "TR"),
            evidence=evidence(),
            recorded_by=RECORDER,
        )
    assert "not a party of this commission" in refusal.message("place.country")


def test_a_host_country_in_lower_case_is_not_a_country_code(app: Records) -> None:
    with refused(app, "place.country") as refusal:
        convene(app, place=Place("Baku", "az"))
    assert "ISO 3166-1 alpha-2" in refusal.message("place.country")


def test_a_co_chair_at_a_session_must_act_for_a_party(app: Records) -> None:
    with refused(app, "co_chairs[1].party"):
        convene(app, co_chairs=[AZ_CO_CHAIR, Representative("TR", "Cevdet Yılmaz", "VP")])


def test_a_co_chair_can_only_be_appointed_for_a_party(app: Records) -> None:
    with refused(app, "party"):
        appoint(app, party="TR")


def test_a_signatory_must_act_for_a_party(app: Records) -> None:
    stranger = Representative("TR", "Cevdet Yılmaz", "Vice President")
    with refused(app, "signatories[2].party"):
        sign(app, signatories=[AZ_CO_CHAIR, RU_CO_CHAIR, stranger])


@pytest.mark.parametrize("field", ["reporter", "partner", "stated_by"])
def test_a_statistic_names_only_parties_of_the_commission(app: Records, field: str) -> None:
    with refused(app, field):
        report(app, **{field: "TR"})


def test_a_statistic_party_in_lower_case_is_refused(app: Records) -> None:
    with refused(app, "reporter") as refusal:
        report(app, reporter="az")
    assert "ISO 3166-1 alpha-2" in refusal.message("reporter")


# --- ends before starts -------------------------------------------------------------------------


def test_a_session_ending_before_it_starts_is_refused(app: Records) -> None:
    with refused(app, "end") as refusal:
        convene(app, start="2024-05-17", end="2024-05-16")
    assert "before the start" in refusal.message("end")


def test_a_session_end_of_coarser_precision_is_not_before_its_start(app: Records) -> None:
    convene(app, start="2024-05-17", end="2024-05")
    assert app.session(COMMISSION, "2024-05-co-chairs").end is not None


def test_a_protocol_signed_before_the_session_started_is_refused(app: Records) -> None:
    with refused(app, "signed_on"):
        sign(app, signed_on="2023-12-31")


def test_a_tenure_ending_before_it_began_is_refused(app: Records) -> None:
    appoint(app, since="2019-10")
    with refused(app, "until"):
        app.end_co_chair_tenure(
            COMMISSION,
            party="AZ",
            name="Ali Asadov",
            until="2019-09",
            evidence=evidence(),
            recorded_by=RECORDER,
        )


def test_a_statistic_period_ending_before_it_starts_is_refused(app: Records) -> None:
    with refused(app, "period") as refusal:
        report(app, period="2024-05/2024-01")
    assert "ends before it starts" in refusal.message("period")


# --- dated after the day of recording -----------------------------------------------------------


def _convened_start(app: Records) -> None:
    convene(app, start=tomorrow())


def _convened_end(app: Records) -> None:
    convene(app, start=today().isoformat(), end=tomorrow())


def _signed_on(app: Records) -> None:
    sign(app, signed_on=tomorrow())


def _declaration_dated(app: Records) -> None:
    cite(app, dated=tomorrow())


def _co_chair_since(app: Records) -> None:
    appoint(app, since=tomorrow())


def _co_chair_until(app: Records) -> None:
    app.end_co_chair_tenure(
        COMMISSION,
        party="AZ",
        name=AZ_CO_CHAIR.name,
        until=tomorrow(),
        evidence=evidence(),
        recorded_by=RECORDER,
    )


def _statistic_period(app: Records) -> None:
    report(app, period=f"{tomorrow()}/2999")


def _source_published_on(app: Records) -> None:
    register(app, published_on=tomorrow())


def _commission_established_on(app: Records) -> None:
    establish(app, established_on=tomorrow())


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (_convened_start, "start"),
        (_convened_end, "end"),
        (_signed_on, "signed_on"),
        (_declaration_dated, "dated"),
        (_co_chair_since, "since"),
        (_co_chair_until, "until"),
        (_statistic_period, "period"),
        (_source_published_on, "published_on"),
        (_commission_established_on, "established_on"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_statement_dated_after_the_day_it_is_recorded_is_refused(
    app: Records, command: Command, field: str
) -> None:
    with refused(app, field) as refusal:
        command(app)
    assert "after the day it is recorded" in refusal.message(field)


def test_a_statement_dated_the_day_it_is_recorded_is_accepted(app: Records) -> None:
    cite(app, dated=today().isoformat())
    assert len(app.session(COMMISSION, SESSION).declarations) == 1


def test_a_scheduled_session_may_be_planned_in_the_future(app: Records) -> None:
    schedule(app, planned=tomorrow())
    app.postpone_session(
        COMMISSION,
        "2099-co-chairs",
        reason="at the request of the Russian side",
        planned="2999-Q1",
        evidence=evidence(),
        recorded_by=RECORDER,
    )
    assert str(app.session(COMMISSION, "2099-co-chairs").planned) == "2999-Q1"


# --- session keys and ordinals ------------------------------------------------------------------


def test_a_session_ordinal_is_used_once_per_commission(app: Records) -> None:
    with refused(app, "ordinal") as refusal:
        app.schedule_session(
            COMMISSION,
            ordinal=22,
            kind="plenary",
            planned="2099",
            evidence=evidence(),
            recorded_by=RECORDER,
        )
    assert "az-ru-economic/22 is already recorded" in refusal.message("ordinal")


def test_a_session_key_is_used_once_per_commission(app: Records) -> None:
    convene(app)
    with refused(app, "key"):
        schedule(app, key="2024-05-co-chairs")


def test_a_number_as_key_is_reserved_for_the_ordinal(app: Records) -> None:
    with refused(app, "key"):
        convene(app, key="22")
    with refused(app, "key"):
        convene(app, key="23", ordinal=24)


def test_the_same_key_may_be_used_in_another_commission(app: Records) -> None:
    establish(app)
    app.record_convened_session(
        "az-tr-economic",
        ordinal=22,
        kind="plenary",
        format="in_person",
        start="2024",
        evidence=evidence(),
        recorded_by=RECORDER,
    )
    assert app.session("az-tr-economic", "22").id != app.session(COMMISSION, "22").id


@pytest.mark.parametrize("key", ["Co-Chairs", "-x", "a b", "x" * 65])
def test_a_session_key_must_be_a_slug(app: Records, key: str) -> None:
    with refused(app, "key"):
        convene(app, key=key)


@pytest.mark.parametrize("ordinal", [0, -1, 100_001])
def test_an_ordinal_is_a_whole_number_from_one(app: Records, ordinal: int) -> None:
    with refused(app, "ordinal"):
        convene(app, key=None, ordinal=ordinal)


# --- protocols ----------------------------------------------------------------------------------


def _leave_scheduled(app: Records, key: str) -> None:
    pass


def _postpone(app: Records, key: str) -> None:
    app.postpone_session(
        COMMISSION, key, reason="dates to be agreed", evidence=evidence(), recorded_by=RECORDER
    )


def _cancel(app: Records, key: str) -> None:
    app.cancel_session(
        COMMISSION, key, reason="called off", evidence=evidence(), recorded_by=RECORDER
    )


@pytest.mark.parametrize(
    "make_status",
    [_leave_scheduled, _postpone, _cancel],
    ids=["scheduled", "postponed", "cancelled"],
)
def test_a_protocol_is_signed_only_at_a_convened_session(
    app: Records, make_status: Callable[[Records, str], None]
) -> None:
    key = schedule(app)
    make_status(app, key)
    with refused(app, "session") as refusal:
        sign(app, key)
    assert "must be convened" in refusal.message("session")


def test_a_protocol_needs_a_signatory_from_each_party(app: Records) -> None:
    with refused(app, "signatories") as refusal:
        sign(app, signatories=[AZ_CO_CHAIR])
    assert "none for RU" in refusal.message("signatories")


def test_a_protocol_without_signatories_is_refused(app: Records) -> None:
    with refused(app, "signatories") as refusal:
        sign(app, signatories=[])
    assert "none for AZ, RU" in refusal.message("signatories")


def test_a_session_has_one_protocol(app: Records) -> None:
    sign(app)
    with refused(app, "session"):
        sign(app)


# --- evidence -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        lambda app: convene(app, evidence=[]),
        lambda app: appoint(app, evidence=[]),
        lambda app: sign(app, evidence=[]),
        lambda app: cite(app, evidence=[]),
        lambda app: report(app, evidence=[]),
    ],
    ids=["convened", "co-chair", "protocol", "declaration", "statistic"],
)
def test_a_fact_without_evidence_is_refused(app: Records, command: Command) -> None:
    with refused(app, "evidence") as refusal:
        command(app)
    assert "at least one" in refusal.message("evidence")


def test_a_scheduled_session_without_evidence_is_refused(app: Records) -> None:
    with refused(app, "evidence"):
        app.schedule_session(
            COMMISSION,
            ordinal=23,
            kind="plenary",
            planned="2099",
            evidence=[],
            recorded_by=RECORDER,
        )


def test_a_quote_not_found_in_its_source_is_refused(app: Records) -> None:
    with refused(app, "evidence[1].quote") as refusal:
        report(app, evidence=[*evidence(), Evidence(SOURCE, "grew by 71.5 percent")])
    assert SOURCE in refusal.message("evidence[1].quote")


def test_a_quote_must_match_the_letter_case_of_its_source(app: Records) -> None:
    with refused(app, "evidence[0].quote"):
        report(app, evidence=evidence("BAKU HOSTED THE 22ND MEETING"))


def test_a_quote_matches_across_line_breaks_and_runs_of_spaces(app: Records) -> None:
    statistic = report(
        app,
        evidence=[
            Evidence(SOURCE, "trade turnover grew by 17.5 percent to a record"),
            Evidence(SOURCE, "  the trade\nturnover \t grew  "),
        ],
    )
    assert len(app.session(COMMISSION, SESSION).statistics[statistic].evidence) == 2


def test_a_decomposed_quote_matches_a_composed_source_text(app: Records) -> None:
    decomposed = "\u015f\u0259ki and Q\u0259b\u0259l\u0259".replace("\u015f", "S\u0327")
    report(app, evidence=evidence(decomposed))
    stored = app.session(COMMISSION, SESSION).statistics
    assert next(iter(stored.values())).evidence[0].quote == "Şəki and Qəbələ"


def test_a_composed_quote_matches_a_decomposed_source_text(app: Records) -> None:
    register(app, text="Stated by Şahin Mustafayev in Şəki.".replace("Ş", "S\u0327"))
    report(app, evidence=evidence("by Şahin Mustafayev in Şəki", source="another-source"))


def test_a_source_registered_without_text_accepts_any_quote(app: Records) -> None:
    quote = "Доля национальных валют во взаиморасчётах составила 57,8 %"
    statistic = report(app, "share_pct", evidence=evidence(quote, source=UNTEXTED_SOURCE))
    assert app.session(COMMISSION, SESSION).statistics[statistic].evidence == (
        Evidence(UNTEXTED_SOURCE, quote),
    )


def test_quote_problems_are_named_together_with_the_commands_other_problems(
    app: Records,
) -> None:
    with refused(app, "evidence[0].quote", "measure", "value"):
        report(app, measure="gdp", value="-1", evidence=evidence("not in the text"))


def test_an_evidence_source_must_be_registered(app: Records) -> None:
    quotes = [*evidence(), Evidence("no-such-source", "anything")]
    with unchanged(app), pytest.raises(UnknownSourceError) as caught:
        report(app, evidence=quotes)
    assert caught.value.field == "evidence[1].source"
    assert isinstance(caught.value, NotFoundError)
    assert "no-such-source" in str(caught.value)


# --- unknown commissions, sessions and statistics -----------------------------------------------


def test_a_session_of_an_unknown_commission_is_refused_as_not_found(app: Records) -> None:
    with unchanged(app), pytest.raises(UnknownCommissionError, match="az-kz-economic"):
        app.schedule_session(
            "az-kz-economic",
            ordinal=1,
            kind="plenary",
            planned="2099",
            evidence=evidence(),
            recorded_by=RECORDER,
        )


def test_a_session_key_of_an_unknown_commission_names_the_commission(app: Records) -> None:
    with unchanged(app), pytest.raises(UnknownCommissionError):
        app.cancel_session(
            "az-kz-economic", "1", reason="x", evidence=evidence(), recorded_by=RECORDER
        )


def test_an_unknown_session_is_refused_as_not_found(app: Records) -> None:
    with unchanged(app), pytest.raises(UnknownSessionError, match="no session '23'"):
        app.sign_protocol(
            COMMISSION,
            "23",
            signatories=[AZ_CO_CHAIR, RU_CO_CHAIR],
            evidence=evidence(),
            recorded_by=RECORDER,
        )
    assert issubclass(UnknownSessionError, NotFoundError)


def test_co_chairs_of_an_unknown_commission_are_refused_as_not_found(app: Records) -> None:
    with unchanged(app), pytest.raises(UnknownCommissionError):
        app.appoint_co_chair(
            "az-kz-economic",
            party="AZ",
            name="x",
            title="y",
            evidence=evidence(),
            recorded_by=RECORDER,
        )


def test_an_unknown_statistic_cannot_be_corrected_or_retracted(app: Records) -> None:
    nobody = uuid4()
    with unchanged(app), pytest.raises(UnknownStatisticError):
        app.correct_statistic(nobody, changes={"value": "1"}, reason="typo", recorded_by=RECORDER)
    with unchanged(app), pytest.raises(UnknownStatisticError):
        app.retract_statistic(nobody, reason="typo", recorded_by=RECORDER)


def test_a_session_id_is_not_a_statistic_id(app: Records) -> None:
    session_id = app.session(COMMISSION, SESSION).id
    with pytest.raises(UnknownStatisticError):
        app.retract_statistic(session_id, reason="typo", recorded_by=RECORDER)


# --- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("4.4E9", Decimal(4_400_000_000)),
        ("4400000000", Decimal(4_400_000_000)),
        ("17.5", Decimal("17.5")),
        ("0.5", Decimal("0.5")),
        ("0", Decimal(0)),
        ("1e3", Decimal(1000)),
    ],
)
def test_a_value_is_a_decimal_written_as_a_string(app: Records, text: str, value: Decimal) -> None:
    assert stored_value(app, report(app, value=text)) == value


def test_a_value_keeps_its_decimal_digits_exactly(app: Records) -> None:
    assert str(stored_value(app, report(app, value="4.40E9"))) == "4.40E+9"


NOT_PLAIN_DECIMALS = ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", "", " ", " 1", "1 "]
NOT_PLAIN_DECIMALS += ["1_000", "1,000", "4.4 bn", "four", "0x10", "1\n"]


@pytest.mark.parametrize("text", NOT_PLAIN_DECIMALS)
def test_a_value_that_is_not_a_finite_plain_decimal_is_refused(app: Records, text: str) -> None:
    with refused(app, "value"):
        report(app, value=text)


@pytest.mark.parametrize("number", [4.4e9, 17, None])
def test_a_value_given_as_a_number_rather_than_a_string_is_refused(
    app: Records, number: object
) -> None:
    with refused(app, "value"):
        report(app, value=number)


def test_a_level_is_not_negative(app: Records) -> None:
    with refused(app, "value") as refusal:
        report(app, value="-1")
    assert "cannot be negative" in refusal.message("value")


@pytest.mark.parametrize("text", ["-0.1", "100.1", "1E3"])
def test_a_share_lies_between_0_and_100_percent(app: Records, text: str) -> None:
    with refused(app, "value"):
        report(app, "share_pct", value=text)


@pytest.mark.parametrize("text", ["0", "100", "57.8"])
def test_a_share_of_0_or_100_percent_is_accepted(app: Records, text: str) -> None:
    assert stored_value(app, report(app, "share_pct", value=text)) == Decimal(text)


@pytest.mark.parametrize("text", ["-100", "-150"])
def test_a_change_is_greater_than_minus_100_percent(app: Records, text: str) -> None:
    with refused(app, "value"):
        report(app, "change_pct", value=text)


@pytest.mark.parametrize("text", ["-99.9", "17.5", "250"])
def test_a_fall_short_of_100_percent_and_any_rise_are_accepted(app: Records, text: str) -> None:
    assert stored_value(app, report(app, "change_pct", value=text)) == Decimal(text)


@pytest.mark.parametrize("text", ["0", "-1", "1.5"])
def test_a_rank_is_a_whole_number_from_1(app: Records, text: str) -> None:
    with refused(app, "value"):
        report(app, "rank", value=text)


@pytest.mark.parametrize("text", ["1", "3", "3.0"])
def test_whole_ranks_are_accepted(app: Records, text: str) -> None:
    assert stored_value(app, report(app, "rank", value=text)) == Decimal(text)


@pytest.mark.parametrize("text", ["-1", "260.5"])
def test_a_count_is_a_whole_number_from_0(app: Records, text: str) -> None:
    with refused(app, "value"):
        report(app, "count", value=text)


@pytest.mark.parametrize("text", ["0", "260", "2.6E2"])
def test_whole_counts_are_accepted(app: Records, text: str) -> None:
    assert stored_value(app, report(app, "count", value=text)) == Decimal(text)


# --- the bounds of a figure ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0E-16384", "0E-100000000", "0E-19", "-0E-19", "0." + "0" * 19])
def test_zero_with_more_than_18_digits_after_the_point_is_refused(app: Records, text: str) -> None:
    with refused(app, "value") as refusal:
        report(app, value=text)
    assert "digits after the point; at most 18 are allowed" in refusal.message("value")


@pytest.mark.parametrize("exponent", range(-MAX_SCALE, MAX_MAGNITUDE + 1))
def test_zero_is_accepted_with_every_exponent_within_the_bounds(
    app: Records, exponent: int
) -> None:
    assert stored_value(app, report(app, value=f"0E{exponent:+d}")) == 0


def test_zero_with_an_exponent_over_17_is_refused(app: Records) -> None:
    with refused(app, "value") as refusal:
        report(app, value="0E+18")
    assert "zero written with exponent 18" in refusal.message("value")


@pytest.mark.parametrize(
    ("value_kind", "text"),
    [
        ("level", "999999999999999999.999999"),  # the largest, with the most digits
        ("level", "9.99999999999999999999999E17"),
        ("share_pct", "0.000000000001234567"),  # the smallest, with the most places
        ("share_pct", "1E-12"),
        ("change_pct", "-99.999999999999999999"),
        ("count", "1" + "0" * 17),
        ("level", "0" * 39 + "1"),  # written in 40 characters
    ],
)
def test_figures_at_the_bounds_are_accepted_as_given(
    app: Records, value_kind: str, text: str
) -> None:
    assert stored_value(app, report(app, value_kind, value=text)) == Decimal(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12345678901234567.89012345", "has 25 digits; at most 24 are allowed"),
        ("1.000000000000000000000000", "has 25 digits; at most 24 are allowed"),
        ("0.0000000000012345678", "has 19 digits after the point; at most 18 are allowed"),
        ("1E18", "below 1E18"),
        ("1E-13", "at least 1E-12"),
        ("0" * 40 + "1", "is 41 characters long; at most 40 are allowed"),
    ],
)
def test_figures_beyond_the_bounds_are_refused_saying_which(
    app: Records, text: str, message: str
) -> None:
    with refused(app, "value") as refusal:
        report(app, value=text)
    assert message in refusal.message("value")


def test_a_long_string_is_refused_as_a_figure_without_being_read(app: Records) -> None:
    with refused(app, "value") as refusal:
        report(app, value="0E-" + "9" * 1_000_000)
    assert refusal.message("value") == "is 1000003 characters long; at most 40 are allowed"


def test_a_correction_to_a_figure_beyond_the_bounds_is_refused(app: Records) -> None:
    statistic = report_turnover(app)
    with refused(app, "changes.value"):
        app.correct_statistic(
            statistic, changes={"value": "0E-16384"}, reason="r", recorded_by=RECORDER
        )


# --- the bounds of every other field ------------------------------------------------------------


def test_the_largest_ordinal_is_accepted(app: Records) -> None:
    convene(app, key=None, ordinal=MAX_ORDINAL)
    assert app.session(COMMISSION, str(MAX_ORDINAL)).ordinal == MAX_ORDINAL


@pytest.mark.parametrize("ordinal", [MAX_ORDINAL + 1, 2**63, True])
def test_an_ordinal_over_100000_or_not_a_number_is_refused(app: Records, ordinal: int) -> None:
    with refused(app, "ordinal") as refusal:
        convene(app, key=None, ordinal=ordinal)
    assert refusal.message("ordinal") == "must be a whole number from 1 to 100,000"


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_dates_in_the_first_and_the_last_four_digit_year_are_accepted(
    app: Records, day: str
) -> None:
    key = schedule(app, key=f"co-chairs-{day}", planned=day)
    assert str(app.session(COMMISSION, key).planned) == day


def test_a_period_may_span_every_four_digit_year(app: Records) -> None:
    statistic = report(app, period="0001-Q1/9999-Q4")
    period = app.session(COMMISSION, SESSION).statistics[statistic].period
    assert str(period) == "0001-Q1/9999-Q4"


TAG_OF_35 = "en-abcdefgh-abcdefgh-abcdefgh-abcde"


def test_a_language_tag_of_35_characters_is_accepted(app: Records) -> None:
    register(app, language=TAG_OF_35)
    establish(app, names={TAG_OF_35: "Commission"})


def test_a_language_tag_over_35_characters_is_refused(app: Records) -> None:
    with refused(app, "language") as refusal:
        register(app, language=TAG_OF_35 + "f")
    assert "at most 35 characters" in refusal.message("language")
    with refused(app, f"names.{TAG_OF_35}f"):
        establish(app, names={TAG_OF_35 + "f": "Commission"})


@pytest.mark.parametrize(
    "url",
    [
        "https://",
        "http:///no-host",
        "https://example.org/a readout",
        "https://example.org/readout\n",
        "https://example.org/\u202etxt.exe",  # a right-to-left override hides the real end
        "https://example\u200b.org",  # a zero-width space
    ],
)
def test_a_source_url_needs_a_host_and_no_spaces_or_control_characters(
    app: Records, url: str
) -> None:
    with refused(app, "url"):
        register(app, url=url)


def test_a_source_url_of_any_script_is_accepted(app: Records) -> None:
    register(app, url="https://президент.рф/news/22-е-заседание")


def test_many_evidence_items_are_refused_once_and_only_the_first_50_checked(
    app: Records,
) -> None:
    many = [Evidence(UNTEXTED_SOURCE, " ")] * 10_000
    with unchanged(app), pytest.raises(InvalidCommandError) as caught:
        report(app, evidence=many)
    fields = [problem.field for problem in caught.value.problems]
    assert fields == ["evidence"] + [f"evidence[{index}].quote" for index in range(50)]


@pytest.mark.parametrize(
    ("command", "field", "checked"),
    [
        (
            lambda app: convene(app, co_chairs=[Representative("TR", "N", "T")] * 10_000),
            "co_chairs",
            100,
        ),
        (lambda app: convene(app, topics=["space"] * 10_000), "topics", 14),
        (lambda app: establish(app, names={f"x{i}": "C" for i in range(10_000)}), "names", 100),
        (lambda app: establish(app, parties=["XX"] * 10_000), "parties", 2),
    ],
    ids=["co-chairs", "topics", "names", "parties"],
)
def test_a_list_over_its_limit_is_refused_without_checking_every_item(
    app: Records, command: Command, field: str, checked: int
) -> None:
    with unchanged(app), pytest.raises(InvalidCommandError) as caught:
        command(app)
    fields = [problem.field for problem in caught.value.problems]
    assert field in fields
    assert len(fields) <= checked + 2  # the limit, the items checked, a duplicate


def test_a_refusal_quotes_a_long_value_only_in_part(app: Records) -> None:
    with refused(app, "id") as refusal:
        register(app, id="X" * 1_000_000)
    assert len(refusal.message("id")) < 200
    assert "(1000000 characters)" in refusal.message("id")


def test_a_field_named_by_a_long_key_is_named_in_part(app: Records) -> None:
    with pytest.raises(InvalidCommandError) as caught:
        establish(app, names={"x" * 1_000_000: "Commission"})
    [problem] = caught.value.problems
    assert problem.field == "names." + "x" * 60 + "…"
    assert len(problem.message) < 200


# --- units, vocabularies and the shape of a statistic -------------------------------------------


@pytest.mark.parametrize(
    ("value_kind", "unit"),
    [
        ("level", "$"),
        ("level", "usd"),
        ("level", "US dollars"),
        ("level", "percent"),
        ("level", "rank"),
        ("change_pct", "USD"),
        ("share_pct", "tonne"),
        ("rank", "count"),
        ("count", "USD"),
        ("count", "percent"),
    ],
)
def test_a_unit_must_fit_the_kind_of_value(app: Records, value_kind: str, unit: str) -> None:
    with refused(app, "unit"):
        report(app, value_kind, unit=unit)


@pytest.mark.parametrize(
    ("value_kind", "unit"),
    [
        ("level", "USD"),
        ("level", "RUB"),
        ("level", "tonne"),
        ("level", "person"),
        ("change_pct", "percent"),
        ("share_pct", "percent"),
        ("rank", "rank"),
        ("count", "count"),
        ("count", "person"),
    ],
)
def test_units_that_fit_the_kind_of_value_are_accepted(
    app: Records, value_kind: str, unit: str
) -> None:
    statistic = report(app, value_kind, unit=unit)
    assert app.session(COMMISSION, SESSION).statistics[statistic].unit == unit


def test_a_currency_symbol_is_refused_with_a_hint(app: Records) -> None:
    with refused(app, "unit") as refusal:
        report(app, unit="$")
    assert "ISO 4217" in refusal.message("unit")


def test_an_unknown_measure_is_refused_with_the_list_of_known_ones(app: Records) -> None:
    with refused(app, "measure") as refusal:
        report(app, measure="gdp")
    message = refusal.message("measure")
    assert all(measure in message for measure in MEASURES)


def test_an_unknown_kind_of_value_is_refused(app: Records) -> None:
    with refused(app, "value_kind"):
        report(app, value_kind="ratio", unit="ratio")


@pytest.mark.parametrize("qualifier", ["about", "Approximately", ""])
def test_a_qualifier_comes_from_the_vocabulary(app: Records, qualifier: str) -> None:
    with refused(app, "qualifier"):
        report(app, qualifier=qualifier)


@pytest.mark.parametrize("value_kind", ["level", "change_pct", "share_pct"])
def test_a_figure_needs_the_period_it_concerns(app: Records, value_kind: str) -> None:
    with refused(app, "period"):
        report(app, value_kind, period=None)


@pytest.mark.parametrize("value_kind", ["rank", "count"])
def test_a_rank_or_a_count_may_leave_its_period_to_the_session(
    app: Records, value_kind: str
) -> None:
    statistic = report(app, value_kind, period=None)
    assert app.session(COMMISSION, SESSION).statistics[statistic].period is None


@pytest.mark.parametrize("period", ["2023-13", "end of 2023", "2023/", "2023-Q5/2024"])
def test_a_malformed_period_is_refused(app: Records, period: str) -> None:
    with refused(app, "period"):
        report(app, period=period)


@pytest.mark.parametrize("missing", ["reporter", "partner"])
def test_trade_turnover_needs_both_reporter_and_partner(app: Records, missing: str) -> None:
    without: dict[str, Any] = {missing: None}
    with refused(app, missing) as refusal:
        report(app, **without)
    assert "give both reporter and partner" in refusal.message(missing)


def test_the_partner_must_differ_from_the_reporter(app: Records) -> None:
    with refused(app, "partner"):
        report(app, measure="exports", reporter="AZ", partner="AZ")


def test_a_statistic_is_reported_only_at_a_convened_session(app: Records) -> None:
    key = schedule(app)
    with refused(app, "session"):
        app.report_statistic(
            COMMISSION,
            key,
            measure="agreements_signed",
            value_kind="count",
            value="260",
            unit="count",
            qualifier="more_than",
            evidence=evidence(),
            recorded_by=RECORDER,
        )


# --- lengths and empty text ---------------------------------------------------------------------


def test_a_name_of_200_characters_is_accepted(app: Records) -> None:
    appoint(app, name="N" * 200)


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (lambda app: appoint(app, name="N" * 201), "name"),
        (
            lambda app: convene(app, co_chairs=[Representative("AZ", "N" * 201, "DPM")]),
            "co_chairs[0].name",
        ),
        (
            lambda app: sign(app, signatories=[AZ_CO_CHAIR, Representative("RU", "N" * 201, "x")]),
            "signatories[1].name",
        ),
        (lambda app: convene(app, place=Place("N" * 201, "AZ")), "place.city"),
        (lambda app: register(app, publisher="N" * 201), "publisher"),
    ],
    ids=["co-chair", "session co-chair", "signatory", "city", "publisher"],
)
def test_a_name_over_200_characters_is_refused(app: Records, command: Command, field: str) -> None:
    with refused(app, field) as refusal:
        command(app)
    assert "at most 200" in refusal.message(field)


def test_a_quote_of_2000_characters_is_accepted(app: Records) -> None:
    report(app, evidence=evidence("q" * 2000, source=UNTEXTED_SOURCE))


def test_a_quote_over_2000_characters_is_refused(app: Records) -> None:
    with refused(app, "evidence[0].quote") as refusal:
        report(app, evidence=evidence("q" * 2001, source=UNTEXTED_SOURCE))
    assert "at most 2000" in refusal.message("evidence[0].quote")


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (lambda app: appoint(app, name=" "), "name"),
        (
            lambda app: convene(app, co_chairs=[Representative("AZ", "Şahin", "")]),
            "co_chairs[0].title",
        ),
        (
            lambda app: report(app, evidence=evidence("", source=UNTEXTED_SOURCE)),
            "evidence[0].quote",
        ),
        (lambda app: cite(app, characterization=""), "characterization"),
    ],
    ids=["co-chair name", "co-chair title", "quote", "characterization"],
)
def test_empty_text_is_refused_rather_than_stored(
    app: Records, command: Command, field: str
) -> None:
    with refused(app, field):
        command(app)


# --- corrections and retractions ----------------------------------------------------------------


def test_a_correction_of_an_unknown_field_is_refused(app: Records) -> None:
    statistic = report_turnover(app)
    with refused(app, "changes.foo") as refusal:
        app.correct_statistic(
            statistic,
            changes=cast(StatisticChanges, {"foo": "bar"}),
            reason="r",
            recorded_by=RECORDER,
        )
    assert "correctable fields: measure" in refusal.message("changes.foo")


def test_a_correction_of_a_fixed_field_of_the_session_is_refused(app: Records) -> None:
    with refused(app, "changes.status"):
        app.correct_session(
            COMMISSION,
            SESSION,
            changes=cast(SessionRecordChanges, {"status": "cancelled"}),
            reason="r",
            recorded_by=RECORDER,
        )


def test_a_correction_must_name_a_change(app: Records) -> None:
    statistic = report_turnover(app)
    with refused(app, "changes") as refusal:
        app.correct_statistic(statistic, changes={}, reason="r", recorded_by=RECORDER)
    assert "at least one field" in refusal.message("changes")


def test_a_correction_that_changes_nothing_is_refused(app: Records) -> None:
    statistic = report_turnover(app, value="4.4E9")
    with refused(app, "changes") as refusal:
        app.correct_statistic(
            statistic,
            changes={"value": "4400000000", "unit": "USD"},
            reason="same number",
            recorded_by=RECORDER,
        )
    assert "leave the statistic as it is" in refusal.message("changes")


def test_a_session_correction_that_changes_nothing_is_refused(app: Records) -> None:
    with refused(app, "changes"):
        app.correct_session(
            COMMISSION, SESSION, changes={"start": "2024"}, reason="r", recorded_by=RECORDER
        )


def test_a_corrected_value_is_checked_like_a_reported_one(app: Records) -> None:
    statistic = report_turnover(app)
    with refused(app, "changes.value"):
        app.correct_statistic(statistic, changes={"value": "NaN"}, reason="r", recorded_by=RECORDER)


def test_a_correction_is_checked_against_the_fields_it_leaves_alone(app: Records) -> None:
    statistic = report_turnover(app)
    # A share of 4.4E9 percent, in USD: the unchanged value and unit no longer fit.
    with refused(app, "changes.value", "changes.unit"):
        app.correct_statistic(
            statistic, changes={"value_kind": "share_pct"}, reason="r", recorded_by=RECORDER
        )


def test_a_correction_needs_a_reason(app: Records) -> None:
    statistic = report_turnover(app)
    with refused(app, "reason"):
        app.correct_statistic(statistic, changes={"value": "4.5E9"}, reason="", recorded_by="x")


def test_a_retracted_statistic_cannot_be_corrected(app: Records) -> None:
    statistic = report_turnover(app)
    app.retract_statistic(statistic, reason="not stated at the session", recorded_by=RECORDER)
    with refused(app, "statistic"):
        app.correct_statistic(
            statistic, changes={"value": "4.5E9"}, reason="r", recorded_by=RECORDER
        )


def test_a_retraction_needs_a_reason(app: Records) -> None:
    statistic = report_turnover(app)
    with refused(app, "reason"):
        app.retract_statistic(statistic, reason=" \n", recorded_by=RECORDER)


def test_a_retracted_statistic_cannot_be_retracted_again(app: Records) -> None:
    statistic = report_turnover(app)
    app.retract_statistic(statistic, reason="not stated at the session", recorded_by=RECORDER)
    with refused(app, "statistic"):
        app.retract_statistic(statistic, reason="again", recorded_by=RECORDER)


def test_a_scheduled_session_has_no_start_to_correct(app: Records) -> None:
    key = schedule(app)
    with refused(app, "changes.start"):
        app.correct_session(
            COMMISSION, key, changes={"start": "2024"}, reason="r", recorded_by=RECORDER
        )


# --- the life of a session ----------------------------------------------------------------------


def test_a_convened_session_cannot_be_cancelled(app: Records) -> None:
    with refused(app, "session") as refusal:
        app.cancel_session(
            COMMISSION, SESSION, reason="r", evidence=evidence(), recorded_by=RECORDER
        )
    assert "cannot cancel a convened session" in refusal.message("session")


def test_a_convened_session_cannot_be_postponed(app: Records) -> None:
    with refused(app, "session"):
        app.postpone_session(
            COMMISSION, SESSION, reason="r", evidence=evidence(), recorded_by=RECORDER
        )


def test_a_cancelled_session_cannot_be_convened(app: Records) -> None:
    key = schedule(app)
    _cancel(app, key)
    with refused(app, "session"):
        app.convene_session(
            COMMISSION,
            key,
            format="videoconference",
            start="2024",
            evidence=evidence(),
            recorded_by=RECORDER,
        )


def test_a_convened_session_cannot_be_convened_again(app: Records) -> None:
    with refused(app, "session"):
        app.convene_session(
            COMMISSION,
            SESSION,
            format="in_person",
            start="2024",
            evidence=evidence(),
            recorded_by=RECORDER,
        )


def test_topics_come_from_the_vocabulary(app: Records) -> None:
    with refused(app, "topics[1]", "topics[2]") as refusal:
        convene(app, topics=["trade", "Trade", "space"])
    assert "agriculture" in refusal.message("topics[1]")


def test_a_topic_is_given_once(app: Records) -> None:
    with refused(app, "topics"):
        convene(app, topics=["trade", "energy", "trade"])


@pytest.mark.parametrize(("field", "value"), [("kind", "summit"), ("format", "online")])
def test_kind_and_format_come_from_the_vocabulary(app: Records, field: str, value: str) -> None:
    with refused(app, field):
        convene(app, **{field: value})


@pytest.mark.parametrize("field", ["format", "start"])
def test_a_convened_session_needs_its_format_and_start(app: Records, field: str) -> None:
    with refused(app, field):
        convene(app, **{field: None})


def test_a_scheduled_session_needs_a_planned_date(app: Records) -> None:
    with refused(app, "planned"):
        schedule(app, planned=cast(str, None))


def test_a_co_chair_already_serving_is_not_appointed_again(app: Records) -> None:
    with refused(app, "name"):
        appoint(app, name=AZ_CO_CHAIR.name.upper())


def test_only_a_serving_co_chairs_tenure_can_end(app: Records) -> None:
    with refused(app, "name"):
        app.end_co_chair_tenure(
            COMMISSION,
            party="RU",
            name=AZ_CO_CHAIR.name,
            until="2024",
            evidence=evidence(),
            recorded_by=RECORDER,
        )


def test_a_refusal_names_every_offending_field_at_once(app: Records) -> None:
    with refused(
        app, "format", "end", "place.country", "co_chairs[0].party", "topics[0]", "evidence"
    ):
        convene(
            app,
            format="telepathy",
            start="2024-05",
            end="2024-04",
            place=Place("Ankara", "TR"),
            co_chairs=[Representative("TR", "Cevdet Yılmaz", "VP")],
            topics=["space"],
            evidence=[],
        )


def test_a_refused_command_leaves_the_record_as_it_was(app: Records) -> None:
    before = stored_events(app)
    session = app.session(COMMISSION, SESSION)
    with refused(app, "value"):
        report(app, value="NaN")
    after = app.session(COMMISSION, SESSION)
    assert (after.version, after.statistics) == (session.version, session.statistics)
    assert stored_events(app) == before
    assert after.place == BAKU
