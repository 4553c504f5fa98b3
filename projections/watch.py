"""Remembering what the database says, for exactly as long as a channel confirms nothing moved.

A :class:`Watch` LISTENs on a PostgreSQL channel from a thread of its own. Its ``stamp`` is a
number that changes with every announcement on the channel, and is None while the watch is
not listening (not started, or its connection lost). A cache keeps what it read under the
stamp taken *before* reading, and trusts an entry only while the stamp is still the same:
anything announced meanwhile, a lost connection or a restart of the watch makes it read
again. Because announcements are sent by the changing transaction (a trigger or a NOTIFY in
it), an entry is never trusted after the change it misses has been announced to this process.
"""

from __future__ import annotations

import logging
import threading
import time

import psycopg
from psycopg import sql

logger = logging.getLogger("diprec.watch")


class Watch:
    """Listens on ``channel``; ``stamp`` tells a cache whether what it read still holds."""

    def __init__(self, channel: str, application_name: str) -> None:
        self.channel = channel
        self.application_name = application_name  # how pg_stat_activity shows its connection
        self._lock = threading.Lock()
        self._moved = threading.Condition(self._lock)
        self._changes = 0
        self._listening = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def stamp(self) -> int | None:
        """A number that changes whenever something may have moved; None when not watching."""
        with self._lock:
            return self._changes if self._listening else None

    @property
    def listening(self) -> bool:
        return self.stamp() is not None

    def changed(self) -> None:
        """Something moved (announced, or known in this process): older readings are stale."""
        with self._lock:
            self._changes += 1
            self._moved.notify_all()

    def wait_moved(self, stamp: int | None, timeout: float) -> None:
        """Returns once the stamp is no longer ``stamp`` (something moved, or the watch
        started or stopped listening), or after ``timeout`` seconds."""
        with self._moved:
            self._moved.wait_for(
                lambda: (self._changes if self._listening else None) != stamp, timeout
            )

    def start(self, conninfo: str, poll_interval: float = 1.0, wait: float = 5.0) -> None:
        """Listens from a thread of its own until stopped, checking its connection every
        ``poll_interval`` seconds, and listening again after a failure. Returns once it
        listens, or after ``wait`` seconds (until then, caches simply read afresh)."""
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._listen, args=(conninfo, poll_interval), name=self.channel, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + wait
        while not self.listening and time.monotonic() < deadline and self._thread.is_alive():
            self._stopping.wait(0.005)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._listen_no_more()

    def _listen_no_more(self) -> None:
        with self._lock:
            self._changes += 1
            self._listening = False
            self._moved.notify_all()

    def _listen(self, conninfo: str, poll_interval: float) -> None:
        while not self._stopping.is_set():
            try:
                with psycopg.connect(
                    conninfo, autocommit=True, application_name=self.application_name
                ) as listener:
                    listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    with self._lock:
                        self._changes += 1
                        self._listening = True
                        self._moved.notify_all()
                    while not self._stopping.is_set():
                        for _ in listener.notifies(timeout=poll_interval, stop_after=1):
                            self.changed()
                        listener.execute("SELECT 1")
            except psycopg.Error:
                logger.warning(
                    "lost the watch on %s; reading it afresh until it is back", self.channel
                )
                self._listen_no_more()
                self._stopping.wait(poll_interval)
