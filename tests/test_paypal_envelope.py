"""Parsing PayPal deliveries: real bodies, impossible dates, personal data out, refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from membership.ledger.identity import fingerprint
from membership.sources.payloads import NotAnEvent
from membership.sources.paypal import envelope

FIXTURES = Path(__file__).parent / "fixtures" / "paypal"
REAL = sorted(FIXTURES.glob("*.json"))
KEY = b"test-identity-key-of-at-least-32-bytes"


def test_the_real_fixtures_are_there():
    assert len(REAL) == 19


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name[:2])
def test_every_real_body_parses_without_personal_data(path):
    text = path.read_text()
    event = envelope.parse(text, identity_key=KEY)
    body = json.loads(text)
    assert (event.source, event.id, event.type) == ("paypal", body["id"], body["event_type"])
    assert event.created.tzinfo is not None
    for personal in ("John", "Doe", "customer@example.com", "2211 N First", "Cool Buyer"):
        assert personal not in event.payload
    assert "coolbuyer@example.com" not in event.payload
    assert json.loads(event.payload)["resource"]["id"] == body["resource"]["id"]


def test_an_impossible_create_time_falls_back_to_the_resource_update_time():
    text = (FIXTURES / "01-paypal2-billing.subscription.created-rv2.json").read_text()
    assert json.loads(text)["create_time"] == "2018-19-12T22:20:32.000Z"
    event = envelope.parse(text)
    assert event.created == datetime(2018, 12, 10, 21, 20, 49, tzinfo=UTC)


def test_times_with_offsets_and_milliseconds_are_utc():
    assert envelope.event_time("2018-08-15T12:13:29-07:00") == datetime(
        2018, 8, 15, 19, 13, 29, tzinfo=UTC
    )
    assert envelope.event_time("2019-02-14T21:50:07.940Z") == datetime(
        2019, 2, 14, 21, 50, 7, 940000, tzinfo=UTC
    )
    for bad in ("2018-19-12T22:20:32.000Z", "2018-12-10T21:20:49", "yesterday", 17, None):
        assert envelope.event_time(bad) is None


def test_the_identity_is_the_fingerprint_of_the_subscriber_or_payer_email():
    v2 = envelope.parse(
        (FIXTURES / "02-paypal2-billing.subscription.activated-rv2.json").read_text(),
        identity_key=KEY,
    )
    assert v2.identity == fingerprint("customer@example.com", KEY)
    v1 = envelope.parse(
        (FIXTURES / "07-paypal2-billing.subscription.created-rv1.json").read_text(),
        identity_key=KEY,
    )
    assert v1.identity == fingerprint("coolbuyer@example.com", KEY)
    assert (
        envelope.parse(
            (FIXTURES / "02-paypal2-billing.subscription.activated-rv2.json").read_text()
        ).identity
        is None
    )


def event(**changes):
    body = {
        "id": "WH-1",
        "event_type": "BILLING.SUBSCRIPTION.ACTIVATED",
        "create_time": "2024-07-30T10:15:56Z",
        "resource": {"id": "I-1", "status": "ACTIVE"},
    }
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v is not ...})


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        event(id=...),
        event(id=""),
        event(id="x" * 300),
        event(id="WH-\x00"),
        event(event_type=...),
        event(resource=...),
        event(resource="I-1"),
        event(create_time="2018-19-12T22:20:32Z"),  # and no resource time to fall back on
        event(resource_version=2),
        "[" * 100 + "]" * 100,
    ],
)
def test_what_is_not_an_event_is_refused(text):
    with pytest.raises(NotAnEvent):
        envelope.parse(text)


def test_livemode_is_what_the_caller_says():
    assert envelope.parse(event(), livemode=True).livemode is True
    assert envelope.parse(event()).livemode is None
