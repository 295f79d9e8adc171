"""PostgreSQL connections that heal: a small pool of autocommit connections shared by every thread,
where one the server ended while it sat idle (``idle_session_timeout``, a restart's
``AdminShutdown``) is replaced and the work run again once where that is safe.

Mixed into ``PostgresLedger``, which sets ``_psycopg``, ``_url``, ``where``, ``_secrets``,
``_pool_lock``, ``_idle``, ``_pid`` and ``keep_idle``.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from .. import redact
from ..errors import LedgerError

DENIED_HINT = ("Kernels connect with a role that may only book calls and read the ledger; changing "
               "budgets or the schema takes the ledger's owner (the teacher).")
HINT = ("Check PROMPTPAINT_LEDGER (a postgresql:// URL), that the server is up, and the role's "
        "password (PGPASSWORD or ~/.pgpass).")


class PooledConnections:
    def _scrub(self, text: str) -> str:
        for secret in self._secrets:  # also those too short for redact to register
            text = text.replace(secret, "***")
        return redact.scrub(text)

    def _acquire(self) -> tuple:
        """(a connection, whether it was pooled): a pooled one may have died while idle."""
        with self._pool_lock:
            if self._pid != os.getpid():  # a forked child never shares its parent's sockets
                self._idle, self._pid = [], os.getpid()
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed:
                    return conn, True
        # prepare_threshold=None: no server-side prepared statements, which PgBouncer's
        # transaction mode would hand to another client's connection.
        return self._psycopg.connect(self._url, autocommit=True, prepare_threshold=None,
                                     connect_timeout=10, application_name="promptpaint"), False

    def _release(self, conn) -> None:
        with self._pool_lock:
            if not conn.closed and self._pid == os.getpid() and len(self._idle) < self.keep_idle:
                self._idle.append(conn)
                return
        conn.close()

    def _drop_idle(self) -> None:
        """A server restart ends every session: the other idle connections are dead too."""
        with self._pool_lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _run(self, work, *, retry: bool = False):
        """``work(cursor)`` in one transaction on a pooled connection; a driver error becomes a
        LedgerError without the password (and without the driver's exception attached, which may
        hold the URL).

        A pooled connection the server ended while it was idle (idle_session_timeout, a restart:
        AdminShutdown) is replaced and the transaction run again once: always when it failed on
        BEGIN (nothing of ours ran), and for ``retry`` work (reads; a settle, idempotent on its
        row id) when it failed later on a connection that is now closed. A reservation that may
        have committed is never sent twice.
        """
        for attempt in (0, 1):
            error, conn, denied, began, pooled = None, None, False, False, False
            try:
                conn, pooled = self._acquire()
                with conn.transaction():
                    began = True
                    return work(conn.cursor())
            except self._psycopg.Error as exc:
                error = self._scrub(f"{type(exc).__name__}: {exc}".strip())
                denied = isinstance(exc, self._psycopg.errors.InsufficientPrivilege)
                if conn is not None and not conn.closed and conn.info.transaction_status != 0:
                    conn.close()  # not idle after the error: do not hand it out again
                dead = conn is not None and (conn.closed or conn.broken)
                if attempt == 0 and pooled and dead and (retry or not began):
                    self._drop_idle()
                    continue
            finally:
                if conn is not None:
                    self._release(conn)
            raise LedgerError(f"The ledger at {self.where} failed: {error}",
                              hint=DENIED_HINT if denied else HINT, path=self.where)

    @contextmanager
    def _tx(self):
        """One transaction, run once (a ``with`` body cannot be run again: ``_run`` retries)."""
        conn, _ = self._acquire()
        error, denied = None, False
        try:
            with conn.transaction():
                yield conn.cursor()
        except self._psycopg.Error as exc:
            error = self._scrub(f"{type(exc).__name__}: {exc}".strip())
            denied = isinstance(exc, self._psycopg.errors.InsufficientPrivilege)
            if not conn.closed and conn.info.transaction_status != 0:
                conn.close()
            if conn.closed or conn.broken:
                self._drop_idle()
        finally:
            self._release(conn)
        if error is not None:
            raise LedgerError(f"The ledger at {self.where} failed: {error}",
                              hint=DENIED_HINT if denied else HINT, path=self.where)

