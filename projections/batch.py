"""Versioned rows, and the batch of writes one projection transaction makes.

A versioned table keeps every version of a row: ``valid_from``/``valid_to`` are the record
times between which the version was current (``valid_to`` is null while it still is), and
``from_position``/``to_position`` the log positions of the events that made and ended it.
``as_of`` queries pick, for each key, the version current at that moment; no log replay.

A :class:`Batch` reads each current row at most once, keeps the versions it makes in memory,
and writes them at :meth:`Batch.flush`: one statement per table and kind of write, so a batch
of hundreds of events costs a handful of round trips. The rows a batch's events will read are
read before it is applied, one query per table (:meth:`Batch.prefetch`); rows an event creates
(a statistic reported, a session opened) are not looked up at all, and rows that never change
(which session a stream is) are remembered across batches in a :class:`Facts` cache. A
rebuild's batches look nothing up in advance: they share the :class:`CurrentRows` of the
generation it loads, which hold every row it has written but the oldest it forgot.

New rows are written by binary COPY, each column in its type as the catalogue names it (read
once per generation and table): the server parses no text, timestamps and numbers least of
all, and the client formats none. So each value must be of its column's Python type (a
``uuid`` column takes a ``UUID``, not its text); a JSON column takes the value, which
``orjson`` writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, cached_property
from itertools import islice
from operator import itemgetter
from typing import Any

import orjson
import psycopg
from psycopg import sql
from psycopg.adapt import Dumper
from psycopg.pq import Format

VALIDITY_COLUMNS = (
    "valid_from timestamptz NOT NULL, valid_to timestamptz, "
    "from_position bigint NOT NULL, to_position bigint"
)


@dataclass(frozen=True)
class Table:
    """A read-model table: its name, key columns and data columns.

    ``versioned`` tables keep every version of a row; the others hold facts that never change
    (which stream belongs to which session) and are only ever inserted.
    """

    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    versioned: bool = True

    def __hash__(self) -> int:
        return self._hash

    @cached_property
    def _hash(self) -> int:
        # A batch looks its tables up once per row it writes.
        return hash((self.name, self.key, self.columns, self.versioned))

    @cached_property
    def all_columns(self) -> tuple[str, ...]:
        extra = ("valid_from", "valid_to", "from_position", "to_position")
        return self.key + self.columns + (extra if self.versioned else ())

    @cached_property
    def blank(self) -> dict[str, Any]:
        """A row of this table with no values: copied, the start of every new one."""
        return dict.fromkeys(self.all_columns)

    @cached_property
    def named(self) -> frozenset[str]:
        """The key and data columns: what a row ``Batch.get`` gives names."""
        return frozenset(self.key + self.columns)


def _current(schema: str, table: Table, where: sql.Composable) -> sql.Composed:
    """The rows of ``table`` that ``where`` picks; of a versioned table, the current ones."""
    if table.versioned:
        where = sql.SQL("{} AND valid_to IS NULL").format(where)
    return sql.SQL("SELECT * FROM {}.{} WHERE {}").format(
        sql.Identifier(schema), sql.Identifier(table.name), where
    )


def _arrays(text: Iterable[bool]) -> sql.Composed:
    """One array parameter per column (text arrays cast, since PostgreSQL cannot tell their
    type)."""
    return sql.SQL(", ").join(sql.SQL("%s::text[]" if is_text else "%s") for is_text in text)


# The statements below are composed once per generation and table, and kept as the bytes sent:
# composing a statement anew for each batch cost a live batch more than its rows did.


@cache
def _select(schema: str, table: Table) -> bytes:
    where = sql.SQL(" AND ").join(
        sql.SQL("{} = %s").format(sql.Identifier(column)) for column in table.key
    )
    return _current(schema, table, where).as_bytes()


@cache
def _select_many(schema: str, table: Table, text_key: tuple[bool, ...]) -> bytes:
    """The current rows of many keys: one array of values per key column."""
    where = sql.SQL("({}) IN (SELECT * FROM unnest({}))").format(
        sql.SQL(", ").join(sql.Identifier(column) for column in table.key), _arrays(text_key)
    )
    return _current(schema, table, where).as_bytes()


@cache
def _end(schema: str, table: Table, text_key: tuple[bool, ...]) -> bytes:
    """Ends the current versions of many keys: one array per column of the ends."""
    arrays = _arrays((False, False, *text_key))
    ended = sql.SQL(", ").join(
        sql.Identifier(column) for column in ("valid_to", "to_position", *table.key)
    )
    where = sql.SQL(" AND ").join(
        sql.SQL("{} = {}").format(sql.Identifier("t", column), sql.Identifier("ends", column))
        for column in table.key
    )
    return (
        sql.SQL(
            "UPDATE {}.{} AS t SET valid_to = ends.valid_to, to_position = ends.to_position "
            "FROM unnest({}) AS ends ({}) WHERE {} AND t.valid_to IS NULL"
        )
        .format(sql.Identifier(schema), sql.Identifier(table.name), arrays, ended, where)
        .as_bytes()
    )


@cache
def _copy(schema: str, table: Table) -> bytes:
    return (
        sql.SQL("COPY {}.{} ({}) FROM STDIN (FORMAT BINARY)")
        .format(
            sql.Identifier(schema),
            sql.Identifier(table.name),
            sql.SQL(", ").join(sql.Identifier(column) for column in table.all_columns),
        )
        .as_bytes()
    )


class _JsonbDumper(Dumper):
    """A JSON column's value as binary COPY writes it: jsonb's version byte, then what
    ``orjson`` makes of the value."""

    oid = psycopg.adapters.types["jsonb"].oid
    format = Format.BINARY

    def dump(self, obj: Any) -> bytes:
        return b"\x01" + orjson.dumps(obj)


# Each generation's tables' column types, by schema and table.
_column_types: dict[tuple[str, Table], list[int]] = {}


@dataclass(slots=True)
class _Version:
    values: dict[str, Any]
    stored: bool  # already in the database (only its end may still be written)


class Facts:
    """Rows of unversioned tables, remembered across the batches of one generation.

    They never change once written, so a cached one is never stale; a cached row of a
    transaction that was rolled back is written again, the same, when its event is applied
    again.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self._rows: dict[tuple[str, str, tuple[Any, ...]], dict[str, Any]] = {}
        self._limit = limit
        # What a model remembers of its own across batches (within bounds it keeps itself),
        # by the model's name: the texts of sources, say, which never change either.
        self.remembered: dict[str, Any] = {}

    def get(self, schema: str, table: Table, key: tuple[Any, ...]) -> dict[str, Any] | None:
        return self._rows.get((schema, table.name, key))

    def put(self, schema: str, table: Table, key: tuple[Any, ...], row: dict[str, Any]) -> None:
        if len(self._rows) >= self._limit:
            self._rows.clear()
        self._rows[(schema, table.name, key)] = row


