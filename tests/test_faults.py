"""Faults a real deployment meets, under gunicorn with several workers, over real sockets.

Each ends the same way: every event is stored and applied exactly once, the counts are exactly
what the rules give, and a sender that retries like Stripe (exponential back-off) gets there.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from membership.campaigns import settings as campaigns
from membership.database import make_engine
from tests import oracle, scenarios
from tests import stripe_factory as sf
from tests.conftest import POSTGRES_URL, SECRET
from tests.servers import get, post, service
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow
ARTIFACTS = Path(__file__).parent / "artifacts"


def stream(seed: int, readers: int, copies: float) -> tuple[list[dict], list[dict]]:
    """Distinct events, and the deliveries: shuffled, with a share of copies."""
    events = scenarios.realistic(seed=seed, now=int(time.time()), readers=readers)
    rng = random.Random(seed)
    deliveries = events + rng.sample(events, k=int(len(events) * copies))
    rng.shuffle(deliveries)
    return events, deliveries


class StripeLikeSender:
    """Retries every delivery that was not answered 2xx, with exponential back-off."""

    def __init__(
        self, url: str, attempts: int = 14, first_delay: float = 0.1, max_delay: float = 2.0
    ) -> None:
        self.url = url + "/webhooks/stripe"
        self.attempts, self.first_delay, self.max_delay = attempts, first_delay, max_delay
        self.statuses: list[int | None] = []
        self._answered = threading.Condition()

    def deliver(self, event: dict) -> dict:
        delay = self.first_delay
        for _ in range(self.attempts):
            body, headers = sf.signed(event, SECRET)  # signed afresh on each attempt, as Stripe
            try:
                status, answer = post(self.url, body, headers)
            except (OSError, http.client.HTTPException, ValueError):
                # A worker died mid-request: the connection was reset, or it closed after the
                # headers with the body cut short (IncompleteRead) or unparseable. Stripe sees a
                # failed delivery and retries, and so does this sender.
                status, answer = None, {}
            with self._answered:
                self.statuses.append(status)
                self._answered.notify_all()
            if status == 200:
                return answer
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, self.max_delay)
        raise AssertionError(f"{event['id']} never accepted: {self.statuses[-self.attempts :]}")

    def wait_for(self, status: int | None, times: int = 1, timeout: float = 60) -> bool:
        """Block until ``status`` was answered ``times`` times; False after ``timeout``."""
        with self._answered:
            return self._answered.wait_for(lambda: self.statuses.count(status) >= times, timeout)


def deliver_through_a_fault(
    sender: StripeLikeSender,
    deliveries: list[dict],
    start: Callable[[], None],
    during: Callable[[], None],
    end: Callable[[], None],
) -> bool:
    """Deliver everything, four at a time, with a fault in the middle; True if the fault
    refused a delivery (503).

    The fault starts once deliveries are flowing (ten answered 200), while the first half is
    in flight, and the second half is sent only after it started; it ends once a delivery was
    refused, so every run meets it, however fast the machine.
    """
    half = len(deliveries) // 2
    with ThreadPoolExecutor(4) as pool:
        first = pool.map(sender.deliver, deliveries[:half])
        assert sender.wait_for(200, times=10), "no deliveries were accepted before the fault"
        start()
        try:
            rest = pool.map(sender.deliver, deliveries[half:])
            refused = sender.wait_for(503, timeout=60)
            during()
        finally:
            end()
        list(first), list(rest)
    return refused


def seed_campaigns(db_url: str) -> None:
    engine = make_engine(db_url)
    session = sessionmaker(engine)()
    campaigns.create_campaign(session, "now", 25_000)
    session.close()
    engine.dispose()


def count(url: str) -> dict:
    status, _, body = get(f"{url}/api/campaigns/now")
    assert status == 200, body
    return json.loads(body)


def expected(events: list[dict]) -> int:
    return oracle.expected_counts(events, datetime.now(UTC), livemode="live")["active"]


def base_env(db_url: str, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": db_url,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "STRIPE_LIVEMODE": "live",
        "PROGRESS_CACHE_SECONDS": "0",
        **extra,
    }


@pytest.mark.skipif(not POSTGRES_URL, reason="the database outage is PostgreSQL's (SQLite: lock)")
def test_postgresql_stops_mid_stream_and_comes_back(db_url, tmp_path):
    seed_campaigns(db_url)
    url = make_url(db_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    through_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
    events, deliveries = stream(seed=31, readers=60, copies=0.2)
    seen: dict[str, set] = {"readyz": set(), "progress": set()}
    try:
        with service(
            base_env(through_proxy), workers=3, log_path=tmp_path / "gunicorn.log"
        ) as server:
            before = count(server.url)  # every worker may not have it; one is enough
            assert before["stale"] is False
            sender = StripeLikeSender(server.url)

            def look() -> None:
                for _ in range(5):
                    seen["readyz"].add(get(server.url + "/readyz")[0])
                    status, _, body = get(server.url + "/api/campaigns/now")
                    seen["progress"].add((status, json.loads(body).get("stale")))

            assert deliver_through_a_fault(
                sender, deliveries, start=proxy.cut, during=look, end=proxy.restore
            ), "no delivery was refused while the database was away"
            assert 503 in seen["readyz"]
            # The widget kept its number: stale figures, or a 503 from a worker that never
            # had any (its first request came during the outage).
            assert (200, True) in seen["progress"] or seen["progress"] <= {(503, None)}
            assert count(server.url) == {
                **count(server.url),
                "stale": False,
                "count": expected(events),
            }
            assert get(server.url + "/readyz")[0] == 200
    finally:
        proxy.close()


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's locking")
def test_a_locked_sqlite_file_gets_503s_then_every_event_lands(db_url, tmp_path):
    seed_campaigns(db_url)
    events, deliveries = stream(seed=32, readers=50, copies=0.2)
    path = make_url(db_url).database
    with service(
        base_env(db_url, SQLITE_BUSY_TIMEOUT_MS="200"),
        workers=3,
        log_path=tmp_path / "gunicorn.log",
    ) as server:
        sender = StripeLikeSender(server.url)
        holder = sqlite3.connect(path, isolation_level=None, timeout=10)
        try:
            assert deliver_through_a_fault(
                sender,
                deliveries,
                start=lambda: holder.execute("BEGIN EXCLUSIVE"),
                during=lambda: None,
                end=lambda: holder.execute("ROLLBACK"),
            ), "no delivery was refused while the file was locked"
        finally:
            holder.close()
        assert 500 not in sender.statuses  # never "failed after a partial write"
        assert count(server.url)["count"] == expected(events)


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's read-only file")
def test_a_read_only_sqlite_file_refuses_with_503_and_keeps_nothing(db_url, tmp_path):
    seed_campaigns(db_url)
    path = make_url(db_url).database
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    event = sf.checkout_event(
        "cs_1", int(time.time()), customer="cus_1", subscription="sub_1", livemode=True
    )
    with service(base_env(read_only), workers=2, log_path=tmp_path / "ro.log") as server:
        body, headers = sf.signed(event, SECRET)
        status, answer = post(server.url + "/webhooks/stripe", body, headers)
        assert status == 503, answer
        assert count(server.url)["count"] == 0  # reads still work
    with service(base_env(db_url), workers=2, log_path=tmp_path / "rw.log") as server:
        # Nothing half-written: the same event now applies normally, once.
        assert StripeLikeSender(server.url).deliver(event)["outcome"] == "applied"
        assert count(server.url)["count"] == 1


def test_workers_killed_mid_request_lose_nothing(db_url, tmp_path):
    seed_campaigns(db_url)
    events, deliveries = stream(seed=33, readers=60, copies=0.2)
    with service(base_env(db_url), workers=3, log_path=tmp_path / "gunicorn.log") as server:
        sender = StripeLikeSender(server.url)
        killed = []

        def kill_workers() -> None:
            for _ in range(4):
                time.sleep(0.7)
                pids = server.workers()
                if pids:
                    victim = random.choice(pids)
                    os.kill(victim, signal.SIGKILL)
                    killed.append(victim)

        chaos = threading.Thread(target=kill_workers)
        chaos.start()
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(sender.deliver, deliveries))
        chaos.join()
        assert len(killed) >= 3
        assert count(server.url)["count"] == expected(events)


def test_load_with_faults_eight_senders_and_sixty_four_readers(db_url, tmp_path):
    """5,000 deliveries (30% copies) from 8 senders while 64 readers poll the progress API."""
    seed_campaigns(db_url)
    events, deliveries = stream(seed=34, readers=1000, copies=0.0)
    rng = random.Random(34)
    distinct = events[: int(5000 / 1.3)]
    deliveries = distinct + rng.sample(distinct, k=5000 - len(distinct))
    rng.shuffle(deliveries)
    with service(
        base_env(db_url, PROGRESS_CACHE_SECONDS="1"), workers=3, log_path=tmp_path / "gunicorn.log"
    ) as server:
        done = threading.Event()
        reads = {"ok": 0, "errors": []}
        lock = threading.Lock()

        def reader() -> None:
            while not done.is_set():
                status, _, body = get(server.url + "/api/campaigns/now")
                with lock:
                    if status == 200:
                        reads["ok"] += 1
                    else:
                        reads["errors"].append(status)
                time.sleep(0.05)

        readers = [threading.Thread(target=reader) for _ in range(64)]
        for thread in readers:
            thread.start()
        sender = StripeLikeSender(server.url, attempts=3)
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(sender.deliver, deliveries))
        elapsed = time.monotonic() - started
        done.set()
        for thread in readers:
            thread.join()

        outcomes = [a["outcome"] for a in answers]
        assert set(sender.statuses) == {200}, sorted(set(sender.statuses), key=str)
        assert reads["errors"] == []
        assert outcomes.count("duplicate") == len(deliveries) - len(distinct)
        time.sleep(1.1)  # the readers' cache period
        assert count(server.url)["count"] == expected(distinct)
        result = {
            "database": make_url(db_url).get_backend_name(),
            "deliveries": len(deliveries),
            "distinct_events": len(distinct),
            "seconds": round(elapsed, 2),
            "deliveries_per_second": round(len(deliveries) / elapsed, 1),
            "reads": reads["ok"],
            "reads_per_second": round(reads["ok"] / elapsed, 1),
            "errors": 0,
        }
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"load-{result['database']}.json").write_text(json.dumps(result, indent=2))
        print(result)
