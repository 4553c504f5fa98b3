"""The hand-rolled peer: what a team without event sourcing would write for ``POST statistic``.

A thin FastAPI app that validates a statistic with pydantic (the same fields and literal types
as diprec's ``ReportStatistic``, strict, unknown fields refused) and inserts one row with
psycopg from a ``psycopg_pool`` pool, ``synchronous_commit`` on, in a sync handler that runs in
the threadpool as diprec's do. It is served like diprec: uvicorn, one worker. Its rate and
latency under the same load are anchor 2 of BENCHMARKS.md for B1.

The scratch table (``bench_peer_statistics_<port>`` when served by ``peer_server``) is created
when the app starts and dropped when it stops.

    python -m bench.peer --serve --port 8100 --conninfo URL --pool-size 10   (serve it)
    python -m bench.peer                      (start one, post one statistic, print the answer)
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from fastapi import FastAPI
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool
from pydantic import BaseModel, ConfigDict, Field

from bench.machine import default_conninfo
from domain.values import Measure, Qualifier, ValueKind

DEFAULT_TABLE = "bench_peer_statistics"
_SCRATCH_NAME = re.compile(r"^bench_[a-z0-9_]+$")


class PeerEvidence(BaseModel):
    """One piece of evidence: a source id and a verbatim quote from it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    source: str
    quote: str


class PeerStatistic(BaseModel):
    """A statistic as diprec's ``POST …/statistics`` takes it, checked for shape only."""

    model_config = ConfigDict(extra="forbid", strict=True)

    measure: Measure
    value_kind: ValueKind
    value: str
    unit: str
    qualifier: Qualifier
    reporter: str | None = None
    partner: str | None = None
    period: str | None = None
    stated_by: str | None = None
    remarks: str | None = None
    evidence: list[PeerEvidence] = Field(min_length=1)


class PeerCreated(BaseModel):
    """The answer to a stored statistic: its row id."""

    id: int


class PeerHealth(BaseModel):
    """The answer of ``GET /health``."""

    status: str


def sample_statistic(index: int) -> dict[str, Any]:
    """A valid statistic body, varying with ``index`` (about 300 bytes of JSON)."""
    return {
        "measure": "trade_turnover",
        "value_kind": "level",
        "value": f"{1_000_000 + index}E3",
        "unit": "USD",
        "qualifier": "approximately",
        "reporter": "AZ",
        "partner": "TR",
        "period": "2023",
        "evidence": [
            {
                "source": "bench-source",
                "quote": f"Trade turnover reached about {1_000 + index} million dollars in 2023.",
            }
        ],
    }


def _check_table(table: str) -> str:
    if not _SCRATCH_NAME.match(table) or len(table) > 50:
        msg = f"not a scratch table name: {table!r}"
        raise ValueError(msg)
    return table


