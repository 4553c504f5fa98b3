"""POST /sources and GET /sources/{id}: registering the documents facts are quoted from."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient

from tests.http.conftest import Store
from tests.http.helpers import (
    SOURCE,
    SOURCE_TEXT,
    UNTEXTED_SOURCE,
    assert_created,
    assert_problem,
    is_nfc,
    nfd,
    post,
    read,
    source_body,
    untexted_source_body,
)


def test_a_source_is_registered_once_with_its_text_hash_and_names_in_nfc(
    client: TestClient, store: Store
) -> None:
    response = post(client, "/sources", source_body())

    body = assert_created(client, response)
    assert response.headers["Location"] == f"/sources/{SOURCE}"
    assert response.headers["ETag"] == '"1"'
    assert (body["id"], body["language"], body["published_on"]) == (SOURCE, "en", "2024")
    assert body["publisher"] == "Azerbaijan State News Agency (AZERTAC)"
    assert body["text"] == SOURCE_TEXT
    assert body["sha256"] == hashlib.sha256(SOURCE_TEXT.encode()).hexdigest()
    assert body["recorded_at"].endswith("Z")

    title = "Şəki və Qəbələ: Алексей Оверчук в Баку"
    untexted = post(client, "/sources", untexted_source_body(title=nfd(title)))

    second = assert_created(client, untexted)
    assert second["position"] > body["position"]
    assert (second["text"], second["sha256"]) == (None, None)
    assert second["title"] == title
    assert is_nfc(second["title"])
    assert read(client, f"/sources/{UNTEXTED_SOURCE}").json()["title"] == title

    with store.unchanged():
        again = post(client, "/sources", source_body(title="Another title"))
        date_as_number = post(client, "/sources", source_body(id="other", published_on=2024))
        many_bad = post(
            client,
            "/sources",
            source_body(
                id="Not A Slug",
                language="english",
                published_on="2024-13",
                url="ftp://example.org/release",
            ),
        )
        too_long = post(client, "/sources", source_body(id="big", text="x" * (1024 * 1024 + 1)))
        blank = post(client, "/sources", source_body(id="blank", text="  \n "))
        later = post(client, "/sources", source_body(id="later", published_on="2999-01-01"))

    assert_problem(again, 422, fields=("id",))
    assert read(client, f"/sources/{SOURCE}").json()["title"] != "Another title"
    assert_problem(date_as_number, 422, fields=("published_on",))
    assert_problem(many_bad, 422, fields=("id", "language", "published_on", "url"))
    assert_problem(too_long, 422, fields=("text",))
    assert_problem(blank, 422, fields=("text",))
    assert_problem(later, 422, fields=("published_on",))
    assert_problem(read(client, "/sources/no-such-source"), 404, kind="not-found")
