"""Writes the golden logs of ``tests/golden/logs``: run once, then check the logs in.

Each scenario is recorded through the ``Records`` application service on the in-memory store,
and its log written exactly as ``diprec events`` exports it (one JSON object a line). The
logs are fixed data: the golden tests read them and never run this script. Running it again
writes new logs (new timestamps and statistic ids), and every expected answer then has to be
written again (``DIPREC_UPDATE_GOLDEN=1``) and reviewed.

    cd /work/main && .venv/bin/python -m tests.golden.make_logs
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from uuid import UUID

from api.demo import COMMISSION, SESSION, load_demo
from api.eventlog import event_view
from domain.application import Records
from domain.values import Evidence, Place, Representative

LOGS = Path(__file__).resolve().parent / "logs"
RECORDED_BY = "golden-editor"

# --- (b) corrections ------------------------------------------------------------------------

ERRATA = "golden-errata-az-ru-2024"
ERRATA_TEXT = """\
Errata to the readout of the 22nd meeting of the Azerbaijan-Russia Intergovernmental
Commission. This note is invented for the golden tests of diprec; it is not a real document.

Trade turnover between the two countries in 2023 amounted to 4.45 billion US dollars, not
4.4 billion US dollars as first reported.

The statement on the ranking of Azerbaijan among suppliers of agricultural products could not
be confirmed and is withdrawn.

The meeting also discussed the North-South International Transport Corridor and the
modernisation of border crossing points.
"""

CORRECTED_SUMMARY = (
    "The sides reviewed trade, investment, agricultural, transport, energy, tourism, "
    "humanitarian and interregional cooperation, including the North-South International "
    "Transport Corridor and the modernisation of border crossing points."
)

# --- (c) a second commission, invented ------------------------------------------------------

BULLETIN = "golden-az-kz-bulletin-2025"
AZ_KZ = "az-kz-economic"
BULLETIN_TEXT = """\
This bulletin is invented for the golden tests of diprec; none of its facts is real.

The Azerbaijan-Kazakhstan Intergovernmental Commission on trade and economic cooperation is
co-chaired by Leyla Hasanova, Minister of Economy of the Republic of Azerbaijan, and
Aibek Nurlanov, Vice Minister of Trade of the Republic of Kazakhstan.

The seventh meeting of the Commission was planned for the first quarter of 2024 in Astana.
At the request of the Kazakh side the seventh meeting was postponed to May 2024.
The seventh meeting was held in Astana on 14 and 15 May 2024 under the chairmanship of
Leyla Hasanova and Aibek Nurlanov. The sides discussed trade, transport along the Middle
Corridor and digital cooperation.

In January-April 2024 mutual trade amounted to 151.2 million US dollars, 6.2 percent more
than a year earlier. In 2023 mutual trade reached about 450 million US dollars. Freight
carried between the two countries in 2023 exceeded 1.2 million tonnes.

The sides recalled the Joint Declaration on Caspian transit partnership of 2 November 2021
as the basis of their work. The meeting ended with the signing of a Protocol by Leyla Hasanova
and Aibek Nurlanov.

Aibek Nurlanov served as co-chair until June 2024. From July 2024 the Kazakh part of the
Commission is headed by Dana Seitkali, Vice Minister of Trade of the Republic of Kazakhstan.

On 2 October 2024 the co-chairs Leyla Hasanova and Dana Seitkali met by videoconference.
They again referred to the Joint Declaration on Caspian transit partnership of
2 November 2021. In January-August 2024 mutual trade amounted to 318.9 million US dollars.

