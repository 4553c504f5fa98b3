"""Hostile input, on real PostgreSQL: nothing is read before the key is checked, nothing
costly runs on the event loop, every bad parameter is a 4xx (never a 500), and every error is
logged once, on one line."""

from __future__ import annotations

import base64
import json
import logging
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.demo import COMMISSION, load_demo
from api.logs import JsonFormatter, OneLineFormatter, one_line
from api.security import ApiKeys
from api.settings import Settings
from domain.application import Records
from projections.queries import ReadModels, cursor_tag, encode_cursor
from projections.runner import Projector
from tests.demo_writes import STATISTIC, STATISTICS
from tests.integration.cli import serve_apart

pytestmark = pytest.mark.postgres

FORGED_LINE = 'x\nINFO:     127.0.0.1:1 - "GET /admin HTTP/1.1" 202 Accepted'


def stored(records: Records) -> int:
    return records.recorder.max_notification_id() or 0


@pytest.fixture
def demo(pg_records: Records, projector: Projector) -> Records:
    load_demo(pg_records)
    projector.catch_up()
    return pg_records


@pytest.fixture
def anonymous(demo: Records, projector: Projector) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), demo, projector)) as client:
        yield client


@pytest.fixture
def recorder_key(projector: Projector) -> str:
    return ApiKeys(projector.store.pool).create("hostile", "recorder")[1]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def cursor_of(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def tag(route: str, *asked: Any) -> str:
    """The tag of a true cursor of ``route`` asked with these filters: a forged cursor that
    carries it is refused for its values, not its tag."""
    return cursor_tag(route, asked)


# --- nothing before authentication --------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[" * 1_000_000 + b"]" * 1_000_000, "application/json"),
        (b"measure=imports", "application/x-www-form-urlencoded"),
        (b"x" * 3_000_000, "application/json"),
    ],
)
def test_a_request_without_a_key_is_refused_before_its_body_is_looked_at(
    anonymous: TestClient, demo: Records, content: bytes, content_type: str
) -> None:
    before = stored(demo)
    response = anonymous.post(STATISTICS, content=content, headers={"content-type": content_type})
    assert response.status_code == 401, response.text
    assert response.json()["type"] == "/problems/unauthorized"
    assert stored(demo) == before


def test_a_reader_key_is_refused_a_write_before_its_body_is_looked_at(
    anonymous: TestClient, projector: Projector
) -> None:
    _, key = ApiKeys(projector.store.pool).create("reader-only", "reader")
    response = anonymous.post(
        STATISTICS,
        content=b"{not json",
        headers={**bearer(key), "content-type": "application/json"},
    )
    assert response.status_code == 403


# --- bodies a recorder sends ----------------------------------------------------------------


def test_a_body_of_a_million_arrays_is_refused_unparsed(
    anonymous: TestClient, demo: Records, recorder_key: str
) -> None:
    before = stored(demo)
    flat = b"[" + b"[]," * 600_000 + b"[]]"
    for body in (b"[" * 1_000_000 + b"]" * 1_000_000, flat):
        response = anonymous.post(
            STATISTICS,
            content=body,
            headers={**bearer(recorder_key), "content-type": "application/json"},
        )
        assert response.status_code == 400, response.text
        assert "more than 2000 arrays and objects" in response.json()["detail"]
    assert stored(demo) == before


def test_brackets_inside_strings_are_text_not_structure(
    anonymous: TestClient, demo: Records, recorder_key: str
) -> None:
    text = "Article [1] of the protocol {as amended} applies. " * 200  # 400 brackets a line
    response = anonymous.post(
        "/sources",
        json={
            "id": "bracketed-readout",
            "title": "[Draft] readout {v2}",
            "publisher": "Example ministry",
            "language": "en",
            "text": text * 5,
        },
        headers=bearer(recorder_key),
    )
    assert response.status_code == 201, response.text


