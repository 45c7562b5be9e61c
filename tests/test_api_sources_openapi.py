"""The membership API against its OpenAPI document: the document validates, and generated
PUTs (any path, body and header values, with a live token of the source) get only documented
answers, never a 5xx. Built at import time, as tests/test_openapi_fuzz.py explains."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import func, select

from membership import create_app
from membership.accounts import audit
from membership.database import db, make_engine
from membership.models import Base, Event
from membership.sources.api import tokens

KEY = b"identity-key-for-the-membership-api-fuzz"


def _app():
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='api-fuzz-')) / 'fuzz.sqlite3'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "TESTING": True, "STRIPE_WEBHOOK_SECRETS": ()})
    app.config["IDENTITY_KEY"] = KEY
    app.config["API_SOURCES_RATE_LIMIT"] = "100000 per minute"
    with app.app_context():
        _row, token = tokens.create(db.session, "api-crm", audit.CLI)
    return app, token


APP, TOKEN = _app()
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", APP).include(
    operation_id="putMembership"
)


@schema.parametrize()
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_membership_api_keeps_its_documented_promises(case):
    case.path_parameters = {**(case.path_parameters or {}), "source": "api-crm"}
    # Schema-valid bodies may still break rules JSON Schema cannot say (ends_at after
    # started_at, updated_at not in the future): refused with the documented 422, so the
    # "valid data is accepted" check is left out; every other check stands.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"}, excluded_checks=[positive_data_acceptance]
    )


def test_the_document_validates_and_describes_the_put_with_bearer_auth():
    document = APP.test_client().get("/api/openapi.json").get_json()
    schemathesis.openapi.from_dict(document).validate()
    operation = document["paths"]["/api/sources/{source}/memberships/{external_id}"]["put"]
    assert operation["security"] == [{"sourceToken": []}]
    assert document["components"]["securitySchemes"]["sourceToken"]["scheme"] == "bearer"
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["properties"]) == {
        "email", "member", "status", "started_at", "ends_at", "updated_at"
    }  # fmt: skip
    assert {"401", "403", "404", "413", "415", "422", "429", "503"} <= set(operation["responses"])


def test_nothing_the_fuzzer_sent_was_stored_as_failed():
    # Runs after the fuzzing above (same module, file order): whatever it sent was either
    # refused before storing or stored and applied, never half-understood.
    with APP.app_context():
        failed = db.session.scalar(
            select(func.count()).select_from(Event).where(Event.outcome == "failed")
        )
    assert failed == 0
