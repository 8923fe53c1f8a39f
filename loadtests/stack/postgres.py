"""A throwaway PostgreSQL server for tests, benchmarks and the crash test.

    python -m loadtests.stack.postgres [--port N]      # prints its URL, stops on Ctrl-C

The layer's store (integration/store/database.py) runs on SQLite, the embedded default,
or on PostgreSQL by URL, and the two differ exactly where it matters to the outbox:
locking, isolation, ``FOR UPDATE SKIP LOCKED``. Tests and benchmarks of that need a real
server, not a mock, and one that nobody has to set up by hand or in Docker:
:func:`temporary_postgres` builds a fresh cluster from Debian's ``postgresql`` package in
a temporary folder, serves it on a free loopback port and throws it all away afterwards::

    with temporary_postgres() as pg:
        engine = sqlalchemy.create_engine(pg.url)
        ...
        pg.reset()  # an empty ``public`` schema for the next test

The cluster trades durability for speed (``fsync``, ``full_page_writes`` and synchronous
commit are off), so it is only fit for data that may be lost; it is stopped with an
immediate shutdown for the same reason.

PostgreSQL refuses to run as root, and tests here do run as root, so then the server
binaries run as the ``postgres`` system user (``nobody`` if there is none) and the
temporary folder is handed to it. That user must be able to reach the folder: ``parent``
has to be a folder it can enter (``/tmp`` is; pytest's ``tmp_path`` as root is not).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg

from loadtests.stack.processes import free_port

__all__ = [
    "PostgresServer",
    "PostgresStartError",
    "PostgresUnavailable",
    "find_pg_bin",
    "main",
    "temporary_postgres",
]

HOST = "127.0.0.1"
SUPERUSER = "switchboard"
DATABASE = "switchboard"
BIN_ENV = "SWITCHBOARD_PG_BIN"
REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres")
INSTALL_HINT = "install it with `apt-get install postgresql`"
# Throwaway data: durability only costs time here. Twice the default connections leave room
# for several processes' pools at once (a benchmark's workers, the crash test's restarts).
SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}
# Unix sockets live in sun_path (108 bytes with the terminating NUL).
MAX_SOCKET_PATH = 107
AUTO_PORT_ATTEMPTS = 3
COMMAND_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 10


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are not installed (or not where we were told)."""


class PostgresStartError(RuntimeError):
    """The binaries are there but the cluster could not be created or did not come up."""


@dataclass(frozen=True)
class PostgresServer:
    """A running server; ``user`` is a superuser that logs in without a password."""

    host: str
    port: int
    database: str
    user: str
    data_dir: Path

    @property
    def url(self) -> str:
        """The SQLAlchemy URL, for the psycopg 3 driver."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{self.database}"

    @property
    def dsn(self) -> str:
        """The libpq connection string, for ``psycopg.connect``."""
        return _dsn(self.host, self.port, self.database, self.user)

    @property
    def log_file(self) -> Path:
        """The server's log, the first place to look when a query misbehaves."""
        return self.data_dir.parent / "postgres.log"

    def reset(self) -> None:
        """Drop every table, view, sequence and type in ``public`` and start it afresh.

        A connection that is still in a transaction on one of those tables would make this
        wait forever; the lock timeout turns that leak into an error instead."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '10s'")
            conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
            conn.execute("CREATE SCHEMA public")


def _dsn(host: str, port: int, database: str, user: str) -> str:
    return f"host={host} port={port} dbname={database} user={user}"


def _has_binaries(folder: Path) -> bool:
    return all(os.access(folder / name, os.X_OK) for name in REQUIRED_BINARIES)


def _version_key(folder: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/9.6 must sort below /usr/lib/postgresql/15.
    try:
        return tuple(int(part) for part in folder.parent.name.split("."))
    except ValueError:
        return (-1,)


def find_pg_bin() -> Path | None:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``, or None.

    ``$SWITCHBOARD_PG_BIN`` wins outright when it is set: an explicit choice that is wrong
    should fail, not quietly fall back to another version. Otherwise ``pg_config
    --bindir``, then the newest ``/usr/lib/postgresql/*/bin``, then ``PATH``. Each candidate
    must hold all three binaries: Debian's ``pg_config`` comes with libpq's dev package and
    may name the bin folder of a version whose server is not installed."""
    explicit = os.environ.get(BIN_ENV)
    if explicit:
        folder = Path(explicit)
        return folder if _has_binaries(folder) else None

    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            answer = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(Path(answer.stdout.strip()))
    candidates.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key)[::-1])
    on_path = shutil.which("initdb")
    if on_path is not None:
        candidates.append(Path(on_path).resolve().parent)
    return next((folder for folder in candidates if _has_binaries(folder)), None)


