"""GET /api/campaigns/<slug>: the figures, caching headers, ETags and CORS."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest

from membership import create_app, i18n
from membership.campaigns import progress, public_fields, windows
from membership.campaigns.settings import add_adjustment, get_campaign, update_campaign
from membership.web import progress_cache
from tests import stripe_factory as sf
from tests.conftest import SECRET

T = int(time.time()) - 60


def signups(deliver, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        response = deliver(
            sf.checkout_event(f"cs_{i}", T, customer=f"cus_{i}", subscription=f"sub_{i}")
        )
        assert response.status_code == 200


def test_it_serves_the_documented_fields_in_order(client, campaign, deliver):
    campaign(
        goal=25_000,
        title="Drive 2025",
        starts_on=date(2025, 1, 1),
        deadline=date(2099, 12, 31),
        locale="uk",
    )
    signups(deliver, 3)
    response = client.get("/api/campaigns/drive")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    # The one list of public fields, which the OpenAPI document is built from too.
    assert tuple(body) == public_fields.NAMES
    document = client.get("/api/openapi.json").get_json()
    progress_schema = document["paths"]["/api/campaigns/{slug}"]["get"]["responses"]["200"]
    assert list(body) == progress_schema["content"]["application/json"]["schema"]["required"]
    assert body["slug"] == "drive"
    assert body["title"] == "Drive 2025"
    assert (body["count"], body["goal"], body["remaining"]) == (3, 25_000, 24_997)
    assert body["percent"] == 0.0
    assert body["status"] == "active"
    assert (body["starts_at"], body["deadline"]) == ("2025-01-01", "2099-12-31")
    assert body["headline"] == "Quality journalism takes work."
    assert body["cta_url"] == "https://news.example/join"
    assert body["locale"] == "uk"
    # The widget's UI words come with the figures: membership/i18n.py is their only source.
    assert body["words"] == i18n.COPY
    assert datetime.strptime(body["updated_at"], "%Y-%m-%dT%H:%M:%SZ")


def test_it_shows_no_personal_data(client, campaign, deliver):
    campaign()
    signups(deliver, 2)
    text = client.get("/api/campaigns/drive").get_data(as_text=True)
    for private in ("cus_", "sub_", "cs_", "evt_", "@"):
        assert private not in text


def test_it_sends_a_wildcard_origin_without_vary(client, campaign):
    campaign()
    for headers in ({}, {"Origin": "https://news.example"}):
        response = client.get("/api/campaigns/drive", headers=headers)
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Vary" not in response.headers
        assert "Access-Control-Allow-Credentials" not in response.headers


def test_it_sends_the_configured_cache_control(db_url):
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "TESTING": True,
            "PROGRESS_MAX_AGE": 7,
            "PROGRESS_STALE_WHILE_REVALIDATE": 70,
            "PROGRESS_STALE_IF_ERROR": 700,
            "STRIPE_WEBHOOK_SECRETS": (SECRET,),
        }
    )
    from membership.campaigns.settings import create_campaign
    from membership.database import db

    with app.app_context():
        create_campaign(db.session, "drive", 10)
    response = app.test_client().get("/api/campaigns/drive")
    assert response.headers["Cache-Control"] == (
        "public, max-age=7, stale-while-revalidate=70, stale-if-error=700"
    )
    app.extensions["database.engine"].dispose()


def test_it_answers_304_to_a_matching_strong_etag(client, campaign):
    campaign()
    first = client.get("/api/campaigns/drive")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = client.get("/api/campaigns/drive", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Access-Control-Allow-Origin"] == "*"
    listed = client.get("/api/campaigns/drive", headers={"If-None-Match": f'"nope", {etag}'})
    assert listed.status_code == 304
    assert client.get("/api/campaigns/drive", headers={"If-None-Match": "*"}).status_code == 304


@pytest.mark.parametrize("value", ['"other"', "garbage", 'W/"', ",,,", '"' * 300])
def test_it_answers_200_to_an_etag_that_does_not_match(client, campaign, value):
    campaign()
    response = client.get("/api/campaigns/drive", headers={"If-None-Match": value})
    assert response.status_code == 200
    assert response.get_json()["slug"] == "drive"


def test_the_etag_stays_put_between_changes_and_moves_with_one(
    app, client, campaign, deliver, monkeypatch
):
    campaign()
    signups(deliver, 1)
    first = client.get("/api/campaigns/drive")
    # Hours later, another worker counts the same ledger afresh: the figures, updated_at and
    # so the ETag must not tick by themselves, or every CDN and browser revalidation would
    # download the body again.
    later = datetime.now(UTC) + timedelta(hours=3)
    monkeypatch.setattr(progress_cache, "wall_clock", lambda: later)
    app.extensions.pop("progress_cache")
    counted_at = []
    real_compute = progress.compute
    monkeypatch.setattr(
        progress, "compute", lambda s, c, now: counted_at.append(now) or real_compute(s, c, now)
    )
    second = client.get("/api/campaigns/drive")
    assert counted_at == [later]
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.get_json()["updated_at"] == first.get_json()["updated_at"]
    signups(deliver, 1, start=1)
    third = client.get("/api/campaigns/drive", headers={"If-None-Match": first.headers["ETag"]})
    assert third.status_code == 200
    assert third.get_json()["count"] == 2
    assert third.headers["ETag"] != first.headers["ETag"]


def test_an_ignored_or_duplicate_event_does_not_move_the_etag(client, campaign, deliver):
    campaign()
    event = sf.checkout_event("cs_1", T, customer="cus_1", subscription="sub_1")
    deliver(event)
    etag = client.get("/api/campaigns/drive").headers["ETag"]
    deliver(event)
    deliver(sf.other_event("customer.created", T))
    # An event that changes nothing about any member (a second paid invoice) neither.
    deliver(sf.invoice_paid("in_1", "cus_1", "sub_1", T + 5))
    assert client.get("/api/campaigns/drive").headers["ETag"] == etag


def test_head_answers_the_headers_without_a_body(client, campaign):
    campaign()
    response = client.head("/api/campaigns/drive")
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["ETag"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("slug", ["nope", "UPPER", "a" * 65, "-dash", "x%00y", "..", "a.b"])
def test_an_unknown_or_absurd_slug_gets_a_json_404(client, campaign, slug):
    campaign()
    response = client.get(f"/api/campaigns/{slug}")
    assert response.status_code == 404
    assert response.get_json() == {"error": "no such campaign"}
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_query_strings_change_nothing(client, campaign):
    campaign()
    plain = client.get("/api/campaigns/drive")
    odd = client.get("/api/campaigns/drive?callback=alert(1)&count=999999")
    assert odd.status_code == 200
    assert odd.data == plain.data


def test_other_methods_are_refused_with_json(client, campaign):
    campaign()
    for method in ("post", "put", "delete", "patch"):
        response = getattr(client, method)("/api/campaigns/drive")
        assert response.status_code == 405
        assert response.is_json


def test_percent_has_one_decimal_and_is_not_capped(client, campaign, session):
    campaign(goal=3, baseline=2)
    assert client.get("/api/campaigns/drive").get_json()["percent"] == 66.7
    add_adjustment(session, get_campaign(session, "drive"), 2, "Festival sign-ups", "desk")
    body = client.get("/api/campaigns/drive").get_json()
    assert (body["count"], body["percent"], body["remaining"], body["status"]) == (
        4,
        133.3,
        0,
        "reached",
    )


def test_a_count_never_goes_below_zero(client, campaign, session):
    campaign(goal=10)
    add_adjustment(session, get_campaign(session, "drive"), -5, "Test removal", "desk")
    body = client.get("/api/campaigns/drive").get_json()
    assert (body["count"], body["percent"], body["remaining"]) == (0, 0.0, 10)


def test_status_follows_the_calendar_and_the_goal(session, campaign):
    drive = campaign(goal=10, starts_on=date(2025, 1, 1), deadline=date(2025, 12, 31))
    drive = get_campaign(session, "drive")
    at = lambda *args: datetime(*args, tzinfo=UTC)  # noqa: E731
    assert windows.status(drive, 0, at(2024, 12, 31, 23, 59, 59)) == "upcoming"
    assert windows.status(drive, 50, at(2024, 12, 31)) == "upcoming"
    assert windows.status(drive, 0, at(2025, 1, 1)) == "active"
    assert windows.status(drive, 10, at(2025, 6, 1)) == "reached"
    assert windows.status(drive, 9, at(2025, 12, 31, 23, 59, 59)) == "active"
    assert windows.status(drive, 9, at(2026, 1, 1)) == "ended"
    assert windows.status(drive, 12, at(2026, 1, 1)) == "reached"


def test_figures_say_when_the_calendar_will_change_them(session, campaign):
    campaign(goal=10, starts_on=date(2030, 1, 1), deadline=date(2030, 12, 31))
    drive = get_campaign(session, "drive")
    now = datetime(2029, 6, 1, tzinfo=UTC)
    figures = progress.compute(session, drive, now)
    assert figures.status == "upcoming"
    assert figures.valid_until == datetime(2030, 1, 1, tzinfo=UTC)


def test_a_settings_change_shows_at_once(client, campaign, session):
    campaign(goal=10)
    etag = client.get("/api/campaigns/drive").headers["ETag"]
    update_campaign(session, "drive", goal=20, headline="Halfway there")
    response = client.get("/api/campaigns/drive")
    assert response.get_json()["goal"] == 20
    assert response.get_json()["headline"] == "Halfway there"
    assert response.headers["ETag"] != etag


def test_a_worker_reuses_its_rendered_figures_for_the_cache_period(db_url, monkeypatch):
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "TESTING": True,
            "PROGRESS_CACHE_SECONDS": 3600,
            "STRIPE_WEBHOOK_SECRETS": (SECRET,),
        }
    )
    from membership.campaigns.settings import create_campaign
    from membership.database import db

    with app.app_context():
        create_campaign(db.session, "drive", 10)
    client = app.test_client()
    assert client.get("/api/campaigns/drive").get_json()["count"] == 0

    calls = []
    real_compute = progress.compute
    monkeypatch.setattr(progress, "compute", lambda *a: calls.append(a) or real_compute(*a))
    for _ in range(50):
        client.get("/api/campaigns/drive")
    assert calls == []  # not a single recount within the cache period
    body, headers = sf.signed(
        sf.checkout_event("cs_1", T, customer="cus_1", subscription="sub_1"), SECRET
    )
    client.post("/webhooks/stripe", data=body, headers=headers)
    # Within the period the worker may serve the previous figure, never a wrong one.
    assert client.get("/api/campaigns/drive").get_json()["count"] == 0
    started = progress_cache.clock()
    monkeypatch.setattr(progress_cache, "clock", lambda: started + 3600)  # the period has passed
    assert client.get("/api/campaigns/drive").get_json()["count"] == 1
    assert len(calls) == 1
    for _ in range(20):
        client.get("/api/campaigns/drive")
    assert len(calls) == 1  # unchanged ledger: checked, not recounted
    app.extensions["database.engine"].dispose()


def test_a_cached_figure_ends_when_a_one_off_membership_runs_out(
    app, campaign, deliver, monkeypatch
):
    campaign(goal=10)
    paid = datetime.now(UTC).replace(microsecond=0) - timedelta(days=300)
    deliver(
        sf.checkout_event(
            "cs_1", int(paid.timestamp()), mode="payment", customer="cus_1", payment_intent="pi_1"
        )
    )
    cache = progress_cache.ProgressCache(ttl_seconds=3600)
    with app.test_request_context():
        entry = cache.get("drive")
        assert entry.figures["count"] == 1
        assert entry.valid_until == paid + timedelta(days=365)
        # Even inside the cache period, the figure is not served past its expiry.
        later = paid + timedelta(days=365, seconds=1)
        monkeypatch.setattr(progress_cache, "wall_clock", lambda: later)
        assert cache.get("drive").figures["count"] == 0
