"""Fixtures of the HTTP tests: the AZ–RU record set up through the API, a watch on the event
store that proves a refused request stored nothing, and a check of every answer for leaks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from api.database import Database
from domain.application import Records
from projections.runner import ProjectionRunner, Projector
from tests.http.helpers import Record, assert_no_leak, set_up_record


class Store:
    """The event store under the service, watched for writes."""

    def __init__(self, records: Records) -> None:
        self.records = records

    def position(self) -> int:
        return self.records.recorder.max_notification_id() or 0

    @contextmanager
    def unchanged(self) -> Iterator[None]:
        """Fails unless nothing at all is stored within the block."""
        before = self.position()
        yield
        assert self.position() == before, "a refused request stored events"


def _read_and_check(response: Response) -> None:
    response.read()
    assert_no_leak(response)


@pytest.fixture(autouse=True)
def _answers_never_leak(client: TestClient) -> None:
    """No answer of any test carries a stack trace, SQL, a driver's name or a file path."""
    client.event_hooks = {"request": [], "response": [_read_and_check]}


@pytest.fixture
def runner(database: Database, projector: Projector) -> Iterator[ProjectionRunner]:
    """The projection runner of tests/conftest.py, polling faster: it stops only between two
    polls, and these tests stop one after every test."""
    runner = ProjectionRunner(projector, database.conninfo, poll_interval=0.02)
    runner.start()
    yield runner
    runner.stop()


@pytest.fixture
def store(pg_records: Records) -> Store:
    return Store(pg_records)


@pytest.fixture
def record(client: TestClient) -> Record:
    """A source with text, one without, the AZ–RU commission and its convened 22nd session."""
    return set_up_record(client)


@pytest.fixture
def server(client: TestClient) -> Iterator[TestClient]:
    """The same service, answering an unexpected error with its 500 instead of raising it in
    the test: for concurrent requests, and for the bugs that end in a 500."""
    lenient = TestClient(client.app, raise_server_exceptions=False)
    lenient.headers["Authorization"] = client.headers["Authorization"]
    lenient.event_hooks = {"request": [], "response": [_read_and_check]}
    yield lenient
    lenient.close()