The eighth meeting, planned for the second quarter of 2025 in Baku, was cancelled because the
draft programme could not be agreed in time. The ninth meeting is planned for the first
quarter of 2027 in Baku.
"""

HASANOVA = Representative(
    "AZ", "Leyla Hasanova", "Minister of Economy of the Republic of Azerbaijan"
)
NURLANOV = Representative(
    "KZ", "Aibek Nurlanov", "Vice Minister of Trade of the Republic of Kazakhstan"
)
SEITKALI = Representative(
    "KZ", "Dana Seitkali", "Vice Minister of Trade of the Republic of Kazakhstan"
)
DECLARATION = "Joint Declaration on Caspian transit partnership"
CO_CHAIRS_MEETING = "2024-10-02-co-chairs"


def _bulletin(*quotes: str) -> list[Evidence]:
    for quote in quotes:
        assert " ".join(quote.split()) in " ".join(BULLETIN_TEXT.split()), quote
    return [Evidence(BULLETIN, quote) for quote in quotes]


def _errata(quote: str) -> list[Evidence]:
    assert " ".join(quote.split()) in " ".join(ERRATA_TEXT.split()), quote
    return [Evidence(ERRATA, quote)]


def _statistic_id(records: Records, measure: str, value_kind: str) -> UUID:
    session = records.session(COMMISSION, SESSION)
    [statistic] = [
        s
        for s in session.statistics.values()
        if s.measure == measure and s.value_kind == value_kind
    ]
    return statistic.id


def demo(records: Records) -> None:
    """(a) The demo record, as ``diprec demo`` loads it."""
    load_demo(records)


def corrections(records: Records) -> None:
    """(b) The demo record, then a corrected turnover, a retracted rank and a corrected
    session summary."""
    load_demo(records)
    records.register_source(
        id=ERRATA,
        title="Errata to the readout of the 22nd meeting (invented for tests)",
        publisher="diprec golden tests",
        language="en",
        published_on="2024-09",
        text=ERRATA_TEXT,
        recorded_by=RECORDED_BY,
    )
    records.correct_statistic(
        _statistic_id(records, "trade_turnover", "level"),
        changes={"value": "4.45E9"},
        reason="The errata note gives 4.45 billion US dollars for 2023.",
        evidence=_errata(
            "Trade turnover between the two countries in 2023 amounted to 4.45 billion US dollars"
        ),
        recorded_by=RECORDED_BY,
    )
    records.retract_statistic(
        _statistic_id(records, "agricultural_exports", "rank"),
        reason="The ranking could not be confirmed; the errata note withdraws it.",
        recorded_by=RECORDED_BY,
    )
    records.correct_session(
        COMMISSION,
        SESSION,
        changes={"summary": CORRECTED_SUMMARY},
        reason="The errata note adds the modernisation of border crossing points.",
        evidence=_errata(
            "The meeting also discussed the North-South International Transport Corridor and "
            "the modernisation of border crossing points."
        ),
        recorded_by=RECORDED_BY,
    )


def second_commission(records: Records) -> None:
    """(c) The demo record, then an invented AZ–KZ commission: co-chairs appointed and one
    tenure ended, a session scheduled, postponed and held, one cancelled, one still
    scheduled, a co-chairs' videoconference, figures for partial-year periods, and one
    declaration cited at two sessions."""
    load_demo(records)
    records.register_source(
        id=BULLETIN,
        title="Bulletin of the Azerbaijan-Kazakhstan commission (invented for tests)",
        publisher="diprec golden tests",
        language="en",
        url="https://example.org/diprec/golden/az-kz-bulletin",
        published_on="2025-09",
        text=BULLETIN_TEXT,
        recorded_by=RECORDED_BY,
    )
    records.establish_commission(
        id=AZ_KZ,
        parties=["KZ", "AZ"],
        names={
            "en": "Azerbaijan-Kazakhstan Intergovernmental Commission on trade and economic "
            "cooperation",
            "ru": "Азербайджано-казахстанская межправительственная комиссия по "
            "торгово-экономическому сотрудничеству",
        },
        established_on="2019",
        mandate="Trade and economic cooperation (invented for tests).",
        recorded_by=RECORDED_BY,
    )
    chaired = "co-chaired by Leyla Hasanova, Minister of Economy of the Republic of Azerbaijan"
    records.appoint_co_chair(
        AZ_KZ,
        party="AZ",
        name=HASANOVA.name,
        title=HASANOVA.title,
        since="2023-03",
        evidence=_bulletin(chaired),
        recorded_by=RECORDED_BY,
    )
    records.appoint_co_chair(
        AZ_KZ,
        party="KZ",
        name=NURLANOV.name,
        title=NURLANOV.title,
        since="2022",
        evidence=_bulletin("Aibek Nurlanov, Vice Minister of Trade of the Republic of Kazakhstan"),
        recorded_by=RECORDED_BY,
    )

    # Session 7: scheduled, postponed, then held.
    records.schedule_session(
        AZ_KZ,
        ordinal=7,
        kind="plenary",
        planned="2024-Q1",
        place=Place("Astana", "KZ"),
        evidence=_bulletin(
            "The seventh meeting of the Commission was planned for the first quarter of 2024 "
            "in Astana."
        ),
        recorded_by=RECORDED_BY,
    )
    # Session 8, scheduled now, cancelled later.
    records.schedule_session(
        AZ_KZ,
        ordinal=8,
        kind="plenary",
        planned="2025-Q2",
        place=Place("Baku", "AZ"),
        evidence=_bulletin("The eighth meeting, planned for the second quarter of 2025 in Baku"),
        recorded_by=RECORDED_BY,
    )
    records.postpone_session(
        AZ_KZ,
        "7",
        reason="At the request of the Kazakh side.",
        planned="2024-05",
        evidence=_bulletin(
            "At the request of the Kazakh side the seventh meeting was postponed to May 2024."
        ),
        recorded_by=RECORDED_BY,
    )
    records.convene_session(
        AZ_KZ,
        "7",
        format="in_person",
        start="2024-05-14",
        end="2024-05-15",
        co_chairs=[HASANOVA, NURLANOV],
        topics=["trade", "transport", "digital"],
        summary="Trade, transport along the Middle Corridor and digital cooperation.",
        evidence=_bulletin(
            "The seventh meeting was held in Astana on 14 and 15 May 2024 under the "
            "chairmanship of Leyla Hasanova and Aibek Nurlanov."
        ),
        recorded_by=RECORDED_BY,
    )
    records.reference_declaration(
        AZ_KZ,
        "7",
        title=DECLARATION,
        dated="2021-11-02",
        characterization="the basis of their work",
        evidence=_bulletin(
            "The sides recalled the Joint Declaration on Caspian transit partnership of "
            "2 November 2021 as the basis of their work."
        ),
        recorded_by=RECORDED_BY,
    )
    records.report_statistic(
        AZ_KZ,
        "7",
        measure="trade_turnover",
        value_kind="level",
        value="151.2E6",
        unit="USD",
        qualifier="exact",
        reporter="AZ",
        partner="KZ",
        period="2024-01/2024-04",
        evidence=_bulletin(
            "In January-April 2024 mutual trade amounted to 151.2 million US dollars"
        ),
        recorded_by=RECORDED_BY,
    )
    records.report_statistic(
        AZ_KZ,
        "7",
        measure="trade_turnover",
        value_kind="change_pct",
        value="6.2",
        unit="percent",
        qualifier="exact",
        reporter="AZ",
        partner="KZ",
        period="2024-01/2024-04",
        evidence=_bulletin("6.2 percent more than a year earlier"),
        recorded_by=RECORDED_BY,
    )
    records.report_statistic(
        AZ_KZ,
        "7",
        measure="trade_turnover",
        value_kind="level",
        value="4.5E8",
        unit="USD",
        qualifier="approximately",
        reporter="AZ",
        partner="KZ",
        period="2023",
        evidence=_bulletin("In 2023 mutual trade reached about 450 million US dollars."),
        recorded_by=RECORDED_BY,
    )
    records.report_statistic(
        AZ_KZ,
        "7",
        measure="freight_volume",
        value_kind="level",
        value="1.2E6",
        unit="tonne",
        qualifier="more_than",
        period="2023",
        remarks="Freight in both directions.",
        evidence=_bulletin(
            "Freight carried between the two countries in 2023 exceeded 1.2 million tonnes."
        ),
        recorded_by=RECORDED_BY,
    )
    records.sign_protocol(
        AZ_KZ,
        "7",
        signed_on="2024-05-15",
        signatories=[HASANOVA, NURLANOV],
        evidence=_bulletin(
            "The meeting ended with the signing of a Protocol by Leyla Hasanova and Aibek Nurlanov."
        ),
        recorded_by=RECORDED_BY,
    )

    # A new Kazakh co-chair.
    records.end_co_chair_tenure(
        AZ_KZ,
        party="KZ",
        name=NURLANOV.name,
        until="2024-06",
        evidence=_bulletin("Aibek Nurlanov served as co-chair until June 2024."),
        recorded_by=RECORDED_BY,
    )
    records.appoint_co_chair(
        AZ_KZ,
        party="KZ",
        name=SEITKALI.name,
        title=SEITKALI.title,
        since="2024-07",
        evidence=_bulletin(
            "From July 2024 the Kazakh part of the Commission is headed by Dana Seitkali, "
            "Vice Minister of Trade of the Republic of Kazakhstan."
        ),
        recorded_by=RECORDED_BY,
    )

    # The co-chairs meet by videoconference between sessions.
    records.record_convened_session(
        AZ_KZ,
        key=CO_CHAIRS_MEETING,
        kind="co_chairs_meeting",
        format="videoconference",
        start="2024-10-02",
        co_chairs=[HASANOVA, SEITKALI],
        topics=["trade", "transport"],
        evidence=_bulletin(
            "On 2 October 2024 the co-chairs Leyla Hasanova and Dana Seitkali met by "
            "videoconference."
        ),
        recorded_by=RECORDED_BY,
    )
    records.reference_declaration(
        AZ_KZ,
        CO_CHAIRS_MEETING,
        title=DECLARATION,
        dated="2021-11-02",
        evidence=_bulletin(
            "They again referred to the Joint Declaration on Caspian transit partnership of "
            "2 November 2021."
        ),
        recorded_by=RECORDED_BY,
    )
    records.report_statistic(
        AZ_KZ,
        CO_CHAIRS_MEETING,
        measure="trade_turnover",
        value_kind="level",
        value="318.9E6",
        unit="USD",
        qualifier="exact",
        reporter="AZ",
        partner="KZ",
        stated_by="KZ",
        period="2024-01/2024-08",
        evidence=_bulletin(
            "In January-August 2024 mutual trade amounted to 318.9 million US dollars."
        ),
        recorded_by=RECORDED_BY,
    )

    # Session 8 is cancelled; session 9 is scheduled (for a date still to come).
    records.cancel_session(
        AZ_KZ,
        "8",
        reason="The draft programme could not be agreed in time.",
        evidence=_bulletin(
            "was cancelled because the draft programme could not be agreed in time."
        ),
        recorded_by=RECORDED_BY,
    )
    records.schedule_session(
        AZ_KZ,
        ordinal=9,
        kind="plenary",
        planned="2027-Q1",
        place=Place("Baku", "AZ"),
        evidence=_bulletin("The ninth meeting is planned for the first quarter of 2027 in Baku."),
        recorded_by=RECORDED_BY,
    )


SCENARIOS: dict[str, Callable[[Records], None]] = {
    "demo": demo,
    "corrections": corrections,
    "second_commission": second_commission,
}


def export(records: Records) -> str:
    """The whole log as ``diprec events`` writes it."""
    notifications = records.recorder.select_notifications(start=None, limit=1_000_000)
    return "".join(
        event_view(records, notification).model_dump_json() + "\n" for notification in notifications
    )


def main() -> None:
    LOGS.mkdir(exist_ok=True)
    for name, scenario in SCENARIOS.items():
        records = Records({"PERSISTENCE_MODULE": "eventsourcing.popo"})
        scenario(records)
        path = LOGS / f"{name}.ndjson"
        path.write_text(export(records), encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
