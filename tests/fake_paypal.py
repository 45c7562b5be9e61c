"""A small fake of PayPal's REST API for reconcile tests: OAuth tokens and subscriptions.

Serves ``POST /v1/oauth2/token`` (client credentials over HTTP Basic; answers 401 otherwise)
and ``GET /v1/billing/subscriptions/{id}`` (Bearer token; 404 for an unknown id, PayPal's
``RESOURCE_NOT_FOUND`` shape). Tokens can be revoked to test the refresh, and a path can be
made to fail with 500.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

CLIENT_ID, CLIENT_SECRET = "fake-client-id", "fake-client-secret"


class FakePayPal:
    """``with FakePayPal({"I-1": {...}}) as fake:``; ``fake.url`` is the API base."""

    def __init__(self, subscriptions: dict[str, dict[str, Any]] | None = None) -> None:
        self.subscriptions = dict(subscriptions or {})
        self.tokens: set[str] = set()
        self.failing: set[str] = set()  # subscription ids whose reads answer 500
        self.requests: list[tuple[str, str, int]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self, status: int, body: dict[str, Any]) -> None:
                fake.requests.append((self.command, self.path, status))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                form = self.rfile.read(length)
                basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
                if self.path != "/v1/oauth2/token":
                    return self.answer(404, {"name": "NOT_FOUND"})
                if self.headers.get("Authorization") != f"Basic {basic}":
                    return self.answer(401, {"error": "invalid_client"})
                if form != b"grant_type=client_credentials":
                    return self.answer(400, {"error": "unsupported_grant_type"})
                token = "A21" + secrets.token_hex(16)
                fake.tokens.add(token)
                self.answer(
                    200, {"access_token": token, "token_type": "Bearer", "expires_in": 32400}
                )

            def do_GET(self) -> None:  # noqa: N802
                prefix = "/v1/billing/subscriptions/"
                auth = self.headers.get("Authorization", "")
                if not auth.startswith("Bearer ") or auth[7:] not in fake.tokens:
                    return self.answer(401, {"error": "invalid_token"})
                if not self.path.startswith(prefix):
                    return self.answer(404, {"name": "NOT_FOUND"})
                subscription_id = unquote(self.path[len(prefix) :])
                if subscription_id in fake.failing:
                    return self.answer(500, {"name": "INTERNAL_SERVER_ERROR"})
                found = fake.subscriptions.get(subscription_id)
                if found is None:
                    return self.answer(404, {"name": "RESOURCE_NOT_FOUND"})
                self.answer(200, found)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def __enter__(self) -> FakePayPal:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
