"""Two app hosts behind nginx: one login limit for both (Redis), the reader's own address in the
limiter and the audit log, and a stream of deliveries that loses nothing while one host is
killed and the other restarted gracefully, with readers who never see a failed request.
"""

from __future__ import annotations

import json
import re
import threading
import time
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from membership.accounts import audit
from membership.database import make_engine
from membership.models import AuditEntry
from tests import stripe_factory as sf
from tests.conftest import SECRET
from tests.proxy.conftest import LOGIN_LIMIT, WORKER_CACHE
from tests.proxy.stack import fetch, graceful_restart, kill_host
from tests.servers import STARTUP_SECONDS

pytestmark = pytest.mark.slow
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
RETRIES = 200
READER, OTHER_READER = "127.0.0.2", "127.0.0.3"  # loopback addresses other than nginx's own


def failed_login(url: str, source: str, headers: dict[str, str] | None = None) -> int:
    """A wrong password, posted as a browser would (session cookie and CSRF token)."""
    form = fetch(url + "/admin/login", source=source)
    cookie = form.header("Set-Cookie").split(";", 1)[0]
    token = TOKEN.search(form.body.decode()).group(1)
    body = urlencode({"username": "nobody", "password": "wrong", "csrf_token": token})
    answer = fetch(
        url + "/admin/login",
        method="POST",
        body=body.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie,
            **(headers or {}),
        },
        source=source,
    )
    return answer.status


def test_the_login_limit_holds_across_both_hosts_for_the_readers_own_address(stack):
    assert [failed_login(stack.url, READER) for _ in range(LOGIN_LIMIT)] == [401] * LOGIN_LIMIT
    # The limit is counted in Redis: both hosts refuse this reader now, whichever nginx picks.
    assert failed_login(stack.url, READER) == 429
    assert failed_login(stack.url, READER, {"X-Forwarded-For": "203.0.113.9"}) == 429
    for host in stack.hosts:  # straight to each host, as nginx would pass it
        assert failed_login(host.url, "127.0.0.1", {"X-Forwarded-For": READER}) == 429
    # Another reader is not punished for the first, so the proxy's address was not the key.
    assert failed_login(stack.url, OTHER_READER) == 401

    engine = make_engine(stack.db_url)
    with sessionmaker(engine)() as session:
        addresses = session.scalars(
            select(AuditEntry.ip).where(AuditEntry.action == audit.LOGIN_FAILED)
        ).all()
    engine.dispose()
    assert addresses.count(READER) == LOGIN_LIMIT
    assert addresses.count(OTHER_READER) == 1
    assert "127.0.0.1" not in addresses and "203.0.113.9" not in addresses


