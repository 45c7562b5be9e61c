"""Checking a delivery's Stripe-Signature header with the official SDK. No Flask here."""

from __future__ import annotations

import time

import stripe

# Stripe's own default: a signature older than five minutes may be a replay.
TOLERANCE_SECONDS = 300


class BadSignature(ValueError):
    """The delivery was not signed by any configured secret within the tolerance."""


def verify_signature(payload: str, header: str, secrets: tuple[str, ...]) -> None:
    """Accept the delivery if any configured secret signed it within the tolerance.

    The SDK checks the HMAC and refuses old timestamps; it accepts any future one, so a
    signature dated more than the tolerance ahead is refused here as well.
    """
    timestamps = [part[2:] for part in header.split(",") if part.strip().startswith("t=")]
    try:
        timestamp = int(timestamps[0].strip()) if len(timestamps) == 1 else None
    except ValueError:
        timestamp = None
    if timestamp is None:
        raise BadSignature("Stripe-Signature has no single timestamp")
    if timestamp > time.time() + TOLERANCE_SECONDS:
        raise BadSignature("Stripe-Signature timestamp is in the future")
    last_error = "no secret matched"
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, TOLERANCE_SECONDS)
            return
        except stripe.SignatureVerificationError as exc:
            last_error = str(exc)
    raise BadSignature(last_error)
