"""A small fake of Stripe's API for reconcile tests: the three list endpoints it reads.

Serves ``GET /v1/events``, ``/v1/subscriptions`` and ``/v1/checkout/sessions`` in Stripe's list
shape (``{"object": "list", "data": [...], "has_more": ..., "url": ...}``), newest first, with
real ``limit``/``starting_after`` pagination and the filters reconcile uses; checks the
``Authorization: Bearer`` header; keeps events for 30 days as Stripe does; and can answer 429
(Stripe's error JSON and a ``Stripe-Should-Retry`` header) or drop connections, to test the
handling of rate limits and network errors. The official SDK is pointed at it by its API base.

``objects_from_events`` rebuilds the subscriptions and checkout sessions Stripe would list from
a stream of events (tests/scenarios.py), with their timestamps set as Stripe sets them.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests import stripe_factory as sf

API_KEY = "sk_test_fake_reconcile_key"
DAY = 86400
RETENTION = 30 * DAY
MAX_LIMIT = 100
PERIOD = 30 * DAY  # tests/scenarios.py bills every 30 days
RANK = {"incomplete": 0, "canceled": 1, "unpaid": 1, "paused": 1, "incomplete_expired": 1}


class FakeStripe:
    """Start with ``with FakeStripe(...) as fake:``; ``fake.url`` is the API base."""

    def __init__(
        self,
        now: int,
        events: Iterable[dict[str, Any]] = (),
        subscriptions: Iterable[dict[str, Any]] = (),
        checkout_sessions: Iterable[dict[str, Any]] = (),
        *,
        api_key: str = API_KEY,
        max_limit: int = MAX_LIMIT,
    ) -> None:
        self.now = now
        self.events = list(events)
        self.subscriptions = list(subscriptions)
        self.checkout_sessions = list(checkout_sessions)
        self.api_key = api_key
        self.max_limit = max_limit
        # Faults: answer 429 to the next N requests, or drop the next N connections.
        self.rate_limited = 0
        self.should_retry = "false"
        self.dropped = 0
        self.unreachable: set[str] = set()  # paths whose every request is dropped
        self.requests: list[tuple[str, dict[str, list[str]], int]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeStripe:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                fake._handle(self)

            def do_POST(self) -> None:  # noqa: N802
                fake._answer(self, 405, _error("reconcile only reads", "invalid_request_error"))

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # --- what was asked ---------------------------------------------------------------------

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]

    def statuses(self) -> list[int]:
        return [status for _, _, status in self.requests]

    # --- answering --------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = parse_qs(parts.query)
        with self._lock:
            drop = self.dropped > 0 or parts.path in self.unreachable
            limited = not drop and self.rate_limited > 0
            if drop and parts.path not in self.unreachable:
                self.dropped -= 1
            elif limited:
                self.rate_limited -= 1
        if drop:
            self.requests.append((parts.path, query, 0))
            # Close without a byte of answer, as a reset or a dying proxy would.
            handler.close_connection = True
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if handler.headers.get("Authorization") != f"Bearer {self.api_key}":
            key = (handler.headers.get("Authorization") or "").removeprefix("Bearer ")
            status, body = (
                401,
                _error(f"Invalid API Key provided: {key[:8]}****", "invalid_request_error"),
            )
        elif limited:
            status, body = (
                429,
                _error(
                    "Request rate limit exceeded. Learn more about rate limits here "
                    "https://stripe.com/docs/rate-limits.",
                    "invalid_request_error",
                    code="rate_limit",
                ),
            )
        elif parts.path == "/v1/events":
            status, body = 200, self._list(parts.path, self._events(query), query)
        elif parts.path == "/v1/subscriptions":
            status, body = 200, self._list(parts.path, self._subscriptions(query), query)
        elif parts.path == "/v1/checkout/sessions":
            status, body = 200, self._list(parts.path, self._sessions(query), query)
        else:
            status, body = (
                404,
                _error(f"Unrecognized request URL (GET: {parts.path}).", "invalid_request_error"),
            )
        self.requests.append((parts.path, query, status))
        headers = {"Stripe-Should-Retry": self.should_retry} if status == 429 else {}
        self._answer(handler, status, body, headers)

    def _answer(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        payload = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.send_header("Request-Id", f"req_fake_{len(self.requests):06d}")
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)

    def _list(
        self, path: str, items: list[dict[str, Any]], query: dict[str, list[str]]
    ) -> dict[str, Any]:
        items = sorted(items, key=lambda o: (o["created"], o["id"]), reverse=True)
        after = _one(query, "starting_after")
        if after is not None:
            ids = [o["id"] for o in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        limit = max(1, min(int(_one(query, "limit") or 10), self.max_limit))
        return {
            "object": "list",
            "data": items[:limit],
            "has_more": len(items) > limit,
            "url": path,
        }

    def _events(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        types = [v for k, vs in query.items() if k.startswith("types[") for v in vs]
        kind = _one(query, "type")
        return [
            e
            for e in self.events
            if e["created"] >= self.now - RETENTION
            and _created_matches(e["created"], query)
            and (not types or e["type"] in types)
            and (kind is None or e["type"] == kind)
        ]

    def _subscriptions(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        status = _one(query, "status")
        return [
            s
            for s in self.subscriptions
            if _created_matches(s["created"], query)
            and (
                status == "all"
                or (status is None and s["status"] not in ("canceled", "incomplete_expired"))
                or s["status"] == status
                or (status == "ended" and s["status"] in ("canceled", "incomplete_expired"))
            )
        ]

    def _sessions(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        status = _one(query, "status")
        return [
            s
            for s in self.checkout_sessions
            if _created_matches(s["created"], query) and (status is None or s["status"] == status)
        ]


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _created_matches(created: int, query: dict[str, list[str]]) -> bool:
    bounds = {
        "gte": lambda v: created >= v,
        "gt": lambda v: created > v,
        "lte": lambda v: created <= v,
        "lt": lambda v: created < v,
    }
    for op, test in bounds.items():
        value = _one(query, f"created[{op}]")
        if value is not None and not test(int(value)):
            return False
    exact = _one(query, "created")
    return exact is None or created == int(exact)


def _error(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": kind}
    if code:
        error["code"] = code
        error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    return {"error": error}


# --- Stripe's objects, rebuilt from a stream of events ----------------------------------------


def _subscription_of(event: dict[str, Any]) -> str | None:
    obj, kind = event["data"]["object"], event["type"]
    if kind.startswith("customer.subscription."):
        return obj["id"]
    if kind == "invoice.paid":
        parent = obj.get("parent") or {}
        return obj.get("subscription") or (parent.get("subscription_details") or {}).get(
            "subscription"
        )
    if kind.startswith("checkout.session.") and obj.get("mode") == "subscription":
        return obj.get("subscription")
    return None


def subscription_object(
    sub_id: str,
    customer: str,
    status: str,
    *,
    created: int,
    period_start: int,
    livemode: bool,
    trial: tuple[int, int] | None = None,
    ended_at: int | None = None,
    api: str = "new",
) -> dict[str, Any]:
    """A subscription as GET /v1/subscriptions lists it, from Stripe's fixture."""
    obj = sf.fixture(
        "subscription",
        id=sub_id,
        customer=customer,
        status=status,
        created=created,
        start_date=created,
        billing_cycle_anchor=period_start,
        livemode=livemode,
        trial_start=trial[0] if trial else None,
        trial_end=trial[1] if trial else None,
        canceled_at=ended_at,
        ended_at=ended_at,
        cancel_at=None,
        cancel_at_period_end=False,
        latest_invoice=None,
    )
    for item in obj["items"]["data"]:
        item["current_period_start"] = period_start
        item["current_period_end"] = period_start + PERIOD
        item["subscription"] = sub_id
    if api == "old":  # before 2025-03-31 the period was on the subscription itself
        obj["current_period_start"] = period_start
        obj["current_period_end"] = period_start + PERIOD
    return obj