class Stream:
    """Signed checkouts from several senders through nginx, each retried until a 2xx as
    Stripe retries a 5xx, and readers polling the progress JSON, until told to stop."""

    def __init__(self, url: str, slug: str) -> None:
        self.url, self.slug = url, slug
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.delivered = 0
        self.retried: list[str] = []
        self.refused: list[tuple[int, bytes]] = []
        self.reads = 0
        self.failed_reads: list[str] = []
        self._next = 0

    def _take(self) -> int:
        with self.lock:
            self._next += 1
            return self._next

    def send(self) -> None:
        while not self.stop.is_set():
            n = self._take()
            name = f"{self.slug}_{n}"
            event = sf.checkout_event(
                f"cs_{name}", int(time.time()), customer=f"cus_{name}", subscription=f"sub_{name}"
            )
            for _attempt in range(RETRIES):
                body, headers = sf.signed(event, SECRET)  # signed anew, as each retry is
                try:
                    answer = fetch(
                        self.url + "/webhooks/stripe", method="POST", body=body, headers=headers
                    )
                except OSError as exc:
                    answer = None
                    self.retried.append(repr(exc))
                if answer is not None and answer.status < 500:
                    if answer.status != 200:
                        self.refused.append((answer.status, answer.body))
                    break
                if answer is not None:
                    self.retried.append(str(answer.status))
                time.sleep(0.05)  # Stripe waits before a retry too
            else:
                self.refused.append((0, b"no 2xx after every retry"))
            with self.lock:
                self.delivered += 1
            time.sleep(0.05)  # a realistic pace, not a wait: keeps the stream going for long

    def read(self, query: str) -> None:
        # With a query of its own each read misses the cache and reaches an app host.
        n = 0
        while not self.stop.is_set():
            n += 1
            path = f"/api/campaigns/{self.slug}" + (f"?{query}={n}" if query else "")
            try:
                answer = fetch(self.url + path)
                if answer.status != 200:
                    self.failed_reads.append(f"{path}: {answer.status}")
            except OSError as exc:
                self.failed_reads.append(f"{path}: {exc!r}")
            with self.lock:
                self.reads += 1
            time.sleep(0.01)  # a busy reader, not a flood: leaves the machine to the hosts

    def wait_for(self, more: int) -> None:
        """Until ``more`` deliveries past now have succeeded (a deadline, not a pace)."""
        target = self.delivered + more
        deadline = time.monotonic() + STARTUP_SECONDS
        while self.delivered < target:
            assert time.monotonic() < deadline, f"stuck at {self.delivered} deliveries"
            assert not self.refused, self.refused[:3]
            time.sleep(0.05)


def count(url: str) -> int:
    answer = fetch(url)
    assert answer.status == 200, answer.body
    return json.loads(answer.body)["count"]


def test_a_host_killed_and_one_restarted_gracefully_lose_no_delivery_nor_a_read(stack, slug):
    host_a, host_b = stack.hosts
    before = count(f"{host_b.url}/api/campaigns/{slug}")
    stream = Stream(stack.url, slug)
    threads = [threading.Thread(target=stream.send) for _ in range(3)]
    threads += [threading.Thread(target=stream.read, args=(q,)) for q in ("", "", "reader")]
    for thread in threads:
        thread.start()
    try:
        stream.wait_for(15)
        kill_host(host_a)  # mid-stream, mid-request quite likely
        stream.wait_for(15)
        host_a.__enter__()  # the machine is back
        stream.wait_for(10)
        graceful_restart(host_b)  # `systemctl reload`: SIGHUP to gunicorn's master
        stream.wait_for(15)
    finally:
        stream.stop.set()
        for thread in threads:
            thread.join()

    assert not stream.refused, stream.refused[:3]
    assert stream.failed_reads == [], stream.failed_reads[:5]
    assert stream.reads > 50
    expected = before + stream.delivered
    deadline = time.monotonic() + WORKER_CACHE + 15
    seen = []
    while time.monotonic() < deadline and (not seen or seen[-1] != expected):
        seen.append(count(f"{host_a.url}/api/campaigns/{slug}"))
        time.sleep(0.1)
    assert seen[-1] == expected, (seen[-5:], stream.delivered, stream.retried[:5])


def test_the_host_and_scheme_the_app_sees_are_nginxs_not_what_a_client_claims(stack, slug):
    # The share page writes absolute URLs from the request's host and scheme (no PUBLIC_URL
    # here): each host name gets its own cached copy, and a forged scheme changes nothing.
    pages = {}
    for name in ("members.example.org", "other.example.org"):
        page = fetch(
            f"{stack.url}/share/{slug}",
            headers={
                "Host": name,
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "evil.example",
            },
        )
        assert page.status == 200
        pages[name] = page.body.decode()
        assert f'content="http://{name}/share/{slug}"' in pages[name]
        assert f"https://{name}" not in pages[name]
        assert "evil.example" not in pages[name]
        assert page.header("Strict-Transport-Security") is None  # HTTP, whatever the client says
    # Straight to a host from nginx's own address, the forwarded scheme is trusted (HSTS).
    direct = fetch(f"{stack.hosts[0].url}/healthz", headers={"X-Forwarded-Proto": "https"})
    assert direct.header("Strict-Transport-Security")
