"""A member read back from Patreon -> ledger change: what counts, offers, times, identity,
personal data, and a stale read recorded late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import sessionmaker

from membership.ledger import counting, store
from membership.ledger.counting import Rule
from membership.ledger.identity import fingerprint
from membership.ledger.rules import Ignored, RecurringChange, State
from membership.sources.patreon import translate
from membership.sources.patreon.envelope import (
    member_event,
    parse_delivery,
)
from membership.sources.payloads import NotAnEvent
from tests.fake_patreon import CAMPAIGN
from tests.patreon_factory import IDENTITY_KEY, START, member
from tests.test_ledger_properties import sqlite_engine

READ_AT = START + timedelta(days=10)
SETTINGS = translate.Settings(CAMPAIGN)


def change(data, at: datetime = READ_AT, **kw) -> RecurringChange | Ignored:
    event = member_event(
        member_id="m-1",
        trigger="members:update",
        fetched_at=at,
        fetched=data,
        identity_key=IDENTITY_KEY,
        **kw,
    )
    return translate.translate(event, SETTINGS)


@pytest.mark.parametrize(
    ("data", "counts"),
    [
        (member("m-1"), True),
        (member("m-1", cents=100, tiers=()), True),  # a pledge entitled before its tier shows
        (member("m-1", "declined_patron", charged=9), True),  # past due, Patreon retrying
        (member("m-1", "declined_patron", charged=-30), False),  # past the grace
        (member("m-1", "former_patron"), False),
        (member("m-1", "active_patron", cents=0, tiers=("free",)), False),  # a free member
        (member("m-1", None, cents=None, tiers=(), follower=True), False),
        (None, False),  # Patreon no longer knows the member
    ],
)
def test_what_counts(data, counts):
    found = change(data)
    assert isinstance(found, RecurringChange)
    assert (found.state == State.ACTIVE) is counts
    assert found.membership == found.member == "m-1" and not found.final


def test_a_declined_patron_counts_until_the_grace_after_the_declined_charge():
    found = change(member("m-1", "declined_patron", charged=9))
    assert found.until == START + timedelta(days=9) + translate.DECLINED_GRACE


def test_offers_are_the_entitled_tiers_and_the_start_is_the_pledges():
    found = change(member("m-1", tiers=("9512023", "9512103"), started=-40))
    assert found.offers == {"tier:9512023", "tier:9512103"}
    assert found.started_at == START - timedelta(days=40)
    assert found.at == READ_AT


def test_the_email_becomes_a_fingerprint_and_no_personal_field_is_kept():
    event = member_event(
        member_id="m-1",
        trigger="members:update",
        fetched_at=READ_AT,
        fetched=member("m-1", email=" Olena@Example.org"),
        delivered=member("m-1", email="olena@example.org"),
        identity_key=IDENTITY_KEY,
    )
    assert event.identity == fingerprint("olena@example.org", IDENTITY_KEY)
    for personal in ("Olena", "example.org"):
        assert personal not in event.payload


def test_an_unknown_status_fails_so_it_can_be_replayed_once_the_code_reads_it():
    with pytest.raises(translate.UnreadableEvent, match="hibernating"):
        change(member("m-1", "hibernating_patron"))


def test_a_read_that_failed_is_ignored_with_its_reason():
    found = change(None, error="HTTP 500")
    assert isinstance(found, Ignored) and "HTTP 500" in found.reason


def test_deliveries_that_are_not_member_documents_are_refused():
    for body in ("[]", "{}", '{"data": []}', "not json"):
        with pytest.raises(NotAnEvent):
            parse_delivery(body, "members:update")
    with pytest.raises(NotAnEvent, match="X-Patreon-Event"):
        parse_delivery('{"data": {"id": "m-1", "type": "member"}}', None)


def test_a_stale_read_recorded_after_a_newer_one_changes_nothing():
    """Two workers: one read m-1 while active, the other later while former; the first to be
    read is recorded last."""
    engine = sqlite_engine()
    session = sessionmaker(engine, expire_on_commit=False)()
    translate_ = translate.translator(SETTINGS)
    older = member_event(
        member_id="m-1", trigger="members:update", fetched_at=READ_AT, fetched=member("m-1")
    )
    newer = member_event(
        member_id="m-1",
        trigger="members:pledge:delete",
        fetched_at=READ_AT + timedelta(microseconds=1),
        fetched=member("m-1", "former_patron"),
    )
    try:
        for event in (newer, older, older):
            assert store.record_event(session, event, translate_).outcome != "failed"
        now = datetime.now(UTC)
        assert counting.count_members(session, counting.Counting(Rule.ACTIVE), now) == 0
    finally:
        session.close()
        engine.dispose()


def test_each_read_is_its_own_event_even_when_the_state_repeats():
    first = member_event(member_id="m-1", trigger="t", fetched_at=READ_AT, fetched=member("m-1"))
    again = member_event(
        member_id="m-1", trigger="t", fetched_at=READ_AT + timedelta(1), fetched=member("m-1")
    )
    copy = member_event(member_id="m-1", trigger="t", fetched_at=READ_AT, fetched=member("m-1"))
    assert first.id != again.id and first.id == copy.id
