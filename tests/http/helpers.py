"""Helpers of the HTTP tests: request bodies, the AZ–RU record set up through the API, and
checks every write and every refusal must pass.

The record under test is written for these tests in the manner of a news agency's report (it
is not the seed article): a source registered with its text, so quotes are checked against it,
a source registered without text, the AZ–RU commission ``az-ru-economic`` and its 22nd session,
held in Baku in 2024.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from fastapi.testclient import TestClient
from httpx2 import Response

SOURCE = "azertac-2024-22nd-session"
UNTEXTED_SOURCE = "mid-ru-2024-readout"
COMMISSION = "az-ru-economic"
SESSION = "22"

MUSTAFAYEV = "Şahin Mustafayev"
OVERCHUK = "Алексей Оверчук"
AZ_TITLE = "Deputy Prime Minister of the Republic of Azerbaijan"
RU_TITLE = "Deputy Prime Minister of the Russian Federation"

#: Written for these tests; every quote below occurs in it (white space collapsed).
SOURCE_TEXT = """\
Baku hosted the 22nd meeting of the Intergovernmental Commission on economic cooperation
between the Republic of Azerbaijan and the Russian Federation.
The meeting was co-chaired by Deputy Prime Minister Şahin Mustafayev and Deputy Prime Minister
Алексей Оверчук.

Last year the trade turnover   grew by 17.5 percent
to a record of about 4.4 billion US dollars.
More than 260 agreements have been signed.
The sides noted the Declaration on allied interaction of 22 February 2022.
The outcomes were formalized in a Protocol signed by both co-chairs.
The 23rd meeting is planned for the IV quarter of 2025 in Moscow.
"""

CONVENED_QUOTE = "Baku hosted the 22nd meeting of the Intergovernmental Commission"
CHAIRED_QUOTE = (
    "co-chaired by Deputy Prime Minister Şahin Mustafayev and Deputy Prime Minister Алексей Оверчук"
)
# Spread over two lines, with a run of spaces, in the text: matched with white space collapsed.
TURNOVER_QUOTE = "grew by 17.5 percent to a record of about 4.4 billion US dollars"
AGREEMENTS_QUOTE = "More than 260 agreements have been signed."
DECLARATION_QUOTE = "the Declaration on allied interaction of 22 February 2022"
PROTOCOL_QUOTE = "formalized in a Protocol signed by both co-chairs"
PLANNED_QUOTE = "The 23rd meeting is planned for the IV quarter of 2025 in Moscow."
NOT_IN_TEXT = "trade turnover fell by half"

LEAKS = ("Traceback", "psycopg", 'File "', "/work/", ".py", "site-packages", "SELECT ", "INSERT ")


def evidence(quote: str = TURNOVER_QUOTE, source: str = SOURCE) -> list[dict[str, str]]:
    return [{"source": source, "quote": quote}]


def quoted(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Evidence as answered, without its status and offsets: what was recorded."""
    return [{"source": item["source"], "quote": item["quote"]} for item in items]


def source_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": SOURCE,
        "title": "Baku hosts 22nd meeting of the Azerbaijan-Russia Intergovernmental Commission",
        "publisher": "Azerbaijan State News Agency (AZERTAC)",
        "url": "https://azertag.az/en/xeber/22nd-meeting",
        "language": "en",
        "published_on": "2024",
        "text": SOURCE_TEXT,
    }
    body.update(changes)
    return body


def untexted_source_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": UNTEXTED_SOURCE,
        "title": "О 22-м заседании Межправкомиссии",
        "publisher": "MID Rossii",
        "language": "ru",
        "published_on": "2024-05",
    }
    body.update(changes)
    return body


def commission_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": COMMISSION,
        "parties": ["RU", "AZ"],
        "names": {
            "en": "Azerbaijan-Russia Intergovernmental Commission on economic cooperation",
            "ru": "Межправительственная комиссия по экономическому сотрудничеству",
        },
        "established_on": "1999",
        "mandate": "Economic cooperation between the two countries.",
    }
    body.update(changes)
    return body


