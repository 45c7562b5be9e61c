"""Fixtures: the shipped nginx config in front of two app hosts on one PostgreSQL, with Redis.

Each host has its own instance folder (last good figures, import uploads), as two machines
would. PostgreSQL is TEST_DATABASE_URL (skipped without it: two hosts need one shared
database); Redis is TEST_REDIS_URL (default redis://127.0.0.1:6379/6, flushed before each test).
Under CI a missing nginx or Redis fails the run instead of skipping it.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker

from membership.campaigns import settings as campaigns
from membership.config_values import database_url
from membership.database import make_engine
from tests.conftest import POSTGRES_URL, SECRET, empty_postgres
from tests.proxy.stack import NGINX, Nginx, fetch
from tests.servers import Gunicorn, service

REDIS_URL = os.environ.get("TEST_REDIS_URL", "").strip() or "redis://127.0.0.1:6379/6"
# Short enough that a test sees a new figure in seconds: the cache's max-age and how long a
# worker reuses a figure before asking the database.
MAX_AGE = 2
WORKER_CACHE = 1
LOGIN_LIMIT = 4
METRICS_TOKEN = "proxy-tests-metrics-token"


def missing(reason: str) -> None:
    """Skip on a developer's machine; fail under CI, where the proxy tests must run."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (required under CI)", pytrace=False)
    pytest.skip(reason)


def flush_redis() -> None:
    try:
        import redis
    except ImportError:
        missing("the redis Python package is not installed (pip install 'flask-limiter[redis]')")
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=5).flushdb()
    except redis.RedisError as exc:
        missing(f"Redis is not reachable at {REDIS_URL}: {exc}")


def check_needs() -> None:
    """What the proxy tests stand on, checked before anything starts."""
    if not POSTGRES_URL:
        pytest.skip("TEST_DATABASE_URL is unset: several app hosts need one PostgreSQL")
    if not os.path.exists(NGINX):
        missing(f"nginx is not installed at {NGINX} (apt-get install nginx-light)")
    flush_redis()


@dataclass
class Stack:
    nginx: Nginx
    hosts: list[Gunicorn]
    db_url: str

    @property
    def url(self) -> str:
        return self.nginx.url


def host_env(db_url: str, instance: Path) -> dict[str, str]:
    instance.mkdir(parents=True, exist_ok=True)
    return {
        "DATABASE_URL": db_url,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "PROXY_HOPS": "1",
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "ADMIN_LOGIN_RATE_LIMIT": f"{LOGIN_LIMIT} per minute",
        "PROGRESS_MAX_AGE": str(MAX_AGE),
        "PROGRESS_CACHE_SECONDS": str(WORKER_CACHE),
        "PROGRESS_LAST_GOOD_DIR": str(instance / "last-good"),
        "IMPORT_UPLOAD_DIR": str(instance / "uploads"),
        "METRICS_TOKEN": METRICS_TOKEN,
    }


def start_all(hosts: list[Gunicorn]) -> None:
    """Start the hosts side by side: each takes seconds to import the app."""
    errors: list[BaseException] = []

    def start(host: Gunicorn) -> None:
        try:
            host.__enter__()
        except BaseException as exc:  # noqa: BLE001 - raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(host,)) for host in hosts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


@pytest.fixture(scope="package")
def running_stack(postgres_engine, tmp_path_factory) -> Iterator[Stack]:
    """Started once for the package (hosts take seconds to start); tests keep apart by
    campaign, and a test that kills a host has it started again for the next."""
    check_needs()
    empty_postgres(postgres_engine)
    db_url = database_url(POSTGRES_URL, ".")
    base = tmp_path_factory.mktemp("proxy")
    hosts = [
        service(
            host_env(db_url, base / f"host-{name}" / "instance"),
            workers=2,
            log_path=base / f"host-{name}.log",
        )
        for name in ("a", "b")
    ]
    try:
        start_all(hosts)
        with Nginx(base / "nginx", [f"127.0.0.1:{host.port}" for host in hosts]) as nginx:
            yield Stack(nginx, hosts, db_url)
    finally:
        for host in hosts:
            if host.process is not None:
                host.__exit__()


@pytest.fixture
def stack(running_stack: Stack) -> Stack:
    """The running stack with every host up and the login limiter's counts cleared."""
    check_needs()
    down = [h for h in running_stack.hosts if h.process is None or h.process.poll() is not None]
    start_all(down)
    # Also when none was down: the previous test may have left nginx counting them as down.
    wait_for_nginx_to_take_them_back(running_stack)
    return running_stack


def wait_for_nginx_to_take_them_back(stack: Stack) -> None:
    """nginx marks a host that failed as down for its fail_timeout (5 s in the shipped
    config); after every host was down, it answers 502 until that has passed, however soon
    the hosts are back. Poll through nginx until an app host answers."""
    # Ten answers in a row: each nginx worker also drops its kept-alive connections to the
    # killed processes (one failed reuse marks a host down again for fail_timeout).
    deadline = time.monotonic() + 60
    in_a_row = 0
    while in_a_row < 10:
        assert time.monotonic() < deadline, "nginx did not take the restarted hosts back"
        if fetch(stack.url + "/healthz").status == 200:
            in_a_row += 1
        else:
            in_a_row = 0
            time.sleep(0.2)


_made = itertools.count(1)


@pytest.fixture
def slug(running_stack: Stack) -> str:
    """A campaign of this test's own, so cached copies and counts never cross tests."""
    name = f"drive-{next(_made)}-{uuid.uuid4().hex[:6]}"
    engine = make_engine(running_stack.db_url)
    with sessionmaker(engine)() as session:
        campaigns.create_campaign(session, name, 25_000, title="Members now")
    engine.dispose()
    return name