# Rows a rebuild keeps in memory, per generation it loads: at a million events, the
# statistics alone are more.
CURRENT_ROWS_LIMIT = 250_000


class CurrentRows:
    """The current rows of a generation a rebuild loads, kept across the rebuild's batches.

    A rebuild loads its new generation from empty and is its only writer, so the rows its
    batches have written are all the rows there are: a key it never wrote has none, and its
    batches need not look for any. The oldest rows beyond ``limit`` are forgotten, their keys
    kept: a forgotten row read again is read from the database. Only a rebuild keeps one: a
    runner's batches share their generations with other runners.
    """

    def __init__(self, limit: int = CURRENT_ROWS_LIMIT) -> None:
        self.versions: dict[tuple[str, tuple[Any, ...]], _Version | None] = {}
        self.forgotten: set[tuple[str, tuple[Any, ...]]] = set()
        self.limit = limit

    def forget_oldest(self) -> None:
        """Forgets the rows first written (or read) beyond the limit; call it between batches,
        when every row in memory is stored."""
        excess = len(self.versions) - self.limit
        if excess > 0:
            oldest = list(islice(self.versions, excess))
            for key in oldest:
                del self.versions[key]
            self.forgotten.update(oldest)

    def knows_absent(self, table: Table, key: tuple[Any, ...]) -> bool:
        """Whether ``key`` has no row, as far as what is in memory tells."""
        cache_key = (table.name, key)
        return cache_key not in self.versions and cache_key not in self.forgotten


