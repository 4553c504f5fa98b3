"""The ``diprec`` command line, run as a user runs it: one process per command."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from api.database import Database
from bench.load import children
from tests.conftest import empty_tables
from tests.integration.cli import RunCli, serve_apart


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@pytest.mark.parametrize("command", ["serve", "demo", "events"])
def test_every_command_explains_itself(run_cli: RunCli, command: str) -> None:
    result = run_cli(command, "--help")
    assert "Usage" in result.stdout


def test_demo_loads_once_and_events_export_the_log_in_order(
    run_cli: RunCli, database_url: str
) -> None:
    env = {"DATABASE_URL": database_url}
    first = run_cli("demo", env=env)
    second = run_cli("demo", env=env)
    exported = run_cli("events", env=env)

    assert "facts added" in first.stdout
    assert "nothing added" in second.stdout
    events = [json.loads(line) for line in exported.stdout.splitlines()]
    positions = [event["position"] for event in events]
    assert positions == sorted(positions)
    assert events[0]["type"] == "SourceRegistered"
    assert {event["type"] for event in events} >= {
        "CommissionEstablished",
        "CoChairAppointed",
        "SessionConvened",
        "DeclarationReferenced",
        "StatisticReported",
        "ProtocolSigned",
    }
    assert all(event["recorded_by"] == "diprec-demo" for event in events)

    tail = run_cli("events", "--after", str(positions[-2]), env=env)
    assert [json.loads(line)["position"] for line in tail.stdout.splitlines()] == positions[-1:]


def test_an_exported_log_imports_from_a_file_or_standard_input_once(
    run_cli: RunCli, database: Database, database_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url}
    run_cli("demo", env=env)
    exported = run_cli("events", env=env).stdout
    log = tmp_path / "record.ndjson"
    log.write_text(exported, encoding="utf-8")
    empty_tables(database)

    imported = run_cli("import", str(log), env=env)
    again = run_cli("import", "-", env=env, stdin=exported, expect=1)

    count = len(exported.splitlines())
    assert imported.stdout.startswith(f"imported {count} events;")
    assert run_cli("events", env=env).stdout == exported
    assert again.stderr.startswith("diprec: import refused, nothing stored: line 1: stream ")
    assert "Traceback" not in again.stderr


def test_an_unreachable_database_is_one_line_and_an_error_exit(run_cli: RunCli) -> None:
    result = run_cli("demo", env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}, expect=1)
    assert result.stderr.startswith("diprec: cannot reach PostgreSQL at 127.0.0.1:1/none")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("DIPREC_PORT", "eighty", "DIPREC_PORT"),
        ("DATABASE_URL", "mysql://db", "DATABASE_URL"),
        ("DIPREC_ENVIRONMENT", "staging", "DIPREC_ENVIRONMENT"),
    ],
)
def test_bad_configuration_is_named_in_one_line(
    run_cli: RunCli, variable: str, value: str, named: str
) -> None:
    result = run_cli("events", env={variable: value}, expect=2)
    assert result.stderr.startswith(f"diprec: bad configuration: {named}:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_port_in_use_is_one_line_and_an_error_exit(run_cli: RunCli, database_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port), env={"DATABASE_URL": database_url}, expect=1)
    assert result.stderr.strip() == (
        f"diprec: port {port} on 127.0.0.1 is in use; choose another with --port"
    )


def start_serving(
    database_url: str, *arguments: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    """``diprec serve`` in a process of its own, once it answers /health."""
    server, port = serve_apart(
        database_url,
        *arguments,
        env={"DIPREC_ANONYMOUS_READS": "true", **(env or {})},
        stdout=subprocess.PIPE,
    )
    return server, f"http://127.0.0.1:{port}"


def gone_within(pids: set[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alive = set()
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    if stat.read().split(") ", 1)[1][0] != "Z":
                        alive.add(pid)
            except FileNotFoundError:
                pass
        if not alive:
            return True
        time.sleep(0.1)
    return False


def test_serve_with_demo_answers_and_stops_cleanly(database_url: str, tmp_path: Path) -> None:
    server, base = start_serving(database_url, "--demo", env={"DIPREC_DATA_DIR": str(tmp_path)})
    try:
        # The read models include the demo record before the service first answers.
        session = get_json(f"{base}/commissions/az-ru-economic/sessions/22")
        assert session["status"] == "convened"
        assert len(session["statistics"]) == 9
        workers = set(children(server.pid))
        assert workers, "no projection worker was started"
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    assert server.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert gone_within(workers, 5), "the projection worker outlived the service"


def demo_keys_printed(database_url: str, data_dir: Path) -> dict[str, str]:
    server, _ = start_serving(database_url, "--demo", env={"DIPREC_DATA_DIR": str(data_dir)})
    server.send_signal(signal.SIGTERM)
    _, stderr = server.communicate(timeout=30)
    return dict(re.findall(r"export (DIPREC_\w*KEY)=(dpr_\S+)", stderr))


def test_serve_demo_prints_the_same_recorder_and_reader_keys_at_every_start(
    database_url: str, tmp_path: Path, run_cli: RunCli
) -> None:
    first = demo_keys_printed(database_url, tmp_path)
    again = demo_keys_printed(database_url, tmp_path)

    assert set(first) == {"DIPREC_KEY", "DIPREC_READER_KEY"}
    assert again == first
    assert oct((tmp_path / "demo-keys.json").stat().st_mode & 0o777) == "0o600"
    listed = run_cli("keys", "list", env={"DATABASE_URL": database_url}).stdout
    assert sorted(line.split()[-1] for line in listed.splitlines()[1:]) == ["demo", "demo-reader"]
    # Kept keys that no longer open the database are renewed, not added to.
    (tmp_path / "demo-keys.json").write_text("{}")
    renewed = demo_keys_printed(database_url, tmp_path)
    assert renewed["DIPREC_KEY"] != first["DIPREC_KEY"]
    listed = run_cli("keys", "list", env={"DATABASE_URL": database_url}).stdout
    assert len(listed.splitlines()) == 1 + 2  # the header, the two keys


def projection_workers(pid: int) -> set[int]:
    """The service's projection workers, among its children (the resource tracker is not)."""
    found = set()
    for child in children(pid):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as command:
                if b"spawn_main" in command.read():
                    found.add(child)
        except FileNotFoundError:
            pass
    return found


