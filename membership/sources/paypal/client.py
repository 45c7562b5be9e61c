"""A small client of PayPal's REST API: an OAuth token, and one subscription by id. No Flask.

PayPal's REST apps authenticate with client credentials (``POST /v1/oauth2/token``, HTTP Basic
with the app's client id and secret); the token is reused until shortly before it expires,
and fetched again once if PayPal says it is no longer valid.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote

TIMEOUT_SECONDS = 20


class PayPalError(RuntimeError):
    """PayPal's API could not be read (network, credentials, an error answer)."""


class Client:
    def __init__(self, base: str, client_id: str, secret: str) -> None:
        if not client_id or not secret:
            raise PayPalError(
                "PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET are not set (developer dashboard > "
                "Apps & Credentials: a REST app of the account that receives the webhooks)"
            )
        self.base = base.rstrip("/")
        self._basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        self._token: str | None = None
        self._expires = 0.0
        self.requests = 0

    def _call(self, request: urllib.request.Request) -> tuple[int, Any]:
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as exc:
            return exc.code, None
        except (OSError, ValueError) as exc:
            raise PayPalError(f"could not read {request.full_url}: {exc}") from None

    def token(self) -> str:
        if self._token is not None and time.monotonic() < self._expires:
            return self._token
        request = urllib.request.Request(
            f"{self.base}/v1/oauth2/token",
            data=b"grant_type=client_credentials",
            headers={
                "Authorization": f"Basic {self._basic}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            method="POST",
        )
        status, body = self._call(request)
        if status != 200 or not isinstance(body, dict) or not body.get("access_token"):
            raise PayPalError(f"PayPal refused the client credentials (HTTP {status})")
        self._token = str(body["access_token"])
        expires_in = body.get("expires_in")
        seconds = expires_in if isinstance(expires_in, int) else 300
        self._expires = time.monotonic() + max(0, seconds - 60)
        return self._token

    def subscription(self, subscription_id: str) -> dict[str, Any] | None:
        """The subscription as PayPal has it now; None if PayPal does not know it."""
        url = f"{self.base}/v1/billing/subscriptions/{quote(subscription_id, safe='')}"
        for attempt in range(2):
            request = urllib.request.Request(
                url,
                headers={"Authorization": f"Bearer {self.token()}", "Accept": "application/json"},
            )
            status, body = self._call(request)
            if status == 401 and attempt == 0:
                self._token = None  # expired early or revoked: one fresh token
                continue
            if status == 404:
                return None
            if status != 200 or not isinstance(body, dict):
                raise PayPalError(f"PayPal answered {status} for subscription {subscription_id}")
            return body
        raise PayPalError("PayPal refused a fresh token")
