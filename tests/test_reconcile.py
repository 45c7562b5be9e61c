"""membership/reconcile/: heal a ledger that missed deliveries from Stripe's API.

The official SDK talks over real sockets to tests/fake_stripe.py, which holds the whole of a
realistic stream of events (tests/scenarios.py) and the objects it leaves behind.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from membership.ledger import store
from membership.models import Event, Member, Membership
from membership.sources.stripe import reconcile
from membership.sources.stripe.envelope import parse
from membership.sources.stripe.translate import Settings
from tests import stripe_factory as sf
from tests.conftest import count_of
from tests.fake_stripe import API_KEY, DAY, FakeStripe, objects_from_events, subscription_object
from tests.oracle import expected_counts
from tests.scenarios import realistic

NOW = int(time.time())
NOW_AT = datetime.fromtimestamp(NOW, UTC)
RECENT = NOW - 30 * DAY
NEW_WINDOW = (date.fromtimestamp(NOW - 200 * DAY), None)


class Sleeps(list):
    """Options.sleep that records instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def options(**values: Any) -> reconcile.Options:
    return reconcile.Options(**{"sleep": Sleeps(), **values})


def client_for(fake: FakeStripe, key: str = API_KEY, retries: int = 0) -> Any:
    return reconcile.make_client(key, fake.url, max_network_retries=retries)


def policy_of(app: Any) -> Settings:
    return Settings.from_config(app.config)


def run(session: Any, app: Any, fake: FakeStripe, **values: Any) -> reconcile.Report:
    opts = values.pop("opts", None) or options()
    return reconcile.run(
        session,
        values.pop("policy", None) or policy_of(app),
        values.pop("client", None) or client_for(fake),
        now=NOW_AT,
        options=opts,
        **values,
    )


def deliver_all(deliver: Any, events: list[dict[str, Any]]) -> None:
    for event in events:
        response = deliver(event, timestamp=int(time.time()))
        assert response.status_code == 200, response.get_json()


def stored_events(session: Any) -> int:
    count = session.scalar(select(func.count()).select_from(Event))
    session.rollback()
    return count


def rows(session: Any) -> list[tuple]:
    found = [
        tuple(row)
        for row in session.execute(
            select(
                Membership.key,
                Membership.state,
                Membership.final_at,
                Membership.started_at,
                Membership.active_until,
                Membership.refunded,
            ).order_by(Membership.key)
        )
    ] + [tuple(row) for row in session.execute(select(Member.key, Member.active_until))]
    session.rollback()
    return found


