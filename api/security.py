"""API keys, roles and who is asking.

A key is ``dpr_<id>_<secret>``: the id finds the key, the secret proves it. Only a SHA-256 of
the secret is stored (the secret is 256 random bits, so a fast hash is as safe as a slow one),
keys are never logged, and a revoked key is refused from the next request on.

Keys looked up are remembered only while the service is watching the keys table: a trigger
announces every change of it (``NOTIFY diprec_api_keys``), and the watcher forgets every
remembered key when one arrives, or when its connection fails, in which case each request
looks its key up again until the watcher listens once more. A revocation thus takes effect
from the moment it commits, however it was made (``diprec keys revoke`` or plain SQL).

A key's last use is kept to within ``USES_EVERY`` seconds: each request that a key
authenticates notes the time in memory, and the notes are written out together that often
(one ``UPDATE`` for all keys used), and once more as the service stops. The column written
is not one the trigger watches, so noting a use forgets no remembered key.

Roles: ``reader`` may GET; ``recorder`` may also POST facts; ``admin`` may do everything,
rebuilds included. The key's name is recorded as ``recorded_by`` on every event, so names are
unique (revoked keys keep theirs); idempotency claims belong to the key's id.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import psycopg
from fastapi.concurrency import run_in_threadpool
from psycopg_pool import ConnectionPool

from projections.watch import Watch

Role = Literal["reader", "recorder", "admin"]
ROLES: tuple[Role, ...] = ("reader", "recorder", "admin")
RANK: dict[str, int] = {"anonymous": 0, "reader": 1, "recorder": 2, "admin": 3}
TABLE = "diprec_api_keys"
CHANNEL = "diprec_api_keys"
WATCHER = "diprec-api-keys"  # the watcher's application_name, as pg_stat_activity shows it
NAME = re.compile(r"^[\w.@-]{1,64}\Z")
USES_EVERY = 10.0  # seconds between writing out the keys' last uses

CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id text PRIMARY KEY,
    name text NOT NULL,
    role text NOT NULL CHECK (role IN ('reader', 'recorder', 'admin')),
    secret_sha256 text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS last_used_at timestamptz;
-- A key's name is recorded as recorded_by, so it names one key only. Names taken twice
-- before that was enforced: each later key gets its id appended.
UPDATE {TABLE} k SET name = k.name || '-' || k.id
    WHERE EXISTS (SELECT 1 FROM {TABLE} o
                  WHERE o.name = k.name AND (o.created_at, o.id) < (k.created_at, k.id));
CREATE UNIQUE INDEX IF NOT EXISTS {TABLE}_name ON {TABLE} (name);
CREATE OR REPLACE FUNCTION {TABLE}_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', '');
    RETURN NULL;
END $$;
-- A change of what a key is or may do forgets remembered keys; noting its last use does not.
CREATE OR REPLACE TRIGGER {TABLE}_changed
    AFTER UPDATE OF id, name, role, secret_sha256, revoked_at OR DELETE OR TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_changed();
"""

_KEY = re.compile(r"^dpr_([0-9a-f]{12})_([A-Za-z0-9_-]{43})\Z")


class ApiKeyError(ValueError):
    """A key that cannot be created or revoked as asked."""


class NotAuthenticatedError(Exception):
    """No valid API key (401)."""


class NotAllowedError(Exception):
    """A valid key whose role is too low for the request (403)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is making a request: recorded as ``recorded_by``, allowed by ``role``."""

    name: str
    role: str
    key_id: str | None = None

    def may(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]