@dataclass(frozen=True)
class _RunAs:
    """Who the server binaries run as: ourselves (uid None) or a system user when root."""

    uid: int | None = None
    gid: int | None = None
    name: str = ""

    @classmethod
    def for_this_process(cls) -> _RunAs:
        if os.geteuid() != 0:
            return cls()
        for name in ("postgres", "nobody"):
            with contextlib.suppress(KeyError):
                entry = pwd.getpwnam(name)
                return cls(entry.pw_uid, entry.pw_gid, name)
        raise PostgresStartError(
            "running as root, which PostgreSQL refuses, and there is neither a `postgres` "
            "nor a `nobody` user to run it as"
        )

    def run(
        self, args: Sequence[str], *, cwd: Path, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        """Run to completion; if interrupted (Ctrl-C, timeout), kill it and its children.

        The child gets a process group of its own so that all it spawned can be killed
        together: initdb runs the server in single-user mode underneath, and that
        grandchild, left alone, goes on writing into a folder we are deleting."""
        # subprocess switches user in the child before exec: unlike runuser there is no PAM
        # session, and extra_groups=[] drops root's supplementary groups.
        identity: dict[str, Any] = {}
        if self.uid is not None:
            identity = {"user": self.uid, "group": self.gid, "extra_groups": []}
        with subprocess.Popen(
            list(args),
            cwd=cwd,
            env=_child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            process_group=0,
            **identity,
        ) as process:
            try:
                stdout, stderr = process.communicate(timeout=timeout)
            except BaseException:
                _kill(_processes(lambda pid, stat: stat.pgrp == process.pid))
                process.wait()
                raise
        return subprocess.CompletedProcess(list(args), process.returncode, stdout, stderr)

    def hand_over(self, top: Path) -> None:
        if self.uid is None or self.gid is None:
            return
        for path in (top, *top.rglob("*")):
            os.chown(path, self.uid, self.gid)
        # Run as that user, so that a parent folder it cannot enter fails here, plainly,
        # instead of as a puzzling error from initdb.
        probe = self.run(["test", "-w", str(top)], cwd=Path("/"), timeout=10)
        if probe.returncode != 0:
            raise PostgresStartError(
                f"the `{self.name}` user, which runs PostgreSQL because we are root, cannot "
                f"write to {top}: a parent folder is closed to it; pass a parent under /tmp"
            )


def _child_env() -> dict[str, str]:
    # PG* variables from the caller's shell (PGDATA, PGPORT, PGHOST...) would steer pg_ctl to
    # another cluster; the C locale keeps initdb from failing on a locale that is not built.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env.update(LC_ALL="C", LANG="C")
    return env


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:]) or f"(empty log at {path})"


