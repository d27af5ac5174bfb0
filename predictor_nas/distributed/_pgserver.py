"""A throwaway PostgreSQL server on loopback, for tests, benchmarks and trying things out.

It runs the ``initdb`` / ``pg_ctl`` of an installed PostgreSQL (Debian: ``apt-get install
postgresql``) on a fresh data folder in the temp directory, listening on 127.0.0.1 only, with
trust authentication, and deletes everything on ``stop``. PostgreSQL refuses to run as root, so
as root it runs the server as the ``postgres`` system user (via ``runuser``, else ``su``).
"""

from __future__ import annotations

import glob
import logging
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

from predictor_nas._lazy import psycopg2
from predictor_nas.exceptions import SearchError

log = logging.getLogger(__name__)

_SUPERUSER = "pnas"


def find_postgres_bin() -> Path | None:
    """Folder holding ``initdb`` and ``pg_ctl``, or None when no server is installed.

    Looks at ``$PREDICTOR_NAS_PG_BIN``, then ``PATH``, then ``/usr/lib/postgresql/<version>/bin``
    (the Debian layout; the highest version wins).
    """
    env = os.environ.get("PREDICTOR_NAS_PG_BIN")
    candidates = [Path(env)] if env else []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)

    def version(p: str) -> tuple[int, ...]:
        v = Path(p).parent.parent.name
        return tuple(int(x) for x in v.split(".") if x.isdigit()) or (0,)

    candidates += [
        Path(p).parent
        for p in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)[::-1]
    ]
    for c in candidates:
        if (c / "initdb").is_file() and (c / "pg_ctl").is_file():
            return c
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TemporaryPostgres:
    """Start a PostgreSQL server in a temp folder; ``url()`` gives SQLAlchemy URLs for it.

    Use as a context manager or call ``start`` / ``stop``.

    Args:
        bin_dir: Folder of ``initdb`` and ``pg_ctl``; default ``find_postgres_bin()``.
        port: TCP port on 127.0.0.1; default a free one.
        durable: Keep PostgreSQL's default crash safety (fsync, synchronous commit). ``False``
            (for tests) turns it off: much faster, and the data is thrown away anyway.
        run_as: System user that runs the server when we are root (default ``postgres``).
    """

    def __init__(
        self,
        bin_dir: str | Path | None = None,
        *,
        port: int | None = None,
        durable: bool = True,
        run_as: str = "postgres",
    ) -> None:
        self.bin_dir = bin_dir
        self.port = port
        self.durable = durable
        self.run_as = run_as
        self.root_: Path | None = None
        self.port_: int | None = None
        self._user: str | None = None
        self._bin: Path | None = None

    # ------------------------------------------------------------------ commands
    def _cmd(self, args: list[str]) -> list[str]:
        """``args`` run as the server's user (through runuser or su when we are root)."""
        if self._user is None:
            return args
        runuser = shutil.which("runuser")
        if runuser:
            return [runuser, "-u", self._user, "--", *args]

        return ["su", "-s", "/bin/sh", self._user, "-c", shlex.join(args)]

    def _run(self, args: list[str], what: str) -> None:
        proc = subprocess.run(self._cmd(args), capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip()[-2000:]
            raise SearchError(f"{what} failed (exit {proc.returncode}): {tail}")

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> TemporaryPostgres:
        """initdb + pg_ctl start; returns self."""
        bin_dir = Path(self.bin_dir) if self.bin_dir else find_postgres_bin()
        if bin_dir is None:
            raise SearchError(
                "No PostgreSQL server found (initdb/pg_ctl); install it, e.g. apt-get install "
                "postgresql, or set PREDICTOR_NAS_PG_BIN to the folder holding initdb."
            )
        self._bin = bin_dir
        if os.geteuid() == 0:
            import pwd  # POSIX only; imported here so that the package imports everywhere

            try:
                pw = pwd.getpwnam(self.run_as)
            except KeyError:
                raise SearchError(
                    f"PostgreSQL cannot run as root and there is no {self.run_as!r} system user "
                    "to run it as."
                ) from None
            self._user = self.run_as
        root = Path(tempfile.mkdtemp(prefix="pnas-pg-"))
        self.root_ = root
        if self._user is not None:
            os.chown(root, pw.pw_uid, pw.pw_gid)
        data = root / "data"
        self._run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", _SUPERUSER, "--auth=trust",
             "-E", "UTF8", "--no-sync", "--no-instructions"],
            "initdb",
        )  # fmt: skip
        self.port_ = self.port or free_port()
        opts = [
            f"-k {root}",
            f"-p {self.port_}",
            "-c listen_addresses=127.0.0.1",
            "-c max_connections=200",
        ]
        if not self.durable:
            opts += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        try:
            self._run(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"),
                 "-w", "-t", "60", "-o", " ".join(opts), "start"],
                "pg_ctl start",
            )  # fmt: skip
        except SearchError:
            log_text = (root / "server.log").read_text() if (root / "server.log").exists() else ""
            self._cleanup()
            raise SearchError(f"PostgreSQL did not start:\n{log_text[-2000:]}") from None
        log.info("PostgreSQL %s started on 127.0.0.1:%d in %s", bin_dir, self.port_, root)
        return self

    def stop(self) -> None:
        """Stop the server (immediate shutdown) and delete its folder."""
        if self.root_ is None:
            return
        if self._bin is not None and (self.root_ / "data" / "postmaster.pid").exists():
            try:
                self._run(
                    [str(self._bin / "pg_ctl"), "-D", str(self.root_ / "data"), "-m",
                     "immediate", "-w", "stop"],
                    "pg_ctl stop",
                )  # fmt: skip
            except SearchError as exc:
                log.warning("%s", exc)
        self._cleanup()

    def _cleanup(self) -> None:
        if self.root_ is not None:
            shutil.rmtree(self.root_, ignore_errors=True)
        self.root_ = None

    def __enter__(self) -> TemporaryPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ databases
    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of ``database`` on this server."""
        if self.port_ is None:
            raise SearchError("The server is not started.")
        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port_}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (default: a fresh random name); returns its URL."""
        name = name or f"pnas_{uuid.uuid4().hex[:12]}"
        if not name.replace("_", "").isalnum():
            raise SearchError(f"Database names here are letters, digits and '_'; got {name!r}.")
        conn = psycopg2.connect(
            host="127.0.0.1", port=self.port_, user=_SUPERUSER, dbname="postgres"
        )
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.url(name)
