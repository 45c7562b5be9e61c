"""The floor the service is measured against: bare Flask routes under the same gunicorn config.

- GET /api/campaigns/<slug>: a bare `jsonify` of a constant dict (the progress JSON's shape),
  no extra headers, no ETag: the framework's own per-request cost and nothing else.
- POST /webhooks/stripe: verifies the Stripe-Signature with the SDK and does nothing else.

Run as `gunicorn -c gunicorn.conf.py bench.bare_app:app` from the repository root.
"""

from __future__ import annotations

import os

import stripe
from flask import Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue

from membership.i18n import COPY  # a constant: the same words the real answer carries

SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_bench_only_not_a_real_secret")
FIGURES = {
    "slug": "bench",
    "title": "Membership drive",
    "count": 1000,
    "goal": 2000000,
    "percent": 0.1,
    "remaining": 1999000,
    "status": "active",
    "starts_at": None,
    "deadline": None,
    "updated_at": "2026-01-01T00:00:00Z",
    "headline": "Quality journalism takes work — and a community that cares.",
    "message": "Help us reach 2,000,000 members.",
    "cta_label": "Become a member",
    "cta_url": "https://example.org/join",
    "locale": "en",
    "translations": {},
    "words": COPY,
    "stale": False,
}

app = Flask(__name__)
app.json.sort_keys = False


@app.get("/healthz")
def healthz() -> ResponseReturnValue:
    return {"status": "ok"}


@app.get("/api/campaigns/<slug>")
def campaign_progress(slug: str) -> ResponseReturnValue:
    return jsonify(FIGURES)


@app.post("/webhooks/stripe")
def stripe_webhook() -> ResponseReturnValue:
    payload = request.get_data(as_text=True)
    header = request.headers.get("Stripe-Signature", "")
    try:
        stripe.WebhookSignature.verify_header(payload, header, SECRET, 300)
    except stripe.SignatureVerificationError:
        return jsonify(error="invalid signature"), 400
    return Response(b'{"outcome":"verified"}', mimetype="application/json")
