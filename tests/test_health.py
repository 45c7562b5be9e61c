"""GET /healthz (the process serves) and GET /readyz (the database answers)."""

from __future__ import annotations

import logging
import shutil

import pytest

from membership import create_app

UNREACHABLE_POSTGRES = "postgresql://postgres@127.0.0.1:1/none"  # port 1 refuses


def app_on(url: str):
    return create_app({"DATABASE_URL": url, "TESTING": True, "STRIPE_WEBHOOK_SECRETS": ()})


@pytest.fixture
def postgres_down():
    app = app_on(UNREACHABLE_POSTGRES)
    yield app
    app.extensions["database.engine"].dispose()


@pytest.fixture
def sqlite_gone(tmp_path):
    """An app whose SQLite file sits in a directory that was replaced by a plain file."""
    folder = tmp_path / "data"
    app = app_on(f"sqlite:///{folder / 'membership.sqlite3'}")
    shutil.rmtree(folder)
    folder.write_text("not a directory")
    yield app
    app.extensions["database.engine"].dispose()


def test_healthz_answers_200_and_is_never_cached(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_answers_200_while_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_answers_200_again_and_again(client):
    # The probe's transaction is closed each time; nothing piles up on the session.
    assert [client.get("/readyz").status_code for _ in range(5)] == [200] * 5


@pytest.mark.parametrize("down", ["postgres_down", "sqlite_gone"])
def test_readyz_answers_503_when_the_database_is_unreachable(down, request):
    app = request.getfixturevalue(down)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("down", ["postgres_down", "sqlite_gone"])
def test_healthz_still_answers_200_when_the_database_is_unreachable(down, request):
    app = request.getfixturevalue(down)
    client = app.test_client()
    assert client.get("/readyz").status_code == 503
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_logs_why_it_is_not_ready_without_the_connection_details(postgres_down, caplog):
    with caplog.at_level(logging.WARNING, logger="membership.web.health"):
        postgres_down.test_client().get("/readyz")
    assert "readyz: database unreachable: OperationalError" in caplog.text
    assert "127.0.0.1:1" not in caplog.text


def test_readyz_stays_503_on_every_probe_while_the_database_is_down(postgres_down):
    client = postgres_down.test_client()
    assert [client.get("/readyz").status_code for _ in range(3)] == [503] * 3


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_the_probes_answer_head(client, path):
    assert client.head(path).status_code == 200
