"""Fixtures shared by the suite: a real PostgreSQL for integration and HTTP tests.

The server is, in order of preference: ``DATABASE_URL``; the PostgreSQL on 127.0.0.1:5432;
else an embedded one started for the test run. Each run creates its own database and drops it
at the end; each test starts from empty tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from api.app import create_app
from api.database import Database, open_database
from api.security import ApiKeys
from api.settings import Settings
from domain.application import Records
from projections.runner import ProjectionRunner, Projector
from tests.integration.cli import RunCli, run_diprec

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A connection string to a PostgreSQL server with rights to create databases."""
    for url in (os.environ.get("DATABASE_URL"), LOCAL_SERVER):
        if url and _reachable(url):
            yield url
            return
    settings = Settings(data_dir=tmp_path_factory.mktemp("embedded"), database_url=None)
    with open_database(settings) as database:
        yield make_conninfo(database.conninfo, dbname="postgres")


@pytest.fixture(scope="session")
def postgres(postgres_server: str) -> Iterator[Database]:
    """A database of this test run, with the event store's schema."""
    name = f"diprec_test_{os.getpid()}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    database = Database(conninfo=make_conninfo(postgres_server, dbname=name), description=name)
    database.create_schema()
    yield database
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_tables(database: Database) -> None:
    with database.connect(autocommit=True) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        ]
        if tables:
            names = ", ".join(f'"{table}"' for table in tables)
            connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture
def database(postgres: Database) -> Database:
    """The test run's database, emptied for this test."""
    empty_tables(postgres)
    return postgres


@pytest.fixture
def pg_records(database: Database) -> Iterator[Records]:
    """The application service on real PostgreSQL, on empty tables."""
    records = database.open_records()
    yield records
    records.close()


@pytest.fixture
def projector(database: Database, pg_records: Records) -> Iterator[Projector]:
    """Read models on the test database, with no runner: tests call ``catch_up()``."""
    store = database.read_model_store()
    projector = Projector(pg_records, store, batch_size=100)
    projector.prepare()
    yield projector
    store.close_pool()


@pytest.fixture
def runner(database: Database, projector: Projector) -> Iterator[ProjectionRunner]:
    """The projection runner, as ``diprec serve`` runs it, polling fast."""
    runner = ProjectionRunner(projector, database.conninfo, poll_interval=0.2)
    runner.start()
    yield runner
    runner.stop()


@pytest.fixture
def client(
    pg_records: Records, projector: Projector, runner: ProjectionRunner
) -> Iterator[TestClient]:
    """An HTTP client of the service running on real PostgreSQL, its read models kept up to
    date by a runner, sending an admin key as "tester"; reads after a write pass
    ``min_position`` to see it."""
    with TestClient(create_app(Settings(), pg_records, projector)) as test_client:
        _, key = ApiKeys(projector.store.pool).create("tester", "admin")
        test_client.headers["Authorization"] = f"Bearer {key}"
        yield test_client


@pytest.fixture
def seed_article() -> str:
    """The news article the demo record comes from, read from ../shared."""
    path = SHARED / "seeds" / "000_5e1003d8bba8c414.txt"
    return path.read_text(encoding="utf-8")


@pytest.fixture
def run_cli() -> RunCli:
    """Runs ``diprec`` in a subprocess and checks its exit code."""
    return run_diprec


@pytest.fixture
def database_url(database: Database) -> str:
    """The test run's database as a ``DATABASE_URL``, for the command line."""
    params = conninfo_to_dict(database.conninfo)
    user = quote(str(params.get("user") or "postgres"))
    host = str(params.get("host") or "localhost")
    name = quote(str(params["dbname"]))
    if host.startswith("/"):
        return f"postgresql://{user}@/{name}?host={quote(host)}"
    return f"postgresql://{user}@{host}:{params.get('port') or 5432}/{name}"
