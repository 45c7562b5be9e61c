"""While the database is down, the progress API serves the last good figures, marked stale."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy.orm import sessionmaker

from membership import create_app, i18n
from membership.database import make_engine
from tests import stripe_factory as sf
from tests.conftest import SECRET

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/none"  # nothing listens on port 1


def break_database(app) -> None:
    """Point the app at a database that refuses connections, as when the server stops."""
    app.extensions["database.engine"].dispose()
    engine = make_engine(UNREACHABLE)
    app.extensions["database.engine"] = engine
    app.extensions["database.sessions"] = sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
def outage_app(db_url, tmp_path):
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "TESTING": True,
            "PROGRESS_CACHE_SECONDS": 0,
            "STRIPE_WEBHOOK_SECRETS": (SECRET,),
            "PROGRESS_LAST_GOOD_DIR": str(tmp_path / "last-good"),
        }
    )
    from membership.campaigns.settings import create_campaign
    from membership.database import db

    with app.app_context():
        create_campaign(db.session, "drive", 100)
    body, headers = sf.signed(
        sf.checkout_event("cs_1", int(time.time()), customer="cus_1", subscription="sub_1"), SECRET
    )
    assert app.test_client().post("/webhooks/stripe", data=body, headers=headers).status_code == 200
    yield app
    app.extensions["database.engine"].dispose()


def worker_started_during_the_outage(tmp_path):
    """A new worker whose database is unreachable, with outage_app's last-good folder."""
    return create_app(
        {
            "DATABASE_URL": UNREACHABLE,
            "TESTING": True,
            "STRIPE_WEBHOOK_SECRETS": (SECRET,),
            "PROGRESS_LAST_GOOD_DIR": str(tmp_path / "last-good"),
        }
    )


def test_it_serves_the_last_good_count_marked_stale(outage_app):
    client = outage_app.test_client()
    good = client.get("/api/campaigns/drive")
    assert good.get_json()["count"] == 1
    assert good.get_json()["stale"] is False
    break_database(outage_app)
    stale = client.get("/api/campaigns/drive")
    assert stale.status_code == 200
    body = stale.get_json()
    assert (body["count"], body["stale"]) == (1, True)
    assert stale.headers["Cache-Control"] == "public, max-age=5"
    assert stale.headers["ETag"] != good.headers["ETag"]
    assert stale.headers["Access-Control-Allow-Origin"] == "*"


def test_a_worker_started_during_the_outage_serves_what_was_kept_on_disk(outage_app, tmp_path):
    assert outage_app.test_client().get("/api/campaigns/drive").get_json()["count"] == 1
    fresh_worker = worker_started_during_the_outage(tmp_path)
    body = fresh_worker.test_client().get("/api/campaigns/drive").get_json()
    assert (body["count"], body["stale"], body["slug"]) == (1, True, "drive")
    fresh_worker.extensions["database.engine"].dispose()


def test_figures_kept_by_an_older_version_get_the_widgets_words(outage_app, tmp_path):
    outage_app.test_client().get("/api/campaigns/drive")
    kept = tmp_path / "last-good" / "drive.json"
    figures = json.loads(kept.read_bytes())
    del figures["words"]  # as written before the API carried them
    kept.write_text(json.dumps(figures))
    fresh_worker = worker_started_during_the_outage(tmp_path)
    body = fresh_worker.test_client().get("/api/campaigns/drive").get_json()
    assert (body["count"], body["stale"], body["words"]) == (1, True, i18n.COPY)
    fresh_worker.extensions["database.engine"].dispose()


def test_without_any_figures_it_answers_503_with_retry_after(outage_app):
    break_database(outage_app)
    response = outage_app.test_client().get("/api/campaigns/drive")
    assert response.status_code == 503
    assert response.is_json
    assert response.headers["Retry-After"] == "30"
    assert "temporarily unavailable" in response.get_json()["error"]


def test_fresh_figures_return_when_the_database_does(outage_app, db_url):
    client = outage_app.test_client()
    client.get("/api/campaigns/drive")
    break_database(outage_app)
    assert client.get("/api/campaigns/drive").get_json()["stale"] is True
    outage_app.extensions["database.engine"].dispose()
    engine = make_engine(db_url)
    outage_app.extensions["database.engine"] = engine
    outage_app.extensions["database.sessions"] = sessionmaker(engine, expire_on_commit=False)
    body = client.get("/api/campaigns/drive").get_json()
    assert (body["count"], body["stale"]) == (1, False)


def test_webhooks_answer_503_and_readyz_fails_during_the_outage(outage_app):
    break_database(outage_app)
    client = outage_app.test_client()
    body, headers = sf.signed(
        sf.checkout_event("cs_2", int(time.time()), customer="cus_2", subscription="sub_2"), SECRET
    )
    response = client.post("/webhooks/stripe", data=body, headers=headers)
    assert response.status_code == 503
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200
