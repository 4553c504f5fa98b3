"""The ``diprec`` command line: serve the API, load the demo record, export the log.

Every failure a user can cause or meet (bad configuration, a database that cannot be reached,
a port in use) ends with one line on standard error and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import errno
import logging
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn, TypeVar

import typer
from pydantic import ValidationError

from api.database import Database, DatabaseUnavailableError, open_database
from api.settings import Settings

cli = typer.Typer(
    name="diprec",
    help="An event-sourced record of intergovernmental commissions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

T = TypeVar("T")


class CommandError(Exception):
    """A failure explained in one line for the user."""


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"diprec: {message}", err=True)
    raise typer.Exit(code)


def load_settings(**overrides: object) -> Settings:
    try:
        settings = Settings()
        given = {k: v for k, v in overrides.items() if v is not None}
        return Settings.model_validate({**settings.model_dump(), **given}) if given else settings
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"]) or "settings"
        variable = name if name.isupper() else f"DIPREC_{name.upper()}"
        fail(f"bad configuration: {variable}: {first['msg']}", code=2)


@contextmanager
def database(settings: Settings) -> Iterator[Database]:
    try:
        with open_database(settings) as opened:
            yield opened
    except DatabaseUnavailableError as error:
        fail(str(error))


def run(action: Callable[[], T]) -> T:
    """Runs a command, turning the failures a user meets into one line and an exit code."""
    try:
        return action()
    except CommandError as error:
        fail(str(error))


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                msg = f"port {port} on {host} is in use; choose another with --port"
            else:
                msg = f"cannot listen on {host}:{port}: {error.strerror}"
            raise CommandError(msg) from None


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Load the demo record first.")] = False,
) -> None:
    """Serve the HTTP API (on an embedded PostgreSQL unless DATABASE_URL is set)."""
    import uvicorn

    from api.app import create_app
    from api.demo import load_demo

    settings = load_settings(host=host, port=port)
    run(lambda: check_port_free(settings.host, settings.port))
    with database(settings) as db:
        records = db.open_records()
        try:
            if demo:
                loaded = load_demo(records)
                typer.echo(f"demo record: {len(loaded.added)} facts added", err=True)
            typer.echo(
                f"diprec: serving http://{settings.host}:{settings.port} (docs at /docs) "
                f"on {db.description}",
                err=True,
            )
            # uvicorn re-raises SIGTERM once it has shut down; exit through this handler so the
            # `finally` blocks close the pool and stop the embedded PostgreSQL.
            signal.signal(signal.SIGTERM, _exit_on_sigterm)
            uvicorn.run(
                create_app(settings, records),
                host=settings.host,
                port=settings.port,
                log_level=settings.log_level,
            )
        finally:
            records.close()


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


@cli.command()
def demo() -> None:
    """Load the demo record (the 22nd AZ–RU session); loading it twice adds nothing."""
    from api.demo import COMMISSION, SESSION, load_demo

    settings = load_settings()
    with database(settings) as db:
        records = db.open_records()
        try:
            loaded = load_demo(records)
        finally:
            records.close()
    if loaded.added:
        typer.echo(
            f"demo record loaded: {len(loaded.added)} facts added, up to log position "
            f"{loaded.position}; see /commissions/{COMMISSION}/sessions/{SESSION}"
        )
    else:
        typer.echo("demo record already loaded: nothing added")


@cli.command()
def events(
    after: Annotated[int, typer.Option(min=0, help="Export events after this position.")] = 0,
) -> None:
    """Export the log as NDJSON on standard output, in record order."""
    from api.eventlog import iter_events

    settings = load_settings()
    with database(settings) as db:
        records = db.open_records()
        try:
            out = sys.stdout
            for event in iter_events(records, after):
                out.write(event.model_dump_json())
                out.write("\n")
            out.flush()
        except BrokenPipeError:
            pass  # the reader (e.g. `head`) has had enough
        finally:
            records.close()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)
