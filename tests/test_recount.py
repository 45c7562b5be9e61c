"""membership/recount.py: rebuild the ledger from stored events and say where anything differs."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from membership.ledger import store
from membership.models import FOREVER, Event, Member, Membership, Person
from membership.recount import CampaignCount, Report, recount
from membership.sources.payloads import scrub
from membership.sources.stripe.envelope import PERSONAL_FIELDS
from membership.sources.stripe.translate import Settings, translator
from tests import stripe_factory as sf

T = int(time.time()) - 3600
POLICY = {"stripe": translator(Settings())}


def now() -> datetime:
    return datetime.now(UTC)


def deliver_all(deliver, *events):
    for event in events:
        response = deliver(event)
        assert response.status_code == 200, response.get_json()


def counts(report: Report) -> dict[str, tuple[int, int, int]]:
    return {c.slug: (c.fast, c.slow, c.replayed) for c in report.campaigns}


@pytest.fixture
def ledger_with_members(campaign, deliver):
    campaign("drive", goal=100)
    campaign("newcomers", goal=100, rule="new")
    deliver_all(
        deliver,
        sf.subscription_event("created", "sub_1", "cus_1", "incomplete", T),
        sf.invoice_paid("in_1", "cus_1", "sub_1", T + 1, shape="old"),
        sf.subscription_event("updated", "sub_1", "cus_1", "active", T + 2),
        sf.checkout_event("cs_2", T + 3, customer="cus_2", subscription="sub_2"),
        sf.checkout_event("cs_3", T + 4, mode="payment", customer=None, payment_intent="pi_3"),
        sf.checkout_event("cs_4", T + 5, mode="payment", customer="cus_4", payment_intent="pi_4"),
        sf.charge_refunded("ch_4", "pi_4", T + 6),
        sf.subscription_event("created", "sub_5", "cus_5", "active", T + 7),
        sf.subscription_event("deleted", "sub_5", "cus_5", "canceled", T + 8),
        sf.charge_refunded("ch_9", "pi_9", T + 9, refunded=False),
        sf.other_event("customer.created", T + 10),
    )


def test_a_clean_ledger_reports_clean_with_every_stored_event(session, ledger_with_members):
    report = recount(session, POLICY, now())
    assert report.events == 11
    assert report.unreadable == []
    assert report.differences == []
    assert report.clean
    # active: cus_1, cus_2 and the guest cs_3; new: also cus_5, whose subscription has ended.
    assert counts(report) == {"drive": (3, 3, 3), "newcomers": (4, 4, 4)}
    assert all(c.agrees for c in report.campaigns)


def test_redeliveries_are_one_stored_event(session, campaign, deliver):
    campaign("drive", goal=100)
    event = sf.subscription_event("created", "sub_1", "cus_1", "active", T)
    deliver_all(deliver, event, event, event)
    report = recount(session, POLICY, now())
    assert report.events == 1
    assert report.clean
    assert counts(report) == {"drive": (1, 1, 1)}


def test_an_empty_ledger_is_clean(session, campaign):
    campaign("drive", goal=100)
    report = recount(session, POLICY, now())
    assert (report.events, report.clean) == (0, True)
    assert counts(report) == {"drive": (0, 0, 0)}


def test_a_failed_event_shows_as_missing_from_the_ledger(session, campaign, deliver, monkeypatch):
    campaign("drive", goal=100)
    deliver_all(deliver, sf.subscription_event("created", "sub_1", "cus_1", "active", T))

    def fail(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    with monkeypatch.context() as patch:
        patch.setattr(store, "apply_change", fail)
        response = deliver(sf.checkout_event("cs_2", T + 1, customer="cus_2", subscription="sub_2"))
        assert response.status_code == 500

    report = recount(session, POLICY, now())
    assert report.events == 2
    assert "membership stripe:sub_2: missing from the ledger" in report.differences
    assert "member stripe:cus_2: missing from the ledger" in report.differences
    assert not report.clean
    [drive] = report.campaigns
    assert (drive.fast, drive.slow, drive.replayed) == (1, 1, 2)
    assert not drive.agrees


def test_a_membership_no_event_supports_is_reported(session, ledger_with_members):
    ghost = "stripe:cus_ghost"
    session.add(Person(key=ghost, active_until=FOREVER, first_started_at=now()))
    session.add(
        Member(
            key=ghost,
            source="stripe",
            person_key=ghost,
            active_until=FOREVER,
            first_started_at=now(),
        )
    )
    session.add(
        Membership(
            key="stripe:sub_ghost",
            source="stripe",
            kind="recurring",
            member_key="stripe:cus_ghost",
            state="active",
            state_at=now(),
            state_rank=2,
            state_event_id="evt_none",
            refunded=False,
            started_at=now(),
            active_until=FOREVER,
        )
    )
    session.commit()
    report = recount(session, POLICY, now())
    assert (
        "membership stripe:sub_ghost: in the ledger but no event supports it" in report.differences
    )
    assert "member stripe:cus_ghost: in the ledger but no event supports it" in report.differences
    assert counts(report)["drive"] == (4, 4, 3)


def test_a_changed_membership_field_is_named_with_both_values(session, ledger_with_members):
    membership = session.get(Membership, "stripe:cs_4")
    membership.refunded = False
    session.commit()
    report = recount(session, POLICY, now())
    assert (
        "membership stripe:cs_4: refunded False != True (stored != replayed)" in report.differences
    )
    assert not report.clean


def test_a_tampered_person_makes_the_fast_count_disagree(session, ledger_with_members):
    person = session.get(Person, "stripe:cus_2")  # no fingerprint: the member is its own person
    person.active_until = None
    session.commit()
    report = recount(session, POLICY, now())
    [line] = [d for d in report.differences if d.startswith("person stripe:cus_2:")]
    assert line.startswith("person stripe:cus_2: active_until None != ")
    assert counts(report)["drive"] == (2, 3, 3)
    assert not report.clean


def test_an_unreadable_stored_event_is_reported_not_fatal(session, ledger_with_members):
    session.add(
        Event(
            source="stripe",
            id="evt_garbled",
            type="invoice.paid",
            created=now(),
            livemode=False,
            api_version=None,
            payload="{not json",
            received_at=now(),
            attempts=1,
            duplicates=0,
            outcome="failed",
            detail="",
        )
    )
    session.commit()
    report = recount(session, POLICY, now())
    assert report.events == 12
    [line] = report.unreadable
    assert line.startswith("evt_garbled: ")
    assert report.differences == []
    assert counts(report)["drive"] == (3, 3, 3)


def test_the_replay_uses_the_deployments_livemode_policy(session, campaign, deliver):
    campaign("drive", goal=100)
    deliver_all(
        deliver, sf.subscription_event("created", "sub_1", "cus_1", "active", T, livemode=False)
    )
    # The deployment now counts live mode only: the stored test-mode membership has no support.
    report = recount(session, {"stripe": translator(Settings(livemode="live"))}, now())
    assert "membership stripe:sub_1: in the ledger but no event supports it" in report.differences
    assert counts(report)["drive"] == (1, 1, 0)


def test_counts_are_taken_at_the_given_moment(session, campaign, deliver):
    campaign("drive", goal=100)
    deliver_all(
        deliver,
        sf.checkout_event("cs_1", T, mode="payment", customer="cus_1", payment_intent="pi_1"),
    )
    later = now() + timedelta(days=400)  # past the 365-day term
    report = recount(session, POLICY, later)
    assert report.clean
    assert counts(report) == {"drive": (0, 0, 0)}


def test_recount_leaves_the_session_usable_and_changes_nothing(session, ledger_with_members):
    before = {m.key: (m.active_until, m.first_started_at) for m in session.query(Member)}
    recount(session, POLICY, now())
    assert not session.in_transaction()
    after = {m.key: (m.active_until, m.first_started_at) for m in session.query(Member)}
    assert after == before


def test_a_campaign_count_agrees_only_when_all_three_routes_agree():
    assert CampaignCount("x", "active", 3, 3, 3).agrees
    assert not CampaignCount("x", "active", 3, 3, 2).agrees
    assert not CampaignCount("x", "active", 2, 3, 3).agrees


def test_the_stored_payload_is_what_the_replay_reads(session, campaign, deliver):
    campaign("drive", goal=100)
    event = sf.invoice_paid("in_1", "cus_1", "sub_1", T)
    deliver_all(deliver, event)
    stored = session.get(Event, ("stripe", event["id"]))
    assert json.loads(stored.payload) == scrub(event, PERSONAL_FIELDS)
    assert recount(session, POLICY, now()).clean
