"""Idempotency-Key: a retried POST is answered again, and its fact recorded once.

The claim of a key is written by the event store's recorder in the same transaction as the
events of the write (and of the writes recorded with it), into ``diprec_idempotency``. A write
and its claim are stored together or not at all, across crashes and restarts; two concurrent
requests with one key cannot both commit, and the loser answers with the winner's response.
The response is not stored: it is rendered again from the aggregates as they stood right after
the write (their version is in the claim), so it is the first response, byte for byte the same
resource.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

TABLE = "diprec_idempotency"
MAX_KEY_LENGTH = 200

CREATE_TABLE = SQL(
    "CREATE TABLE IF NOT EXISTS {table} ("
    " principal text NOT NULL, key text NOT NULL, request_hash text NOT NULL,"
    " streams jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (principal, key))"
).format(table=Identifier(TABLE))


@dataclass(frozen=True, slots=True)
class Claim:
    """A request's claim of an idempotency key, and what its write stored."""

    principal: str
    key: str
    request_hash: str
    streams: tuple[tuple[UUID, int], ...] = ()

    def recorder_kwargs(self, written: list[tuple[UUID, int]]) -> dict[str, tuple[Claim, ...]]:
        """What the recorder writes with the events: this claim, naming what they wrote."""
        return {"claims": (Claim(self.principal, self.key, self.request_hash, tuple(written)),)}


def request_hash(method: str, path: str, body: bytes) -> str:
    """The fingerprint of a request: same method, path and JSON body, however formatted."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = body.decode("utf-8", "replace")
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


INSERT_CLAIM = SQL(
    "INSERT INTO {} (principal, key, request_hash, streams) VALUES (%s, %s, %s, %s)"
).format(Identifier(TABLE))


def composed_once(statement: Composed) -> Composed:
    """The statement as one literal piece: psycopg composes a statement of identifiers again
    on every execute (≈5 % of the writer thread's time, for the statements of a write)."""
    return Composed([SQL(statement.as_string())])


class IdempotentRecorder(PostgresApplicationRecorder):
    """The library's Postgres recorder, writing idempotency claims with the events (one per
    write; several when writes are recorded together). The statements of every write are
    composed once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sql_create_statements.append(CREATE_TABLE)
        self.max_notification_id_statement = composed_once(self.max_notification_id_statement)
        self.lock_table_statements = [
            composed_once(statement) if isinstance(statement, Composed) else statement
            for statement in self.lock_table_statements
        ]
        self._notify = composed_once(SQL("NOTIFY {}").format(Identifier(self.channel_name)))
        self._insert_claim = composed_once(INSERT_CLAIM)
        self._insert_columns = composed_once(
            SQL(
                "INSERT INTO {}.{} (originator_id, originator_version, topic, state) "
                "SELECT * FROM unnest(%b::{}[], %b::bigint[], %b::text[], %b::bytea[]) "
                "RETURNING notification_id"
            ).format(
                Identifier(self.datastore.schema),
                Identifier(self.events_table_name),
                Identifier(self.datastore.originator_id_type),
            )
        )

    def _notify_channel(self, curs: Cursor[DictRow]) -> None:
        curs.execute(self._notify)

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **_: Any
    ) -> None:
        """As the library's: under the table lock, with a notification, returning the events'
        positions; but its rows are sent as four binary arrays, one per column, instead of one
        array of a composite type, which psycopg writes as escaped text (a fifth of a group
        commit's time)."""
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self._insert_columns,
            (
                [event.originator_id for event in stored_events],
                [event.originator_version for event in stored_events],
                [event.topic for event in stored_events],
                [event.state for event in stored_events],
            ),
            prepare=True,
        )

    def _insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Any,
        *,
        claims: Sequence[Claim] = (),
        **kwargs: Any,
    ) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        if claims:
            curs.executemany(
                self._insert_claim,
                [
                    (
                        claim.principal,
                        claim.key,
                        claim.request_hash,
                        json.dumps([[str(stream), version] for stream, version in claim.streams]),
                    )
                    for claim in claims
                ],
            )


def find_claim(cursor: Cursor[Any], principal: str, key: str) -> Claim | None:
    cursor.execute(
        SQL("SELECT request_hash, streams FROM {} WHERE principal = %s AND key = %s").format(
            Identifier(TABLE)
        ),
        (principal, key),
    )
    row = cursor.fetchone()
    if row is None:
        return None
    request, streams = row[0], row[1]
    return Claim(
        principal, key, request, tuple((UUID(stream), int(version)) for stream, version in streams)
    )