ANONYMOUS = Principal("anonymous", "anonymous")


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: str
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeys:
    """The operator's API keys, stored hashed in the database."""

    def __init__(self, pool: ConnectionPool[psycopg.Connection[Any]]) -> None:
        self.pool = pool
        self.watch = Watch(CHANNEL, WATCHER)
        self._lock = threading.Lock()
        self._known: dict[str, tuple[Principal, str]] = {}  # key id: principal, secret's digest
        self._known_at: int | None = None  # the watch's stamp the keys known were read under
        self._uses: dict[str, float] = {}  # key id: when it was last used, not yet written out
        self._writing_uses: threading.Thread | None = None
        self._stop_writing_uses = threading.Event()

    def _recall(self, key_id: str) -> tuple[tuple[Principal, str] | None, int | None]:
        """What is remembered of a key while it still holds, and the watch's stamp now."""
        stamp = self.watch.stamp()
        with self._lock:
            if stamp is None or stamp != self._known_at:
                self._known.clear()
                self._known_at = stamp
                return None, stamp
            return self._known.get(key_id), stamp

    def _remember(self, key_id: str, known: tuple[Principal, str], stamp: int | None) -> None:
        with self._lock:
            if stamp is not None and stamp == self._known_at == self.watch.stamp():
                self._known[key_id] = known

    def create_table(self) -> None:
        with self.pool.connection() as connection:
            connection.execute(CREATE_TABLE)

    def create(self, name: str, role: str) -> tuple[str, str]:
        """A new key: its id, and the key itself, which is shown this once and never again."""
        if not NAME.match(name):
            msg = f"{name!r} is not a key name: letters, digits, '.', '@', '_' or '-', up to 64"
            raise ApiKeyError(msg)
        if role not in ROLES:
            msg = f"{role!r} is not a role: {', '.join(ROLES)}"
            raise ApiKeyError(msg)
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        try:
            with self.pool.connection() as connection:
                connection.execute(
                    f"INSERT INTO {TABLE} (id, name, role, secret_sha256) VALUES (%s, %s, %s, %s)",
                    (key_id, name, role, _digest(secret)),
                )
        except psycopg.errors.UniqueViolation:
            msg = (
                f"a key named {name!r} exists already (revoked keys keep their names); a "
                "key's name is recorded as recorded_by, so each key needs a name of its own"
            )
            raise ApiKeyError(msg) from None
        return key_id, f"dpr_{key_id}_{secret}"

    def renew(self, name: str, role: str) -> tuple[str, str]:
        """The key named ``name`` with a new secret (the old one refused from now on), or a
        new key of that name and role if there is none; revoked, it stays revoked."""
        secret = secrets.token_urlsafe(32)
        with self.pool.connection() as connection:
            row = connection.execute(
                f"UPDATE {TABLE} SET secret_sha256 = %s WHERE name = %s AND revoked_at IS NULL "
                "RETURNING id",
                (_digest(secret), name),
            ).fetchone()
        if row is None:
            return self.create(name, role)
        return str(row[0]), f"dpr_{row[0]}_{secret}"

    def revoke(self, key_id: str) -> None:
        with self.pool.connection() as connection:
            row = connection.execute(
                f"UPDATE {TABLE} SET revoked_at = coalesce(revoked_at, now()) WHERE id = %s "
                "RETURNING id",
                (key_id,),
            ).fetchone()
        if row is None:
            msg = f"no key {key_id!r}"
            raise ApiKeyError(msg)

    def list(self) -> list[KeyInfo]:
        with self.pool.connection() as connection:
            rows = connection.execute(
                f"SELECT id, name, role, created_at, revoked_at, last_used_at FROM {TABLE} "
                "ORDER BY created_at, id"
            ).fetchall()
        return [KeyInfo(*row) for row in rows]

    def write_uses(self) -> int:
        """Writes out the last uses noted since the last call: how many keys' uses."""
        with self._lock:
            uses, self._uses = self._uses, {}
        if not uses:
            return 0
        try:
            with self.pool.connection() as connection:
                connection.execute(
                    f"UPDATE {TABLE} k SET last_used_at = greatest(k.last_used_at, u.at) "
                    "FROM unnest(%s::text[], %s::timestamptz[]) AS u(id, at) WHERE k.id = u.id",
                    (list(uses), [datetime.fromtimestamp(at, UTC) for at in uses.values()]),
                )
        except psycopg.Error:
            with self._lock:  # kept for the next round, merged with the uses noted since
                for key_id, at in uses.items():
                    self._uses[key_id] = max(at, self._uses.get(key_id, at))
            raise
        return len(uses)

    def start_writing_uses(self, every: float = USES_EVERY) -> None:
        """Writes out the keys' last uses every ``every`` seconds until ``stop_writing_uses``."""
        self._stop_writing_uses.clear()

        def write_them() -> None:
            while not self._stop_writing_uses.wait(every):
                with contextlib.suppress(psycopg.Error):  # the uses are kept for the next round
                    self.write_uses()

        self._writing_uses = threading.Thread(target=write_them, name="key-uses", daemon=True)
        self._writing_uses.start()

    def stop_writing_uses(self) -> None:
        """Stops writing uses out, after writing out what is noted."""
        self._stop_writing_uses.set()
        if self._writing_uses is not None:
            self._writing_uses.join(timeout=5)
            self._writing_uses = None
        with contextlib.suppress(psycopg.Error):  # the database is gone: so are these uses
            self.write_uses()

    async def principal_of_header(self, authorization: bytes | None) -> Principal | None:
        """The principal of an ``Authorization: Bearer <key>`` header; None without one.
        Raises ``NotAuthenticatedError`` for a key that is not valid. A remembered key is
        checked in the event loop; any other is looked up from a worker thread."""
        if authorization is None:
            return None
        scheme, _, credentials = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            return None
        key = credentials.strip()
        principal = self.remembered(key) or await run_in_threadpool(self.authenticate, key)
        if principal is None:
            msg = "the API key is not valid: malformed, unknown or revoked"
            raise NotAuthenticatedError(msg)
        return principal

    def remembered(self, key: str) -> Principal | None:
        """The principal of a key remembered while watching, without asking the database;
        None when the key must be looked up (or is not valid)."""
        return self._principal(key, look_up=False)

    def authenticate(self, key: str) -> Principal | None:
        """The principal a key stands for, or None for a malformed, unknown or revoked key."""
        return self._principal(key, look_up=True)

    def _principal(self, key: str, *, look_up: bool) -> Principal | None:
        match = _KEY.match(key)
        if match is None:
            return None
        key_id, secret = match.groups()
        known, stamp = self._recall(key_id)
        if known is None and look_up:
            with self.pool.connection() as connection:
                row = connection.execute(
                    f"SELECT name, role, secret_sha256 FROM {TABLE} "
                    "WHERE id = %s AND revoked_at IS NULL",
                    (key_id,),
                ).fetchone()
            if row is not None:
                known = (Principal(row[0], row[1], key_id), row[2])
                self._remember(key_id, known, stamp)
        if known is None or not hmac.compare_digest(known[1], _digest(secret)):
            return None
        with self._lock:
            self._uses[key_id] = time.time()
        return known[0]
