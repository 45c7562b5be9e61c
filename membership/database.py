"""Engines and per-request sessions.

Plain SQLAlchemy rather than Flask-SQLAlchemy: the models and the ledger stay free of Flask
(the CLI, recount and tests use them without an app), and the hot read path carries no
extension machinery. Flask-Migrate only needs ``.engine`` and ``.metadata`` from this object.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from .ledger.locks import WRITE_OPTION
from .models import Base


def make_engine(url: str, *, sqlite_busy_timeout_ms: int = 15000, **options: Any) -> Engine:
    """An engine with the settings each database needs for concurrent webhook writers."""
    parsed = make_url(url)
    # Errors are logged; the values in a failed statement are readers' data, not for logs.
    options.setdefault("hide_parameters", True)
    if parsed.get_backend_name() != "sqlite":
        # pre_ping: a database restart must cost one retried checkout, not a failed request.
        options.setdefault("pool_pre_ping", True)
        # Fail fast when the server is unreachable: the caller answers 503 or stale figures.
        return create_engine(url, connect_args={"connect_timeout": 5}, **options)

    # A "file:" database is a SQLite URI (e.g. ?mode=ro): its folder is not ours to create.
    if (
        parsed.database
        and parsed.database != ":memory:"
        and not parsed.database.startswith("file:")
    ):
        os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False}, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We emit BEGIN ourselves (below); pysqlite's own transaction handling would defer it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL: readers never wait for the webhook writer, and the writer never waits for them.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(sqlite_busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes the lock at BEGIN and so waits its turn on the busy timeout; a
        # deferred transaction that later upgrades to a write would fail at once instead.
        write = connection.get_execution_options().get(WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class Database:
    """Binds an engine to each app and a session to each app context."""

    metadata = Base.metadata

    def init_app(self, app: Flask) -> None:
        engine = make_engine(
            app.config["DATABASE_URL"],
            sqlite_busy_timeout_ms=app.config.get("SQLITE_BUSY_TIMEOUT_MS", 15000),
        )
        app.extensions["database"] = self
        app.extensions["database.engine"] = engine
        app.extensions["database.sessions"] = sessionmaker(engine, expire_on_commit=False)
        app.teardown_appcontext(self._close_session)

    @property
    def engine(self) -> Engine:
        return current_app.extensions["database.engine"]

    @property
    def session(self) -> Session:
        """The session of the current app context, opened on first use."""
        if "db_session" not in g:
            g.db_session = current_app.extensions["database.sessions"]()
        return g.db_session

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


db = Database()
