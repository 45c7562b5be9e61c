"""PayPal deliveries for tests: a test CA, a PayPal-named signing certificate served over
HTTPS on loopback, the app pointed at them, and deliveries signed exactly as PayPal signs.

Test modules take the fixtures by name: ``app, pki, post = paypal_factory.app, ...`` (``app``
replaces conftest's with one that trusts the test CA for PayPal).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from membership import create_app
from membership.sources.paypal import signature, standin
from membership.sources.paypal import simulate as ps
from membership.sources.paypal.certificates import Trust

WEBHOOK_ID = "8PT597110X687430LKGECATA"
CERT_PATH = "/v1/notifications/certs/CERT-360caa42-fca2a594-test"
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class PKI:
    ca: standin.Issued
    signer: standin.Issued  # messageverificationcerts.paypal.com, issued by ca
    server: standin.CertServer
    bundle: str  # the CA as a PEM file

    @property
    def cert_url(self) -> str:
        return self.server.url(CERT_PATH)

    @property
    def trust(self) -> Trust:
        return Trust((self.server.host,), self.bundle)

    def serve(self, path: str, issued: standin.Issued, *chain: standin.Issued) -> str:
        """Serve another certificate (with its chain) at ``path``; its URL."""
        self.server.files[path] = issued.pem + b"".join(c.pem for c in chain)
        return self.server.url(path)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PKI]:
    ca = standin.make_ca()
    signer = standin.issue(ca)
    bundle = Path(tmp_path_factory.mktemp("paypal-ca"), "ca.pem")
    bundle.write_bytes(ca.pem)
    with standin.CertServer(ca, {CERT_PATH: signer.pem}) as server:
        yield PKI(ca, signer, server, str(bundle))


@pytest.fixture
def app(db_url: str, pki: PKI) -> Iterator[Flask]:
    signature.CACHE.clear()  # each test fetches afresh: a test's certificates are its own
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "PAYPAL_WEBHOOK_ID": WEBHOOK_ID,
            "PAYPAL_CERT_HOSTS": (pki.server.host,),
            "PAYPAL_CA_BUNDLE": pki.bundle,
            "IDENTITY_KEY": b"test-identity-key-of-at-least-32-bytes",
            "PROGRESS_CACHE_SECONDS": 0,
            "TESTING": True,
        }
    )
    yield app
    app.extensions["database.engine"].dispose()


def body_of(delivery: dict[str, Any] | bytes) -> bytes:
    return delivery if isinstance(delivery, bytes) else ps.body_of(delivery)


@pytest.fixture
def post(client: FlaskClient, pki: PKI) -> Callable[..., Any]:
    """Sign a delivery as PayPal does and POST it to /webhooks/paypal; returns the response.

    Keyword arguments change one thing about the delivery: ``signer``, ``cert_url``,
    ``webhook_id``, ``sent`` (transmission time), ``body`` (sent instead of the signed one),
    ``headers`` (replacing or, with None, dropping signed headers).
    """

    def send(
        delivery: dict[str, Any] | bytes,
        *,
        signer: standin.Issued | None = None,
        cert_url: str | None = None,
        webhook_id: str = WEBHOOK_ID,
        sent: datetime | None = None,
        body: bytes | None = None,
        headers: dict[str, str | None] | None = None,
    ) -> Any:
        signed = body_of(delivery)
        sent_headers = ps.sign(
            signed,
            webhook_id,
            signer or pki.signer,
            cert_url or pki.cert_url,
            transmission_time=sent or datetime.now(UTC),
        )
        for name, value in (headers or {}).items():
            if value is None:
                sent_headers.pop(name, None)
            else:
                sent_headers[name] = value
        return client.post("/webhooks/paypal", data=body or signed, headers=sent_headers)

    return send


def subscription_event(
    event_type: str,
    subscription_id: str,
    status: str,
    at: datetime,
    *,
    event_id: str | None = None,
    payer_id: str | None = "PAYER1",
    email: str | None = None,
) -> dict[str, Any]:
    resource = ps.subscription(subscription_id, status, at=at, payer_id=payer_id)
    if email is not None:
        resource["subscriber"]["email_address"] = email
    return ps.event(event_type, resource, created=at, event_id=event_id)


def sale_completed(sale_id: str, subscription_id: str, at: datetime, **kw: Any) -> dict[str, Any]:
    sale = {
        "id": sale_id,
        "state": "completed",
        "amount": {"total": "10.00", "currency": "USD"},
        "billing_agreement_id": subscription_id,
    }
    return ps.event("PAYMENT.SALE.COMPLETED", sale, created=at, **kw)


def capture_completed(
    capture_id: str, order_id: str | None, at: datetime, **kw: Any
) -> dict[str, Any]:
    capture: dict[str, Any] = {
        "id": capture_id,
        "status": "COMPLETED",
        "amount": {"currency_code": "USD", "value": "60.00"},
        "final_capture": True,
    }
    if order_id:
        capture["supplementary_data"] = {"related_ids": {"order_id": order_id}}
    return ps.event("PAYMENT.CAPTURE.COMPLETED", capture, created=at, **kw)


def capture_refunded(refund_id: str, capture_id: str, at: datetime, **kw: Any) -> dict[str, Any]:
    refund = {
        "id": refund_id,
        "status": "COMPLETED",
        "amount": {"currency_code": "USD", "value": "60.00"},
        "links": [
            {"href": f"https://api.paypal.com/v2/payments/refunds/{refund_id}", "rel": "self"},
            {"href": f"https://api.paypal.com/v2/payments/captures/{capture_id}", "rel": "up"},
        ],
    }
    return ps.event("PAYMENT.CAPTURE.REFUNDED", refund, created=at, **kw)


def at(minutes: int) -> datetime:
    """A moment ``minutes`` after a fixed start a few days ago."""
    return NOW - timedelta(days=3) + timedelta(minutes=minutes)


def loads(response: Any) -> dict[str, Any]:
    return json.loads(response.get_data(as_text=True))
