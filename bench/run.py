"""B1–B8 of BENCHMARKS.md, each beside its anchor measured in the same run, as one table.

    python -m bench.run                          the full size: 1M events, 20 s loads
    python -m bench.run --events 20000 --seconds 5
    python -m bench.run --markdown bench/RESULTS.md

It creates a scratch database ``diprec_bench`` on the server of ``--database-url`` (default:
``BENCH_DATABASE_URL``, ``DATABASE_URL`` or the local PostgreSQL), generates a realistic log
(``bench.generate``), imports it (B2), rebuilds every read model (B3), serves it and loads the
service (B4, B6, B7), reads it beside writes (B8), writes through it (B1, B5), and drops the
database. Figures are never edited by hand: the table is what this command printed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from api.database import Database
from api.importer import import_log
from api.security import ApiKeys
from bench.anchors import Anchors, copy_rows, measure_anchors
from bench.generate import Manifest, generate
from bench.load import (
    JSON_HEADERS,
    CpuMeter,
    CpuUse,
    LoadResult,
    Reply,
    Request,
    memory_peak,
    run_load,
)
from bench.machine import default_conninfo
from bench.peer import free_port, peer_server
from projections.runner import Projector

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = "diprec_bench"
CONCURRENCY = 16
# Write loads (ours and the peer's alike) run this share of their time first, unmeasured:
# steady-state rates, not the first touch of each connection and aggregate.
WARM_UP = 0.25
BENCH_SOURCE = "bench-readout"


@dataclass(frozen=True)
class Figure:
    """One row of the table: our figure beside its anchor."""

    id: str
    what: str
    ours: float
    unit: str
    anchor: float | None
    anchor_what: str
    goal: str
    met: bool | None
    detail: str = ""

    @property
    def ratio(self) -> float | None:
        if self.anchor is None or self.anchor == 0:
            return None
        return self.ours / self.anchor


def _url(conninfo: str) -> str:
    params = conninfo_to_dict(conninfo)
    user = quote(str(params.get("user") or "postgres"))
    host = str(params.get("host") or "localhost")
    name = quote(str(params.get("dbname") or "postgres"))
    if host.startswith("/"):
        return f"postgresql://{user}@/{name}?host={quote(host)}"
    return f"postgresql://{user}@{host}:{params.get('port') or 5432}/{name}"


@contextmanager
def scratch_database(server: str, name: str = SCRATCH) -> Iterator[Database]:
    """A database of its own for the run, dropped at the end."""
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    database = Database(conninfo=make_conninfo(server, dbname=name), description=name)
    database.create_schema()
    try:
        yield database
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass
class Service:
    base: str
    pid: int


@contextmanager
def service(database: Database, *, projections: bool = True) -> Iterator[Service]:
    """``diprec serve`` on the scratch database, as a user runs it (log level warning, like the
    peer)."""
    port = free_port()
    command = [sys.executable, "-c", "from api.cli import main; main()", "serve"]
    command += ["--port", str(port)] + ([] if projections else ["--no-projections"])
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": _url(database.conninfo), "DIPREC_LOG_LEVEL": "warning"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                result = run_load(base, lambda _: Request("GET", "/health"), 1, 1, max_requests=1)
                if result.statuses.get(200):
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                msg = "the service did not start"
                raise RuntimeError(msg)
            time.sleep(0.2)
        yield Service(base, process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def _get(path: str, key: str) -> Callable[[int], Request]:
    request = Request("GET", path, None, {"Authorization": f"Bearer {key}"})
    return lambda _: request


def wait_until_caught_up(database: Database, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    with psycopg.connect(database.conninfo, autocommit=True) as connection:
        while True:
            row = connection.execute(
                "SELECT (SELECT coalesce(max(notification_id), 0) FROM diprec_events) "
                "- coalesce(min(position), 0) FROM rm_state WHERE status = 'live'"
            ).fetchone()
            if row is not None and row[0] == 0:
                return
            if time.monotonic() > deadline:
                msg = "the read models did not catch up"
                raise RuntimeError(msg)
            time.sleep(0.05)


def write_requests(manifest: Manifest, key: str) -> Callable[[int], Request]:
    """POSTs of a statistic, spread over the sample sessions so writers rarely collide."""
    sessions = manifest.sample_sessions
    headers = {**JSON_HEADERS, "Authorization": f"Bearer {key}"}
    pairs = dict(manifest.commissions)

    def build(index: int) -> Request:
        commission, session = sessions[index % len(sessions)]
        reporter, partner = pairs[commission]
        body = {
            "measure": "exports",
            "value_kind": "level",
            "value": str(1000 + index),
            "unit": "USD",
            "qualifier": "approximately",
            "reporter": reporter,
            "partner": partner,
            "period": "2023",
            "evidence": [{"source": BENCH_SOURCE, "quote": "figures reported at the session"}],
        }
        return Request(
            "POST",
            f"/commissions/{commission}/sessions/{session}/statistics",
            json.dumps(body).encode(),
            headers,
        )

    return build


def freshness(
    database: Database, base: str, build: Callable[[int], Request], seconds: float, rate: float
) -> list[float]:
    """Milliseconds from each write's 201 until every read model includes its position,
    watched by polling ``rm_state`` every millisecond."""
    accepted: list[tuple[int, float]] = []
    lock = threading.Lock()

    def on_reply(reply: Reply) -> None:
        if reply.status == 201:
            with lock:
                accepted.append((int(json.loads(reply.body)["position"]), reply.answered_at))

    seen: list[float] = []
    done = threading.Event()

    def watch() -> None:
        with psycopg.connect(database.conninfo, autocommit=True) as connection:
            while not done.is_set() or accepted:
                row = connection.execute(
                    "SELECT min(position) FROM rm_state WHERE status = 'live'"
                ).fetchone()
                now = time.perf_counter()
                position = int(row[0]) if row and row[0] is not None else 0
                with lock:
                    visible = [item for item in accepted if item[0] <= position]
                    for item in visible:
                        accepted.remove(item)
                        seen.append((now - item[1]) * 1000)
                time.sleep(0.001)

    watcher = threading.Thread(target=watch)
    watcher.start()
    run_load(base, build, CONCURRENCY, seconds, rate=rate, on_reply=on_reply)
    deadline = time.monotonic() + 60
    while accepted and time.monotonic() < deadline:
        time.sleep(0.01)
    done.set()
    watcher.join()
    return sorted(seen)


def reads_beside_writes(
    base: str,
    path: str,
    key: str,
    writes: Callable[[int], Request],
    seconds: float,
    rate: float,
) -> dict[tuple[str, bool], LoadResult]:
    """B8: ``path`` read by 16 clients with ``consistency`` strong (the default) and eventual,
    each alone and while ``rate`` writes/s (open loop) run beside; by (consistency, writing)."""
    results: dict[tuple[str, bool], LoadResult] = {}
    separator = "&" if "?" in path else "?"
    for writing in (False, True):
        for consistency in ("strong", "eventual"):
            reads = _get(f"{path}{separator}consistency={consistency}", key)
            if not writing:
                results[consistency, writing] = run_load(base, reads, CONCURRENCY, seconds)
                continue
            # The writes start first and end after the reads, so every read runs beside them.
            lead = max(0.2, seconds * WARM_UP)
            writer = threading.Thread(
                target=run_load,
                args=(base, writes, CONCURRENCY, seconds + 2 * lead),
                kwargs={"rate": rate},
            )
            writer.start()
            time.sleep(lead)
            results[consistency, writing] = run_load(base, reads, CONCURRENCY, seconds)
            writer.join()
    return results


def cpu_per_write(load: LoadResult, used: CpuUse) -> str:
    """Each write's CPU: the server's, its worker's, PostgreSQL's and the load generator's."""
    generator = load.client_cpu * load.seconds / max(load.count, 1)
    return f"{used.per_request(load.count)}, load generator {1000 * generator:.2f} ms"


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, round(fraction * len(values)) - 1))]


