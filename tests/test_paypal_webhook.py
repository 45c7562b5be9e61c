"""POST /webhooks/paypal: PayPal's verification, the retry contract, exactly-once recording."""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from membership.ledger.rules import current_state
from membership.models import Event, Member, Membership, Refund
from membership.sources.paypal import simulate as ps
from membership.sources.paypal import standin
from tests import paypal_factory
from tests.conftest import count_of
from tests.paypal_factory import (
    at,
    capture_completed,
    capture_refunded,
    sale_completed,
    subscription_event,
)

# Fixtures: an app that trusts the test CA for PayPal, and signed posting.
app, pki, post = paypal_factory.app, paypal_factory.pki, paypal_factory.post


def stored(session) -> list[Event]:
    session.rollback()
    return list(session.scalars(select(Event)))


def states(session) -> dict[str, tuple[str, str, bool]]:
    session.rollback()
    return {
        m.key: (m.member_key, current_state(m.state, m.final_at), m.final_at is not None)
        for m in session.scalars(select(Membership))
    }


def activated(n: int = 1, minutes: int = 0) -> dict:
    return subscription_event(
        "BILLING.SUBSCRIPTION.ACTIVATED", f"I-SUB{n}", "ACTIVE", at(minutes), event_id=f"WH-A{n}"
    )


def test_a_genuine_delivery_is_recorded_once(client, post, campaign, session, pki):
    campaign()
    response = post(activated())
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["outcome"] == "applied"
    again = post(activated())  # PayPal's retry: a new transmission of the same event
    assert again.status_code == 200
    assert again.get_json()["outcome"] == "duplicate"
    assert count_of(client) == 1
    [event] = stored(session)
    assert (event.source, event.id, event.outcome, event.duplicates) == (
        "paypal",
        "WH-A1",
        "applied",
        1,
    )
    assert event.livemode is None  # the test cert host is neither PayPal's live nor sandbox
    assert pki.server.requests.count("/v1/notifications/certs/CERT-360caa42-fca2a594-test") == 1


def test_the_stored_event_keeps_no_personal_data_but_its_fingerprint(post, session):
    delivery = activated()
    delivery["resource"]["subscriber"].update(
        email_address="Olena.Reader@Example.org",
        name={"given_name": "Olena", "surname": "Reader"},
        shipping_address={"address": {"admin_area_2": "Kyiv"}},
    )
    assert post(delivery).status_code == 200
    [event] = stored(session)
    for personal in ("olena", "Olena", "Kyiv", "example.org"):
        assert personal not in event.payload
    assert event.identity is not None and event.identity.startswith("id1:")
    assert json.loads(event.payload)["resource"]["subscriber"]["payer_id"] == "PAYER1"


def test_any_order_and_copies_give_the_same_memberships(app, post, session):
    stream = [
        subscription_event("BILLING.SUBSCRIPTION.CREATED", "I-1", "APPROVAL_PENDING", at(0)),
        subscription_event("BILLING.SUBSCRIPTION.ACTIVATED", "I-1", "ACTIVE", at(1)),
        sale_completed("SALE1", "I-1", at(2)),
        subscription_event("BILLING.SUBSCRIPTION.SUSPENDED", "I-1", "SUSPENDED", at(30)),
        subscription_event("BILLING.SUBSCRIPTION.CREATED", "I-2", "APPROVAL_PENDING", at(3)),
        subscription_event("BILLING.SUBSCRIPTION.ACTIVATED", "I-2", "ACTIVE", at(4)),
        subscription_event("BILLING.SUBSCRIPTION.CANCELLED", "I-2", "CANCELLED", at(40)),
        sale_completed("SALE2", "I-2", at(50)),  # a payment after the cancellation
        capture_completed("CAP1", "ORDER1", at(5)),
        capture_completed("CAP2", "ORDER2", at(6)),
        capture_refunded("REF2", "CAP2", at(60)),
    ]
    expected = None
    for seed in range(3):
        session.rollback()
        for model in (Event, Refund, Membership, Member):  # start each order afresh
            session.execute(model.__table__.delete())
        session.commit()
        shuffled = stream + random.Random(seed).sample(stream, 4)
        random.Random(seed).shuffle(shuffled)
        for delivery in shuffled:
            response = post(delivery)
            assert response.status_code == 200, response.get_data(as_text=True)
        found = states(session)
        if expected is None:
            expected = found
        assert found == expected
    assert expected == {
        "paypal:I-1": ("paypal:I-1", "lapsed", False),
        "paypal:I-2": ("paypal:I-2", "lapsed", True),
        "paypal:ORDER1": ("paypal:ORDER1", "active", False),
        "paypal:ORDER2": ("paypal:ORDER2", "active", False),
    }
    session.rollback()
    refunded = session.get(Membership, "paypal:ORDER2")
    assert refunded.refunded and refunded.active_until is None