def person(party: str) -> dict[str, str]:
    if party == "AZ":
        return {"party": "AZ", "name": MUSTAFAYEV, "title": AZ_TITLE}
    return {"party": party, "name": OVERCHUK, "title": RU_TITLE}


def co_chair_body(party: str = "AZ", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {**person(party), "since": "2018", "evidence": evidence(CHAIRED_QUOTE)}
    body.update(changes)
    return body


def convened_session_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ordinal": 22,
        "status": "convened",
        "kind": "plenary",
        "format": "in_person",
        "start": "2024",
        "place": {"city": "Baku", "country": "AZ"},
        "co_chairs": [person("AZ"), person("RU")],
        "topics": ["trade", "transport", "energy"],
        "summary": "The sides reviewed trade, transport and energy cooperation.",
        "evidence": evidence(CONVENED_QUOTE),
    }
    body.update(changes)
    return body


def scheduled_session_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ordinal": 23,
        "status": "scheduled",
        "kind": "plenary",
        "planned": "2025-Q4",
        "place": {"city": "Moscow", "country": "RU"},
        "evidence": evidence(PLANNED_QUOTE),
    }
    body.update(changes)
    return body


def convening_body(**changes: Any) -> dict[str, Any]:
    """Body of ``POST .../sessions/{key}/convened`` for a session that was scheduled."""
    body: dict[str, Any] = {
        "format": "hybrid",
        "start": "2024-05",
        "co_chairs": [person("AZ"), person("RU")],
        "topics": ["trade"],
        "evidence": evidence(CONVENED_QUOTE),
    }
    body.update(changes)
    return body


def statistic_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "measure": "trade_turnover",
        "value_kind": "level",
        "value": "4.4E9",
        "unit": "USD",
        "qualifier": "approximately",
        "reporter": "AZ",
        "partner": "RU",
        "period": "2023",
        "stated_by": "AZ",
        "remarks": "A record level.",
        "evidence": evidence(TURNOVER_QUOTE),
    }
    body.update(changes)
    return body


def protocol_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Protocol of the 22nd meeting",
        "signed_on": "2024",
        "signatories": [person("AZ"), person("RU")],
        "evidence": evidence(PROTOCOL_QUOTE),
    }
    body.update(changes)
    return body


def declaration_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Declaration on allied interaction",
        "dated": "2022-02-22",
        "characterization": "particularly significant",
        "evidence": evidence(DECLARATION_QUOTE),
    }
    body.update(changes)
    return body


@dataclass(frozen=True)
class Record:
    """What ``set_up_record`` wrote: the ids of the sources, commission and session."""

    source: str
    untexted_source: str
    commission: str
    session: str

    @property
    def session_path(self) -> str:
        return f"/commissions/{self.commission}/sessions/{self.session}"


#: The log position of the last write each service acknowledged: reads wait for it.
_written: WeakKeyDictionary[object, int] = WeakKeyDictionary()


def post(client: TestClient, path: str, body: Any, **headers: str) -> Response:
    """A write; when acknowledged, the client's later reads will include it."""
    response = client.post(path, json=body, headers=headers)
    if response.status_code == 201:
        position = response.json()["position"]
        _written[client.app] = max(_written.get(client.app, 0), position)
    return response


def read(client: TestClient, path: str, **params: Any) -> Response:
    """A GET that sees every write the service acknowledged through ``post`` (it passes
    ``min_position``), as a client reading its own writes does."""
    written = _written.get(client.app)
    if written is not None:
        params.setdefault("min_position", written)
    return client.get(path, params=params)


def set_up_record(client: TestClient) -> Record:
    """A source with text, a source without, the AZ–RU commission and its convened 22nd
    session, each written through the API and checked to be created."""
    for path, body in (
        ("/sources", source_body()),
        ("/sources", untexted_source_body()),
        ("/commissions", commission_body()),
        (f"/commissions/{COMMISSION}/sessions", convened_session_body()),
    ):
        response = post(client, path, body)
        assert response.status_code == 201, response.text
    return Record(SOURCE, UNTEXTED_SOURCE, COMMISSION, SESSION)