def run(server: str, events: int, seconds: float, anchor_seconds: float) -> tuple[Any, ...]:
    figures: list[Figure] = []
    anchors: Anchors = measure_anchors(server, anchor_seconds, min(events, 200_000))
    copy_same = copy_rows(server, events)
    with tempfile.TemporaryDirectory() as folder, scratch_database(server) as database:
        log = Path(folder) / "record.ndjson"
        started = time.perf_counter()
        manifest = generate(log, events=events)
        generated = time.perf_counter() - started

        records = database.open_records()
        started = time.perf_counter()
        with log.open("rb") as lines:
            imported = import_log(database, records, lines)
        import_seconds = time.perf_counter() - started
        b2 = imported.events / import_seconds
        figures.append(
            Figure(
                "B2",
                "bulk import (diprec import)",
                b2,
                "events/s",
                copy_same.per_second,
                "COPY of the same rows",
                "≥ 0.5× COPY",
                b2 >= 0.5 * copy_same.per_second,
                f"{imported.events:,} events in {import_seconds:.1f} s",
            )
        )

        store = database.read_model_store()
        projector = Projector(records, store)
        projector.prepare()
        started = time.perf_counter()
        projector.rebuild_all(list(projector.models))
        rebuild_seconds = time.perf_counter() - started
        b3 = imported.events / rebuild_seconds
        figures.append(
            Figure(
                "B3",
                "full rebuild of every read model",
                b3,
                "events/s",
                None,
                "",
                "≥ 30k/s",
                b3 >= 30_000,
                f"{imported.events:,} events in {rebuild_seconds:.1f} s",
            )
        )
        _, key = ApiKeys(store.pool).create("bench", "admin")
        store.close_pool()
        records.close()

        with service(database) as ours:
            hot = manifest.hot_commission
            pair = ",".join(dict(manifest.commissions)[hot])
            health = run_load(ours.base, _get("/health", key), CONCURRENCY, seconds)
            timeline = run_load(
                ours.base, _get(f"/commissions/{hot}/timeline", key), CONCURRENCY, seconds
            )
            trade = run_load(
                ours.base, _get(f"/trade-position?parties={pair}", key), CONCURRENCY, seconds
            )
            as_of = manifest.as_of_samples[len(manifest.as_of_samples) // 2]
            b6 = run_load(
                ours.base,
                _get(f"/commissions/{hot}/timeline?as_of={quote(as_of)}", key),
                CONCURRENCY,
                seconds,
            )
            rss = memory_peak(ours.pid)
            for label, result in (("timeline", timeline), ("trade-position", trade)):
                figures.append(
                    Figure(
                        "B4",
                        f"GET {label} at {events:,} events",
                        result.per_second,
                        "req/s",
                        health.per_second,
                        "/health of the same server",
                        "p99 ≤ 20 ms; ≥ 0.5× /health",
                        result.p99_ms <= 20 and result.per_second >= 0.5 * health.per_second,
                        f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
                        f"statuses {result.statuses}; /health p50 {health.p50_ms:.1f} ms, "
                        f"p99 {health.p99_ms:.1f} ms",
                    )
                )
            figures.append(
                Figure(
                    "B6",
                    "as_of timeline, hot commission",
                    b6.p99_ms,
                    "ms p99",
                    None,
                    "",
                    "p99 ≤ 50 ms",
                    b6.p99_ms <= 50,
                    f"{b6.per_second:,.0f} req/s, p50 {b6.p50_ms:.1f} ms, statuses {b6.statuses}",
                )
            )
            figures.append(
                Figure(
                    "B7",
                    "API server peak RSS during B4",
                    rss / 2**20,
                    "MiB",
                    None,
                    "",
                    "≤ 250 MB",
                    rss <= 250 * 10**6,
                    "VmHWM of the serve process",
                )
            )

            source = {
                "id": BENCH_SOURCE,
                "title": "Readout used by the write benchmarks",
                "publisher": "bench",
                "language": "en",
            }
            headers = {**JSON_HEADERS, "Authorization": f"Bearer {key}"}
            registered = run_load(
                ours.base,
                lambda _: Request("POST", "/sources", json.dumps(source).encode(), headers),
                1,
                5,
                max_requests=1,
            )
            assert registered.statuses.get(201) == 1, registered.statuses
            build = write_requests(manifest, key)
            run_load(ours.base, lambda i: build(2 * 10**7 + i), CONCURRENCY, seconds * WARM_UP)
            meter = CpuMeter(ours.pid, database.conninfo)
            b1 = run_load(ours.base, build, CONCURRENCY, seconds)
            b1_cpu = meter.used()
            seen = freshness(database, ours.base, lambda i: build(10**7 + i), seconds, 200.0)
            # Last: its writes grow the sessions B1 and B5 write to.
            for label, path in (
                ("timeline", f"/commissions/{hot}/timeline"),
                ("trade-position", f"/trade-position?parties={pair}"),
            ):
                b8 = reads_beside_writes(
                    ours.base, path, key, lambda i: build(3 * 10**7 + i), seconds, 200.0
                )
                strong, eventual = b8["strong", True], b8["eventual", True]
                figures.append(
                    Figure(
                        "B8",
                        f"GET {label} (strong, the default) beside 200 writes/s",
                        strong.p99_ms,
                        "ms p99",
                        eventual.p99_ms,
                        "consistency=eventual beside the same writes",
                        "p99 ≤ 1.5× eventual's",
                        strong.p99_ms <= 1.5 * eventual.p99_ms,
                        "; ".join(
                            f"{consistency}{' with writes' if writing else ', no writes'} "
                            f"{result.per_second:,.0f} req/s, p50 {result.p50_ms:.1f} ms, "
                            f"p99 {result.p99_ms:.1f} ms {result.statuses}"
                            for (consistency, writing), result in b8.items()
                        ),
                    )
                )
        with peer_server(server, free_port(), 10) as peer:
            from bench.load import statistic_requests

            run_load(peer.base_url, statistic_requests(), CONCURRENCY, seconds * WARM_UP)
            meter = CpuMeter(peer.pid, server)
            baseline = run_load(peer.base_url, statistic_requests(), CONCURRENCY, seconds)
            baseline_cpu = meter.used()
        figures.insert(
            0,
            Figure(
                "B1",
                "POST statistic through the API",
                b1.per_second,
                "req/s",
                baseline.per_second,
                "hand-rolled FastAPI + psycopg peer",
                "≥ 1.0× peer, p99 ≤ 50 ms",
                b1.per_second >= baseline.per_second and b1.p99_ms <= 50,
                f"ours p50 {b1.p50_ms:.1f} / p99 {b1.p99_ms:.1f} ms {b1.statuses}; "
                f"peer p50 {baseline.p50_ms:.1f} / p99 {baseline.p99_ms:.1f} ms; "
                f"CPU per write: ours {cpu_per_write(b1, b1_cpu)}; "
                f"peer {cpu_per_write(baseline, baseline_cpu)}",
            ),
        )
        figures.insert(
            5,
            Figure(
                "B5",
                "write accepted → visible in read models",
                percentile(seen, 0.99),
                "ms p99",
                None,
                "",
                "p99 ≤ 50 ms at 200 writes/s",
                percentile(seen, 0.99) <= 50,
                f"p50 {percentile(seen, 0.5):.1f} ms over {len(seen)} writes"
                + (f", mean {statistics.fmean(seen):.1f} ms" if seen else ""),
            ),
        )
    return anchors, figures, generated


def table(anchors: Anchors, figures: list[Figure], command: str, generated: float) -> str:
    lines = [
        f"Benchmarks, {date.today().isoformat()}: `{command}`",
        "",
        f"Machine: {anchors.machine.summary()}",
        "",
        "| id | figure | ours | anchor | ratio | goal | met | detail |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for figure in figures:
        anchor = (
            f"{figure.anchor:,.{0 if figure.anchor >= 100 else 1}f} ({figure.anchor_what})"
            if figure.anchor is not None
            else "—"
        )
        ratio = f"{figure.ratio:.2f}×" if figure.ratio is not None else "—"
        met = {True: "yes", False: "no", None: "—"}[figure.met]
        lines.append(
            f"| {figure.id} | {figure.what} | {figure.ours:,.1f} {figure.unit} | {anchor} | "
            f"{ratio} | {figure.goal} | {met} | {figure.detail} |"
        )
    lines += ["", "Anchors measured in the same run:", ""]
    lines += [f"    {rate.line()}" for rate in anchors.rates()]
    lines += ["", f"(generating the log took {generated:.1f} s)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--database-url", default=default_conninfo())
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--anchor-seconds", type=float, default=10.0)
    parser.add_argument("--markdown", type=Path, help="Also write the table to this file.")
    args = parser.parse_args(argv)
    anchors, figures, generated = run(
        args.database_url, args.events, args.seconds, args.anchor_seconds
    )
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    report = table(anchors, figures, command.strip(), generated)
    print(report)
    if args.markdown:
        args.markdown.write_text(report + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
