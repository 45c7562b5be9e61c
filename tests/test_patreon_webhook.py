"""POST /webhooks/patreon: signatures, the member read back, what is stored, and what counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from membership import sources
from membership.ledger.identity import fingerprint
from membership.ledger.rules import current_state
from membership.models import Event, Member, Membership
from membership.recount import recount
from membership.sources.patreon import translate as patreon_translate
from tests import patreon_factory, stripe_factory
from tests.conftest import SECRET as STRIPE_SECRET
from tests.conftest import count_of
from tests.fake_patreon import CAMPAIGN
from tests.patreon_factory import IDENTITY_KEY, SECRET, member, signed

patreon, deliver = patreon_factory.patreon, patreon_factory.deliver
FIXTURES = Path(__file__).parent / "fixtures" / "patreon"
ALICE = "38c264ba-0612-4bb9-bc33-f9755cc68bb0"


def stored(session) -> list[tuple[str, str, str]]:
    session.rollback()
    rows = session.execute(select(Event.id, Event.outcome, Event.payload)).all()
    session.rollback()
    return [tuple(r) for r in rows]


def states(session) -> dict[str, str]:
    session.rollback()
    found = {m.key: current_state(m.state, m.final_at) for m in session.scalars(select(Membership))}
    session.rollback()
    return found


def test_a_signed_delivery_counts_the_member_as_patreon_has_them_now(
    deliver, patreon, campaign, client, session
):
    campaign()
    patreon.members[ALICE] = member(ALICE, "active_patron")
    response = deliver(member(ALICE, "former_patron"))  # the body is stale; the API is not
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["outcome"] == "applied"
    assert count_of(client) == 1
    assert patreon.paths(f"/api/oauth2/v2/members/{ALICE}")
    [(event_id, outcome, payload)] = stored(session)
    assert event_id.startswith(f"{ALICE}@") and outcome == "applied"
    for personal in ("Olena", "readers.example"):
        assert personal not in payload


def test_forged_unsigned_and_wrongly_signed_deliveries_are_refused_and_change_nothing(
    client, patreon, campaign, session
):
    campaign()
    patreon.members[ALICE] = member(ALICE)
    body, headers = signed(member(ALICE))
    forged = dict(headers, **{"X-Patreon-Signature": "0" * 32})
    missing = {k: v for k, v in headers.items() if k != "X-Patreon-Signature"}
    _, wrong = signed(member(ALICE), secret="another-webhook-secret")
    tampered = body.replace(b"active_patron", b"former_patron")
    for data, sent in ((body, forged), (body, missing), (body, wrong), (tampered, headers)):
        response = client.post("/webhooks/patreon", data=data, headers=sent)
        assert response.status_code == 400, response.get_json()
    assert stored(session) == [] and count_of(client) == 0
    assert patreon.requests == []  # not even read: a forged delivery costs Patreon nothing


def test_without_a_secret_every_delivery_is_answered_503_so_patreon_retries(
    client, app, patreon, session
):
    app.config["PATREON_WEBHOOK_SECRET"] = ""
    body, headers = signed(member(ALICE))
    assert client.post("/webhooks/patreon", data=body, headers=headers).status_code == 503
    assert stored(session) == []


def test_a_rolled_secret_accepts_both_until_the_old_one_is_removed(deliver, app, patreon):
    patreon.members[ALICE] = member(ALICE)
    app.config["PATREON_WEBHOOK_SECRET"] = f"new-secret, {SECRET}"
    assert deliver(member(ALICE)).status_code == 200
    assert deliver(member(ALICE), secret="new-secret").status_code == 200


def test_a_member_patreon_cannot_be_read_for_is_stored_and_answered_503(
    deliver, patreon, campaign, client, session
):
    campaign()
    patreon.members[ALICE] = member(ALICE)
    patreon.failing = 10
    response = deliver(member(ALICE))
    assert response.status_code == 503
    [(_id, outcome, payload)] = stored(session)
    assert outcome == "ignored" and "HTTP 500" in json.loads(payload)["error"]
    assert count_of(client) == 0
    patreon.failing = 0
    assert deliver(member(ALICE)).status_code == 200  # Patreon's retry
    assert count_of(client) == 1


def test_repeats_each_read_again_and_change_nothing_more(deliver, patreon, campaign, client):
    campaign()
    patreon.members[ALICE] = member(ALICE)
    for _ in range(3):
        assert deliver(member(ALICE)).status_code == 200
    assert count_of(client) == 1


def test_a_lapse_and_a_return_are_each_read_as_they_are_now(
    deliver, patreon, campaign, client, session
):
    campaign()
    patreon.members[ALICE] = member(ALICE)
    deliver(member(ALICE))
    patreon.members[ALICE] = member(ALICE, "former_patron")
    deliver(member(ALICE), "members:pledge:delete")
    assert count_of(client) == 0
    patreon.members[ALICE] = member(ALICE)  # back to exactly the first state
    deliver(member(ALICE), "members:pledge:create")
    assert count_of(client) == 1
    del patreon.members[ALICE]  # members:delete: Patreon no longer knows them
    assert deliver(member(ALICE), "members:delete").status_code == 200
    assert states(session) == {f"patreon:{ALICE}": "lapsed"}


def test_followers_free_members_and_other_campaigns_never_count(
    deliver, patreon, campaign, client, session
):
    campaign()
    others = {
        "m-follower": member("m-follower", None, cents=0, tiers=(), follower=True),
        "m-free": member("m-free", "active_patron", cents=0, tiers=("free",)),
        "m-elsewhere": member("m-elsewhere", campaign="999"),
    }
    patreon.members.update(others)
    for each in others.values():
        assert deliver(each).status_code == 200
    assert count_of(client) == 0
    session.rollback()
    ignored = session.scalar(select(Event.detail).where(Event.id.like("m-elsewhere@%")))
    assert "campaign 999" in ignored


def test_the_real_deliveries_patreon_sent_are_read_by_their_member(
    client, patreon, campaign, session
):
    """Bodies Patreon sent to other projects (tests/fixtures/patreon/NOTICE.md), signed here."""
    campaign()
    cases = {
        "01-zulip-members.create.json": ("members:create", "ignored"),  # "send test": id null
        "04-zulip-members.pledge.create.json": ("members:pledge:create", "applied"),
        "05-zulip-members.pledge.update.json": ("members:pledge:update", "applied"),
        "02-zulip-members.update.json": ("members:update", "applied"),
        "07-patreon-herald-members.pledge.update.json": ("members:pledge:update", "ignored"),
        "10-discourse-patreon-members.pledge.create.json": ("members:pledge:create", "ignored"),
        "11-discourse-patreon-pledges.create-apiv1.json": ("pledges:create", "ignored"),
        "06-zulip-members.pledge.delete.json": ("members:pledge:delete", "applied"),
    }
    for name, (trigger, outcome) in cases.items():
        raw = (FIXTURES / name).read_bytes()
        data = json.loads(raw)["data"]
        if data.get("id"):
            patreon.members[data["id"]] = data  # what the API answers: the same member
        body, headers = signed(raw, trigger)
        response = client.post("/webhooks/patreon", data=body, headers=headers)
        assert response.status_code == 200, (name, response.get_json())
        assert response.get_json()["outcome"] == outcome, name
    assert count_of(client) == 0  # the last real delivery: a former patron
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Event)) == len(cases)
    for _id, _outcome, payload in stored(session):
        assert "kopi@pangea.com" not in payload and "Kopi" not in payload


def test_a_reader_paying_through_stripe_and_patreon_counts_once(
    deliver, patreon, campaign, client, session
):
    campaign()
    at = int(datetime.now(UTC).timestamp()) - 3600
    event = stripe_factory.checkout_event(
        "cs_1", at, customer="cus_1", subscription="sub_1", email="Olena@Example.org"
    )
    body, headers = stripe_factory.signed(event, STRIPE_SECRET)
    assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200
    patreon.members[ALICE] = member(ALICE, email="olena@example.org ")
    assert deliver(member(ALICE)).status_code == 200
    patreon.members["m-other"] = member("m-other", email="mykola@example.org")
    assert deliver(member("m-other")).status_code == 200
    assert count_of(client) == 2
    session.rollback()
    linked = session.scalar(select(Member.person_key).where(Member.key == f"patreon:{ALICE}"))
    assert linked == fingerprint("olena@example.org", IDENTITY_KEY)
    patreon.members[ALICE] = member(ALICE, "former_patron", email="olena@example.org")
    deliver(member(ALICE), "members:pledge:delete")
    assert count_of(client) == 2  # still a member through Stripe


def test_recount_rebuilds_the_same_figures_from_the_stored_reads(
    deliver, patreon, campaign, app, session
):
    campaign()
    for n, status in enumerate(["active_patron", "former_patron", "declined_patron"]):
        patreon.members[f"m-{n}"] = member(f"m-{n}", status, charged=None)
        deliver(member(f"m-{n}"))
    patreon.members["m-0"] = member("m-0", "former_patron")
    deliver(member("m-0"))
    patreon.members["m-0"] = member("m-0")
    deliver(member("m-0"))
    translators = {
        **sources.translators(app.config),
        "patreon": patreon_translate.translator(patreon_translate.Settings(CAMPAIGN)),
    }
    report = recount(session, translators, datetime.now(UTC))
    assert report.clean, report.differences
    assert report.events == 5 and not report.unreadable
    assert [(c.slug, c.fast) for c in report.campaigns] == [("drive", 2)]


@pytest.mark.skipif(
    "patreon" not in sources.SOURCES, reason="sources.translators does not know Patreon yet"
)
def test_flask_recount_replays_patreon_reads(deliver, patreon, runner):
    patreon.members[ALICE] = member(ALICE)
    deliver(member(ALICE))
    result = runner.invoke(args=["recount"])
    assert result.exit_code == 0, result.output
    assert "Replayed 1 stored events." in result.output


def test_a_status_patreon_added_later_is_stored_as_failed_and_replayable(deliver, patreon, runner):
    patreon.members[ALICE] = member(ALICE, "hibernating_patron")
    response = deliver(member(ALICE))
    assert response.status_code == 500  # stored as failed; Patreon retries
    failed = runner.invoke(args=["patreon", "replay", "--failed"])
    assert failed.exit_code != 0 and "still fail" in failed.output
    patreon.members[ALICE] = member(ALICE)
    settled = deliver(member(ALICE)).get_json()["id"]
    again = runner.invoke(args=["patreon", "replay", settled])
    assert again.exit_code == 0 and f"{settled}: duplicate" in again.output


def test_the_webhook_log_shows_each_patreon_delivery_without_personal_data(deliver, patreon, admin):
    patreon.members[ALICE] = member(ALICE)
    event_id = deliver(member(ALICE)).get_json()["id"]
    listing = admin.get("/admin/events")
    assert listing.status_code == 200 and event_id in listing.get_data(as_text=True)
    page = admin.get(f"/admin/events/patreon/{event_id}")
    shown = page.get_data(as_text=True)
    assert page.status_code == 200 and "members:pledge:update" in shown
    assert "readers.example" not in shown and "Olena" not in shown


@pytest.mark.skipif(
    "patreon" not in sources.OFFER_KINDS, reason="sources.OFFER_KINDS does not list Patreon yet"
)
def test_a_campaign_counting_one_tier_counts_only_its_patrons(
    deliver, patreon, campaign, client, runner
):
    campaign()
    patreon.members["m-member"] = member("m-member", tiers=("100",))
    patreon.members["m-supporter"] = member("m-supporter", tiers=("200",))
    for member_id in patreon.members:
        assert deliver(member(member_id)).status_code == 200
    assert count_of(client) == 2
    chosen = runner.invoke(args=["campaign", "sources", "drive", "--source", "patreon=tier:100"])
    assert chosen.exit_code == 0, chosen.output
    assert count_of(client) == 1
