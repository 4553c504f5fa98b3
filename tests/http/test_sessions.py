"""Sessions: recorded held or planned, then convened, postponed or cancelled; and the facts
recorded at them (protocols, declarations, corrections of the session's own record)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.http.conftest import Store
from tests.http.helpers import (
    CONVENED_QUOTE,
    MUSTAFAYEV,
    OVERCHUK,
    PLANNED_QUOTE,
    PROTOCOL_QUOTE,
    Record,
    assert_created,
    assert_problem,
    convened_session_body,
    convening_body,
    declaration_body,
    evidence,
    nfd,
    person,
    post,
    protocol_body,
    quoted,
    read,
    schedule_session,
    scheduled_session_body,
)

SESSIONS = "/commissions/az-ru-economic/sessions"

Cases = list[tuple[dict[str, Any], tuple[str, ...]]]

HELD_ONLY: Cases = [
    ({"start": "2025"}, ("start",)),
    ({"format": "in_person"}, ("format",)),
    ({"start": "2025", "format": "hybrid"}, ("start", "format")),
    ({"co_chairs": [person("AZ")]}, ("co_chairs",)),
    ({"topics": ["trade"], "summary": "Trade."}, ("topics", "summary")),
]

BAD_SESSIONS: Cases = [
    ({"ordinal": 0}, ("ordinal",)),
    ({"ordinal": "21"}, ("ordinal",)),
    ({"ordinal": 21.0}, ("ordinal",)),
    ({"ordinal": True}, ("ordinal",)),
    ({"ordinal": 21, "key": "twenty-one"}, ("key",)),
    ({"ordinal": None, "key": "21"}, ("key",)),
    ({"ordinal": None, "key": "Session 21"}, ("key",)),
    ({"status": "held"}, ("status",)),
    ({"kind": "summit"}, ("kind",)),
    ({"format": "telepathy"}, ("format",)),
    ({"format": None, "start": None}, ("format", "start")),
    ({"planned": "2024"}, ("planned",)),
    ({"topics": ["trade", "space"]}, ("topics[1]",)),
    ({"topics": ["trade", "trade"]}, ("topics",)),
    ({"start": "2999"}, ("start",)),
    ({"start": "2024-Q5"}, ("start",)),
    ({"start": "2024-05", "end": "2024-04"}, ("end",)),
    ({"place": {"city": "Baku", "country": "az"}}, ("place.country",)),
    ({"place": {"city": "Ankara", "country": "TR"}}, ("place.country",)),
    ({"place": {"city": "Baku", "country": "AZ", "street": "x"}}, ("place.street",)),
    ({"co_chairs": [person("TR")]}, ("co_chairs[0].party",)),
    ({"co_chairs": [{**person("AZ"), "name": "x" * 201}]}, ("co_chairs[0].name",)),
    ({"co_chairs": [{"party": "AZ", "name": MUSTAFAYEV}]}, ("co_chairs[0].title",)),
]


def reason(text: str = "The agenda was not agreed.", **changes: Any) -> dict[str, Any]:
    return {"reason": text, "evidence": evidence(PLANNED_QUOTE), **changes}


def test_a_held_session_is_recorded_with_everything_said_of_it_under_its_key(
    client: TestClient, record: Record
) -> None:
    shown = read(client, record.session_path)

    assert shown.headers["ETag"] == '"1"'
    body = shown.json()
    assert body["commission"] == "az-ru-economic"
    assert (body["key"], body["ordinal"], body["status"]) == ("22", 22, "convened")
    assert (body["kind"], body["format"], body["start"]) == ("plenary", "in_person", "2024")
    assert body["place"] == {"city": "Baku", "country": "AZ"}
    assert body["co_chairs"] == [person("AZ"), person("RU")]
    assert body["topics"] == ["trade", "transport", "energy"]
    assert quoted(body["evidence"]) == evidence(CONVENED_QUOTE)
    assert (body["protocol"], body["declarations"], body["statistics"]) == (None, [], [])

    # Sessions without ordinal are found under their slug or a key of their date and kind.
    derived = post(
        client,
        SESSIONS,
        convened_session_body(ordinal=None, kind="co_chairs_meeting", start="2023-02-16"),
    )
    assert assert_created(client, derived)["key"] == "2023-02-16-co-chairs-meeting"
    assert derived.headers["Location"] == f"{SESSIONS}/2023-02-16-co-chairs-meeting"
    slug = post(
        client,
        SESSIONS,
        convened_session_body(
            ordinal=None,
            key="2022-02-16-co-chairs",
            kind="co_chairs_meeting",
            format="videoconference",
            start="2022-02-16",
            place={"city": nfd("Bakı"), "country": "AZ"},
            co_chairs=[
                {**person("AZ"), "name": nfd(MUSTAFAYEV)},
                {**person("RU"), "name": nfd(OVERCHUK)},
            ],
        ),
    )

    body = assert_created(client, slug)
    assert (body["key"], body["ordinal"]) == ("2022-02-16-co-chairs", None)
    shown = read(client, f"{SESSIONS}/2022-02-16-co-chairs").json()
    assert shown["format"] == "videoconference"
    assert shown["place"]["city"] == "Bakı"
    assert [c["name"] for c in shown["co_chairs"]] == ["Şahin Mustafayev", "Алексей Оверчук"]
    assert_problem(read(client, f"{SESSIONS}/99"), 404, kind="not-found")
    assert_problem(read(client, "/commissions/az-tr-economic/sessions/22"), 404, kind="not-found")


def test_a_held_session_with_bad_or_duplicate_fields_is_refused_naming_each(
    client: TestClient, record: Record, store: Store
) -> None:
    post(client, SESSIONS, convened_session_body(ordinal=None, key="2023-talks", start="2023"))

    with store.unchanged():
        for changes, fields in BAD_SESSIONS:
            response = post(client, SESSIONS, convened_session_body(**{"ordinal": 21, **changes}))
            assert_problem(response, 422, fields=fields)
        all_at_once = post(
            client,
            SESSIONS,
            convened_session_body(
                ordinal=21,
                start="2024-05",
                end="2024-04",
                place={"city": "Ankara", "country": "TR"},
                co_chairs=[person("TR")],
            ),
        )
        same_ordinal = post(client, SESSIONS, convened_session_body(start="2023"))
        scheduled_again = post(client, SESSIONS, scheduled_session_body(ordinal=22))
        same_key = post(client, SESSIONS, convened_session_body(ordinal=None, key="2023-talks"))

    assert_problem(all_at_once, 422, fields=("end", "place.country", "co_chairs[0].party"))
    assert_problem(same_ordinal, 422, fields=("ordinal",))
    assert_problem(scheduled_again, 422, fields=("ordinal",))
    assert_problem(same_key, 422, fields=("key",))
    assert read(client, record.session_path).json()["start"] == "2024"


def test_a_scheduled_session_has_a_planned_date_and_none_of_a_held_ones_fields(
    client: TestClient, record: Record, store: Store
) -> None:
    with store.unchanged():
        for held_only, fields in HELD_ONLY:
            response = post(client, SESSIONS, scheduled_session_body(**held_only))
            assert_problem(response, 422, fields=fields)
        unplanned = post(client, SESSIONS, scheduled_session_body(planned=None))
    assert_problem(unplanned, 422, fields=("planned",))

    response = post(client, SESSIONS, scheduled_session_body())

    body = assert_created(client, response)
    assert response.headers["Location"] == f"{SESSIONS}/23"
    assert (body["status"], body["planned"], body["start"], body["format"]) == (
        "scheduled",
        "2025-Q4",
        None,
        None,
    )
    assert body["place"] == {"city": "Moscow", "country": "RU"}


def test_a_scheduled_session_is_convened_under_its_own_key_and_ordinal(
    client: TestClient, record: Record, store: Store
) -> None:
    schedule_session(client)
    path = f"{SESSIONS}/23/convened"

    with store.unchanged():
        planned = post(client, path, convening_body(planned="2025"))
        ordinal = post(client, path, convening_body(ordinal=24))
        key = post(client, path, convening_body(key="24"))
        no_start = post(client, path, convening_body(start=None))
        outsider = post(client, path, convening_body(co_chairs=[person("TR")]))
    assert_problem(planned, 422, fields=("planned",))
    assert_problem(ordinal, 422, fields=("ordinal",))
    assert_problem(key, 422, fields=("key",))
    assert_problem(no_start, 422, fields=("start",))
    assert_problem(outsider, 422, fields=("co_chairs[0].party",))

    response = post(client, path, convening_body(), **{"If-Match": '"1"'})

    body = assert_created(client, response)
    assert response.headers["Location"] == f"{SESSIONS}/23"
    assert response.headers["ETag"] == '"2"'
    assert (body["key"], body["ordinal"], body["status"]) == ("23", 23, "convened")
    assert (body["format"], body["start"]) == ("hybrid", "2024-05")
    assert quoted(body["evidence"]) == evidence(PLANNED_QUOTE) + evidence(CONVENED_QUOTE)


def test_a_planned_session_is_postponed_then_held_or_cancelled_and_each_needs_a_reason(
    client: TestClient, record: Record, store: Store
) -> None:
    schedule_session(client)
    schedule_session(client, ordinal=24)

    with store.unchanged():
        blank = post(client, f"{SESSIONS}/23/cancellation", reason("   "))
        missing = post(client, f"{SESSIONS}/23/postponement", {"evidence": evidence(PLANNED_QUOTE)})
        bad_date = post(client, f"{SESSIONS}/23/postponement", reason(planned="next spring"))
        held_already = [
            post(client, f"{record.session_path}/{action}", body)
            for action, body in (
                ("convened", convening_body()),
                ("postponement", reason()),
                ("cancellation", reason()),
            )
        ]
    assert_problem(blank, 422, fields=("reason",))
    assert_problem(missing, 422, fields=("reason",))
    assert_problem(bad_date, 422, fields=("planned",))
    for response in held_already:
        assert_problem(response, 422, fields=("session",))

    postponed = assert_created(
        client, post(client, f"{SESSIONS}/23/postponement", reason("Moved.", planned="2026-Q1"))
    )
    assert (postponed["status"], postponed["planned"], postponed["reasons"]) == (
        "postponed",
        "2026-Q1",
        ["Moved."],
    )
    held = assert_created(client, post(client, f"{SESSIONS}/23/convened", convening_body()))
    assert (held["status"], held["version"]) == ("convened", 3)

    cancelled = assert_created(client, post(client, f"{SESSIONS}/24/cancellation", reason()))
    assert (cancelled["status"], cancelled["reasons"]) == (
        "cancelled",
        ["The agenda was not agreed."],
    )
    with store.unchanged():
        again = post(client, f"{SESSIONS}/24/cancellation", reason())
        held_after_all = post(client, f"{SESSIONS}/24/convened", convening_body())
    assert_problem(again, 422, fields=("session",))
    assert_problem(held_after_all, 422, fields=("session",))


def test_a_protocol_signed_by_both_parties_is_recorded_once_at_a_held_session(
    client: TestClient, record: Record, store: Store
) -> None:
    path = f"{record.session_path}/protocols"
    schedule_session(client)

    with store.unchanged():
        planned = post(client, f"{SESSIONS}/23/protocols", protocol_body())
        one_side = post(client, path, protocol_body(signatories=[person("AZ")]))
        outsider = post(client, path, protocol_body(signatories=[person("TR"), person("AZ")]))
        nobody = post(client, path, protocol_body(signatories=[]))
        future = post(client, path, protocol_body(signed_on="2999-01-01"))
        before_session = post(client, path, protocol_body(signed_on="2023"))
    assert_problem(planned, 422, fields=("session",))
    assert_problem(one_side, 422, fields=("signatories",))
    assert_problem(outsider, 422, fields=("signatories[0].party", "signatories"))
    assert_problem(nobody, 422, fields=("signatories",))
    assert_problem(future, 422, fields=("signed_on",))
    assert_problem(before_session, 422, fields=("signed_on",))

    signatories = [{**person("AZ"), "name": nfd(MUSTAFAYEV)}, person("RU")]
    response = post(client, path, protocol_body(signatories=signatories))

    body = assert_created(client, response)
    assert response.headers["ETag"] == '"2"'
    assert {**body["protocol"], "evidence": quoted(body["protocol"]["evidence"])} == {
        "title": "Protocol of the 22nd meeting",
        "signed_on": "2024",
        "signatories": [person("AZ"), person("RU")],
        "evidence": evidence(PROTOCOL_QUOTE),
    }
    with store.unchanged():
        second = post(client, path, protocol_body(title="Another protocol"))
    assert_problem(second, 422, fields=("session",))


def test_a_declaration_cited_at_a_held_session_is_recorded_once_with_its_date(
    client: TestClient, record: Record, store: Store
) -> None:
    path = f"{record.session_path}/declarations"
    schedule_session(client)

    response = post(client, path, declaration_body())

    body = assert_created(client, response)
    [declaration] = body["declarations"]
    assert declaration["title"] == "Declaration on allied interaction"
    assert declaration["dated"] == "2022-02-22"
    assert declaration["characterization"] == "particularly significant"
    with store.unchanged():
        future = post(client, path, declaration_body(title="Another", dated="2999"))
        twice = post(client, path, declaration_body())
        planned = post(client, f"{SESSIONS}/23/declarations", declaration_body())
        bad_date = post(client, path, declaration_body(title="Another", dated="22.02.2022"))
        untitled = post(client, path, declaration_body(title=""))
    assert_problem(future, 422, fields=("dated",))
    assert_problem(twice, 422, fields=("title",))
    assert_problem(planned, 422, fields=("session",))
    assert_problem(bad_date, 422, fields=("dated",))
    assert_problem(untitled, 422, fields=("title",))


def test_a_correction_changes_only_the_fields_named_and_checks_the_record_as_it_would_be(
    client: TestClient, record: Record, store: Store
) -> None:
    path = f"{record.session_path}/corrections"
    schedule_session(client)

    with store.unchanged():
        nothing = post(client, path, {"changes": {}, "reason": "None."})
        same = post(client, path, {"changes": {"start": "2024"}, "reason": "Same."})
        unknown = post(client, path, {"changes": {"value": "1"}, "reason": "Wrong."})
        future = post(client, path, {"changes": {"start": "2999"}, "reason": "Later."})
        outsider = post(client, path, {"changes": {"co_chairs": [person("TR")]}, "reason": "x"})
        no_reason = post(client, path, {"changes": {"summary": "x"}})
        held = post(
            client, f"{SESSIONS}/23/corrections", {"changes": {"start": "2024"}, "reason": "x"}
        )
    assert_problem(nothing, 422, fields=("changes",))
    assert_problem(same, 422, fields=("changes",))
    assert_problem(unknown, 422, fields=("changes.value",))
    assert_problem(future, 422, fields=("changes.start",))
    assert_problem(outsider, 422, fields=("changes.co_chairs[0].party",))
    assert_problem(no_reason, 422, fields=("reason",))
    assert_problem(held, 422, fields=("changes.start",))

    response = post(
        client,
        path,
        {
            "changes": {"place": {"city": "Bakı", "country": "AZ"}, "end": "2024"},
            "reason": "The city is spelled as in Azerbaijani.",
            "evidence": evidence(CONVENED_QUOTE),
        },
    )

    body = assert_created(client, response)
    assert response.headers["Location"] == record.session_path
    assert body["place"] == {"city": "Bakı", "country": "AZ"}
    assert body["end"] == "2024"
    assert body["summary"] == "The sides reviewed trade, transport and energy cooperation."
