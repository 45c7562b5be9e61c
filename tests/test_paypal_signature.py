"""PayPal's signature scheme: real recorded deliveries verify; certificate URLs and caching.

The recorded deliveries (tests/fixtures/paypal, from PayPal's Webhooks Simulator) were signed
with PayPal's live certificate, which is recorded with them. Its CA chain is not available
offline and it expired on 2025-03-07, so these tests trust that certificate directly (no chain,
no dates): what they prove is that our signed string (ids, time, webhook id, crc32 of the raw
bytes) is exactly the one PayPal signs. The chain, date and subject checks are proved with a
test CA in tests/test_paypal_webhook.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from werkzeug.datastructures import Headers

from membership.sources.paypal import signature, standin
from membership.sources.paypal import simulate as ps
from membership.sources.paypal.certificates import (
    BadCertificate,
    CertificateCache,
    Trust,
    check_url,
    verified,
)
from tests import paypal_factory

pki = paypal_factory.pki

FIXTURES = Path(__file__).parent / "fixtures" / "paypal"
RECORDED = sorted((FIXTURES / "transmission").glob("[01]*.headers.json"))
CERTIFICATE = x509.load_pem_x509_certificate(
    next((FIXTURES / "transmission").glob("*.pem")).read_bytes()
)


def recorded(path: Path) -> tuple[bytes, Headers, str]:
    meta = json.loads(path.read_text())
    body = (FIXTURES / path.name.replace(".headers.json", ".json")).read_bytes()
    return body, Headers(meta["headers"]), meta["_webhook_id_for_signature"]


def test_fourteen_recorded_deliveries():
    assert len(RECORDED) == 14


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.name[:2])
def test_a_recorded_paypal_delivery_verifies_with_its_certificate(path):
    body, headers, webhook_id = recorded(path)
    assert len(body) == int(headers["content-length"])
    message = signature.signed_message(
        signature.header(headers, "Transmission-Id"),
        signature.header(headers, "Transmission-Time"),
        webhook_id,
        body,
    )
    signature.check_with(CERTIFICATE, message, signature.header(headers, "Transmission-Sig"))
    assert signature.livemode_of(signature.header(headers, "Cert-Url")) is True


@pytest.mark.parametrize("path", RECORDED[:3], ids=lambda p: p.name[:2])
def test_a_recorded_delivery_fails_for_another_webhook_or_body(path):
    body, headers, webhook_id = recorded(path)
    parts = (headers["paypal-transmission-id"], headers["paypal-transmission-time"])
    sig = headers["paypal-transmission-sig"]
    with pytest.raises(signature.BadSignature):
        signature.check_with(CERTIFICATE, signature.signed_message(*parts, "OTHER", body), sig)
    with pytest.raises(signature.BadSignature):
        changed = body.replace(b"BILLING", b"BILLINg")
        signature.check_with(
            CERTIFICATE, signature.signed_message(*parts, webhook_id, changed), sig
        )


def test_the_recorded_certificate_names_paypal():
    names = CERTIFICATE.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["messageverificationcerts.paypal.com"]


def test_the_crc_is_the_unsigned_decimal_of_the_raw_bytes():
    # zlib.crc32 of b"\xff" is 4278190080 > 2**31: printed unsigned, as PayPal does.
    assert signature.signed_message("t", "2024-01-01T00:00:00Z", "W", b"\xff").endswith(
        b"|4278190080"
    )


def test_the_mode_follows_the_cert_host():
    assert signature.livemode_of("https://api.sandbox.paypal.com/v1/notifications/certs/C") is False
    assert signature.livemode_of("https://api-m.paypal.com/v1/notifications/certs/C") is True
    assert signature.livemode_of("https://127.0.0.1:8443/certs/C") is None


TRUST = Trust(("api.paypal.com", "127.0.0.1:8443"))


@pytest.mark.parametrize(
    "url",
    [
        "http://api.paypal.com/v1/notifications/certs/C",
        "https://api.paypal.com.evil.example/certs/C",
        "https://evil.example/certs/C?api.paypal.com",
        "https://api.paypal.com@evil.example/certs/C",
        "https://user@api.paypal.com/certs/C",
        "https://api.paypal.com:8443/certs/C",
        "https://127.0.0.1/certs/C",
        "https://127.0.0.1:notaport/certs/C",
        "file:///etc/passwd",
    ],
)
def test_a_cert_url_off_the_allowed_hosts_is_refused(url):
    with pytest.raises(BadCertificate):
        check_url(url, TRUST)


def test_allowed_cert_urls():
    check_url("https://api.paypal.com/v1/notifications/certs/C", TRUST)
    check_url("https://API.PAYPAL.COM:443/v1/notifications/certs/C", TRUST)
    check_url("https://127.0.0.1:8443/certs/C", TRUST)


def test_certificates_are_fetched_once_and_the_cache_is_bounded(pki):
    cache = CertificateCache(size=2)
    now = datetime.now(UTC)
    urls = [pki.serve(f"/certs/cache-{n}", standin.issue(pki.ca)) for n in range(3)]
    for url in urls[:2] * 3:
        cache.certificate(url, pki.trust, now)
    assert cache.fetches == 2
    cache.certificate(urls[2], pki.trust, now)  # evicts the least recently used
    cache.certificate(urls[0], pki.trust, now)
    assert cache.fetches == 4


def test_a_cached_certificate_is_refused_once_it_expires(pki):
    cache = CertificateCache()
    now = datetime.now(UTC)
    short = standin.issue(
        pki.ca, not_before=now - timedelta(days=1), not_after=now + timedelta(days=1)
    )
    url = pki.serve("/certs/short-lived", short)
    cache.certificate(url, pki.trust, now)
    with pytest.raises(BadCertificate):
        cache.certificate(url, pki.trust, now + timedelta(days=2))


def test_the_cert_url_header_has_two_names(pki):
    body = b'{"id": "WH-1"}'
    sent = ps.sign(body, "W", pki.signer, pki.cert_url)
    sent["PAYPAL-TRANSMISSION-CERT-URL"] = sent.pop("PAYPAL-CERT-URL")
    signature.verify(body, Headers(sent), "W", pki.trust, datetime.now(UTC), CertificateCache())


def test_without_a_bundle_the_system_trust_store_is_used(pki):
    # The test CA is not in it, so the test certificate is refused: trusted only when told.
    system = Trust((pki.server.host,))
    with pytest.raises(BadCertificate, match="not PayPal's"):
        verified(pki.signer.pem, system, datetime.now(UTC))