def test_a_name_given_twice_in_one_object_is_refused_not_last_one_wins(
    anonymous: TestClient, demo: Records, recorder_key: str
) -> None:
    before = stored(demo)
    body = json.dumps(STATISTIC)[:-1] + ', "value": "9.9E9"}'
    response = anonymous.post(
        STATISTICS,
        content=body.encode(),
        headers={**bearer(recorder_key), "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"field": "value", "message": "is given more than once in one object; give it once"}
    ]
    assert stored(demo) == before


# --- parameters no record holds: 4xx, never 500 ----------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/commissions/%00", 404, None),
        (f"/commissions/{COMMISSION}/sessions/%00", 404, None),
        ("/sources/a%00b", 404, None),
        ("/commissions?party=%00", 422, "party"),
        ("/declarations?title=%00", 422, "title"),
        ("/trade-position?parties=AZ,RU&measure=%00", 422, "measure"),
        (f"/commissions/{COMMISSION}/timeline?from=2024%00", 422, "from"),
    ],
)
def test_nul_in_a_path_or_a_parameter_is_a_refusal_not_a_server_error(
    anonymous: TestClient, recorder_key: str, path: str, status: int, field: str | None
) -> None:
    response = anonymous.get(path, headers=bearer(recorder_key))
    assert response.status_code == status, response.text
    if field is not None:
        assert [e["field"] for e in response.json()["errors"]] == [field]


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("/commissions", cursor_of([1])),
        ("/commissions", cursor_of(["commissions", tag("commissions"), 1])),
        ("/commissions", cursor_of(["commissions", tag("commissions"), "a\x00b"])),
        ("/commissions", cursor_of(FORGED_LINE)),
        ("/commissions", encode_cursor("history", [5])),  # another route's
        ("/commissions", encode_cursor("commissions", ["a"], ["AZ"])),  # other filters'
        ("/declarations", cursor_of(["declarations", tag("declarations", None), "2024-13-45", ""])),
        ("/declarations", cursor_of(["declarations", tag("declarations", None), "x", ""])),
        (
            f"/commissions/{COMMISSION}/timeline",
            cursor_of(["timeline", tag("timeline", COMMISSION, None, None), 1, 2, 3, 4]),
        ),
        (
            f"/commissions/{COMMISSION}/sessions",
            cursor_of(
                [
                    "sessions",
                    tag("sessions", COMMISSION, None),
                    "2024-01-01",
                    "2024-01-01",
                    2**40,
                    "",
                ]
            ),
        ),
        (
            f"/commissions/{COMMISSION}/history",
            cursor_of(["history", tag("history", COMMISSION), 2**70]),
        ),
        (
            f"/commissions/{COMMISSION}/history",
            cursor_of(["history", tag("history", COMMISSION), True]),
        ),
        ("/commissions", "A" * 5_000),
    ],
)
def test_a_forged_cursor_is_refused_as_one(
    anonymous: TestClient, recorder_key: str, path: str, cursor: str
) -> None:
    response = anonymous.get(path, params={"cursor": cursor}, headers=bearer(recorder_key))
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "/problems/invalid-cursor"


