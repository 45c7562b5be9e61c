"""A small client of Patreon's API v2 with the creator's token: one member, or a campaign's
members page by page. No Flask.

Each read returns the moment just before its request was sent (``fetched_at``): whatever
Patreon answers was true at some instant after it, which is what makes a later read win over
an earlier one in the ledger (docs/patreon.md). Rate limits (429) wait ``Retry-After`` when
that is short enough, and 5xx answers and network errors are tried again a few times with
back-off; then ``PatreonError`` says what failed.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from ...models import utcnow

TIMEOUT_SECONDS = 20
PAGE_SIZE = 500
MEMBER_FIELDS = (
    "patron_status,last_charge_status,last_charge_date,pledge_relationship_start,"
    "currently_entitled_amount_cents,is_follower,is_free_trial,email"
)
QUERY = {
    "include": "currently_entitled_tiers,campaign",
    "fields[member]": MEMBER_FIELDS,
    "fields[tier]": "amount_cents",
    "fields[campaign]": "created_at",
}


class PatreonError(RuntimeError):
    """Patreon's API could not be read (network, token, rate limit, an error answer)."""


@dataclass(frozen=True)
class Page:
    fetched_at: datetime
    members: list[Mapping[str, Any]]


class Client:
    def __init__(
        self,
        base: str,
        token: str,
        *,
        attempts: int = 4,
        longest_wait: float = 60.0,
        timeout: float = TIMEOUT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if not token:
            raise PatreonError(
                "PATREON_ACCESS_TOKEN is not set (patreon.com/portal/registration/register-clients:"
                " your client's Creator's Access Token)"
            )
        self.base = base.rstrip("/")
        self._token = token
        self.attempts = attempts
        self.longest_wait = longest_wait
        self.timeout = timeout
        self._sleep = sleep
        self._clock = clock
        self.requests = 0

    def _get(self, url: str) -> tuple[datetime, int, Any, Mapping[str, str]]:
        """One GET: (sent at, status, JSON body or None, headers)."""
        request = urllib.request.Request(
            url, headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        )
        self.requests += 1
        sent_at = self._clock()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return sent_at, response.status, json.load(response), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return sent_at, exc.code, None, dict(exc.headers or {})
        except (OSError, ValueError) as exc:
            return sent_at, 0, str(exc), {}

    def read(self, url: str, what: str) -> tuple[datetime, Mapping[str, Any] | None]:
        """(sent at, the JSON document) of a GET, or None for 404; retried as above."""
        problem = ""
        for attempt in range(self.attempts):
            sent_at, status, body, headers = self._get(url)
            if status == 200 and isinstance(body, Mapping):
                return sent_at, body
            if status == 404:
                return sent_at, None
            if status in (401, 403):
                raise PatreonError(
                    f"Patreon refused PATREON_ACCESS_TOKEN reading {what} (HTTP {status}); "
                    "refresh the creator's token"
                )
            if status == 429:
                wait = _seconds(headers.get("Retry-After"))
                problem = f"rate limited (Retry-After {wait:g} s)"
                if wait > self.longest_wait:
                    break
            else:
                problem = f"HTTP {status}" if status else f"network error: {body}"
                wait = min(0.5 * 2.0**attempt, self.longest_wait)
            if attempt + 1 < self.attempts:
                self._sleep(wait)
        raise PatreonError(f"could not read {what} from Patreon: {problem}")

    def member(self, member_id: str) -> tuple[datetime, Mapping[str, Any] | None]:
        """(sent at, the member resource ``data``), or None if Patreon does not know it."""
        url = f"{self.base}/api/oauth2/v2/members/{quote(member_id, safe='')}?{urlencode(QUERY)}"
        sent_at, document = self.read(url, f"member {member_id}")
        if document is None:
            return sent_at, None
        data = document.get("data")
        if not isinstance(data, Mapping) or data.get("id") != member_id:
            raise PatreonError(f"Patreon's answer for member {member_id} is not that member")
        return sent_at, data

    def members(self, campaign_id: str) -> Iterator[Page]:
        """Every member of the campaign, a page at a time, following the cursors."""
        path = f"{self.base}/api/oauth2/v2/campaigns/{quote(campaign_id, safe='')}/members"
        cursor: str | None = None
        while True:
            query = {**QUERY, "page[count]": str(PAGE_SIZE)}
            if cursor:
                query["page[cursor]"] = cursor
            sent_at, document = self.read(f"{path}?{urlencode(query)}", "the campaign's members")
            if document is None:
                raise PatreonError(f"Patreon does not know campaign {campaign_id} (404)")
            data = document.get("data")
            if not isinstance(data, list):
                raise PatreonError("Patreon's members page has no data list")
            yield Page(sent_at, [m for m in data if isinstance(m, Mapping)])
            cursor = _next_cursor(document)
            if not cursor:
                return


def _next_cursor(document: Mapping[str, Any]) -> str | None:
    meta = document.get("meta")
    pagination = meta.get("pagination") if isinstance(meta, Mapping) else None
    cursors = pagination.get("cursors") if isinstance(pagination, Mapping) else None
    found = cursors.get("next") if isinstance(cursors, Mapping) else None
    return found if isinstance(found, str) and found else None


def _seconds(value: str | None) -> float:
    """Retry-After in seconds (Patreon sends seconds); 1 when missing or unreadable."""
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0
