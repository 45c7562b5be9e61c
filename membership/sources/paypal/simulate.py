"""Realistic, signed PayPal deliveries for demos and tests, without a PayPal account.

PayPal signs with a private key only PayPal holds, so a simulated delivery is signed by a
stand-in: a certificate authority made here, and a certificate it issues to PayPal's message
verification name. A service trusts such deliveries only when told to, by pointing
PAYPAL_CA_BUNDLE at the stand-in CA and PAYPAL_CERT_HOSTS at the loopback HTTPS server that
serves the certificate (``CertServer``); with PayPal's defaults it refuses them, as it must.
Everything else is exactly as PayPal does it: headers, signed string, CRC-32, SHA256withRSA.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets
import ssl
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .certificates import SUBJECTS
from .signature import ALGORITHM, signed_message

PAYPAL_SUBJECT = SUBJECTS[0]
# Ids shaped like PayPal's, with DEMO in them so a simulated event is never taken for a payment.
DEMO_MARKER = "DEMO"


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(name: str = "Membership test CA", *, now: datetime | None = None) -> Issued:
    """A certificate authority to issue stand-in certificates with."""
    now = now or datetime.now(UTC)
    key = _key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return Issued(certificate, key)


def issue(
    ca: Issued,
    names: tuple[str, ...] = (PAYPAL_SUBJECT,),
    *,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> Issued:
    """A server certificate for ``names`` (DNS names or IP addresses), signed by ``ca``."""
    now = datetime.now(UTC)
    key = _key()
    alternatives: list[x509.GeneralName] = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), False
        )
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(certificate, key)


def sign(
    body: bytes,
    webhook_id: str,
    signer: Issued,
    cert_url: str,
    *,
    transmission_time: datetime | None = None,
    transmission_id: str | None = None,
) -> dict[str, str]:
    """The PAYPAL-* headers PayPal sends with ``body`` for webhook ``webhook_id``."""
    when = (transmission_time or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    transmission_id = transmission_id or f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-demo"
    message = signed_message(transmission_id, when, webhook_id, body)
    signature = signer.key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-TIME": when,
        "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
        "PAYPAL-CERT-URL": cert_url,
        "PAYPAL-AUTH-ALGO": ALGORITHM,
        "PAYPAL-AUTH-VERSION": "v2",
        "Content-Type": "application/json",
    }


class CertServer:
    """A loopback HTTPS server serving PEM files by path, as PayPal serves its certificates.

    ``with CertServer(ca, {"/v1/notifications/certs/CERT-1": pem}) as server:`` then
    ``server.url("/v1/notifications/certs/CERT-1")``; ``server.host`` is its host:port.
    """

    def __init__(self, ca: Issued, files: dict[str, bytes]) -> None:
        self.files = dict(files)
        self.requests: list[str] = []
        tls = issue(ca, ("127.0.0.1", "localhost"))
        self._dir = tempfile.TemporaryDirectory()
        cert_file, key_file = Path(self._dir.name, "cert.pem"), Path(self._dir.name, "key.pem")
        cert_file.write_bytes(tls.pem)
        key_file.write_bytes(tls.key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.requests.append(self.path)
                pem = server.files.get(self.path)
                self.send_response(200 if pem is not None else 404)
                self.send_header("Content-Type", "application/x-pem-file")
                self.end_headers()
                self.wfile.write(pem or b"not found")

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.host = f"127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"https://{self.host}{path}"

    def __enter__(self) -> CertServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._dir.cleanup()


def paypal_id(prefix: str, length: int = 13, *, demo: bool = False) -> str:
    core = secrets.token_hex(length).upper()[:length]
    return f"{prefix}{DEMO_MARKER}{core[len(DEMO_MARKER) :]}" if demo else f"{prefix}{core}"


def event(
    event_type: str, resource: dict[str, Any], *, created: datetime, event_id: str | None = None
) -> dict[str, Any]:
    """Wrap a resource in a webhook event as PayPal delivers it."""
    event_id = event_id or paypal_id("WH-", 36)
    kind = "subscription" if event_type.startswith("BILLING.") else "capture"
    return {
        "id": event_id,
        "event_version": "1.0",
        "create_time": created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "resource_type": kind,
        "resource_version": "2.0",
        "event_type": event_type,
        "summary": f"{event_type} (simulated)",
        "resource": resource,
        "links": [],
    }


def subscription(
    subscription_id: str, status: str, *, at: datetime, payer_id: str | None = None
) -> dict[str, Any]:
    """A subscription resource as the Subscriptions API returns it."""
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    resource: dict[str, Any] = {
        "id": subscription_id,
        "plan_id": "P-5ML4271244454362WXNWU5NQ",
        "status": status,
        "status_update_time": stamp,
        "start_time": stamp,
        "create_time": stamp,
        "update_time": stamp,
        "subscriber": {
            "name": {"given_name": "Demo", "surname": "Reader"},
            "email_address": f"{subscription_id.lower()}@example.org",
        },
    }
    if payer_id:
        resource["subscriber"]["payer_id"] = payer_id
    return resource


def signup(*, at: datetime, demo: bool = False) -> list[dict[str, Any]]:
    """The events one reader's monthly PayPal subscription produces: created, activated,
    first payment."""
    sub, payer = paypal_id("I-", 12, demo=demo), paypal_id("", 13, demo=demo)
    sale = {
        "id": paypal_id("", 17, demo=demo),
        "state": "completed",
        "amount": {"total": "10.00", "currency": "USD"},
        "billing_agreement_id": sub,
        "create_time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    paid = event("PAYMENT.SALE.COMPLETED", sale, created=at)
    paid.pop("resource_version")
    paid["resource_type"] = "sale"
    return [
        event(
            "BILLING.SUBSCRIPTION.CREATED",
            subscription(sub, "APPROVAL_PENDING", at=at - timedelta(seconds=40)),
            created=at - timedelta(seconds=40),
        ),
        event(
            "BILLING.SUBSCRIPTION.ACTIVATED",
            subscription(sub, "ACTIVE", at=at - timedelta(seconds=2), payer_id=payer),
            created=at - timedelta(seconds=2),
        ),
        paid,
    ]


def body_of(delivery: dict[str, Any]) -> bytes:
    return json.dumps(delivery, separators=(",", ":")).encode()
