"""A real PostgreSQL for the ledger tests: the one ``.ci/postgres run`` started (its URL in
PROMPTPAINT_TEST_PG_URL), else a throw-away cluster this test session starts itself with the same
script when Debian's postgresql is installed. Without either, the tests that need it skip locally
and fail under CI (CI=true): there, a missing server is a broken set-up, not a reason to pass.

Fixtures (tests/ledger/conftest.py offers them all to the ledger tests; elsewhere import them):
    pg_server    the server's superuser URL (session)
    pg_db        a fresh empty database: (URL, name)
    pg_ledger    the same holding an empty ledger, as ``promptpaint ledger init`` leaves it
    ledger_at    PROMPTPAINT_LEDGER set to a SQLite file, then to a PostgreSQL ledger (two params)
    pg_role      ``pg_role(who, grant=False)`` -> (role, password): a kernel's login role
    pgbouncer    ``pgbouncer(dbname)`` -> a URL through PgBouncer in transaction mode
and ``init_ledger(url)``; for a test that stops or restarts a server of its own, ``cluster()`` and
``pg_ctl()``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "postgres"


def _unavailable(why: str):
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI needs a PostgreSQL for the ledger tests (.ci/postgres run starts one): {why}")
    pytest.skip(f"no PostgreSQL for the ledger tests: {why}")


AS_OWNER = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []  # initdb, postgres refuse root


@contextlib.contextmanager
def cluster(*settings: str):
    """A throw-away cluster started with ``.ci/postgres start`` and these ``-c NAME=VALUE`` server
    settings: (superuser URL, its folder). Stopped and removed afterwards."""
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        _unavailable("Debian's postgresql is not installed (apt-get install -y postgresql)")
    folder = tempfile.mkdtemp(prefix="pp-pg.")  # directly in /tmp: the postgres user must reach it
    options = [word for setting in settings for word in ("-c", setting)]
    started = subprocess.run([str(SCRIPT), "start", folder, *options], capture_output=True, text=True)
    if started.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        _unavailable(f"could not start a cluster: {started.stderr.strip()[-500:]}")
    try:
        yield started.stdout.strip(), folder
    finally:
        subprocess.run([str(SCRIPT), "stop", folder], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def pg_ctl(folder: str, *args: str) -> None:
    """Run pg_ctl on the cluster in ``folder`` (e.g. ``"-m", "fast", "-w", "restart"``) as its owner."""
    binary = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]
    subprocess.run([*AS_OWNER, binary, "-D", str(Path(folder, "data")), *args, "-l", str(Path(folder, "log"))],
                   check=True, capture_output=True)


@pytest.fixture(scope="session")
def pg_server():
    """The server's superuser URL (over its private Unix socket)."""
    url = os.environ.get("PROMPTPAINT_TEST_PG_URL")
    if url:
        yield url
        return
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install -e '.[test]')")
    # Throw-away data: no fsync, so creating a database per test is quick (as in .ci/postgres run).
    with cluster("fsync=off", "synchronous_commit=off", "full_page_writes=off") as (url, _):
        yield url


def with_database(url: str, dbname: str, **query) -> str:
    parts = urllib.parse.urlsplit(url)
    q = dict(urllib.parse.parse_qsl(parts.query))
    q.update(query)
    return urllib.parse.urlunsplit(parts._replace(path="/" + dbname, query=urllib.parse.urlencode(q)))


def tcp_url(server_url: str, dbname: str, role: str, password: str | None) -> str:
    """The URL a kernel on another machine would use: TCP to 127.0.0.1, where the server asks
    for a scram-sha-256 password."""
    port = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(server_url).query))["port"]
    auth = role if password is None else f"{role}:{urllib.parse.quote(password, safe='')}"
    return f"postgresql://{auth}@127.0.0.1:{port}/{dbname}"


def admin(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


@pytest.fixture
def pg_db(pg_server):
    """A fresh, empty database for one test: (superuser URL of it, its name)."""
    name = "pp_" + uuid.uuid4().hex[:12]
    with admin(pg_server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(pg_server, name), name
    finally:
        with admin(pg_server) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def init_ledger(url: str) -> None:
    """Make the ledger's tables in the database at ``url``, as the teacher's ``promptpaint ledger
    init URL`` does."""
    from promptpaint.ledger.postgres import PostgresLedger

    owner = PostgresLedger(url, check=False)
    owner.init()
    owner.close()


@pytest.fixture
def pg_ledger(pg_db):
    """A fresh database holding an empty ledger: (owner's URL, database name)."""
    init_ledger(pg_db[0])
    return pg_db


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_at(request, isolated_home, monkeypatch):
    """One test, two backends: PROMPTPAINT_LEDGER names a SQLite file (as one person has it) or a
    fresh PostgreSQL ledger (as a class shares it); returns what it names."""
    if request.param == "sqlite":
        where = str(isolated_home / "ledger.sqlite3")
    else:
        where, _ = request.getfixturevalue("pg_ledger")
    monkeypatch.setenv("PROMPTPAINT_LEDGER", where)
    return where


@pytest.fixture
def pg_role(pg_server, pg_db):
    """``pg_role(who="kernel", grant=False)``: a login role with a password on this test's server, as
    a spawner gives each kernel: (role, password). ``grant=True`` also grants it the ledger (which
    ``pg_ledger`` must have made), as ``promptpaint ledger grant URL ROLE`` does. Dropped with all it
    owns after the test."""
    url, name = pg_db
    made = []

    def make(who: str = "kernel", grant: bool = False) -> tuple[str, str]:
        role, password = f"{who}_{name}", f"pw-{who}-{name[3:]}-Zq9"
        with admin(pg_server) as conn:
            conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        made.append(role)
        if grant:
            from promptpaint.ledger.postgres import PostgresLedger

            owner = PostgresLedger(url, check=False)
            owner.grant(role)
            owner.close()
        return role, password

    yield make
    for role in made:
        with admin(url) as conn:
            conn.execute(f"DROP OWNED BY {role}")
        with admin(pg_server) as conn:
            conn.execute(f"DROP ROLE {role}")


@pytest.fixture(scope="session")
def pgbouncer(pg_server):
    """PgBouncer in transaction mode in front of the test server, with fewer server connections
    than clients, so consecutive transactions of one client land on different server sessions:
    anything a client left in its session (a prepared statement, a SET, a session lock) breaks.
    Returns a function: database name -> URL through the bouncer."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not os.path.exists(binary):
        _unavailable("PgBouncer is not installed (apt-get install -y pgbouncer)")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(pg_server).query))
    folder = tempfile.mkdtemp(prefix="pp-pgb.")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    Path(folder, "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={query['host']} port={query['port']} user=postgres\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        "auth_type = any\npool_mode = transaction\ndefault_pool_size = 2\nmax_client_conn = 200\n"
        f"logfile = {folder}/pgbouncer.log\npidfile = {folder}/pgbouncer.pid\n")
    if AS_OWNER:  # PgBouncer refuses to run as root, like PostgreSQL
        shutil.chown(folder, "postgres")
    proc = subprocess.Popen([*AS_OWNER, binary, f"{folder}/pgbouncer.ini"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None:
                    _unavailable(f"PgBouncer did not start: {proc.stderr.read().decode()[-300:]}")
                time.sleep(0.05)
        yield lambda dbname: f"postgresql://postgres@127.0.0.1:{port}/{dbname}"
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stderr.close()
        shutil.rmtree(folder, ignore_errors=True)
