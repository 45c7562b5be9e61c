"""A small fake of Patreon's API v2 for the Patreon tests: members, read one by one or listed.

Serves ``GET /api/oauth2/v2/members/{id}`` and ``GET /api/oauth2/v2/campaigns/{id}/members``
(cursor pagination: ``meta.pagination.cursors.next``) to a Bearer token, as Patreon's JSON:API
documents. Tests change ``fake.members`` between requests (the member's state "now"), and can
answer 429 with Retry-After, 500, or drop connections, to test the client's retries.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = "fake-creator-access-token"
CAMPAIGN = "11539233"


class FakePatreon:
    """``with FakePatreon() as fake:``; ``fake.url`` is the API's origin."""

    def __init__(self, members: dict[str, dict[str, Any]] | None = None) -> None:
        self.members = dict(members or {})  # member id -> the member resource (``data``)
        self.page_size = 1000  # the most it returns per page, whatever is asked
        self.rate_limited = 0  # answer this many next requests 429
        self.retry_after = "1"
        self.failing = 0  # answer this many next requests 500
        self.requests: list[tuple[str, int]] = []  # (path with query, status)
        self.read_at: list[datetime] = []  # when each request was read, on the server's clock
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self, status: int, body: dict[str, Any], **headers: str) -> None:
                with fake._lock:
                    fake.requests.append((self.path, status))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/vnd.api+json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                with fake._lock:
                    fake.read_at.append(datetime.now(UTC))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self.answer(401, {"errors": [{"code_name": "Unauthorized"}]})
                with fake._lock:
                    limited = fake.rate_limited > 0
                    fake.rate_limited -= limited
                    failing = not limited and fake.failing > 0
                    fake.failing -= failing
                if limited:
                    return self.answer(
                        429,
                        {"errors": [{"code": 4, "status": "429"}]},
                        Retry_After=fake.retry_after,
                    )
                if failing:
                    return self.answer(500, {"errors": [{"status": "500"}]})
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                path = parts.path
                member_prefix = "/api/oauth2/v2/members/"
                if path.startswith(member_prefix):
                    member = fake.members.get(unquote(path[len(member_prefix) :]))
                    if member is None:
                        return self.answer(404, {"errors": [{"status": "404"}]})
                    return self.answer(200, {"data": member, "included": []})
                if path == f"/api/oauth2/v2/campaigns/{CAMPAIGN}/members":
                    return self.answer(200, fake.page(query))
                return self.answer(404, {"errors": [{"status": "404"}]})

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def page(self, query: dict[str, list[str]]) -> dict[str, Any]:
        ids = sorted(self.members)
        start = int(query.get("page[cursor]", ["0"])[0] or 0)
        count = min(int(query.get("page[count]", ["20"])[0]), self.page_size)
        chosen = ids[start : start + count]
        cursors = {"next": str(start + count) if start + count < len(ids) else None}
        return {
            "data": [self.members[i] for i in chosen],
            "included": [],
            "meta": {"pagination": {"cursors": cursors, "total": len(ids)}},
        }

    def paths(self, prefix: str) -> list[str]:
        return [p for p, _ in self.requests if p.startswith(prefix)]

    def __enter__(self) -> FakePatreon:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
