"""Idempotency-Key: a retried POST is answered again, and its fact recorded once.

The claim of a key is written by the event store's recorder (api/eventstore.py) in the same
transaction as the events of the write (and of the writes recorded with it), into
``diprec_idempotency``. A write
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

from psycopg import Cursor
from psycopg.sql import SQL, Identifier

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
    """A request's claim of an idempotency key, and what its write stored. ``principal`` is
    the id of the API key that sent it: keys never share claims, whatever their names."""

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


# A group's claims in one statement, as arrays: one round trip however many writes claim keys.
INSERT_CLAIMS = SQL(
    "INSERT INTO {} (principal, key, request_hash, streams) "
    "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::jsonb[])"
).format(Identifier(TABLE))


def claim_rows(claims: Sequence[Claim]) -> tuple[list[str], list[str], list[str], list[str]]:
    """The claims as INSERT_CLAIMS's four column arrays."""
    return (
        [claim.principal for claim in claims],
        [claim.key for claim in claims],
        [claim.request_hash for claim in claims],
        [
            json.dumps([[str(stream), version] for stream, version in claim.streams])
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
