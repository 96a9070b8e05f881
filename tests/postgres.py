"""A throwaway PostgreSQL cluster for the tests: `initdb` in a temporary folder, `pg_ctl start`
on 127.0.0.1 and a free port, one fresh database per test, `pg_ctl stop` at the end.

PostgreSQL refuses to run as root, and CI runs as root: then the cluster belongs to the
unprivileged `nobody` user (every Debian system has it) and its commands run through `runuser`.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PORTS = range(54321, 54330)  # this project's range for test clusters
UNPRIVILEGED = "nobody"


class PostgresMissing(RuntimeError):
    """initdb / pg_ctl are not installed."""


def bin_dir() -> Path:
    """Where initdb and pg_ctl live: on PATH, else Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda p: int(Path(p).parent.parent.name))
    if not versions:
        raise PostgresMissing("PostgreSQL is not installed (no initdb on PATH or in "
                              "/usr/lib/postgresql/*/bin): run 'apt-get install -y postgresql' "
                              "or 'make install'")
    return Path(versions[-1]).parent


def free_port(skip: int = 0) -> int:
    """A free loopback port of this project's range (after `skip` free ones), else any free one."""
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        if skip == 0:
            return port
        skip -= 1
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    directory: Path
    port: int
    user: str
    _bin: Path
    _names: itertools.count[int]

    @property
    def server_url(self) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/postgres"

    def new_database(self) -> str:
        """A URL to an empty database of its own."""
        from sqlalchemy import create_engine, text

        name = f"t{os.getpid()}_{next(self._names)}"
        engine = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\''))
        finally:
            engine.dispose()
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        _run(self._bin / "pg_ctl", "stop", "-D", str(self.directory / "data"), "-m", "immediate",
             check=False)
        shutil.rmtree(self.directory, ignore_errors=True)


def _as_owner() -> list[str]:
    return ["runuser", "-u", UNPRIVILEGED, "--"] if os.geteuid() == 0 else []


def _run(*cmd: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*_as_owner(), *map(str, cmd)], capture_output=True, text=True,
                          timeout=120, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n"
                           f"{done.stdout}\n{done.stderr}")
    return done


def start() -> Cluster:
    """initdb + pg_ctl start; trust authentication on loopback only, fsync off (a test cluster)."""
    binaries = bin_dir()
    directory = Path(tempfile.mkdtemp(prefix="newsqa-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam(UNPRIVILEGED)
        os.chown(directory, owner.pw_uid, owner.pw_gid)
    user = "newsqa"
    try:
        _run(binaries / "initdb", "-D", directory / "data", "-U", user, "--auth=trust",
             "-E", "UTF8", "--locale=C.UTF-8", "--locale-provider=icu", "--icu-locale=en-US")
        for attempt in range(3):  # another session may take the same free port first
            port = free_port(skip=attempt)
            options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {directory} -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off")
            started = _run(binaries / "pg_ctl", "start", "-w", "-t", "60", "-D", directory / "data",
                           "-l", directory / "server.log", "-o", options, check=attempt == 2)
            if started.returncode == 0:
                break
    except BaseException:
        log = directory / "server.log"
        detail = log.read_text() if log.exists() else ""
        shutil.rmtree(directory, ignore_errors=True)
        if detail:
            raise RuntimeError(f"the test PostgreSQL did not start:\n{detail}") from None
        raise
    return Cluster(directory, port, user, binaries, itertools.count())