def report_statistic(client: TestClient, record: Record, **changes: Any) -> dict[str, Any]:
    response = post(client, f"{record.session_path}/statistics", statistic_body(**changes))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def schedule_session(client: TestClient, **changes: Any) -> dict[str, Any]:
    response = post(
        client, f"/commissions/{COMMISSION}/sessions", scheduled_session_body(**changes)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# --- the log ------------------------------------------------------------------------------------


def read_log(client: TestClient) -> list[dict[str, Any]]:
    """Every event of the log, read page by page through ``GET /events``."""
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        response = client.get("/events", params={"after": after, "limit": 500})
        assert response.status_code == 200, response.text
        page = response.json()
        events.extend(page["items"])
        if page["next_after"] is None:
            return events
        after = page["next_after"]


def last_position(client: TestClient) -> int:
    events = read_log(client)
    return int(events[-1]["position"]) if events else 0


# --- checks -------------------------------------------------------------------------------------


def assert_no_leak(response: Response) -> None:
    """No stack trace, SQL, driver name or file path in any answer."""
    for leak in LEAKS:
        assert leak not in response.text, f"{leak!r} in {response.text}"


def assert_created(
    client: TestClient,
    response: Response,
    *,
    same_resource: bool = True,
    ignore: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A write's answer: 201, the created resource with its version and the log position of
    the last event written, the version as ETag, and a Location that GET answers.

    With ``same_resource`` the Location is the written aggregate itself: its GET carries the
    same ETag and shows the same values (the read may add fields of its own), but for the
    fields in ``ignore``."""
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert_no_leak(response)
    body: dict[str, Any] = response.json()
    version = body["version"]
    assert isinstance(version, int)
    assert not isinstance(version, bool)
    assert response.headers["ETag"] == f'"{version}"'
    position = body["position"]
    assert isinstance(position, int)
    assert not isinstance(position, bool)
    assert position == last_position(client), "position is the last event's log position"
    location = response.headers["Location"]
    assert location.startswith("/")
    shown = client.get(location, params={"min_position": position})
    assert shown.status_code == 200, shown.text
    if same_resource:
        assert shown.headers.get("ETag") == response.headers["ETag"]
        answer = shown.json()
        common = (set(answer) & set(body)) - {"position", "version", *ignore}
        assert common, "the resource read shares no field with the write's answer"
        differing = {k: (answer[k], body[k]) for k in common if answer[k] != body[k]}
        assert not differing, f"read differs from the write's answer: {differing}"
        if answer.get("position") is not None:
            assert answer["position"] >= position
    return body


def assert_problem(
    response: Response, status: int, *, fields: tuple[str, ...] = (), kind: str | None = None
) -> dict[str, Any]:
    """A refusal: the status, an RFC 9457 body, and for 422 each bad field named."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert_no_leak(response)
    body: dict[str, Any] = response.json()
    assert isinstance(body["type"], str)
    assert body["type"]
    assert isinstance(body["title"], str)
    assert body["title"]
    assert body["status"] == status
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if kind is not None:
        assert body["type"].endswith(kind), body["type"]
    if status == 422 or fields:
        errors = body["errors"]
        assert errors, body
        for error in errors:
            assert set(error) >= {"field", "message"}
            assert isinstance(error["field"], str)
            assert isinstance(error["message"], str)
            assert error["message"]
        named = {error["field"] for error in errors}
        missing = set(fields) - named
        assert not missing, f"{sorted(missing)} not named in {errors}"
    return body


def is_nfc(text: str) -> bool:
    return unicodedata.normalize("NFC", text) == text


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def raw_post(client: TestClient, path: str, content: str | bytes, **headers: str) -> Response:
    """A POST of a body as given, not encoded by the client: malformed JSON, numbers in place
    of strings."""
    return client.post(
        path, content=content, headers={"Content-Type": "application/json", **headers}
    )


def dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False)
