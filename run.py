#!/usr/bin/env python3
"""The two commands of the quick start; needs nothing but Python 3.11 or newer.

    python3 run.py serve   install into .venv, then serve the API holding the demo record
    python3 run.py test    install with the test tools, then run ruff, mypy and the tests

Each installs the project into ``.venv`` beside this file first (again only when
``pyproject.toml`` has changed). Arguments after the command go to ``diprec serve`` or to
pytest.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def say(message: str) -> None:
    print(f"run.py: {message}", flush=True)


def install(extra: str) -> None:
    """Creates .venv and installs the project (editable) with an extra, once per pyproject."""
    if sys.version_info < (3, 11):  # noqa: UP036 - run.py must speak to older Pythons too
        sys.exit("run.py: diprec needs Python 3.11 or newer")
    if not (BIN / "python").exists():
        say("creating .venv")
        venv.create(VENV, with_pip=True)
    fingerprint = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extra.encode())
    stamp = VENV / f".installed-{fingerprint.hexdigest()[:16]}"
    if stamp.exists():
        return
    say(f"installing diprec{f'[{extra}]' if extra else ''} into .venv")
    target = f".[{extra}]" if extra else "."
    step([str(BIN / "python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    step([str(BIN / "python"), "-m", "pip", "install", "--quiet", "--editable", target])
    for old in VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()


def step(command: list[str]) -> None:
    result = subprocess.run(command, cwd=ROOT, check=False)
    if result.returncode != 0:
        say(f"failed ({result.returncode}): {' '.join(command)}")
        sys.exit(result.returncode)


def serve(arguments: list[str]) -> None:
    install("")
    diprec = str(BIN / "diprec")
    os.execv(diprec, [diprec, "serve", "--demo", *arguments])


def test(arguments: list[str]) -> None:
    install("dev")
    tool = str(BIN / "python")
    say("ruff format --check")
    step([tool, "-m", "ruff", "format", "--check", "."])
    say("ruff check")
    step([tool, "-m", "ruff", "check", "."])
    say("mypy --strict")
    step([tool, "-m", "mypy"])
    say("pytest")
    step([tool, "-m", "pytest", *arguments])


def main() -> None:
    commands = {"serve": serve, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
