"""Running the ``diprec`` command as a user would: a separate process, or a service serving."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO, Protocol

ROOT = Path(__file__).resolve().parents[2]


class RunCli(Protocol):
    def __call__(
        self, *args: str, env: dict[str, str] | None = None, expect: int = 0, stdin: str = ""
    ) -> subprocess.CompletedProcess[str]: ...


def run_diprec(
    *args: str,
    env: dict[str, str] | None = None,
    expect: int = 0,
    stdin: str = "",
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **(env or {})}
    environment = {k: v for k, v in environment.items() if v != ""}
    result = subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", *args],
        cwd=ROOT,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == expect, (result.returncode, result.stdout, result.stderr)
    return result


SERVE = (sys.executable, "-c", "from api.cli import main; main()", "serve")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_apart(
    database_url: str,
    *arguments: str,
    env: dict[str, str] | None = None,
    stdout: int | IO[str] | None = subprocess.DEVNULL,
) -> tuple[subprocess.Popen[str], int]:
    """``diprec serve`` on ``database_url`` in a process of its own, once it answers /health:
    the process (its standard error a pipe) and the port it serves on."""
    port = free_port()
    process = subprocess.Popen(
        [*SERVE, "--port", str(port), *arguments],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, **(env or {})},
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
                if answer.status == 200:
                    return process, port
        except OSError:
            pass
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the service did not come up"
        time.sleep(0.1)
