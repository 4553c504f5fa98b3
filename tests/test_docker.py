"""The Docker files: no engine runs here, so check what can be checked without one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer.core
import typer.main
import yaml

from api.cli import cli

DOCKER = Path(__file__).resolve().parents[1] / "docker"


def compose() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    return parsed


def test_compose_runs_postgres_with_a_healthcheck_and_the_service_after_it() -> None:
    services = compose()["services"]
    assert services["postgres"]["healthcheck"]["test"]
    assert services["diprec"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["diprec"]["environment"]["DATABASE_URL"].startswith("postgresql://")


def test_compose_holds_no_secret_and_prints_no_demo_key_in_a_restarting_service() -> None:
    text = (DOCKER / "compose.yaml").read_text()
    services = compose()["services"]
    password = services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert password.startswith("${DIPREC_DB_PASSWORD:?"), password
    assert "${DIPREC_DB_PASSWORD" in services["diprec"]["environment"]["DATABASE_URL"]
    assert "diprec:diprec@" not in text
    for service in services.values():
        if "restart" in service:
            assert "--demo" not in service.get("command", []), service
    assert services["demo"]["command"] == ["diprec", "demo"]
    assert "restart" not in services["demo"]


def test_every_command_compose_and_the_dockerfile_run_exists_in_the_cli() -> None:
    group = typer.main.get_command(cli)
    assert isinstance(group, typer.core.TyperGroup)
    commands = [
        service["command"] for service in compose()["services"].values() if "command" in service
    ]
    dockerfile = (DOCKER / "Dockerfile").read_text()
    commands.append(["diprec", "serve"])
    assert 'CMD ["diprec", "serve"]' in dockerfile
    for command in commands:
        program, name, *args = command
        assert program == "diprec"
        assert name in group.commands, name
        # Parsing the arguments refuses unknown options, as the CLI would.
        group.commands[name].make_context(name, list(args))


def test_the_dockerfile_copies_every_package_the_distribution_ships() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    for package in ("domain", "projections", "api"):
        assert f"COPY {package} ./{package}" in dockerfile
