"""PUT /api/sources/<source>/memberships/<external_id>: tokens, bodies, order and answers.

Real parts throughout: the app, its database (SQLite, or PostgreSQL with TEST_DATABASE_URL),
the CLI. Every refusal is checked to have stored nothing.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from membership import create_app
from membership.database import db
from membership.ledger.identity import fingerprint
from membership.models import AuditEntry, Event, Membership, SourceToken
from tests import stripe_factory as sf
from tests.conftest import POSTGRES_URL, count_of

KEY = b"identity-key-for-the-membership-api-tests"
NOW = datetime.now(UTC).replace(microsecond=0)
URL = "/api/sources/api-crm/memberships/{}"


@pytest.fixture
def api_app(app):
    app.config["IDENTITY_KEY"] = KEY
    return app


def make_token(app, source: str = "crm") -> str:
    result = app.test_cli_runner().invoke(args=["sources", "token", "create", source])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()[1]


@pytest.fixture
def token(api_app) -> str:
    return make_token(api_app)


def body(**fields):
    values = {
        "email": "olena@example.org",
        "status": "active",
        "started_at": (NOW - timedelta(days=30)).isoformat(),
        "updated_at": (NOW - timedelta(days=1)).isoformat(),
    }
    values.update(fields)
    return {k: v for k, v in values.items() if v is not None}


def put(client, token, external_id="m1", payload=None, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.put(URL.format(external_id), json=payload or body(), headers=headers, **kw)


def stored(app) -> tuple[int, int]:
    with app.app_context():
        events = db.session.scalar(select(func.count()).select_from(Event))
        memberships = db.session.scalar(select(func.count()).select_from(Membership))
        db.session.rollback()
        return events, memberships


def test_a_put_is_applied_once_and_answered_with_the_membership_now(api_app, client, token):
    first = put(client, token)
    assert first.status_code == 200, first.json
    assert first.json["membership"] == "api-crm:m1"
    assert first.json["outcome"] == "applied"
    assert first.json["state"]["status"] == "active"
    assert first.json["state"]["counted_now"] is True
    # The same body again, even written in another time zone, is the same event.
    shifted = body(
        updated_at=(NOW - timedelta(days=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    again = put(client, token, payload=shifted)
    assert again.json["outcome"] == "duplicate"
    assert again.json["event_id"] == first.json["event_id"]
    assert stored(api_app) == (1, 1)


def test_the_email_is_kept_only_as_its_fingerprint(api_app, client, token):
    put(client, token, payload=body(email="Olena@Example.org "))
    with api_app.app_context():
        event = db.session.scalars(select(Event)).one()
        assert "olena" not in event.payload.lower()
        assert event.identity == fingerprint("olena@example.org", KEY)


def test_the_newest_updated_at_wins_whatever_the_order(api_app, client, token, campaign):
    campaign()
    newer = body(status="lapsed", updated_at=(NOW - timedelta(hours=1)).isoformat())
    older = body(status="active", updated_at=(NOW - timedelta(days=2)).isoformat())
    assert put(client, token, payload=newer).json["outcome"] == "applied"
    late = put(client, token, payload=older)
    assert late.json["outcome"] == "ignored"
    assert late.json["state"]["status"] == "lapsed"
    assert count_of(client) == 0


def test_at_the_same_updated_at_active_wins_over_lapsed_in_either_order(
    api_app, client, token, campaign
):
    campaign()
    at = (NOW - timedelta(hours=3)).isoformat()
    for first, second, external_id in (("active", "lapsed", "a"), ("lapsed", "active", "b")):
        put(
            client,
            token,
            external_id,
            body(status=first, updated_at=at, email=None, member=external_id),
        )
        answer = put(
            client,
            token,
            external_id,
            body(status=second, updated_at=at, email=None, member=external_id),
        )
        assert answer.json["state"]["status"] == "active", (first, second)
    assert count_of(client) == 2


def test_an_end_date_ends_the_membership(api_app, client, token, campaign):
    campaign()
    answer = put(client, token, payload=body(ends_at=(NOW - timedelta(hours=1)).isoformat()))
    assert answer.json["state"]["counted_now"] is False
    assert count_of(client) == 0


def test_a_reader_in_stripe_and_the_api_counts_once(api_app, client, token, deliver, campaign):
    campaign()
    at = int((NOW - timedelta(days=3)).timestamp())
    checkout = sf.checkout_event(
        "cs_1", at, customer="cus_1", subscription="sub_1", email="OLENA@example.org"
    )
    assert deliver(checkout).status_code == 200
    assert put(client, token).status_code == 200
    assert count_of(client) == 1


def test_a_member_key_joins_memberships_and_cannot_change(api_app, client, token, campaign):
    campaign()
    put(client, token, "m1", body(email=None, member="person-7"))
    put(client, token, "m2", body(email=None, member="person-7"))
    assert count_of(client) == 1
    moved = put(client, token, "m2", body(email=None, member="person-8"))
    assert moved.status_code == 409
    assert moved.json["field"] == "member"
    assert stored(api_app) == (2, 2)


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "no token"),
        ({"Authorization": "Bearer mk_not-a-token"}, "not a token of ours"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "not a bearer token"),
    ],
)
def test_a_put_without_a_live_token_is_refused_and_changes_nothing(
    api_app, client, token, headers, why
):
    answer = client.put(URL.format("m1"), json=body(), headers=headers)
    assert answer.status_code == 401, why
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert stored(api_app) == (0, 0)


def test_a_revoked_token_is_refused_at_once(api_app, client, token):
    runner = api_app.test_cli_runner()
    listed = runner.invoke(args=["sources", "token", "list"]).output
    token_id = listed.split()[0]
    assert runner.invoke(args=["sources", "token", "revoke", token_id]).exit_code == 0
    assert put(client, token).status_code == 401
    assert stored(api_app) == (0, 0)


def test_another_sources_token_is_forbidden_and_an_unknown_source_not_found(api_app, client, token):
    other = make_token(api_app, "app-store")
    assert put(client, other).status_code == 403
    unknown = client.put(
        "/api/sources/api-piano/memberships/m1",
        json=body(),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert unknown.status_code == 404
    assert client.put("/api/sources/stripe/memberships/m1", json=body()).status_code == 404
    assert stored(api_app) == (0, 0)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "active", "started_at": "2026-01-01T00:00:00Z"}, "email"),
        (body(email="not an address"), "email"),
        (body(email=None, member=""), "member"),
        (body(member="x" * 201), "member"),
        (body(status="paused"), "status"),
        (body(started_at="yesterday"), "started_at"),
        (body(started_at="2026-01-01T00:00:00"), "started_at"),
        (body(updated_at=None), "updated_at"),
        (body(updated_at=(NOW + timedelta(days=1)).isoformat()), "updated_at"),
        (body(ends_at=(NOW - timedelta(days=60)).isoformat()), "ends_at"),
        (body(plan="gold"), "plan"),
        ([body()], "body"),
    ],
)
def test_a_bad_body_is_refused_naming_its_field(api_app, client, token, payload, field):
    answer = put(client, token, payload=payload)
    assert answer.status_code == 422, answer.json
    assert answer.json["field"] == field
    assert stored(api_app) == (0, 0)


def test_bodies_that_are_not_json_are_refused(api_app, client, token):
    auth = {"Authorization": f"Bearer {token}"}
    as_text = client.put(URL.format("m1"), data=json.dumps(body()), headers=auth)
    assert as_text.status_code == 415
    broken = client.put(
        URL.format("m1"), data=b"{", headers=auth | {"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json["field"] == "body"
    huge = client.put(
        URL.format("m1"),
        data=b'{"x": "' + b"a" * (1024 * 1024) + b'"}',
        headers=auth | {"Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    assert stored(api_app) == (0, 0)


def test_tokens_are_stored_hashed_shown_once_and_audited(api_app, token):
    runner = api_app.test_cli_runner()
    listed = runner.invoke(args=["sources", "token", "list"]).output
    assert token not in listed and token[:7] in listed
    with api_app.app_context():
        row = db.session.scalars(select(SourceToken)).one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in json.dumps([row.hint, row.source, row.created_by])
        actions = [e.action for e in db.session.scalars(select(AuditEntry))]
    assert actions == ["source_token.created"]
    runner.invoke(args=["sources", "token", "revoke", str(row.id)])
    runner.invoke(args=["sources", "token", "revoke", str(row.id)])  # twice: logged once
    with api_app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEntry))]
    assert actions == ["source_token.created", "source_token.revoked"]
    assert runner.invoke(args=["sources", "token", "create", "Not A Name!"]).exit_code == 2
    assert runner.invoke(args=["sources", "token", "revoke", "999"]).exit_code == 1


def test_recount_and_forget_cover_api_memberships(api_app, client, token, deliver, campaign):
    campaign()
    at = int((NOW - timedelta(days=3)).timestamp())
    deliver(
        sf.checkout_event(
            "cs_1", at, customer="cus_1", subscription="sub_1", email="olena@example.org"
        )
    )
    put(client, token, "m1")
    put(
        client,
        token,
        "m1",
        body(status="lapsed", updated_at=(NOW - timedelta(hours=2)).isoformat()),
    )
    put(client, token, "m2", body(email="mykola@example.org"))
    assert count_of(client) == 2
    runner = api_app.test_cli_runner()
    recount = runner.invoke(args=["recount"])
    assert recount.exit_code == 0, recount.output
    put(
        client,
        token,
        "m1",
        body(status="active", updated_at=(NOW - timedelta(hours=1)).isoformat()),
    )
    assert count_of(client) == 2  # Olena's Stripe and API memberships are one reader
    forgot = runner.invoke(args=["members", "forget", "olena@example.org"])
    assert forgot.exit_code == 0, forgot.output
    assert count_of(client) == 3  # now counted apart
    with api_app.app_context():
        linked = db.session.scalar(
            select(func.count()).select_from(Event).where(Event.identity.is_not(None))
        )
    assert linked == 1  # only Mykola's


def test_the_rate_limit_answers_429_per_token(api_app, client, token):
    api_app.config["API_SOURCES_RATE_LIMIT"] = "3 per minute"
    answers = [put(client, token, f"m{n}").status_code for n in range(4)]
    assert answers == [200, 200, 200, 429]
    other = make_token(api_app)
    assert put(client, other, "m9").status_code == 200  # another token has its own allowance


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's read-only file")
def test_a_database_that_cannot_store_answers_503_and_keeps_nothing(api_app, db_url, token):
    path = make_url(db_url).database
    read_only = create_app(
        {"DATABASE_URL": f"sqlite:///file:{path}?mode=ro&uri=true", "TESTING": True}
    )
    read_only.config["IDENTITY_KEY"] = KEY
    try:
        answer = put(read_only.test_client(), token)
        assert answer.status_code == 503, answer.json
        assert answer.headers["Retry-After"]
    finally:
        read_only.extensions["database.engine"].dispose()
    assert stored(api_app) == (0, 0)
    assert put(api_app.test_client(), token).json["outcome"] == "applied"
