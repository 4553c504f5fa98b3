"""Running the ``diprec`` command as a user would: a separate process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Protocol

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
