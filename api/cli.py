"""The ``diprec`` command line: serve the API, load the demo record, export the log.

Every failure a user can cause or meet (bad configuration, a database that cannot be reached,
a port in use) ends with one line on standard error and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import errno
import gc
import logging
import multiprocessing
import multiprocessing.process
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError

from api.database import Database, DatabaseUnavailableError, open_database
from api.security import ApiKeyError, ApiKeys
from api.settings import Settings
from projections.runner import CannotApplyError, Projector, RebuildInProgressError

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


@contextmanager
def service(db: Database, settings: Settings, *, projections: bool) -> Iterator[Projector]:
    """The application service and the projector; with ``projections``, a runner keeping the
    read models up to date in a background thread. Everything is closed on exit."""
    from projections.runner import ProjectionRunner

    records = db.open_records()
    store = db.read_model_store()
    projector = Projector(records, store, batch_size=settings.projection_batch_size)
    runner = ProjectionRunner(projector, db.conninfo, settings.projection_poll_seconds)
    try:
        if projections:
            runner.start()
        else:
            projector.prepare()
        yield projector
    finally:
        runner.stop()
        store.close_pool()
        records.close()


def _project_apart(conninfo: str, settings: Settings, parent: int) -> None:
    """The projection worker ``serve`` starts: runs until told to stop or its parent dies."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops it on Ctrl-C
    db = Database(
        conninfo=conninfo,
        description="projections",
        pool_size=2,
        connect_timeout=settings.connect_timeout,
    )
    with service(db, settings, projections=True):
        while not stop.wait(1.0):
            if os.getppid() != parent:
                return


@contextmanager
def projection_worker(db: Database, settings: Settings) -> Iterator[None]:
    """The read models kept up to date by a process of their own, so applying the log never
    waits for the API's requests to let go of the interpreter (nor they for it). A worker
    that dies (killed, out of memory) is replaced within a second; the models' positions make
    the new one carry on exactly where the old one committed."""
    context = multiprocessing.get_context("spawn")
    stopping = threading.Event()

    def start() -> multiprocessing.process.BaseProcess:
        worker = context.Process(
            target=_project_apart, args=(db.conninfo, settings, os.getpid()), name="diprec-project"
        )
        worker.start()
        return worker

    workers = [start()]

    def supervise() -> None:
        while not stopping.wait(1.0):
            if not workers[-1].is_alive() and not stopping.is_set():
                logging.getLogger("diprec.projections").warning(
                    "the projection worker exited (code %s); starting another",
                    workers[-1].exitcode,
                )
                workers.append(start())

    supervisor = threading.Thread(target=supervise, name="projection-worker", daemon=True)
    supervisor.start()
    try:
        yield
    finally:
        stopping.set()
        supervisor.join()
        worker = workers[-1]
        worker.terminate()  # SIGTERM: the worker stops its runner and closes its connections
        worker.join(timeout=15)
        if worker.is_alive():
            worker.kill()
            worker.join()


# Allocations between collections of the youngest generation while serving (Python's default
# is 700): see collect_garbage_rarely.
SERVING_GC_THRESHOLD = 50_000


