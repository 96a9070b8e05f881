"""A throwaway PostgreSQL cluster for the tests: `initdb` in a temporary folder, `pg_ctl start`
on 127.0.0.1 and a free port (another if that one is taken first), one fresh database per
test, `pg_ctl stop` at the end.

PostgreSQL refuses to run as root, and CI runs as root: then the cluster belongs to the
unprivileged `nobody` user (every Debian system has it) and its commands run through `runuser`.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.ports import PortTaken, on_free_port

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
        _, port = on_free_port(lambda port: _start_on(binaries, directory, port))
    except BaseException as exc:
        log = directory / "server.log"
        detail = log.read_text() if log.exists() else ""
        shutil.rmtree(directory, ignore_errors=True)
        if detail and isinstance(exc, Exception):
            raise RuntimeError(f"the test PostgreSQL did not start: {exc}\nits log:\n{detail}") \
                from None
        raise
    return Cluster(directory, port, user, binaries, itertools.count())


def _start_on(binaries: Path, directory: Path, port: int) -> None:
    """pg_ctl start on 127.0.0.1:port; PortTaken if another process bound the port first."""
    log = directory / "server.log"
    written = log.stat().st_size if log.exists() else 0  # pg_ctl appends: this start's lines
    options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {directory} -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off")
    started = _run(binaries / "pg_ctl", "start", "-w", "-t", "60", "-D", directory / "data",
                   "-l", log, "-o", options, check=False)
    if started.returncode == 0:
        return
    with open(log, "rb") as server_log:
        server_log.seek(written)
        lines = server_log.read().decode(errors="replace")
    if "address already in use" in lines.lower():
        raise PortTaken(f"PostgreSQL could not bind 127.0.0.1:{port}: {lines.strip()[-300:]}")
    raise RuntimeError(f"pg_ctl start on 127.0.0.1:{port} failed ({started.returncode}):\n"
                       f"{started.stdout}\n{started.stderr}")
