"""The public API against its own OpenAPI document, fuzzed with Schemathesis.

Every generated request (absurd slugs, odd query strings, any header values) must get an
answer the document allows: never a 5xx, always a documented status and a conforming body.
The app is built at import time because Schemathesis reads the document when it collects the
tests (its fixture-based loader does not support this pytest version).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from membership import create_app
from membership.campaigns.settings import create_campaign
from membership.database import db, make_engine
from membership.models import Base


def _app():
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='fuzz-')) / 'fuzz.sqlite3'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "TESTING": True, "STRIPE_WEBHOOK_SECRETS": ()})
    with app.app_context():
        create_campaign(
            db.session,
            "drive",
            25_000,
            title="Drive",
            headline="<b>Bold</b>",
            message="Help",
            cta_label="Join",
            cta_url="https://news.example/join",
        )
    return app


APP = _app()
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_public_api_keeps_its_documented_promises(case):
    case.call_and_validate()


def test_the_document_is_served_and_describes_the_progress_endpoint():
    response = APP.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    assert "/api/campaigns/{slug}" in document["paths"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
