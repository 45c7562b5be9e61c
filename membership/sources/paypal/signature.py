"""Checking a PayPal delivery's signature, as PayPal specifies it. No Flask here.

PayPal signs ``transmission_id|transmission_time|webhook_id|crc32`` (the CRC-32 of the raw
body as an unsigned decimal) with SHA256withRSA, and says in headers which certificate signed:

    PAYPAL-TRANSMISSION-ID, PAYPAL-TRANSMISSION-TIME, PAYPAL-TRANSMISSION-SIG (base64),
    PAYPAL-CERT-URL, PAYPAL-AUTH-ALGO (SHA256withRSA)

The webhook id is ours (PAYPAL_WEBHOOK_ID), so a delivery signed for another merchant's
webhook fails. A transmission time more than ``TOLERANCE`` from now is refused as a possible
replay: PayPal retries a failed delivery over days, but each retry is a new transmission with a
new time and signature, so a tolerance on the transmission time refuses no genuine retry.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .certificates import BadCertificate, CertificateCache, Trust
from .envelope import event_time

TOLERANCE = timedelta(minutes=5)
ALGORITHM = "SHA256withRSA"  # the only one PayPal uses
HEADERS = ("Transmission-Id", "Transmission-Time", "Transmission-Sig", "Cert-Url", "Auth-Algo")
# Hosts of PayPal's live and sandbox APIs, from which a cert URL says which mode signed.
LIVE_HOSTS = frozenset({"api.paypal.com", "api-m.paypal.com"})
SANDBOX_HOSTS = frozenset({"api.sandbox.paypal.com", "api-m.sandbox.paypal.com"})

# Fetched certificates, shared by every request of this process.
CACHE = CertificateCache()


class BadSignature(ValueError):
    """The delivery is not signed by PayPal for our webhook, now: refused with 400."""


def header(headers: Mapping[str, str], name: str) -> str:
    """``PAYPAL-<name>``; PayPal has sent the cert URL as PAYPAL-CERT-URL and, in its docs,
    PAYPAL-TRANSMISSION-CERT-URL."""
    value = headers.get(f"PAYPAL-{name}") or ""
    if not value and name == "Cert-Url":
        value = headers.get("PAYPAL-TRANSMISSION-CERT-URL") or ""
    return value.strip()


def signed_message(transmission_id: str, time: str, webhook_id: str, body: bytes) -> bytes:
    """What PayPal signs for a delivery."""
    return f"{transmission_id}|{time}|{webhook_id}|{zlib.crc32(body)}".encode()


def livemode_of(cert_url: str) -> bool | None:
    """True for a live PayPal cert host, False for the sandbox, None for any other host."""
    host = (urlsplit(cert_url).hostname or "").lower()
    return True if host in LIVE_HOSTS else False if host in SANDBOX_HOSTS else None


def check_with(certificate: x509.Certificate, message: bytes, signature: str) -> None:
    """BadSignature unless ``signature`` (base64) signs ``message`` with the certificate's key."""
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise BadSignature("PAYPAL-TRANSMISSION-SIG is not base64") from None
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise BadSignature("the certificate's key is not RSA")
    try:
        key.verify(raw, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise BadSignature("the signature does not match") from None


def verify(
    body: bytes,
    headers: Mapping[str, str],
    webhook_id: str,
    trust: Trust,
    now: datetime,
    cache: CertificateCache = CACHE,
) -> None:
    """Accept the delivery if PayPal signed it for ``webhook_id`` within the tolerance.

    BadSignature (400) for anything wrong with the delivery or its certificate;
    ``CertificateUnavailable`` (503) when the certificate cannot be fetched now.
    """
    values = {name: header(headers, name) for name in HEADERS}
    missing = [f"PAYPAL-{name.upper()}" for name, value in values.items() if not value]
    if missing:
        raise BadSignature(f"missing {', '.join(missing)}")
    if values["Auth-Algo"] != ALGORITHM:
        raise BadSignature(f"PAYPAL-AUTH-ALGO is not {ALGORITHM}")
    sent = event_time(values["Transmission-Time"])
    if sent is None:
        raise BadSignature("PAYPAL-TRANSMISSION-TIME is not a time")
    if abs(now - sent) > TOLERANCE:
        raise BadSignature("PAYPAL-TRANSMISSION-TIME is too far from now (a replay?)")
    if "|" in values["Transmission-Id"]:
        raise BadSignature("PAYPAL-TRANSMISSION-ID holds a separator")
    try:
        certificate = cache.certificate(values["Cert-Url"], trust, now)
    except BadCertificate as exc:
        raise BadSignature(str(exc)) from None
    message = signed_message(
        values["Transmission-Id"], values["Transmission-Time"], webhook_id, body
    )
    check_with(certificate, message, values["Transmission-Sig"])
