"""Outgoing HTTP for the Slack and webhook channels: http(s) only, a timeout, no redirects."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

# A receiver's error page can be long; the delivery record keeps its start.
ERROR_BODY_CHARS = 300


class DeliveryError(RuntimeError):
    """A delivery did not succeed; the worker records why and tries again later."""


def check_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host, else ValueError."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL")
    if parts.username or parts.password:
        raise ValueError("must not carry a user name or password")
    return url.strip()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A receiver that moved must be updated on purpose: following a redirect could carry a
    # signed notice, or the Slack URL's secret path, to another host.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST ``body`` as JSON; the status on a 2xx answer, else DeliveryError."""
    try:
        url = check_url(url)
    except ValueError as exc:
        raise DeliveryError(f"the channel's URL {exc}") from None
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "membership-notify/1",
            **headers,
        },
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(ERROR_BODY_CHARS)
            return response.status
    except urllib.error.HTTPError as exc:
        detail = exc.read(ERROR_BODY_CHARS).decode("utf-8", "replace").strip()
        where = f" to {exc.headers.get('Location')}" if 300 <= exc.code < 400 else ""
        raise DeliveryError(f"HTTP {exc.code}{where}: {detail or exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"could not reach the receiver: {reason}") from None