def refused(response, session) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"] == "invalid signature"
    assert stored(session) == []
    assert states(session) == {}


def test_a_forged_signature_is_refused(post, session, pki):
    impostor = standin.make_ca("Impostor")
    other_key = standin.issue(impostor)  # its key signs; the URL still names PayPal's certificate
    refused(post(activated(), signer=other_key), session)


def test_a_delivery_for_another_webhook_is_refused(post, session):
    refused(post(activated(), webhook_id="SOMEONEELSESWEBHOOK"), session)


def test_a_changed_body_is_refused(post, session):
    signed = ps.body_of(activated())
    changed = signed.replace(b'"ACTIVE"', b'"CANCELLED"')
    refused(post(signed, body=changed), session)


def test_a_certificate_host_not_allowed_is_refused(post, session, pki):
    url = pki.cert_url.replace("127.0.0.1", "localhost")  # the same server, another host name
    refused(post(activated(), cert_url=url), session)


def test_an_http_certificate_url_is_refused(post, session, pki):
    refused(post(activated(), cert_url=pki.cert_url.replace("https:", "http:")), session)


def test_a_self_signed_certificate_is_refused(post, session, pki):
    alone = standin.make_ca(standin.PAYPAL_SUBJECT)  # names PayPal, chains to nothing we trust
    url = pki.serve("/certs/self-signed", alone)
    refused(post(activated(), signer=alone, cert_url=url), session)


def test_a_certificate_from_another_ca_is_refused(post, session, pki):
    other = standin.issue(standin.make_ca("Another CA"))
    url = pki.serve("/certs/other-ca", other)
    refused(post(activated(), signer=other, cert_url=url), session)


def test_an_expired_certificate_is_refused(post, session, pki):
    now = datetime.now(UTC)
    old = standin.issue(
        pki.ca, not_before=now - timedelta(days=400), not_after=now - timedelta(days=1)
    )
    url = pki.serve("/certs/expired", old)
    refused(post(activated(), signer=old, cert_url=url), session)


def test_a_certificate_for_another_name_is_refused(post, session, pki):
    wrong = standin.issue(pki.ca, ("messageverificationcerts.example.com",))
    url = pki.serve("/certs/wrong-subject", wrong)
    refused(post(activated(), signer=wrong, cert_url=url), session)


def test_a_stale_or_future_transmission_is_refused(post, session):
    now = datetime.now(UTC)
    refused(post(activated(), sent=now - timedelta(minutes=10)), session)
    refused(post(activated(), sent=now + timedelta(minutes=10)), session)


def test_missing_headers_and_other_algorithms_are_refused(post, session):
    for name in ("PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-SIG", "PAYPAL-CERT-URL"):
        refused(post(activated(), headers={name: None}), session)
    refused(post(activated(), headers={"PAYPAL-AUTH-ALGO": "SHA1withRSA"}), session)


def test_a_missing_certificate_is_refused(post, session, pki):
    refused(post(activated(), cert_url=pki.server.url("/certs/none-here")), session)


def test_an_unreachable_certificate_host_is_503_so_paypal_retries(app, post, session, pki):
    app.config["PAYPAL_CERT_HOSTS"] = ("127.0.0.1:9",)  # discard port: nothing listens
    response = post(activated(), cert_url="https://127.0.0.1:9/certs/x")
    assert response.status_code == 503
    assert stored(session) == []


def test_an_unset_webhook_id_is_503(app, post, session, caplog):
    app.config["PAYPAL_WEBHOOK_ID"] = ""
    response = post(activated())
    assert response.status_code == 503
    assert "PAYPAL_WEBHOOK_ID is not configured" in caplog.text
    assert stored(session) == []


def test_a_signed_body_that_is_not_an_event_is_400(post, session):
    response = post(b'{"hello": "world"}')
    assert response.status_code == 400
    assert stored(session) == []


def test_the_mode_setting_ignores_the_other_mode(app, post, session):
    app.config["PAYPAL_MODE"] = "live"
    response = post(activated())  # the test host is neither: the mode is unknown, so it counts
    assert response.get_json()["outcome"] == "applied"


def test_simulated_signups_are_counted(client, post, campaign):
    campaign()
    for delivery in itertools.chain(*(ps.signup(at=at(n), demo=True) for n in range(3))):
        assert post(delivery).status_code == 200
    assert count_of(client) == 3