def _conf_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _init_cluster(bin_dir: Path, top: Path, run_as: _RunAs) -> Path:
    data_dir = top / "data"
    socket_dir = top / "socket"
    socket_dir.mkdir(mode=0o700)
    run_as.hand_over(top)
    initdb = run_as.run(
        [
            str(bin_dir / "initdb"),
            f"--pgdata={data_dir}",
            f"--username={SUPERUSER}",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ],
        cwd=top,
        timeout=COMMAND_TIMEOUT_S,
    )
    if initdb.returncode != 0:
        raise PostgresStartError(f"initdb failed:\n{initdb.stdout}{initdb.stderr}")
    settings = {**SETTINGS, "unix_socket_directories": _conf_quote(str(socket_dir))}
    # Appended, so these win over initdb's own lines; the file stays the server user's.
    with (data_dir / "postgresql.conf").open("a") as conf:
        conf.write("\n# loadtests/stack/postgres.py: a throwaway cluster\n")
        conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
    return data_dir


def _start(bin_dir: Path, data_dir: Path, port: int, run_as: _RunAs, timeout_s: float) -> str:
    """Start the postmaster; return "" once it is up, or what went wrong."""
    log_file = data_dir.parent / "postgres.log"
    started = run_as.run(
        [
            str(bin_dir / "pg_ctl"),
            "start",
            f"--pgdata={data_dir}",
            f"--log={log_file}",
            f"--options=-p {port}",
            "--wait",
            f"--timeout={max(1, round(timeout_s))}",
        ],
        cwd=data_dir.parent,
        timeout=timeout_s + 10,
    )
    if started.returncode == 0:
        return ""
    return f"{started.stdout}{started.stderr}\n--- {log_file} ---\n{_tail(log_file)}"


def _wait_and_create_database(port: int, deadline: float, log_file: Path) -> None:
    # pg_ctl --wait has seen the postmaster say "ready"; a real login over TCP proves the
    # address, the port and trust authentication too.
    dsn = _dsn(HOST, port, "postgres", SUPERUSER)
    while True:
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=2) as conn:
                conn.execute(f"CREATE DATABASE {DATABASE}")
                return
        except psycopg.OperationalError as error:
            if time.monotonic() > deadline:
                raise PostgresStartError(
                    f"PostgreSQL on {HOST}:{port} did not accept connections: {error}\n"
                    f"--- {log_file} ---\n{_tail(log_file)}"
                ) from error
            time.sleep(0.05)


def _postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class _Stat:
    state: str
    ppid: int
    pgrp: int


def _proc_stat(pid: int) -> _Stat | None:
    try:
        # The command name, in parentheses, may hold spaces; the fields after it do not.
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return _Stat(fields[0], int(fields[1]), int(fields[2]))
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid: int) -> bool:
    # The postmaster is not our child (pg_ctl daemonises it), so we cannot wait() for it,
    # and until something reaps it a zombie still answers kill(pid, 0).
    stat = _proc_stat(pid)
    return stat is not None and stat.state not in ("Z", "X")


