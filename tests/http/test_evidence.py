"""Evidence says whether it was checked: each quote's status against its source's text
(verified, with its offsets; unverified; mismatch), a text registered later checking again the
quotes recorded before, and corrections of figures and dates citing evidence of their own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from projections.runner import Projector
from tests.http.conftest import Store
from tests.http.helpers import (
    SOURCE_TEXT,
    TURNOVER_QUOTE,
    Record,
    assert_created,
    assert_problem,
    evidence,
    post,
    quoted,
    read,
    report_statistic,
    statistic_body,
)

# Two quotes of the source registered without text: one its text will contain, one it won't.
KEPT = "the sides noted the growth of mutual trade"
LOST = "trade doubled in three years"
READOUT = f"At the meeting {KEPT.replace(' ', '  ', 1)} and agreed to meet again."


def statuses(items: list[dict[str, Any]]) -> list[str]:
    return [item["status"] for item in items]


def untexted_statistic(client: TestClient, record: Record) -> dict[str, Any]:
    return report_statistic(
        client,
        record,
        evidence=evidence(KEPT, source=record.untexted_source)
        + evidence(LOST, source=record.untexted_source),
    )


def test_a_quote_of_a_source_with_text_is_verified_at_its_offsets(
    client: TestClient, record: Record
) -> None:
    written = report_statistic(client, record)

    [item] = written["evidence"]
    assert item["status"] == "verified"
    start, end = item["offsets"]["start"], item["offsets"]["end"]
    assert " ".join(SOURCE_TEXT[start:end].split()) == TURNOVER_QUOTE
    assert written["evidence_status"] == "verified"
    shown = read(client, f"/statistics/{written['id']}").json()
    assert shown["evidence"] == written["evidence"]
    assert shown["evidence_status"] == "verified"


def test_a_source_without_text_is_unverified_until_its_text_checks_its_quotes_again(
    client: TestClient, record: Record, store: Store
) -> None:
    sid = untexted_statistic(client, record)["id"]
    shown = read(client, f"/statistics/{sid}").json()
    assert statuses(shown["evidence"]) == ["unverified", "unverified"]
    assert [item["offsets"] for item in shown["evidence"]] == [None, None]
    assert shown["evidence_status"] == "unverified"
    before = datetime.now(UTC).isoformat()
    source_path = f"/sources/{record.untexted_source}"
    assert read(client, source_path).json()["has_text"] is False

    registered = post(client, f"{source_path}/text", {"text": READOUT})

    body = assert_created(client, registered)
    assert (body["has_text"], body["text"]) == (True, READOUT)
    assert body["sha256"] is not None
    shown = read(client, f"/statistics/{sid}").json()
    assert statuses(shown["evidence"]) == ["verified", "mismatch"]
    kept = shown["evidence"][0]["offsets"]
    assert " ".join(READOUT[kept["start"] : kept["end"]].split()) == KEPT
    assert shown["evidence"][1]["offsets"] is None
    assert shown["evidence_status"] == "mismatch"  # the weakest of its quotes
    # As of before the text was registered, the quotes were unchecked, and the source textless.
    then = read(client, f"/statistics/{sid}", as_of=before).json()
    assert statuses(then["evidence"]) == ["unverified", "unverified"]
    assert read(client, source_path, as_of=before).json()["has_text"] is False
    history = read(client, f"/statistics/{sid}/history", as_of=before).json()
    assert statuses(history["versions"][0]["evidence"]) == ["unverified", "unverified"]
    assert read(client, source_path, as_of="2000-01-01T00:00:00Z").status_code == 404
    # The text is registered once: another is refused, and so is the same again.
    with store.unchanged():
        other = post(client, f"{source_path}/text", {"text": "Another text."})
        same = post(client, f"{source_path}/text", {"text": READOUT})
        texted = post(client, f"/sources/{record.source}/text", {"text": "Other."})
        unknown = post(client, "/sources/no-such-source/text", {"text": "Text."})
        empty = post(client, f"/sources/{record.source}/text", {"text": " "})
    assert_problem(other, 422, fields=("text",))
    assert_problem(same, 422, fields=("text",))
    assert_problem(texted, 422, fields=("text",))
    assert_problem(unknown, 404)
    assert_problem(empty, 422, fields=("text",))
    # A quote of it recorded now is checked as any other: one not in the text is refused.
    with store.unchanged():
        refused = report_statistic_raw(client, record, LOST)
    assert_problem(refused, 422, fields=("evidence[0].quote",))


def report_statistic_raw(client: TestClient, record: Record, quote: str) -> Any:
    return post(
        client,
        f"{record.session_path}/statistics",
        statistic_body(evidence=evidence(quote, source=record.untexted_source)),
    )


def test_the_trade_position_and_timeline_show_each_rows_weakest_status(
    client: TestClient, record: Record
) -> None:
    untexted_statistic(client, record)
    post(client, f"/sources/{record.untexted_source}/text", {"text": READOUT})

    position = read(client, "/trade-position", parties="AZ,RU", measure="trade_turnover").json()
    [figure] = position["figures"]
    assert figure["evidence_status"] == "mismatch"
    assert statuses(figure["evidence"]) == ["verified", "mismatch"]
    assert [r["evidence_status"] for r in position["revisions"]] == ["mismatch"]
    timeline = read(client, f"/commissions/{record.commission}/timeline").json()
    by_kind = {entry["kind"]: entry for entry in timeline["items"]}
    assert by_kind["statistic"]["evidence_status"] == "mismatch"
    assert by_kind["session"]["evidence_status"] == "verified"
    session = read(client, record.session_path).json()
    assert session["evidence_status"] == "verified"
    assert session["statistics"][0]["evidence_status"] == "mismatch"


def test_a_rebuild_of_the_evidence_model_gives_the_same_statuses(
    client: TestClient, record: Record, projector: Projector
) -> None:
    sid = untexted_statistic(client, record)["id"]
    post(client, f"/sources/{record.untexted_source}/text", {"text": READOUT})
    before = read(client, f"/statistics/{sid}").json()["evidence"]

    projector.rebuild_all(["evidence", "statistics"])

    after = client.get(f"/statistics/{sid}").json()["evidence"]
    assert after == before
    assert statuses(after) == ["verified", "mismatch"]


def test_quotes_of_sources_without_text_are_refused_when_texts_are_required(
    client: TestClient, record: Record, store: Store, projector: Projector
) -> None:
    records = client.app.state.records  # type: ignore[attr-defined]
    strict_app = create_app(Settings(require_source_text=True), records, projector)
    try:
        with TestClient(strict_app) as strict:
            strict.headers["Authorization"] = client.headers["Authorization"]
            with store.unchanged():
                response = report_statistic_raw(strict, record, KEPT)
            problem = assert_problem(response, 422, fields=("evidence[0].source",))
            assert "no registered text" in str(problem["errors"])
            assert report_statistic(strict, record)["evidence_status"] == "verified"
    finally:
        records.require_source_text = False


def test_a_figure_corrected_carries_its_own_evidence_and_keeps_the_superseded_apart(
    client: TestClient, record: Record, store: Store
) -> None:
    sid = report_statistic(client, record)["id"]
    path = f"/statistics/{sid}/corrections"
    exact = {"value": "4.45E9", "qualifier": "exact"}
    with store.unchanged():
        bare = post(client, path, {"changes": exact, "reason": "The ministry's exact figure."})
    problem = assert_problem(bare, 422, fields=("evidence",))
    assert "value, qualifier" in str(problem["errors"])

    response = post(
        client,
        path,
        {
            "changes": exact,
            "reason": "The ministry's exact figure.",
            "evidence": evidence(KEPT, source=record.untexted_source),
        },
    )

    body = assert_created(client, response)
    assert (body["value"], body["qualifier"]) == ("4450000000", "exact")
    assert quoted(body["evidence"]) == evidence(KEPT, source=record.untexted_source)
    assert body["evidence_status"] == "unverified"
    assert quoted(body["superseded_evidence"]) == evidence(TURNOVER_QUOTE)
    assert statuses(body["superseded_evidence"]) == ["verified"]
    versions = read(client, f"/statistics/{sid}/history").json()["versions"]
    assert [quoted(v["evidence"]) for v in versions] == [
        evidence(TURNOVER_QUOTE),
        evidence(KEPT, source=record.untexted_source),
    ]
    assert [quoted(v["superseded_evidence"]) for v in versions] == [[], evidence(TURNOVER_QUOTE)]
    # A correction of its remarks alone needs no evidence, and leaves the evidence as it is.
    remarks = post(client, path, {"changes": {"remarks": "Exact."}, "reason": "Worded."})
    body = assert_created(client, remarks)
    assert quoted(body["evidence"]) == evidence(KEPT, source=record.untexted_source)


def test_a_session_date_corrected_without_evidence_is_refused(
    client: TestClient, record: Record, store: Store
) -> None:
    path = f"{record.session_path}/corrections"
    with store.unchanged():
        response = post(client, path, {"changes": {"start": "2024-05-17"}, "reason": "The day."})
    problem = assert_problem(response, 422, fields=("evidence",))
    assert "start" in str(problem["errors"])

    summary = post(client, path, {"changes": {"summary": "Trade."}, "reason": "Shorter."})

    assert_created(client, summary)