@pytest.mark.parametrize("as_of", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_an_as_of_beyond_the_calendar_in_utc_is_refused(
    anonymous: TestClient, recorder_key: str, as_of: str
) -> None:
    for path in ("/trade-position?parties=AZ,RU", f"/commissions/{COMMISSION}/timeline"):
        response = anonymous.get(path, params={"as_of": as_of}, headers=bearer(recorder_key))
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "as_of"


# --- failures: answered 500, logged once on one line --------------------------------------


def test_an_unexpected_failure_is_a_500_logged_once_on_one_line(
    anonymous: TestClient,
    recorder_key: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*_: Any) -> Any:
        raise RuntimeError(FORGED_LINE)

    monkeypatch.setattr(ReadModels, "commission", broken)
    with caplog.at_level(logging.INFO):
        response = anonymous.get(f"/commissions/{COMMISSION}", headers=bearer(recorder_key))

    assert response.status_code == 500
    assert response.json()["type"] == "/problems/internal"
    assert "Traceback" not in response.text
    assert FORGED_LINE not in response.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    for formatter in (OneLineFormatter(), JsonFormatter()):
        line = formatter.format(errors[0])
        assert "\n" not in line
        assert "RuntimeError" in line
        assert "test_hostile.py" in line  # where it was raised
    assert "x\\nINFO:" in OneLineFormatter().format(errors[0])


def test_one_line_escapes_every_control_character() -> None:
    assert one_line("a\nb\rc\td\x1b[31me\x00f\u2028g\x85h") == (
        "a\\nb\\rc\\td\\x1b[31me\\x00f\\u2028g\\x85h"
    )


# --- a real server: slow clients, headers, logs ---------------------------------------------


class Served:
    def __init__(self, base: str, port: int, process: subprocess.Popen[str]) -> None:
        self.base, self.port, self.process = base, port, process

    def get(self, path: str, key: str = "", timeout: float = 10) -> tuple[int, dict[str, str]]:
        request = urllib.request.Request(
            self.base + path, headers={"Authorization": f"Bearer {key}"} if key else {}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers)


def serve(database_url: str, *arguments: str, **settings: str) -> Served:
    """``diprec serve`` in a process of its own, with these settings (``DIPREC_…``)."""
    env = {f"DIPREC_{name.upper()}": value for name, value in settings.items()}
    process, port = serve_apart(database_url, *arguments, env=env)
    return Served(f"http://127.0.0.1:{port}", port, process)


@pytest.fixture
def serving(database_url: str, demo: Records) -> Iterator[Callable[..., Served]]:
    """Serves as ``serve`` does; every service started is stopped at the end."""
    started: list[Served] = []

    def start(*arguments: str, **settings: str) -> Served:
        started.append(serve(database_url, *arguments, **settings))
        return started[-1]

    yield start
    for service in started:
        if service.process.poll() is None:
            service.process.terminate()
            service.process.communicate(timeout=30)


@pytest.fixture
def served(serving: Callable[..., Served]) -> Served:
    """A service with a request timeout of one second and at most 40 connections."""
    return serving(request_timeout_seconds="1", max_connections="40")


def is_open(connection: socket.socket) -> bool:
    connection.settimeout(0.01)
    try:
        return connection.recv(1) != b""
    except TimeoutError:
        return True
    except OSError:
        return False


def test_clients_that_send_half_a_request_are_dropped(served: Served, recorder_key: str) -> None:
    half_headers = []
    for _ in range(30):
        connection = socket.create_connection(("127.0.0.1", served.port))
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        half_headers.append(connection)
    silent = [socket.create_connection(("127.0.0.1", served.port)) for _ in range(5)]
    stalled_body = socket.create_connection(("127.0.0.1", served.port))
    stalled_body.sendall(
        b"POST /sources HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + recorder_key.encode() + b"\r\n"
        b'Content-Length: 1000\r\n\r\n{"id": '
    )
    deadline = time.monotonic() + 15
    while any(is_open(c) for c in half_headers + silent) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(is_open(c) for c in half_headers + silent), "slow clients were kept"
    stalled_body.settimeout(10)
    answer = stalled_body.recv(12)
    for connection in [*half_headers, *silent, stalled_body]:
        connection.close()
    assert answer == b"HTTP/1.1 408"
    assert served.get("/health")[0] == 200


def test_the_server_does_not_name_itself_and_logs_on_single_lines(
    served: Served, recorder_key: str
) -> None:
    status, headers = served.get("/health")
    assert status == 200
    assert "server" not in {name.lower() for name in headers}
    forged = urllib.parse.quote(cursor_of(FORGED_LINE))
    assert served.get(f"/commissions?cursor={forged}", recorder_key)[0] == 422
    served.process.terminate()
    _, log = served.process.communicate(timeout=30)
    assert "GET /admin" not in log
    assert all(not line.startswith("INFO: ") for line in log.splitlines()), log


def test_reads_waiting_for_a_position_hold_no_thread_and_are_bounded(
    serving: Callable[..., Served], demo: Records, recorder_key: str
) -> None:
    # No projections: the read models stay behind, and every read with min_position waits.
    served = serving("--no-projections", read_wait_seconds="6", max_waiting_reads="150")
    request = urllib.request.Request(
        served.base + STATISTICS,
        data=json.dumps(STATISTIC).encode(),
        headers={**bearer(recorder_key), "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as written:
        position = json.load(written)["position"]
    path = f"/commissions/{COMMISSION}/timeline?min_position={position}"
    answers: list[str] = []

    def read() -> None:
        try:
            with urllib.request.urlopen(
                urllib.request.Request(served.base + path, headers=bearer(recorder_key)),
                timeout=30,
            ):
                answers.append("answered")
        except urllib.error.HTTPError as error:
            answers.append(json.load(error)["type"])

    readers = [threading.Thread(target=read) for _ in range(200)]
    for reader in readers:
        reader.start()
    time.sleep(1)
    # While 150 reads wait for 6 s (and 50 were turned away), routes that need a worker
    # thread are answered, long before the waits end: no wait holds one.
    assert served.get("/health", timeout=3)[0] == 200
    # (Asked for the read models as they are: a read waiting for the writes before it would
    # wait too, no projection bringing them.)
    eventual = f"/commissions/{COMMISSION}?consistency=eventual"
    assert served.get(eventual, recorder_key, timeout=3)[0] == 200
    for reader in readers:
        reader.join()
    assert sorted(answers) == ["/problems/not-ready"] * 150 + ["/problems/too-many-waiting"] * 50


def test_reads_beyond_the_waiting_bound_are_turned_away_at_once(
    anonymous: TestClient, demo: Records, recorder_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(anonymous.app.state.waits, "most", 0)  # type: ignore[attr-defined]
    timeline = f"/commissions/{COMMISSION}/timeline?min_position="
    # A wait already over, by positions known without asking the database, takes no room:
    # once a read (here one that waits for nothing) has learnt them.
    eventual = anonymous.get("/commissions?consistency=eventual", headers=bearer(recorder_key))
    assert eventual.status_code == 200
    caught_up = anonymous.get(f"{timeline}{stored(demo)}", headers=bearer(recorder_key))
    assert caught_up.status_code == 200
    assert anonymous.get("/commissions", headers=bearer(recorder_key)).status_code == 200
    # No runner projects this one: a read waiting for it needs room, and there is none.
    demo.register_source(id="one-more", title="t", publisher="p", language="en", recorded_by="t")
    refused = anonymous.get(f"{timeline}{stored(demo)}", headers=bearer(recorder_key))
    assert refused.status_code == 503
    assert refused.json()["type"] == "/problems/too-many-waiting"
    assert refused.headers["Retry-After"] == "1"


def test_ready_shows_positions_to_admins_only(anonymous: TestClient, projector: Projector) -> None:
    keys = ApiKeys(projector.store.pool)
    _, admin = keys.create("ready-admin", "admin")
    _, reader = keys.create("ready-reader", "reader")

    for headers in ({}, bearer(reader)):
        plain = anonymous.get("/ready", headers=headers)
        assert plain.status_code == 200
        assert plain.json() == {"status": "ready", "database": "reachable"}
    detailed = anonymous.get("/ready", headers=bearer(admin)).json()
    assert detailed["log_position"] > 0
    assert set(detailed["read_models"]) >= {"commissions", "statistics"}
    assert (
        anonymous.get("/ready", headers=bearer("dpr_" + "0" * 12 + "_" + "x" * 43)).status_code
        == 401
    )


def test_a_read_that_queries_too_long_is_cut_off_with_503(
    demo: Records, projector: Projector, recorder_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow(self: ReadModels, *_: Any) -> Any:
        with self._reading("commissions") as (db, _schemas, _position):
            db.execute("SELECT pg_sleep(30)")

    monkeypatch.setattr(ReadModels, "commission", slow)
    with TestClient(create_app(Settings(query_timeout_seconds=0.2), demo, projector)) as client:
        response = client.get(f"/commissions/{COMMISSION}", headers=bearer(recorder_key))
    assert response.status_code == 503
    assert response.json()["type"] == "/problems/query-timeout"
    assert response.headers["Retry-After"]


def test_a_client_refused_too_often_is_answered_late_and_others_are_not(
    demo: Records, projector: Projector, recorder_key: str
) -> None:
    settings = Settings(refusals_per_second=2)  # a budget of ten refusals
    with TestClient(create_app(settings, demo, projector)) as client:
        bad = {**STATISTIC, "value": "0E-16384"}
        for _ in range(10):
            assert (
                client.post(STATISTICS, json=bad, headers=bearer(recorder_key)).status_code == 422
            )
        started = time.monotonic()
        late = client.post(STATISTICS, json=bad, headers=bearer(recorder_key))
        assert late.status_code == 422
        assert time.monotonic() - started >= 0.9
        # Answered requests cost nothing, and a client without a key has a budget of its own.
        assert (
            client.get(f"/commissions/{COMMISSION}", headers=bearer(recorder_key)).status_code
            == 200
        )
        started = time.monotonic()
        assert client.get(f"/commissions/{COMMISSION}").status_code == 401
        assert time.monotonic() - started < 0.9