def _processes(match: Callable[[int, _Stat], bool]) -> set[int]:
    """Live processes for which ``match(pid, stat)`` holds."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            pid = int(entry.name)
            stat = _proc_stat(pid)
            if stat is not None and stat.state not in ("Z", "X") and match(pid, stat):
                found.add(pid)
    return found


def _mentions(pid: int, text: str) -> bool:
    try:
        return text.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _kill(pids: set[int]) -> None:
    """SIGKILL these processes and their children; return once they are gone (or 10 s)."""
    # Frozen first, so that none forks a child we would miss; and children are listed
    # before their parent dies, as then they are handed to init and no longer look ours.
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
    everyone = pids | _processes(lambda pid, stat: stat.ppid in pids)
    for pid in everyone:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while any(_alive(pid) for pid in everyone) and time.monotonic() < deadline:
        time.sleep(0.02)


def _stop(bin_dir: Path, data_dir: Path, run_as: _RunAs) -> None:
    """Immediate shutdown (no checkpoint: the data is about to be deleted), then SIGKILL to
    whatever of this cluster is still running."""
    if _postmaster_pid(data_dir) is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            run_as.run(
                [
                    str(bin_dir / "pg_ctl"),
                    "stop",
                    f"--pgdata={data_dir}",
                    "--mode=immediate",
                    "--wait",
                    f"--timeout={STOP_TIMEOUT_S}",
                ],
                cwd=data_dir.parent,
                timeout=STOP_TIMEOUT_S + 5,
            )
    # pg_ctl may have failed, or we may have been interrupted while it was starting the
    # postmaster, before postmaster.pid existed. The postmaster (and pg_ctl, and the shell
    # between them) name the data folder on their command line, and nothing else does.
    leftovers = _processes(lambda pid, stat: _mentions(pid, str(data_dir)))
    pid = _postmaster_pid(data_dir)
    if pid is not None and _alive(pid):
        leftovers.add(pid)
    if leftovers:
        _kill(leftovers)


def _remove(top: Path) -> None:
    # A process killed a moment ago may still have had a file open for writing.
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while True:
        shutil.rmtree(top, ignore_errors=True)
        if not top.exists() or time.monotonic() > deadline:
            return
        time.sleep(0.05)


@contextlib.contextmanager
def temporary_postgres(
    *,
    port: int | None = None,
    parent: Path | None = None,
    ready_timeout_s: float = 30,
) -> Iterator[PostgresServer]:
    """A fresh PostgreSQL cluster on ``127.0.0.1``, with an empty ``switchboard`` database.

    ``port`` None picks a free one (and another, should it be taken before the server binds
    it); ``parent`` is where the temporary folder goes (the system's temp folder if None).
    Raises :class:`PostgresUnavailable` when the binaries are not installed and
    :class:`PostgresStartError`, with the tail of the server's log, when it does not come up
    within ``ready_timeout_s``. The server is stopped and its folder deleted when the block
    ends, however it ends."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        where = os.environ.get(BIN_ENV)
        if where:
            raise PostgresUnavailable(
                f"${BIN_ENV} is {where}, which does not hold {', '.join(REQUIRED_BINARIES)}"
            )
        raise PostgresUnavailable(f"the PostgreSQL server is not installed: {INSTALL_HINT}")
    run_as = _RunAs.for_this_process()
    if parent is not None:
        parent = parent.resolve()
    top = Path(tempfile.mkdtemp(prefix="switchboard-pg-", dir=parent))
    try:
        socket_path = top / "socket" / ".s.PGSQL.65535"
        if len(str(socket_path)) > MAX_SOCKET_PATH:
            raise PostgresStartError(f"{top} is too deep for a Unix socket; use a shorter parent")
        data_dir = _init_cluster(bin_dir, top, run_as)
        try:
            deadline = time.monotonic() + ready_timeout_s
            chosen = port if port is not None else free_port()
            attempts = 1 if port is not None else AUTO_PORT_ATTEMPTS
            for attempt in range(1, attempts + 1):
                failure = _start(bin_dir, data_dir, chosen, run_as, deadline - time.monotonic())
                if not failure:
                    break
                if attempt == attempts or "Address already in use" not in failure:
                    raise PostgresStartError(f"PostgreSQL did not start:\n{failure}")
                chosen = free_port()  # someone took it between our probe and the bind
            _wait_and_create_database(chosen, deadline, top / "postgres.log")
            yield PostgresServer(HOST, chosen, DATABASE, SUPERUSER, data_dir)
        finally:
            _stop(bin_dir, data_dir, run_as)
    finally:
        _remove(top)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.stack.postgres",
        description="Run a throwaway PostgreSQL server on 127.0.0.1 until Ctrl-C.",
    )
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    args = parser.parse_args(argv)
    # `kill` should clean up as Ctrl-C does, not leave an orphaned postmaster behind.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    began = time.monotonic()
    try:
        with temporary_postgres(port=args.port) as pg:
            print(f"ready in {time.monotonic() - began:.2f} s")
            print(f"url  {pg.url}")
            print(f"dsn  {pg.dsn}")
            print(f"log  {pg.log_file}")
            print("Ctrl-C to stop and delete it", flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 0
    except (PostgresUnavailable, PostgresStartError) as error:
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