def _create_table(conninfo: str, table: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {table}")
        connection.execute(
            f"CREATE TABLE {table} (id bigserial PRIMARY KEY, measure text NOT NULL, "
            "value_kind text NOT NULL, value text NOT NULL, unit text NOT NULL, "
            "qualifier text NOT NULL, reporter text, partner text, period text, "
            "stated_by text, remarks text, evidence jsonb NOT NULL, "
            "recorded_at timestamptz NOT NULL DEFAULT now())"
        )


def drop_table(conninfo: str, table: str) -> None:
    """Drops the peer's scratch table if it is there."""
    _check_table(table)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {table}")


def create_peer_app(conninfo: str, pool_size: int, *, table: str = DEFAULT_TABLE) -> FastAPI:
    """The peer app; its pool opens and its table is created fresh when it starts, and both
    go when it stops. ``POST /statistics`` → 201 ``{"id": n}``; ``GET /health`` → 200."""
    _check_table(table)
    pool = ConnectionPool(
        conninfo,
        min_size=pool_size,
        max_size=pool_size,
        kwargs={"options": "-c synchronous_commit=on"},
        open=False,
    )
    insert = (
        f"INSERT INTO {table} (measure, value_kind, value, unit, qualifier, reporter, partner, "
        "period, stated_by, remarks, evidence) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        _create_table(conninfo, table)
        pool.open(wait=True, timeout=30)
        try:
            yield
        finally:
            pool.close()
            drop_table(conninfo, table)

    app = FastAPI(title="bench peer", lifespan=lifespan)

    @app.post("/statistics", status_code=201)
    def post_statistic(body: PeerStatistic) -> PeerCreated:
        evidence = Jsonb([item.model_dump() for item in body.evidence])
        with pool.connection() as connection:
            row = connection.execute(
                insert,
                (
                    body.measure,
                    body.value_kind,
                    body.value,
                    body.unit,
                    body.qualifier,
                    body.reporter,
                    body.partner,
                    body.period,
                    body.stated_by,
                    body.remarks,
                    evidence,
                ),
            ).fetchone()
        if row is None:  # INSERT … RETURNING always returns the row
            msg = "the insert returned no row"
            raise RuntimeError(msg)
        return PeerCreated(id=row[0])

    @app.get("/health")
    def health() -> PeerHealth:
        return PeerHealth(status="ok")

    return app


@dataclass(frozen=True, slots=True)
class PeerServer:
    """A running peer: where to reach it and its process (for memory_peak)."""

    base_url: str
    pid: int
    table: str


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/health")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


@contextmanager
def peer_server(
    conninfo: str, port: int, pool_size: int, *, startup_seconds: float = 30
) -> Iterator[PeerServer]:
    """Runs the peer under uvicorn (one worker, log level warning) in a subprocess on
    127.0.0.1:``port``, waits for ``/health``, and stops it on exit (SIGTERM, then SIGKILL
    after 15 s); its table ``bench_peer_statistics_<port>`` is dropped either way."""
    table = _check_table(f"{DEFAULT_TABLE}_{port}")
    command = [
        sys.executable,
        "-m",
        "bench.peer",
        "--serve",
        "--port",
        str(port),
        "--conninfo",
        conninfo,
        "--pool-size",
        str(pool_size),
        "--table",
        table,
    ]
    process = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + startup_seconds
        while not _healthy(port):
            if process.poll() is not None:
                msg = f"the peer exited with {process.returncode} before answering /health"
                raise RuntimeError(msg)
            if time.monotonic() > deadline:
                msg = f"the peer did not answer /health within {startup_seconds} s"
                raise RuntimeError(msg)
            time.sleep(0.1)
        yield PeerServer(base_url=f"http://127.0.0.1:{port}", pid=process.pid, table=table)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        drop_table(conninfo, table)


def serve(conninfo: str, port: int, pool_size: int, table: str) -> None:
    """Serves the peer in this process until SIGTERM or SIGINT."""
    import uvicorn

    uvicorn.run(
        create_peer_app(conninfo, pool_size, table=table),
        host="127.0.0.1",
        port=port,
        workers=1,
        log_level="warning",
    )


def main(argv: list[str] | None = None) -> None:
    """Serves the peer (``--serve``), or starts one, posts one statistic and prints the answer."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.peer",
        description="The hand-rolled peer of BENCHMARKS.md: FastAPI + pydantic + one psycopg "
        "INSERT per POST /statistics. Without --serve: start one, post one statistic, print "
        "the answer, stop it.",
    )
    parser.add_argument("--serve", action="store_true", help="Serve in this process.")
    parser.add_argument("--port", type=int, default=0, help="Port on 127.0.0.1 (0: any free).")
    parser.add_argument("--conninfo", default=default_conninfo(), help="PostgreSQL to use.")
    parser.add_argument("--pool-size", type=int, default=10, help="Database connections.")
    parser.add_argument("--table", default=DEFAULT_TABLE, help="Scratch table (bench_*).")
    args = parser.parse_args(argv)
    port = args.port or free_port()
    if args.serve:
        serve(args.conninfo, port, args.pool_size, args.table)
        return
    with peer_server(args.conninfo, port, args.pool_size) as server:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request(
            "POST",
            "/statistics",
            json.dumps(sample_statistic(0)).encode(),
            {"Content-Type": "application/json"},
        )
        answer = connection.getresponse()
        print(f"peer at {server.base_url} (pid {server.pid}, table {server.table})")
        print(f"POST /statistics → {answer.status} {answer.read().decode()}")
        connection.close()


if __name__ == "__main__":
    main()
