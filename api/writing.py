"""How every write is carried out and answered: recorded by the group commit (see
api/commits.py), then 201, the resource, Location and ETag, and Idempotency-Key honoured (see
api/idempotency.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, cast

import psycopg
from eventsourcing import persistence
from fastapi import Depends, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from api.commits import GroupCommit
from api.dependencies import IfMatch, etag, expected_version, principal_of
from api.idempotency import MAX_KEY_LENGTH, Claim, find_claim, request_hash
from api.problems import InvalidQueryError
from api.views import evidence_check
from domain.application import Command, ConflictError, Recorded, Records, StaleVersionError
from domain.errors import FieldProblem, InvalidCommandError

R = TypeVar("R", bound=Recorded[Any])
V = TypeVar("V")


@dataclass
class Writer:
    """Runs one write for one request, through the service's group commit."""

    commits: GroupCommit
    recorded_by: str
    expected_version: int | None
    claim: Claim | None
    response: Response
    pool: ConnectionPool[psycopg.Connection[Any]]

    @property
    def records(self) -> Records:
        """The record the group commit writes to; commands call its methods."""
        return self.commits.records

    async def record(self, command: Callable[[], R], render: Callable[[R], tuple[V, str]]) -> V:
        """Records ``command`` (run by the writer thread) and answers with ``render``'s
        resource at its location."""
        if self.claim is None:
            return self._answer(cast(R, await self.commits.record(Command(command))), render)
        earlier = await run_in_threadpool(self._earlier)
        if earlier is not None:
            return self._answer(earlier, render)  # type: ignore[arg-type]
        try:
            recorded = await self.commits.record(Command(command, self.claim.recorder_kwargs))
        except (ConflictError, StaleVersionError, persistence.OperationalError):
            # A concurrent request with the same key may have won: answer as it did. (Its
            # claim's unique key can also abort the recorder's pipeline, which psycopg
            # reports as an operational error.)
            earlier = await run_in_threadpool(self._earlier)
            if earlier is None:
                raise
            return self._answer(earlier, render)  # type: ignore[arg-type]
        return self._answer(cast(R, recorded), render)

    def _answer(self, recorded: R, render: Callable[[R], tuple[V, str]]) -> V:
        # Each quote's status in the answer, as the record checks it now.
        token = evidence_check.set(self.records.check_evidence)
        try:
            view, location = render(recorded)
        finally:
            evidence_check.reset(token)
        self.response.status_code = 201
        self.response.headers["Location"] = location
        self.response.headers["ETag"] = etag(recorded.version)
        return view

    def _earlier(self) -> Recorded[Any] | None:
        assert self.claim is not None
        with self.pool.connection() as connection, connection.cursor() as cursor:
            stored = find_claim(cursor, self.claim.principal, self.claim.key)
            if stored is None:
                return None
            if stored.request_hash != self.claim.request_hash:
                raise InvalidCommandError(
                    [
                        FieldProblem(
                            "Idempotency-Key",
                            "was used with a different request; use a new key for a new request",
                        )
                    ]
                )
            cursor.execute(
                "SELECT max(notification_id) FROM diprec_events "
                "WHERE (originator_id, originator_version) IN "
                "(SELECT (s ->> 0)::uuid, (s ->> 1)::bigint FROM jsonb_array_elements(%s) s)",
                (Jsonb([[str(i), v] for i, v in stored.streams]),),
            )
            row = cursor.fetchone()
        position = int(row[0]) if row and row[0] is not None else 0
        return self.records.recorded_earlier(stored.streams, position)


async def get_writer(
    request: Request,
    response: Response,
    if_match: IfMatch = None,
    idempotency_key: Annotated[
        str | None,
        Header(
            description="Any unique string (a UUID, say): a retry with the same key and body "
            "gets the first response again, and the fact is recorded once."
        ),
    ] = None,
) -> Writer:
    # The app's state and the principal are read here, not declared as dependencies of their
    # own: each dependency solved costs every write its time.
    principal = principal_of(request)
    expected = expected_version(if_match)
    claim = None
    if idempotency_key is not None:
        key = idempotency_key.strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            raise InvalidQueryError(
                "Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} printable characters"
            )
        body = await request.body()
        # Scoped by the key's id, not its name: another key's retry is another request.
        claimant = principal.key_id or principal.name
        claim = Claim(claimant, key, request_hash(request.method, request.url.path, body))
    return Writer(
        commits=request.app.state.commits,
        recorded_by=principal.name,
        expected_version=expected,
        claim=claim,
        response=response,
        pool=request.app.state.read_models.store.pool,
    )


WriterDep = Annotated[Writer, Depends(get_writer)]