def test_a_killed_projection_worker_is_replaced_and_carries_on(
    run_cli: RunCli, database_url: str
) -> None:
    server, base = start_serving(database_url)
    try:
        (first,) = projection_workers(server.pid)
        try:
            os.kill(first, signal.SIGKILL)
        except ProcessLookupError:
            server.send_signal(signal.SIGTERM)
            pytest.fail(f"the worker exited before it was killed:\n{server.communicate()[1]}")
        deadline = time.monotonic() + 30
        while not (projection_workers(server.pid) - {first}):
            assert time.monotonic() < deadline, "no worker replaced the killed one"
            time.sleep(0.1)

        # Facts recorded now reach the read models through the new worker.
        run_cli("demo", env={"DATABASE_URL": database_url})
        while True:
            try:
                session = get_json(f"{base}/commissions/az-ru-economic/sessions/22")
                if len(session["statistics"]) == 9:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the read models did not catch up"
            time.sleep(0.1)
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    assert server.returncode == 0, stderr
    assert "the projection worker exited (code -9); starting another" in stderr


def test_the_projection_worker_stops_when_the_service_is_killed(database_url: str) -> None:
    server, _ = start_serving(database_url)
    try:
        workers = set(children(server.pid))
        assert workers
        server.kill()
        server.wait()
        assert gone_within(workers, 10), "the projection worker outlived a killed service"
    finally:
        if server.poll() is None:
            server.kill()
        server.communicate()
