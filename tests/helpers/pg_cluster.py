"""A throwaway PostgreSQL server: initdb into a temporary directory, on a free port, trust auth.

Used by the session's PostgreSQL fixture when CAMPAIGN_TEST_PG_URL names a server that is not
reachable (tests/helpers/pg_server.py), and by the restart test, which stops and starts its own server.
The server binaries are looked up under /usr/lib/postgresql/*/bin (Debian), then on PATH;
CAMPAIGN_TEST_PG_BIN names another directory (an empty one hides them). As root the server runs as
the `postgres` system user (PostgreSQL refuses to run as root)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

DEBIAN = Path("/usr/lib/postgresql")


class Unavailable(RuntimeError):
    """The machine cannot run a private cluster; the message says what is missing."""


def server_binaries() -> Path | None:
    """The directory holding initdb and pg_ctl, or None."""
    chosen = os.environ.get("CAMPAIGN_TEST_PG_BIN")
    if chosen is not None:
        found = [Path(chosen)] if (Path(chosen) / "initdb").is_file() else []
    else:
        found = [p.parent for p in sorted(DEBIAN.glob("*/bin/initdb"), key=_version)] if DEBIAN.is_dir() else []
        on_path = shutil.which("initdb")
        if not found and on_path:
            found = [Path(on_path).resolve().parent]
    return found[-1] if found and (found[-1] / "pg_ctl").is_file() else None


def _version(initdb: Path) -> tuple[int, ...]:
    name = initdb.parent.parent.name
    return tuple(int(p) for p in name.split(".") if p.isdigit())


class Cluster:
    """initdb on construction; start, stop (fast) and start again on the same port; remove."""

    def __init__(self) -> None:
        bin_dir = server_binaries()
        if bin_dir is None:
            raise Unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found")
        self.as_root = os.geteuid() == 0
        if self.as_root and shutil.which("runuser") is None:
            raise Unavailable("running as root needs runuser to start PostgreSQL as the postgres user")
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="campaign-pg-"))
        if self.as_root:
            try:
                shutil.chown(self.dir, "postgres", "postgres")
            except LookupError as e:
                shutil.rmtree(self.dir, ignore_errors=True)
                raise Unavailable("running as root needs a postgres system user") from e
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        try:
            self._run("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        except (OSError, subprocess.SubprocessError) as e:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise Unavailable(f"initdb failed: {_detail(e)}") from e
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        subprocess.run([*prefix, str(self.bin / tool), *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        """Stop the server if it runs and delete its directory."""
        if (self.dir / "data" / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def _detail(e: BaseException) -> str:
    err = getattr(e, "stderr", None)
    text = err.decode(errors="replace").strip() if isinstance(err, bytes) else str(e)
    return text.splitlines()[-1] if text else type(e).__name__
