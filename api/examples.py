"""The examples of the API's document, taken from the demo record (``api/demo.py``).

Every path and query parameter has an example that answers on a service holding the demo
record, but for those in ``NOT_EXAMPLED``, which no stable value can show. Every request body
has examples; sent in record order to an empty service (sources, the commission, its
co-chairs, sessions, what was recorded at them, then corrections), they record the demo
record and a few facts beyond it, so each one is a write the record accepts.
"""

from __future__ import annotations

from typing import Any

from api import demo
from domain.values import Representative

#: Parameters without an example: a cursor is given by a previous page; a statistic's id is
#: drawn when it is reported; as_of and min_position depend on when the record was written;
#: no figure of the demo record says which side stated it (stated_by).
NOT_EXAMPLED = frozenset({"cursor", "sid", "as_of", "min_position", "stated_by"})

#: An example of each path and query parameter, by its name: (what it shows, the value).
PARAMETERS: dict[str, tuple[str, Any]] = {
    "cid": ("The AZ–RU commission on economic cooperation", demo.COMMISSION),
    "key": ("Its 22nd session", demo.SESSION),
    "source_id": ("The AZERTAC release on the 22nd session", demo.SOURCE),
    "kind": ("What not-found means", "not-found"),
    "party": ("The commissions of Azerbaijan and Russia", ["AZ", "RU"]),
    "parties": ("Azerbaijan and Russia", "AZ,RU"),
    "measure": ("Trade turnover, with its series and revisions", "trade_turnover"),
    "on": ("Those serving in 2024", "2024"),
    "from": ("Entries from 2024", "2024"),
    "to": ("Entries until 2024", "2024"),
    "status": ("Held sessions", "convened"),
    "title": ("The declaration on allied interaction", "allied"),
    "limit": ("Ten at a time", 10),
    "consistency": ("Reflecting every write acknowledged before the read (the default)", "strong"),
    "commission": ("The AZ–RU commission on economic cooperation", demo.COMMISSION),
    "session": ("Its 22nd session", demo.SESSION),
    "reporter": ("As Azerbaijan reports it", "AZ"),
    "partner": ("With Russia as the partner", "RU"),
    "retracted": ("Standing figures only", False),
    "evidence_status": ("Figures quoting a source without registered text", "unverified"),
    "publisher": ("The state news agency of Azerbaijan", demo.SOURCE_METADATA["publisher"]),
    "language": ("Sources in English", "en"),
    "after": ("From the start of the log", 0),
}

#: Where one route's parameter is shown with another value: the session a scheduled
#: session's fate is recorded at.
ROUTE_PARAMETERS: dict[tuple[str, str, str], tuple[str, Any]] = {
    ("post", "/commissions/{cid}/sessions/{key}/convened", "key"): ("The 23rd session", "23"),
    ("post", "/commissions/{cid}/sessions/{key}/postponement", "key"): ("The 24th session", "24"),
    ("post", "/commissions/{cid}/sessions/{key}/cancellation", "key"): ("The 24th session", "24"),
    ("get", "/statistics", "from"): ("Figures for 2023 on", "2023"),
    ("get", "/statistics", "to"): ("Figures for 2023 at the latest", "2023"),
}


def parameter_examples(method: str, path: str, name: str) -> dict[str, dict[str, Any]]:
    """The document's ``examples`` of a parameter: empty when it has none."""
    example = ROUTE_PARAMETERS.get((method, path, name)) or PARAMETERS.get(name)
    if example is None:
        return {}
    summary, value = example
    return {"demo": {"summary": summary, "value": value}}


def _evidence(*quotes: str) -> list[dict[str, str]]:
    return [{"source": demo.SOURCE, "quote": quote} for quote in quotes]


def _person(person: Representative) -> dict[str, str]:
    return {"party": person.party, "name": person.name, "title": person.title}


# The release says nothing of the next meeting: sessions 23 and 24 illustrate planned ones,
# citing its closing words.
FUTURE_QUOTE = "The meeting concluded with a discussion on future bilateral relations"
OIL_AND_GAS_QUOTE = "The oil and gas sector remains a critical area of bilateral cooperation"


def _statistic(statistic: demo.DemoStatistic) -> dict[str, Any]:
    body: dict[str, Any] = {
        "measure": statistic.measure,
        "value_kind": statistic.value_kind,
        "value": statistic.value,
        "unit": statistic.unit,
        "qualifier": statistic.qualifier,
        "reporter": statistic.reporter,
        "partner": statistic.partner,
        "period": statistic.period,
        "remarks": statistic.remarks,
        "evidence": _evidence(statistic.quote),
    }
    return {name: value for name, value in body.items() if value is not None}