def collect_garbage_rarely() -> None:
    """Tunes Python's cyclic garbage collector for serving.

    A request allocates thousands of short-lived objects (few of them in cycles, which
    reference counting frees at once anyway), so at the default thresholds the collector ran
    every few requests, and now and then walked every object the process holds, answers
    cached included: the slowest hundredth of cached reads took 70 ms instead of 30. Objects
    made while starting up are frozen (never walked again), and the collector runs only
    after SERVING_GC_THRESHOLD allocations.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(SERVING_GC_THRESHOLD, 20, 20)


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Load the demo record first.")] = False,
    projections: Annotated[
        bool,
        typer.Option(
            "--projections/--no-projections",
            help="Keep the read models up to date from a worker process of the service's own "
            "(off when `diprec project` runs them).",
        ),
    ] = True,
) -> None:
    """Serve the HTTP API (on an embedded PostgreSQL unless DATABASE_URL is set)."""
    from api import server
    from api.app import create_app
    from api.demo import load_demo

    settings = load_settings(host=host, port=port)
    run(lambda: check_port_free(settings.host, settings.port))
    with (
        database(settings) as db,
        service(db, settings, projections=False) as projector,
        projection_worker(db, settings) if projections else nullcontext(),
    ):
        if demo:
            loaded = load_demo(projector.records)
            typer.echo(f"demo record: {len(loaded.added)} facts added", err=True)
            print_demo_keys(ApiKeys(projector.store.pool), settings.data_dir)
            if projections:  # the first answers include the demo record
                run(lambda: _wait_for_read_models(projector, loaded.position or 0))
        typer.echo(
            f"diprec: serving http://{settings.host}:{settings.port} (docs at /docs) "
            f"on {db.description}",
            err=True,
        )
        collect_garbage_rarely()
        # uvicorn re-raises SIGTERM once it has shut down; exit through this handler so the
        # `finally` blocks stop the projections, close the pools and stop the embedded server.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        server.run(create_app(settings, projector.records, projector), settings)


def _wait_for_read_models(projector: Projector, position: int, seconds: float = 60) -> None:
    from projections.queries import ReadModels, ReadModelsNotReadyError, ReadModelStalledError

    try:
        ReadModels(projector.store).wait_for(position, seconds)
    except ReadModelStalledError as error:
        # One read model stopped: the service serves the others, and says so at /ready.
        typer.echo(f"diprec: {error}", err=True)
    except ReadModelsNotReadyError as error:
        raise CommandError(f"the read models did not load the demo record: {error}") from None


@cli.command()
def project() -> None:
    """Run the projections as a worker, apart from the API (serve with --no-projections)."""
    settings = load_settings()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with database(settings) as db, service(db, settings, projections=True) as projector:
        typer.echo(
            f"diprec: projecting {', '.join(projector.models)} on {db.description}", err=True
        )
        stop.wait()


@cli.command()
def rebuild(
    name: Annotated[
        str | None, typer.Argument(help="The read model to rebuild; all when left out.")
    ] = None,
) -> None:
    """Rebuild read models from the log beside the live ones, then switch to them."""
    settings = load_settings()
    with database(settings) as db, service(db, settings, projections=False) as projector:
        names = [name] if name else list(projector.models)
        unknown = [n for n in names if n not in projector.models]
        if unknown:
            fail(f"no read model {unknown[0]!r}; known: {', '.join(projector.models)}", code=2)
        started = time.monotonic()
        try:
            generations = projector.rebuild_all(names)
        except RebuildInProgressError as error:
            fail(f"read model {error} is being rebuilt by another process; try later")
        except CannotApplyError as failure:
            fail(f"rebuild failed: {failure}; its live generation is left as it was")
        elapsed = time.monotonic() - started
        for generation in generations:
            typer.echo(
                f"rebuilt {generation.name}: generation {generation.generation} at position "
                f"{generation.position}"
            )
        typer.echo(f"in {elapsed:.1f} s")


@cli.command(name="import")
def import_(
    path: Annotated[
        str, typer.Argument(help="NDJSON file written by `diprec events`; - for standard input.")
    ],
) -> None:
    """Append an exported log to the event store, in order; a conflict stores nothing."""
    from api.importer import ImportRefusedError, import_log

    settings = load_settings()
    with database(settings) as db:
        records = db.open_records()
        try:
            if path == "-":
                imported = import_log(db, records, sys.stdin.buffer)
            else:
                try:
                    with open(path, "rb") as lines:
                        imported = import_log(db, records, lines)
                except OSError as error:
                    fail(f"cannot read {path}: {error.strerror}")
        except ImportRefusedError as error:
            fail(f"import refused, nothing stored: {error}")
        finally:
            records.close()
    typer.echo(
        f"imported {imported.events} events; the log ends at position {imported.last_position}"
    )


keys_cli = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")


@contextmanager
def api_keys(settings: Settings) -> Iterator[ApiKeys]:
    from psycopg_pool import ConnectionPool

    with database(settings) as db:
        pool: ConnectionPool[Any] = ConnectionPool(db.conninfo, min_size=1, max_size=2)
        try:
            yield ApiKeys(pool)
        finally:
            pool.close()


@keys_cli.command("create")
def create_key(
    name: Annotated[str, typer.Argument(help="Who the key is for; recorded as recorded_by.")],
    role: Annotated[
        str, typer.Option(help="reader (GET), recorder (and POST facts) or admin (everything).")
    ] = "recorder",
) -> None:
    """Create a key and print it, once: only its hash is kept."""
    with api_keys(load_settings()) as keys:
        try:
            key_id, key = keys.create(name, role)
        except ApiKeyError as error:
            fail(str(error), code=2)
    typer.echo(f"key {key_id} for {name} ({role}); keep it, it is not shown again:")
    typer.echo(key)


@keys_cli.command("list")
def list_keys() -> None:
    """List keys, oldest first: id, role, when created and last used, state, name (never
    their secrets). Times are UTC; a running service writes last uses out every 10 s."""
    with api_keys(load_settings()) as keys:
        found = keys.list()
    typer.echo(_key_row("ID", "ROLE", "CREATED", "LAST USED", "STATE", "NAME"))
    for info in found:
        state = f"revoked {_minute(info.revoked_at)}" if info.revoked_at else "active"
        last_used = _minute(info.last_used_at) if info.last_used_at else "never"
        typer.echo(
            _key_row(info.id, info.role, _minute(info.created_at), last_used, state, info.name)
        )


def _key_row(*cells: str) -> str:
    key_id, role, created, last_used, state, name = cells
    return f"{key_id:<12}  {role:<8}  {created:<16}  {last_used:<16}  {state:<24}  {name}"


def _minute(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M}"


@keys_cli.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key's id, from keys list.")],
) -> None:
    """Revoke a key: it is refused from the next request on."""
    with api_keys(load_settings()) as keys:
        try:
            keys.revoke(key_id)
        except ApiKeyError as error:
            fail(str(error))
    typer.echo(f"key {key_id} revoked")


def print_demo_keys(keys: ApiKeys, data_dir: Path) -> None:
    from api.demo_keys import FILE, demo_keys

    found = demo_keys(keys, data_dir)
    typer.echo(
        f"demo keys (the same at every start; kept in {data_dir / FILE}):\n"
        f"  export DIPREC_KEY={found['recorder']}         # recorder: reads and records facts\n"
        f"  export DIPREC_READER_KEY={found['reader']}  # reader: reads only",
        err=True,
    )


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
