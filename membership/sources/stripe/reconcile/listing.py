"""Reading Stripe's API: list requests with retries and back-off, page by page, read
completely into a ``Snapshot`` before anything is written."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import stripe

from ..translate import Settings
from .errors import ReconcileError

# The event types the ledger acts on (translate.py); Stripe accepts up to 20.
EVENT_TYPES = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "charge.refunded",
)


@dataclass(frozen=True)
class Options:
    """How hard to try. The SDK itself also retries connection errors and 5xx answers
    (``max_network_retries`` in ``make_client``); these attempts wrap each page request."""

    attempts: int = 5
    backoff: float = 1.0  # seconds before the first retry; doubles each time
    max_backoff: float = 30.0
    page_size: int = 100
    sleep: Callable[[float], None] = time.sleep


def make_client(
    api_key: str, api_base: str | None = None, *, max_network_retries: int = 2
) -> stripe.StripeClient:
    """The official SDK's client; ``api_base`` points it elsewhere (tests, stripe-mock)."""
    if not api_key:
        raise ReconcileError("STRIPE_API_KEY is not set: reconcile reads Stripe's API with it")
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=max_network_retries,
    )


@dataclass
class Snapshot:
    """What Stripe knows, as plain dicts, read completely before anything is written."""

    events: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    checkout_sessions: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    retries: int = 0


class _Reader:
    def __init__(self, client: stripe.StripeClient, options: Options) -> None:
        self.client = client
        self.options = options
        self.requests = 0
        self.retries = 0

    def call(self, what: str, fetch: Callable[[], Any]) -> Any:
        """One request, retried with exponential back-off on rate limits and network errors."""
        options = self.options
        for attempt in range(1, options.attempts + 1):
            self.requests += 1
            try:
                return fetch()
            except stripe.RateLimitError as exc:
                problem = f"rate limited (429): {exc.user_message or exc}"
            except stripe.APIConnectionError as exc:
                problem = f"could not connect: {exc.user_message or exc}"
            except stripe.AuthenticationError as exc:
                raise ReconcileError(
                    f"Stripe refused the API key while listing {what} "
                    f"({exc.http_status}): check STRIPE_API_KEY"
                ) from None
            except stripe.PermissionError as exc:
                raise ReconcileError(
                    f"the API key may not list {what} ({exc.http_status}): a restricted key "
                    "needs read access to events, subscriptions and Checkout sessions"
                ) from None
            except stripe.APIError as exc:
                if exc.http_status is not None and exc.http_status < 500:
                    raise ReconcileError(f"Stripe refused listing {what}: {exc}") from None
                problem = f"Stripe answered {exc.http_status}: {exc.user_message or exc}"
            except stripe.StripeError as exc:
                raise ReconcileError(f"Stripe refused listing {what}: {exc}") from None
            except RecursionError:
                # The SDK converts objects recursively; one nested hundreds deep is not a
                # Stripe object (the ledger refuses more than 64 levels) and cannot be read.
                raise ReconcileError(
                    f"Stripe's answer listing {what} is nested too deep to read. "
                    "Nothing was written."
                ) from None
            if attempt == options.attempts:
                raise ReconcileError(
                    f"gave up listing {what} after {attempt} attempts; last: {problem}. "
                    "Nothing was written; run reconcile again later."
                )
            self.retries += 1
            delay = min(options.backoff * 2 ** (attempt - 1), options.max_backoff)
            options.sleep(delay * random.uniform(0.5, 1.0))  # jitter spreads concurrent callers
        raise AssertionError("unreachable")

    def list_all(self, what: str, lister: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every item of a Stripe list, page by page.

        Pages are requested one at a time with ``starting_after`` (what the SDK's
        ``auto_paging_iter`` does) so that a failed page is retried by itself instead of the
        whole listing starting over.
        """
        items: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            page_params = {**params, "limit": self.options.page_size}
            if after is not None:
                page_params["starting_after"] = after
            page = self.call(what, lambda p=page_params: lister.list(params=p))
            data = _raw_items(page)
            items.extend(data)
            if not page.has_more or not data:
                return items
            after = data[-1]["id"]


def _raw_items(page: Any) -> list[dict[str, Any]]:
    """The items exactly as Stripe sent them (the JSON a webhook would carry), not the SDK's
    objects, which turn decimal strings into Decimal and would not serialise back the same."""
    response = page.last_response
    if response is not None and isinstance(getattr(response, "body", None), str):
        body = json.loads(response.body)
        if isinstance(body, dict) and isinstance(body.get("data"), list):
            return [item for item in body["data"] if isinstance(item, dict)]
    return [item.to_dict(for_json=True) for item in page.data]


def fetch(
    client: stripe.StripeClient,
    since: datetime,
    now: datetime,
    settings: Settings,
    options: Options = Options(),
) -> Snapshot:
    reader = _Reader(client, options)
    v1 = client.v1
    snapshot = Snapshot()
    snapshot.events = reader.list_all(
        "events",
        v1.events,
        {"created": {"gte": int(since.timestamp())}, "types": list(EVENT_TYPES)},
    )
    snapshot.subscriptions = reader.list_all("subscriptions", v1.subscriptions, {"status": "all"})
    # A one-off payment older than the term makes nobody a member now.
    sessions_since = int((now - settings.term - timedelta(days=1)).timestamp())
    snapshot.checkout_sessions = reader.list_all(
        "checkout sessions",
        v1.checkout.sessions,
        {"status": "complete", "created": {"gte": sessions_since}},
    )
    snapshot.requests, snapshot.retries = reader.requests, reader.retries
    return snapshot