def split_recent(
    events: list[dict[str, Any]], seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every event older than 30 days, and a random half of the recent ones: an outage."""
    rng = random.Random(seed)
    delivered, missed = [], []
    for event in events:
        if event["created"] >= RECENT and rng.random() < 0.5:
            missed.append(event)
        else:
            delivered.append(event)
    return delivered, missed


def make_campaigns(campaign: Any) -> None:
    campaign("drive", goal=100_000)
    campaign("newcomers", goal=100_000, rule="new", starts_on=NEW_WINDOW[0])


def expected(events: list[dict[str, Any]], **values: Any) -> dict[str, int]:
    found = expected_counts(events, NOW_AT, windows={"newcomers": NEW_WINDOW}, **values)
    return {"drive": found["active"], "newcomers": found["new:newcomers"]}


def counts(client: Any) -> dict[str, int]:
    return {slug: count_of(client, slug) for slug in ("drive", "newcomers")}


@pytest.fixture
def stream() -> list[dict[str, Any]]:
    return realistic(11, NOW, readers=80)


@pytest.fixture
def outage(stream, campaign, deliver):
    """A ledger that missed half of the last 30 days' deliveries; Stripe has all of it."""
    make_campaigns(campaign)
    delivered, missed = split_recent(stream, seed=3)
    deliver_all(deliver, delivered)
    subscriptions, sessions = objects_from_events(stream)
    with FakeStripe(NOW, stream, subscriptions, sessions) as fake:
        yield fake, delivered, missed


# --- healing from events ----------------------------------------------------------------------


def test_a_dry_run_reports_the_missed_events_and_changes_nothing(app, client, session, outage):
    fake, delivered, missed = outage
    assert expected(missed + delivered) != expected(delivered), "the outage must matter"
    before_rows, before_events = rows(session), stored_events(session)
    assert counts(client) == expected(delivered)

    report = run(session, app, fake)

    assert not report.applied
    recent_used = [
        e for e in fake.events if e["created"] >= RECENT and e["type"] in reconcile.EVENT_TYPES
    ]
    assert report.events_seen == len(recent_used)
    assert {event_id for event_id, _, _ in report.events_new} == {
        e["id"] for e in missed if e["type"] in reconcile.EVENT_TYPES
    }
    assert report.events_already == report.events_seen - len(report.events_new)
    assert report.synthesised_new == []  # with the events back, every object agrees
    assert {c.slug: (c.before, c.after) for c in report.campaigns} == {
        slug: (expected(delivered)[slug], expected(delivered + missed)[slug])
        for slug in ("drive", "newcomers")
    }
    assert report.changes and report.changed
    assert report.unresolved == [] and report.unreadable == []
    # Nothing written.
    assert rows(session) == before_rows
    assert stored_events(session) == before_events
    assert counts(client) == expected(delivered)


def test_apply_heals_the_ledger_to_the_count_of_the_full_stream(app, client, session, outage):
    fake, delivered, missed = outage
    dry = run(session, app, fake)

    report = run(session, app, fake, apply=True)

    assert report.applied
    assert counts(client) == expected(delivered + missed)
    # The dry run said exactly what apply did.
    assert report.events_new == dry.events_new
    assert report.changes == dry.changes
    assert report.campaigns == dry.campaigns
    stored = {e for e in session.scalars(select(Event.id))}
    assert {e["id"] for e in missed if e["type"] in reconcile.EVENT_TYPES} <= stored


def test_a_second_apply_changes_nothing(app, client, session, outage):
    fake, delivered, missed = outage
    run(session, app, fake, apply=True)
    healed_rows, healed_events = rows(session), stored_events(session)

    again = run(session, app, fake, apply=True)

    assert again.events_new == [] and again.synthesised_new == []
    assert again.events_already == again.events_seen
    assert again.changes == [] and not again.changed
    assert rows(session) == healed_rows
    assert stored_events(session) == healed_events
    assert counts(client) == expected(delivered + missed)


def test_a_healthy_ledger_has_nothing_to_reconcile(app, client, session, stream, campaign, deliver):
    make_campaigns(campaign)
    deliver_all(deliver, stream)
    subscriptions, sessions = objects_from_events(stream)
    with FakeStripe(NOW, stream, subscriptions, sessions) as fake:
        report = run(session, app, fake)
    assert report.events_new == [] and report.synthesised_new == []
    assert not report.changed
    # Checkout sessions older than the one-off term make nobody a member now: not listed.
    listed = [s for s in sessions if s["created"] >= NOW - 366 * DAY]
    assert len(listed) < len(sessions)
    assert report.objects_seen == len(subscriptions) + len(listed)
    assert report.objects_agreeing + report.objects_covered == report.objects_seen


def test_events_a_webhook_failed_to_apply_are_tried_again(app, session, campaign):
    make_campaigns(campaign)
    event = sf.subscription_event("created", "sub_f", "cus_f", "active", NOW - DAY, livemode=True)
    with app.app_context():
        store._store_failure(session, parse(event), "OperationalError: gone", NOW_AT)
        session.commit()
    with FakeStripe(NOW, [event]) as fake:
        report = run(session, app, fake, apply=True)
    assert report.events_new == [(event["id"], event["type"], "applied")]
    assert session.get(Event, ("stripe", event["id"])).outcome == "applied"


# --- healing from objects (state older than Stripe's 30 days of events) -----------------------


def test_objects_heal_what_stripe_no_longer_lists_as_events(
    app, client, session, campaign, deliver
):
    make_campaigns(campaign)
    old = NOW - 90 * DAY
    # The ledger heard nothing of these; Stripe lists no events for them any more.
    active = subscription_object(
        "sub_a", "cus_a", "active", created=old, period_start=NOW - 10 * DAY, livemode=True
    )
    canceled = subscription_object(
        "sub_c", "cus_c", "canceled", created=old, period_start=old, livemode=True,
        ended_at=old + 5 * DAY,
    )  # fmt: skip
    trialing = subscription_object(
        "sub_t", "cus_t", "trialing", created=old, period_start=old, livemode=True,
        trial=(old, NOW + DAY), api="old",
    )  # fmt: skip
    guest = sf.checkout_event("cs_g", old, mode="payment", payment_intent="pi_g", livemode=True)[
        "data"
    ]["object"]
    expired = sf.checkout_event(
        "cs_x", NOW - 400 * DAY, mode="payment", customer="cus_x", livemode=True
    )["data"]["object"]
    with FakeStripe(NOW, [], [active, canceled, trialing], [guest, expired]) as fake:
        dry = run(session, app, fake)
        report = run(session, app, fake, apply=True)
        again = run(session, app, fake, apply=True)

    assert dry.changes == report.changes
    assert {event_id for event_id, _, _ in report.synthesised_new} == {
        f"reconcile:sub_a:active:{NOW - 10 * DAY}",
        f"reconcile:sub_a:start:{old}",
        f"reconcile:sub_c:canceled:{old + 5 * DAY}",
        f"reconcile:sub_t:trialing:{old}",
        f"reconcile:cs_g:paid:{old}",
    }  # cs_x is older than the term: not even listed
    # Active now: sub_a, sub_t and the guest; new since the window: all but the canceled one,
    # which never showed as active.
    assert counts(client) == {"drive": 3, "newcomers": 3}
    assert session.get(Membership, "stripe:sub_a").started_at == datetime.fromtimestamp(old, UTC)
    assert session.get(Membership, "stripe:sub_c").final_at is not None
    assert again.synthesised_new == [] and not again.changed
    assert again.objects_agreeing == 4


def test_a_real_newer_event_wins_over_an_object_and_is_reported(app, session, campaign, deliver):
    make_campaigns(campaign)
    period = NOW - 40 * DAY
    # The ledger saw the subscription fall past due; the "unpaid" that followed was missed and
    # is older than Stripe's 30 days of events. The object cannot say when it went unpaid.
    deliver_all(
        deliver,
        [
            sf.subscription_event(
                "updated", "sub_u", "cus_u", "past_due", period + 3600, livemode=True
            )
        ],
    )
    unpaid = subscription_object(
        "sub_u", "cus_u", "unpaid", created=period - 60 * DAY, period_start=period, livemode=True
    )
    with FakeStripe(NOW, [], [unpaid]) as fake:
        report = run(session, app, fake, apply=True)
    assert report.synthesised_new == [
        (f"reconcile:sub_u:unpaid:{period}", "customer.subscription.updated", "applied")
    ]
    assert len(report.unresolved) == 1
    assert "sub_u" in report.unresolved[0] and "unpaid" in report.unresolved[0]
    assert any("Still different from Stripe" in line for line in report.lines())


def test_a_subscription_created_and_deleted_in_one_second_agrees_with_stripe(
    app, client, session, campaign, deliver
):
    make_campaigns(campaign)
    at = NOW - 5 * DAY
    # The ledger keeps "active" in the state register (the tie goes to active) and the end in
    # final_at; Stripe says canceled. Both mean the same: not a member any more.
    events = [
        sf.subscription_event("created", "sub_tie", "cus_tie", "active", at, livemode=True),
        sf.subscription_event("deleted", "sub_tie", "cus_tie", "canceled", at, livemode=True),
    ]
    deliver_all(deliver, events)
    [subscription], _ = objects_from_events(events)
    assert (subscription["status"], subscription["ended_at"]) == ("canceled", at)
    with FakeStripe(NOW, events, [subscription]) as fake:
        reports = [run(session, app, fake), run(session, app, fake, apply=True)]
        reports.append(run(session, app, fake, apply=True))

    for report in reports:
        assert report.unresolved == []
        assert report.synthesised_new == [] and report.events_new == []
        assert report.objects_agreeing == 1
        assert not report.changed
        assert not any("Still different" in line for line in report.lines())
    assert stored_events(session) == 2
    assert counts(client) == expected(events) == {"drive": 0, "newcomers": 1}


def test_objects_heal_an_old_outage_as_far_as_their_timestamps_tell(
    app, client, session, stream, campaign, deliver
):
    make_campaigns(campaign)
    rng = random.Random(5)
    delivered = [e for e in stream if rng.random() < 0.5]  # half of a whole year missed
    deliver_all(deliver, delivered)
    subscriptions, sessions = objects_from_events(stream)
    with FakeStripe(NOW, stream, subscriptions, sessions) as fake:
        report = run(session, app, fake, apply=True)

    # What the objects cannot tell, among the missed events Stripe no longer lists: when a
    # subscription went unpaid (each such case is reported), and refunds.
    ids = {e["id"] for e in delivered}
    stuck = {line.split()[1] for line in report.unresolved}
    unhealable = [
        e
        for e in stream
        if e["id"] not in ids
        and e["created"] < RECENT
        and (
            (e["type"] == "charge.refunded" and e["data"]["object"]["refunded"])
            or (
                e["data"]["object"].get("status") == "unpaid" and e["data"]["object"]["id"] in stuck
            )
        )
    ]
    assert stuck, "the seed should show the limitation"
    assert all("Stripe says unpaid, the ledger keeps active" in line for line in report.unresolved)
    assert expected(delivered) != expected(stream)
    healed = [e for e in stream if e not in unhealable]
    assert counts(client) == expected(healed)


# --- talking to Stripe ------------------------------------------------------------------------


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_a_listed_event_nested_too_deep_is_reported_and_the_rest_reconciled(
    app, client, session, campaign
):
    make_campaigns(campaign)
    deep = sf.subscription_event("created", "sub_d", "cus_d", "active", NOW - DAY)
    deep["data"]["object"]["deep"] = nested(100)
    fine = sf.subscription_event("created", "sub_f", "cus_f", "active", NOW - DAY)
    with FakeStripe(NOW, [deep, fine]) as fake:
        report = run(session, app, fake, apply=True)
    assert report.unreadable == [f"{deep['id']}: the body is nested too deep (more than 64 levels)"]
    assert report.events_new == [(fine["id"], fine["type"], "applied")]
    assert counts(client)["drive"] == 1


def test_an_answer_nested_hundreds_deep_stops_reconcile_clearly(app, session, campaign):
    make_campaigns(campaign)
    deep = sf.subscription_event("created", "sub_d", "cus_d", "active", NOW - DAY)
    deep["data"]["object"]["deep"] = nested(600)  # beyond the SDK's recursive conversion
    with FakeStripe(NOW, [deep]) as fake:
        try:
            report = run(session, app, fake, apply=True)
        except reconcile.ReconcileError as exc:  # the SDK could not convert it
            assert "nested too deep to read. Nothing was written." in str(exc)
        else:  # an SDK that converts without recursion: the ledger refuses it
            assert report.unreadable == [
                f"{deep['id']}: the body is nested too deep (more than 64 levels)"
            ]
    assert stored_events(session) == 0


def test_it_pages_through_long_lists(app, session, outage):
    fake, delivered, missed = outage
    fake.max_limit = 7
    report = run(session, app, fake)
    pages = [query for path, query, _ in fake.requests if path == "/v1/events"]
    assert len(pages) == -(-report.events_seen // 7) > 3
    assert "starting_after" not in pages[0]
    assert all("starting_after" in query for query in pages[1:])
    assert pages[0]["types[0]"] == [reconcile.EVENT_TYPES[0]]
    assert int(pages[0]["created[gte]"][0]) == RECENT
    assert {event_id for event_id, _, _ in report.events_new} == {
        e["id"] for e in missed if e["type"] in reconcile.EVENT_TYPES
    }


def test_rate_limited_requests_are_retried_with_growing_back_off(app, session, outage):
    fake, delivered, missed = outage
    fake.rate_limited = 4
    sleeps = Sleeps()
    report = run(session, app, fake, opts=options(sleep=sleeps, backoff=1.0, max_backoff=4.0))
    assert fake.statuses()[:5] == [429, 429, 429, 429, 200]
    assert report.retries == 4 and len(sleeps) == 4
    # Exponential with jitter: each wait within [half, all] of 1, 2, 4, 4 seconds.
    for waited, ceiling in zip(sleeps, [1.0, 2.0, 4.0, 4.0], strict=True):
        assert ceiling / 2 <= waited <= ceiling
    assert len(report.events_new) == len([e for e in missed if e["type"] in reconcile.EVENT_TYPES])


def test_the_sdk_retries_a_429_that_stripe_says_to_retry(app, session, campaign):
    make_campaigns(campaign)
    with FakeStripe(NOW) as fake:
        fake.rate_limited, fake.should_retry = 1, "true"
        report = run(
            session, app, fake, client=client_for(fake, retries=1), opts=options(attempts=1)
        )
    assert fake.statuses()[:2] == [429, 200]
    assert report.retries == 0  # the SDK's own retry, within one of our attempts


def test_rate_limits_that_do_not_stop_fail_clearly(app, session, outage):
    fake, delivered, missed = outage
    fake.rate_limited = 10**6
    before = stored_events(session)
    with pytest.raises(
        reconcile.ReconcileError, match=r"gave up listing events after 3 attempts.*429"
    ):
        run(session, app, fake, apply=True, opts=options(attempts=3))
    assert stored_events(session) == before


def test_dropped_connections_are_retried(app, session, outage):
    fake, delivered, missed = outage
    fake.dropped = 2
    report = run(session, app, fake)
    assert fake.statuses()[:3] == [0, 0, 200]
    assert report.retries == 2
    assert len(report.events_new) == len([e for e in missed if e["type"] in reconcile.EVENT_TYPES])


@pytest.mark.parametrize("apply", [False, True])
def test_a_persistent_network_failure_fails_clearly_and_writes_nothing(app, session, outage, apply):
    fake, delivered, missed = outage
    before_rows, before_events = rows(session), stored_events(session)
    # Fail on the last list, after the events and subscriptions were read: still nothing is
    # written, because reconcile reads everything before it writes anything.
    fake.unreachable.add("/v1/checkout/sessions")
    with pytest.raises(reconcile.ReconcileError) as failure:
        run(session, app, fake, apply=apply, opts=options(attempts=3))
    assert "/v1/events" in fake.paths() and "/v1/subscriptions" in fake.paths()
    assert fake.statuses()[-3:] == [0, 0, 0]
    message = str(failure.value)
    assert "gave up listing" in message and "could not connect" in message
    assert "Nothing was written" in message
    assert rows(session) == before_rows
    assert stored_events(session) == before_events


def test_a_network_failure_from_the_start_fails_clearly(app, session, campaign):
    make_campaigns(campaign)
    with FakeStripe(NOW) as fake:
        fake.dropped = 10**6
        with pytest.raises(reconcile.ReconcileError, match="gave up listing events after 2"):
            run(session, app, fake, apply=True, opts=options(attempts=2))
        assert fake.statuses() == [0, 0]
    assert stored_events(session) == 0


def test_a_wrong_api_key_fails_at_once_and_clearly(app, session, campaign):
    make_campaigns(campaign)
    with FakeStripe(NOW) as fake:
        with pytest.raises(reconcile.ReconcileError, match="refused the API key.*STRIPE_API_KEY"):
            run(session, app, fake, client=client_for(fake, key="sk_test_wrong"))
        assert fake.statuses() == [401]


def test_make_client_points_the_sdk_at_the_api_base():
    client = reconcile.make_client("sk_test_x", "http://127.0.0.1:9", max_network_retries=3)
    assert client._requestor.base_addresses["api"] == "http://127.0.0.1:9"
    assert reconcile.make_client("sk_test_x")._requestor.base_addresses["api"] == (
        "https://api.stripe.com"
    )
    with pytest.raises(reconcile.ReconcileError, match="STRIPE_API_KEY"):
        reconcile.make_client("")


# --- the deployment's mode --------------------------------------------------------------------


def test_a_live_deployment_counts_no_test_mode_data(
    app, client, session, stream, campaign, deliver
):
    app.config["STRIPE_LIVEMODE"] = "live"
    make_campaigns(campaign)
    delivered, missed = split_recent(stream, seed=8)
    deliver_all(deliver, delivered)
    test_mode = sf.checkout_event(
        "cs_test_t", NOW - 50 * DAY, customer="cus_test_t", subscription="sub_test_t"
    )
    subscriptions, sessions = objects_from_events(stream + [test_mode])
    with FakeStripe(NOW, stream, subscriptions, sessions) as fake:
        report = run(session, app, fake, apply=True)
    assert counts(client) == expected(stream, livemode="live")
    assert report.objects_other_mode >= 1
    assert not any("test" in event_id for event_id, _, _ in report.synthesised_new)
    ignored = [e for e in report.events_new if e[2] == "ignored"]
    assert {e[0] for e in ignored} >= {
        e["id"] for e in missed if not e["livemode"] and e["type"] in reconcile.EVENT_TYPES
    }


def test_a_test_mode_deployment_counts_no_live_data(app, client, session, stream, campaign):
    app.config["STRIPE_LIVEMODE"] = "test"
    make_campaigns(campaign)
    subscriptions, sessions = objects_from_events(stream)
    with FakeStripe(NOW, stream, subscriptions, sessions) as fake:
        run(session, app, fake, apply=True)
    assert counts(client) == expected(stream, livemode="test")


# --- pieces -----------------------------------------------------------------------------------


def test_a_subscription_status_is_dated_by_its_own_timestamps():
    t = NOW - 100 * DAY
    new = subscription_object(
        "sub_1", "cus_1", "active", created=t, period_start=t + 60 * DAY, livemode=True
    )
    old = subscription_object(
        "sub_1", "cus_1", "past_due", created=t, period_start=t + 30 * DAY, livemode=True,
        api="old",
    )  # fmt: skip
    old["items"]["data"] = []
    ended = subscription_object(
        "sub_1", "cus_1", "canceled", created=t, period_start=t, livemode=True,
        ended_at=t + 5 * DAY,
    )  # fmt: skip
    paused = subscription_object(
        "sub_1", "cus_1", "paused", created=t, period_start=t, livemode=True,
        trial=(t, t + 14 * DAY),
    )  # fmt: skip
    assert reconcile.status_since(new) == t + 60 * DAY
    assert reconcile.status_since(old) == t + 30 * DAY
    assert reconcile.status_since(ended) == t + 5 * DAY
    assert reconcile.status_since(paused) == t + 14 * DAY


def test_synthesised_checkout_events_carry_no_personal_fields():
    obj = sf.checkout_event("cs_p", NOW, mode="payment", customer="cus_p")["data"]["object"]
    obj["customer_details"] = {"email": "reader@example.com", "name": "A Reader"}
    obj["customer_email"] = "reader@example.com"
    event = reconcile.checkout_event(obj)
    assert "reader@example.com" not in str(event)
    assert event["id"] == f"reconcile:cs_p:paid:{NOW}"
    assert parse(event).type == "checkout.session.completed"


def test_the_report_reads_as_sentences(app, session, outage):
    fake, delivered, missed = outage
    lines = run(session, app, fake).lines()
    assert lines[0].startswith("Dry run: nothing was written")
    assert any(line.startswith("Events since") and "new" in line for line in lines)
    assert any(line.startswith("Campaign drive (active):") for line in lines)
    assert any(line.startswith("  membership ") for line in lines)