def objects_from_events(
    events: Iterable[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The subscriptions and complete checkout sessions a stream of events leaves behind."""
    by_sub: dict[str, list[dict[str, Any]]] = {}
    sessions: dict[str, list[dict[str, Any]]] = {}
    for event in sorted(events, key=lambda e: (e["created"], e["id"])):
        sub = _subscription_of(event)
        if sub is not None:
            by_sub.setdefault(sub, []).append(event)
        if event["type"].startswith("checkout.session."):
            sessions.setdefault(event["data"]["object"]["id"], []).append(event)

    subscriptions = []
    for sub_id, history in by_sub.items():
        status_events = [e for e in history if e["type"].startswith("customer.subscription.")]
        status = "active"  # a subscription only seen through checkout or invoices
        if status_events:
            last = max(
                status_events,
                key=lambda e: (e["created"], RANK.get(e["data"]["object"]["status"], 2), e["id"]),
            )
            status = last["data"]["object"]["status"]
        final = [
            e
            for e in status_events
            if e["type"].endswith(".deleted")
            or e["data"]["object"]["status"] in ("canceled", "incomplete_expired")
        ]
        ended = [e["created"] for e in final]
        if final:
            # Stripe never revives a subscription it ended: whatever came at the same second
            # or later, the object says how it ended.
            first_end = min(final, key=lambda e: (e["created"], e["id"]))
            status = (
                "canceled"
                if first_end["type"].endswith(".deleted")
                else first_end["data"]["object"]["status"]
            )
        created = history[0]["created"]
        first = history[0]["data"]["object"]
        trial = None
        anchor = created
        if first.get("object") == "subscription" and first["status"] == "trialing":
            trial = (created, created + 14 * DAY)
            anchor = created + 14 * DAY if history[-1]["created"] >= created + 14 * DAY else created
        last_change = ended[0] if ended else history[-1]["created"]
        cycles = max(0, (last_change - anchor) // PERIOD)
        subscriptions.append(
            subscription_object(
                sub_id,
                first["customer"],
                status,
                created=created,
                period_start=anchor + cycles * PERIOD,
                livemode=history[0]["livemode"],
                trial=trial,
                ended_at=min(ended)
                if ended and status in ("canceled", "incomplete_expired")
                else None,
            )
        )

    checkout_sessions = []
    for history in sessions.values():
        obj = dict(history[-1]["data"]["object"])
        obj["created"] = history[0]["created"]  # when the reader opened Checkout
        checkout_sessions.append(obj)
    return subscriptions, checkout_sessions
