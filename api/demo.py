"""The demo record: the 22nd meeting of the Azerbaijan–Russia commission on economic cooperation.

Every fact comes from one news release of the Azerbaijan State News Agency and carries a short
verbatim quote of it. The release's text is not part of this project, so the source is
registered without text and the quotes are taken as given; the test suite checks each quote
against the article itself.

Loading goes through the application service like any other write, and is idempotent: a fact
already in the record is not recorded again, so loading twice adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.application import Records
from domain.errors import UnknownCommissionError, UnknownSessionError, UnknownSourceError
from domain.session import Session
from domain.values import Evidence, Place, Representative

SOURCE = "azertac-2024-22nd-session"
COMMISSION = "az-ru-economic"
SESSION = "22"
RECORDED_BY = "diprec-demo"

SOURCE_METADATA = {
    "id": SOURCE,
    "title": "Baku hosts 22nd meeting of Azerbaijan-Russia Intergovernmental Commission "
    "on economic cooperation",
    "publisher": "Azerbaijan State News Agency (AZERTAC)",
    "language": "en",
    "published_on": "2024",
}

COMMISSION_NAME = (
    "Intergovernmental Commission on economic cooperation between the Republic of "
    "Azerbaijan and the Russian Federation"
)

MUSTAFAYEV = Representative(
    "AZ", "Shahin Mustafayev", "Deputy Prime Minister of the Republic of Azerbaijan"
)
OVERCHUK = Representative(
    "RU", "Alexei Overchuk", "Deputy Prime Minister of the Russian Federation"
)

CONVENED_QUOTE = (
    "The 22nd meeting of the Intergovernmental Commission on economic cooperation between the "
    "Republic of Azerbaijan and the Russian Federation was held in Baku."
)
CHAIRED_QUOTE = (
    "Chaired by Shahin Mustafayev, Deputy Prime Minister of the Republic of Azerbaijan, and "
    "Alexei Overchuk, Deputy Prime Minister of the Russian Federation"
)
PROTOCOL_QUOTE = (
    "The meeting's outcomes were formalized in a Protocol signed by Shahin Mustafayev and "
    "Alexei Overchuk."
)
# Verbatim, including the release's own stray space in "f rom".
DECLARATION_QUOTE = (
    "the Declaration on allied interaction f rom February 22, 2022, being particularly significant"
)

SUMMARY = (
    "The sides reviewed trade, investment, agricultural, transport, energy, tourism, "
    "humanitarian and interregional cooperation, including the North-South International "
    "Transport Corridor."
)

TOPICS = [
    "trade",
    "investment",
    "agriculture",
    "transport",
    "energy",
    "tourism",
    "humanitarian",
    "interregional",
]


@dataclass(frozen=True)
class DemoStatistic:
    measure: str
    value_kind: str
    value: str
    unit: str
    qualifier: str
    quote: str
    period: str | None = None
    reporter: str | None = "AZ"
    partner: str | None = "RU"
    remarks: str | None = None

    def is_in(self, session: Session) -> bool:
        return any(
            s.measure == self.measure
            and s.value_kind == self.value_kind
            and s.reporter == self.reporter
            and s.partner == self.partner
            and (str(s.period) if s.period else None) == self.period
            for s in session.statistics.values()
        )


STATISTICS = [
    DemoStatistic(
        "agreements_signed",
        "count",
        "260",
        "count",
        "more_than",
        "a strong legal foundation of over 260 signed agreements",
        reporter=None,
        partner=None,
        remarks="Bilateral agreements in force between the two countries.",
    ),
    DemoStatistic(
        "trade_turnover",
        "rank",
        "3",
        "rank",
        "exact",
        "Russia is Azerbaijan's third-largest trade partner",
        remarks="Russia's rank among Azerbaijan's trade partners.",
    ),
    DemoStatistic(
        "non_oil_exports",
        "rank",
        "1",
        "rank",
        "exact",
        "the top partner for non-oil exports",
        remarks="Russia's rank among destinations of Azerbaijan's non-oil exports.",
    ),
    DemoStatistic(
        "trade_turnover",
        "change_pct",
        "17.5",
        "percent",
        "exact",
        "In 2023, trade turnover increased by 17.5 percent",
        period="2023",
    ),
    DemoStatistic(
        "trade_turnover",
        "level",
        "4.4E9",
        "USD",
        "approximately",
        "reaching a record level of approximately 4.4 billion US dollars",
        period="2023",
        remarks="A record level.",
    ),
    DemoStatistic(
        "agricultural_exports",
        "rank",
        "10",
        "rank",
        "at_most",
        "Azerbaijan ranking among the top ten suppliers of agricultural products to Russia",
        remarks="Azerbaijan's rank among suppliers of agricultural products to Russia.",
    ),
    DemoStatistic(
        "fruit_vegetable_exports",
        "change_pct",
        "9",
        "percent",
        "approximately",
        "In 2023, exports of fruits and vegetables to Russia increased by approximately 9%.",
        period="2023",
    ),
    DemoStatistic(
        "freight_volume",
        "change_pct",
        "10",
        "percent",
        "more_than",
        "The total volume of bilateral freight transport increased by more than 10% last year.",
        period="2023",
        remarks="Bilateral freight in both directions; the release says 'last year'.",
    ),
    DemoStatistic(
        "tourist_arrivals",
        "rank",
        "1",
        "rank",
        "exact",
        "Russia holds a leading position in the tourism sector regarding the number of "
        "tourists visiting Azerbaijan",
        remarks="Russia's rank by number of tourists visiting Azerbaijan.",
    ),
]


def all_quotes() -> list[str]:
    """Every quote the demo record cites, for checking against the article."""
    return [
        SOURCE_METADATA["title"],
        CONVENED_QUOTE,
        CHAIRED_QUOTE,
        PROTOCOL_QUOTE,
        DECLARATION_QUOTE,
        *(statistic.quote for statistic in STATISTICS),
    ]


def _evidence(quote: str) -> list[Evidence]:
    return [Evidence(SOURCE, quote)]


@dataclass
class DemoLoad:
    """What a load of the demo record added; empty when it was already there."""

    added: list[str] = field(default_factory=list)
    position: int | None = None


def load_demo(records: Records) -> DemoLoad:
    """Records every fact of the demo record that the record does not hold yet."""
    load = DemoLoad()

    def note(what: str, position: int) -> None:
        load.added.append(what)
        load.position = position

    try:
        records.source(SOURCE)
    except UnknownSourceError:
        note("source", records.register_source(**SOURCE_METADATA, recorded_by=RECORDED_BY).position)

    try:
        commission = records.commission(COMMISSION)
    except UnknownCommissionError:
        recorded = records.establish_commission(
            id=COMMISSION,
            parties=["AZ", "RU"],
            names={"en": COMMISSION_NAME},
            recorded_by=RECORDED_BY,
        )
        note("commission", recorded.position)
        commission = recorded.aggregate
    serving = {(t.party, t.name) for t in commission.current_co_chairs}
    for person in (MUSTAFAYEV, OVERCHUK):
        if (person.party, person.name) not in serving:
            recorded_co_chair = records.appoint_co_chair(
                COMMISSION,
                party=person.party,
                name=person.name,
                title=person.title,
                evidence=_evidence(CHAIRED_QUOTE),
                recorded_by=RECORDED_BY,
            )
            note(f"co-chair {person.name}", recorded_co_chair.position)

    try:
        session = records.session(COMMISSION, SESSION)
    except UnknownSessionError:
        recorded_session = records.record_convened_session(
            COMMISSION,
            ordinal=22,
            kind="plenary",
            format="in_person",
            start="2024",
            place=Place("Baku", "AZ"),
            co_chairs=[MUSTAFAYEV, OVERCHUK],
            topics=TOPICS,
            summary=SUMMARY,
            evidence=_evidence(CONVENED_QUOTE) + _evidence(CHAIRED_QUOTE),
            recorded_by=RECORDED_BY,
        )
        note("session 22", recorded_session.position)
        session = recorded_session.aggregate

    if not session.declarations:
        recorded_session = records.reference_declaration(
            COMMISSION,
            SESSION,
            title="Declaration on allied interaction",
            dated="2022-02-22",
            characterization="particularly significant",
            evidence=_evidence(DECLARATION_QUOTE),
            recorded_by=RECORDED_BY,
        )
        note("declaration", recorded_session.position)
        session = recorded_session.aggregate

    for statistic in STATISTICS:
        if statistic.is_in(session):
            continue
        recorded_statistic = records.report_statistic(
            COMMISSION,
            SESSION,
            measure=statistic.measure,
            value_kind=statistic.value_kind,
            value=statistic.value,
            unit=statistic.unit,
            qualifier=statistic.qualifier,
            reporter=statistic.reporter,
            partner=statistic.partner,
            period=statistic.period,
            remarks=statistic.remarks,
            evidence=_evidence(statistic.quote),
            recorded_by=RECORDED_BY,
        )
        note(f"statistic {statistic.measure} {statistic.value_kind}", recorded_statistic.position)
        session = recorded_statistic.aggregate

    if session.protocol is None:
        recorded_session = records.sign_protocol(
            COMMISSION,
            SESSION,
            signed_on="2024",
            signatories=[MUSTAFAYEV, OVERCHUK],
            evidence=_evidence(PROTOCOL_QUOTE),
            recorded_by=RECORDED_BY,
        )
        note("protocol", recorded_session.position)
    return load
