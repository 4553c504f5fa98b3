"""POST /commissions, GET /commissions/{cid}, and the co-chairs' appointments and tenures."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.http.conftest import Store
from tests.http.helpers import (
    AZ_TITLE,
    CHAIRED_QUOTE,
    COMMISSION,
    MUSTAFAYEV,
    NOT_IN_TEXT,
    OVERCHUK,
    RU_TITLE,
    UNTEXTED_SOURCE,
    Record,
    assert_created,
    assert_problem,
    co_chair_body,
    commission_body,
    evidence,
    nfd,
    post,
    quoted,
    read,
    source_body,
)

CO_CHAIRS = f"/commissions/{COMMISSION}/co-chairs"

BAD_PARTIES: list[tuple[Any, tuple[str, ...]]] = [
    (["az", "RU"], ("parties[0]",)),
    (["AZ", "AZE"], ("parties[1]",)),
    (["Azerbaijan", "RU"], ("parties[0]",)),
    (["XX", "RU"], ("parties[0]",)),
    (["AZ"], ("parties",)),
    (["AZ", "AZ"], ("parties",)),
    (["AZ", "RU", "TR"], ("parties",)),
    ("AZ,RU", ("parties",)),
]


def end_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "party": "AZ",
        "name": MUSTAFAYEV,
        "until": "2024-06",
        "evidence": evidence(CHAIRED_QUOTE),
    }
    body.update(changes)
    return body


def test_a_commission_is_established_once_with_two_valid_parties_and_a_name(
    client: TestClient, store: Store
) -> None:
    response = post(client, "/commissions", commission_body())

    body = assert_created(client, response)
    assert response.headers["Location"] == f"/commissions/{COMMISSION}"
    assert response.headers["ETag"] == '"1"'
    assert body["id"] == COMMISSION
    assert sorted(body["parties"]) == ["AZ", "RU"]
    assert body["names"]["ru"] == "Межправительственная комиссия по экономическому сотрудничеству"
    assert body["established_on"] == "1999"
    assert body["co_chairs"] == []
    assert_problem(read(client, "/commissions/az-tr-economic"), 404, kind="not-found")

    with store.unchanged():
        for parties, fields in BAD_PARTIES:
            response = post(client, "/commissions", commission_body(id="az-x", parties=parties))
            assert_problem(response, 422, fields=fields)
        nameless = post(client, "/commissions", commission_body(id="az-x", names={}))
        language = post(client, "/commissions", commission_body(id="az-x", names={"english": "x"}))
        unknown_field = post(client, "/commissions", commission_body(id="az-x", name="AZ-RU"))
        bad_slug = post(client, "/commissions", commission_body(id="AZ RU"))
        again = post(client, "/commissions", commission_body(parties=["AZ", "TR"]))

    assert_problem(nameless, 422, fields=("names",))
    assert_problem(language, 422, fields=("names.english",))
    assert_problem(unknown_field, 422, fields=("name",))
    assert_problem(bad_slug, 422, fields=("id",))
    assert_problem(again, 422, fields=("id",))


def test_co_chairs_are_appointed_and_their_tenures_end_with_names_kept_in_nfc(
    client: TestClient, record: Record
) -> None:
    appointed = post(client, CO_CHAIRS, co_chair_body("AZ", name=nfd(MUSTAFAYEV)))

    body = assert_created(client, appointed, same_resource=False)
    assert appointed.headers["Location"] == CO_CHAIRS
    assert appointed.headers["ETag"] == '"2"'
    [co_chair] = body["co_chairs"]
    assert (co_chair["party"], co_chair["name"], co_chair["title"]) == ("AZ", MUSTAFAYEV, AZ_TITLE)
    assert (co_chair["since"], co_chair["until"]) == ("2018", None)
    assert quoted(co_chair["evidence"]) == evidence(CHAIRED_QUOTE)
    [tenure] = read(client, CO_CHAIRS).json()["tenures"]["AZ"]
    assert (tenure["name"], tenure["since"], tenure["until"]) == (MUSTAFAYEV, "2018", None)

    # A quote of a source registered without text is taken as given.
    russian = co_chair_body(
        "RU", name=nfd(OVERCHUK), evidence=evidence(NOT_IN_TEXT, UNTEXTED_SOURCE)
    )
    assert_created(client, post(client, CO_CHAIRS, russian), same_resource=False)
    shown = read(client, f"/commissions/{COMMISSION}")
    assert shown.headers["ETag"] == '"3"'
    names = {c["party"]: c["name"] for c in shown.json()["co_chairs"]}
    assert names == {"AZ": "Şahin Mustafayev", "RU": "Алексей Оверчук"}
    assert {c["title"] for c in shown.json()["co_chairs"]} == {AZ_TITLE, RU_TITLE}

    ended = post(client, f"{CO_CHAIRS}/end", end_body(name=nfd(MUSTAFAYEV)))

    body = assert_created(client, ended, same_resource=False)
    assert ended.headers["ETag"] == '"4"'
    assert [c["party"] for c in body["co_chairs"]] == ["RU"]
    [tenure] = read(client, CO_CHAIRS).json()["tenures"]["AZ"]
    assert (tenure["name"], tenure["since"], tenure["until"]) == (MUSTAFAYEV, "2018", "2024-06")


def test_a_bad_appointment_or_end_of_tenure_is_refused_naming_each_bad_field(
    client: TestClient, record: Record, store: Store
) -> None:
    post(client, CO_CHAIRS, co_chair_body("AZ"))

    with store.unchanged():
        outsider = post(client, CO_CHAIRS, co_chair_body("TR"))
        lower_case = post(client, CO_CHAIRS, co_chair_body("ru", name="x" * 201))
        later = post(client, CO_CHAIRS, co_chair_body("RU", since="2999"))
        twice = post(client, CO_CHAIRS, co_chair_body("AZ"))
        too_early = post(client, f"{CO_CHAIRS}/end", end_body(until="2017"))
        not_serving = post(client, f"{CO_CHAIRS}/end", end_body(party="RU", name=OVERCHUK))
        no_date = post(client, f"{CO_CHAIRS}/end", end_body(until=None))

    assert_problem(outsider, 422, fields=("party",))
    assert_problem(lower_case, 422, fields=("party", "name"))
    assert_problem(later, 422, fields=("since",))
    assert_problem(twice, 422, fields=("name",))
    assert_problem(too_early, 422, fields=("until",))
    assert_problem(not_serving, 422, fields=("name",))
    assert_problem(no_date, 422, fields=("until",))


def test_a_quote_is_matched_in_nfc_whatever_form_either_text_is_sent_in(
    client: TestClient,
) -> None:
    post(client, "/sources", source_body(text=nfd(source_body()["text"])))
    post(client, "/commissions", commission_body())

    response = post(client, CO_CHAIRS, co_chair_body(evidence=evidence(nfd(CHAIRED_QUOTE))))

    body = assert_created(client, response, same_resource=False)
    assert quoted(body["co_chairs"][0]["evidence"]) == evidence(CHAIRED_QUOTE)