@dataclass
class Batch:
    """The writes of one transaction of one read-model generation; with ``current``, one of
    a rebuild's, reading the rows its earlier batches wrote from memory."""

    cursor: psycopg.Cursor[dict[str, Any]]
    schema: str
    facts: Facts = field(default_factory=Facts)
    current: CurrentRows | None = None
    _latest: dict[tuple[str, tuple[Any, ...]], _Version | None] = field(default_factory=dict)
    _inserts: dict[Table, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    _appended: dict[Table, list[tuple[Any, ...]]] = field(default_factory=lambda: defaultdict(list))
    _ends: dict[Table, list[tuple[Any, ...]]] = field(default_factory=lambda: defaultdict(list))
    _new_facts: list[tuple[Table, tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)
    _unstored: list[_Version] = field(default_factory=list)
    # What a model has worked out for this batch alone (a source's text, say), by its name.
    memo: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.current is not None:
            self._latest = self.current.versions

    def get(self, table: Table, key: tuple[Any, ...]) -> dict[str, Any] | None:
        """The current row of ``key`` (its key and data columns), or None: a copy to change
        and put, but a fact itself (a row of an unversioned table), to read only."""
        version = self._version(table, key)
        if version is None:
            return None
        if not table.versioned:
            return version.values
        if version.values["valid_to"] is not None:
            return None
        return {name: version.values[name] for name in table.key + table.columns}

    def prefetch(self, table: Table, keys: Iterable[tuple[Any, ...]]) -> None:
        """Reads the current rows of those ``keys`` this batch does not know yet, in one query:
        ``get`` and ``put`` of any of them then need no round trip of their own."""
        wanted: list[tuple[Any, ...]] = []
        for key in keys:
            if (table.name, key) in self._latest:
                continue
            known = None if table.versioned else self.facts.get(self.schema, table, key)
            if known is not None:
                self._latest[(table.name, key)] = _Version(known, stored=True)
            else:
                wanted.append(key)
        if not wanted:
            return
        text_key = tuple(isinstance(value, str) for value in wanted[0])
        self.cursor.execute(
            _select_many(self.schema, table, text_key),
            [list(column) for column in zip(*wanted, strict=True)],
        )
        for key in wanted:
            self._latest[(table.name, key)] = None
        for row in self.cursor.fetchall():
            key = tuple(row[column] for column in table.key)
            self._latest[(table.name, key)] = _Version(dict(row), stored=True)
            if not table.versioned:
                self.facts.put(self.schema, table, key, row)

    def put(
        self,
        table: Table,
        key: tuple[Any, ...],
        values: dict[str, Any],
        at: datetime,
        position: int,
    ) -> None:
        """Makes ``values`` the current row of ``key`` from ``at``, ending the previous one."""
        previous = self._version(table, key)
        if not table.versioned and previous is not None:
            return  # an unversioned row is a fact that never changes
        if table.versioned and previous is not None and previous.values["valid_to"] is None:
            if previous.stored:
                self._ends[table].append((at, position, *key))
            previous.values["valid_to"] = at
            previous.values["to_position"] = position
        self._insert(table, key, values, at, position)

    def create(
        self,
        table: Table,
        key: tuple[Any, ...],
        values: dict[str, Any],
        at: datetime,
        position: int,
    ) -> None:
        """Adds the first row of a key an event has just created: nothing to look up or end."""
        self._insert(table, key, values, at, position)

    def append(self, table: Table, values: dict[str, Any]) -> None:
        """Adds a row to an append-only table (no key lookups): nothing reads or changes it,
        so it is kept as it will be written, its values in the table's column order."""
        self._appended[table].append(tuple(map(values.get, table.all_columns)))

    def flush(self) -> None:
        """Writes the batch: first the ends of stored versions, then the new rows."""
        if self._inserts or self._appended:
            # For this cursor only, and only where a COPY has set its columns' types.
            self.cursor.adapters.register_dumper(None, _JsonbDumper)
        for table, ends in self._ends.items():
            text_key = tuple(isinstance(value, str) for value in ends[0][2:])
            self.cursor.execute(
                _end(self.schema, table, text_key),
                [list(column) for column in zip(*ends, strict=True)],
            )
        for table, rows in self._inserts.items():
            self._write(table, map(itemgetter(*table.all_columns), rows))
        for table, values in self._appended.items():
            self._write(table, values)
        self._ends.clear()
        self._inserts.clear()
        self._appended.clear()
        for version in self._unstored:
            version.stored = True
        self._unstored.clear()

    def committed(self) -> None:
        """Remembers the facts this batch wrote, now that its transaction has committed."""
        for table, key, row in self._new_facts:
            self.facts.put(self.schema, table, key, row)
        self._new_facts.clear()

    def _insert(
        self,
        table: Table,
        key: tuple[Any, ...],
        values: dict[str, Any],
        at: datetime,
        position: int,
    ) -> None:
        row = table.blank.copy()
        if values.keys() <= table.named:
            row.update(values)
        else:  # values of other names are not the table's to keep
            row.update((column, values.get(column)) for column in table.columns)
        row.update(zip(table.key, key, strict=True))
        if table.versioned:
            row["valid_from"] = at
            row["from_position"] = position
        else:
            self._new_facts.append((table, key, row))
        self._inserts[table].append(row)
        version = _Version(row, stored=False)
        self._latest[(table.name, key)] = version
        self._unstored.append(version)

    def _write(self, table: Table, rows: Iterable[tuple[Any, ...]]) -> None:
        """Copies rows, each its values in the table's column order, into the table."""
        types = self._types(table)
        with self.cursor.copy(_copy(self.schema, table)) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)

    def _types(self, table: Table) -> list[int]:
        """The types of a table's columns, as binary COPY needs them: read from the catalogue
        once per generation and table."""
        cache_key = (self.schema, table)
        if cache_key not in _column_types:
            self.cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (sql.Identifier(self.schema, table.name).as_string(self.cursor),),
            )
            types = {row["attname"]: row["atttypid"] for row in self.cursor.fetchall()}
            _column_types[cache_key] = [types[column] for column in table.all_columns]
        return _column_types[cache_key]

    def _version(self, table: Table, key: tuple[Any, ...]) -> _Version | None:
        cache_key = (table.name, key)
        if cache_key in self._latest:
            return self._latest[cache_key]
        if self.current is not None and self.current.knows_absent(table, key):
            return None
        if not table.versioned:
            known = self.facts.get(self.schema, table, key)
            if known is not None:
                self._latest[cache_key] = _Version(known, stored=True)
                return self._latest[cache_key]
        self.cursor.execute(_select(self.schema, table), key)
        row = self.cursor.fetchone()
        version = None if row is None else _Version(dict(row), stored=True)
        if version is not None and not table.versioned:
            self.facts.put(self.schema, table, key, version.values)
        self._latest[cache_key] = version
        return version