def _examples(*examples: tuple[str, str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: {"summary": summary, "value": value} for name, summary, value in examples}


#: The examples of each request body, by the name of its schema, in record order.
BODIES: dict[str, dict[str, dict[str, Any]]] = {
    "RegisterSource": _examples(
        ("azertac", "The AZERTAC release on the 22nd session", dict(demo.SOURCE_METADATA)),
    ),
    "EstablishCommission": _examples(
        (
            "az-ru-economic",
            "The AZ–RU commission on economic cooperation",
            {"id": demo.COMMISSION, "parties": ["AZ", "RU"], "names": {"en": demo.COMMISSION_NAME}},
        ),
    ),
    "AppointCoChair": _examples(
        *(
            (
                person.party.lower(),
                f"{person.name}, co-chair for {person.party}",
                {**_person(person), "evidence": _evidence(demo.CHAIRED_QUOTE)},
            )
            for person in (demo.MUSTAFAYEV, demo.OVERCHUK)
        )
    ),
    "RecordSession": _examples(
        (
            "held",
            "The 22nd session, held in Baku in 2024",
            {
                "ordinal": 22,
                "kind": "plenary",
                "format": "in_person",
                "start": "2024",
                "place": {"city": "Baku", "country": "AZ"},
                "co_chairs": [_person(demo.MUSTAFAYEV), _person(demo.OVERCHUK)],
                "topics": demo.TOPICS,
                "summary": demo.SUMMARY,
                "evidence": _evidence(demo.CONVENED_QUOTE, demo.CHAIRED_QUOTE),
            },
        ),
        (
            "planned",
            "A 23rd session, planned (an illustration: the release gives no date)",
            {
                "status": "scheduled",
                "ordinal": 23,
                "kind": "plenary",
                "planned": "2025",
                "evidence": _evidence(FUTURE_QUOTE),
            },
        ),
        (
            "planned-later",
            "A 24th session, planned (an illustration)",
            {
                "status": "scheduled",
                "ordinal": 24,
                "kind": "plenary",
                "planned": "2026",
                "evidence": _evidence(FUTURE_QUOTE),
            },
        ),
    ),
    "ReferenceDeclaration": _examples(
        (
            "allied-interaction",
            "The Declaration on allied interaction, cited at the 22nd session",
            {
                "title": "Declaration on allied interaction",
                "dated": "2022-02-22",
                "characterization": "particularly significant",
                "evidence": _evidence(demo.DECLARATION_QUOTE),
            },
        ),
    ),
    "ReportStatistic": _examples(
        *(
            (
                f"{statistic.measure}-{statistic.value_kind}".replace("_", "-"),
                statistic.quote,
                _statistic(statistic),
            )
            for statistic in demo.STATISTICS
        )
    ),
    "SignProtocol": _examples(
        (
            "protocol",
            "The Protocol of the 22nd session, signed by both co-chairs",
            {
                "signed_on": "2024",
                "signatories": [_person(demo.MUSTAFAYEV), _person(demo.OVERCHUK)],
                "evidence": _evidence(demo.PROTOCOL_QUOTE),
            },
        ),
    ),
    "CorrectSession": _examples(
        (
            "summary",
            "The 22nd session's summary, with the oil and gas sector the release names",
            {
                "changes": {
                    "summary": "The sides reviewed trade, investment, agricultural, transport, "
                    "energy, oil and gas, tourism, humanitarian and interregional cooperation."
                },
                "reason": "The release names the oil and gas sector as a critical area too.",
                "evidence": _evidence(OIL_AND_GAS_QUOTE),
            },
        ),
    ),
    "ConveneSession": _examples(
        (
            "held",
            "The 23rd session held (an illustration)",
            {
                "format": "in_person",
                "start": "2025",
                "place": {"city": "Moscow", "country": "RU"},
                "evidence": _evidence(FUTURE_QUOTE),
            },
        ),
    ),
    "PostponeSession": _examples(
        (
            "later",
            "The 24th session postponed (an illustration)",
            {
                "reason": "Postponed by agreement of the co-chairs.",
                "planned": "2027",
                "evidence": _evidence(FUTURE_QUOTE),
            },
        ),
    ),
    "CancelSession": _examples(
        (
            "cancelled",
            "The 24th session cancelled (an illustration)",
            {
                "reason": "Cancelled by agreement of the co-chairs.",
                "evidence": _evidence(FUTURE_QUOTE),
            },
        ),
    ),
    "EndCoChairTenure": _examples(
        (
            "ru",
            f"The end of {demo.OVERCHUK.name}'s tenure (an illustration)",
            {
                "party": demo.OVERCHUK.party,
                "name": demo.OVERCHUK.name,
                "until": "2025",
                "evidence": _evidence(FUTURE_QUOTE),
            },
        ),
    ),
    "CorrectStatistic": _examples(
        (
            "remarks",
            "A figure's remarks, in the release's words",
            {
                "changes": {"remarks": "A record level, in US dollars."},
                "reason": "The release gives the level in US dollars.",
            },
        ),
    ),
    "RetractStatistic": _examples(
        ("mistaken", "A figure recorded by mistake", {"reason": "Recorded twice by mistake."}),
    ),
    "RebuildReadModels": _examples(
        ("commissions", "Rebuild the commissions read model", {"read_models": ["commissions"]}),
        ("all", "Rebuild every read model", {}),
    ),
}


def _quotes(value: Any) -> list[str]:
    """Every quote of the demo source among the examples, in the order they are written."""
    if isinstance(value, dict):
        if value.get("source") == demo.SOURCE and isinstance(value.get("quote"), str):
            return [value["quote"]]
        return [quote for item in value.values() for quote in _quotes(item)]
    if isinstance(value, list):
        return [quote for item in value for quote in _quotes(item)]
    return []


# The release's own text is not part of this project: the example text is an illustration,
# the sentences the examples quote, joined. Registered last, it verifies every one of them.
BODIES["RegisterSourceText"] = _examples(
    (
        "quoted",
        "The demo source's text (an illustration: the quoted sentences of the release, joined)",
        {"text": "\n".join(dict.fromkeys(_quotes(BODIES)))},
    ),
)
