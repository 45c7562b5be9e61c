"""GET /metrics: who may read it, what it says, and that every gunicorn worker's figures add up."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from membership import create_app, metrics, metrics_fold
from membership.campaigns.settings import create_campaign
from membership.config_values import ConfigError
from membership.database import db
from membership.models import Event, NotifyChannel, NotifyDelivery, utcnow
from membership.web import metrics as metrics_web
from tests import stripe_factory as sf
from tests.conftest import SECRET
from tests.servers import Gunicorn, post, service
from tests.test_public_outage import break_database

TOKEN = "metrics-token-for-tests-only"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def make_app(db_url: str, **config: Any) -> Any:
    return create_app(
        {
            "DATABASE_URL": db_url,
            "STRIPE_WEBHOOK_SECRETS": (SECRET,),
            "PROGRESS_CACHE_SECONDS": 30,
            "TESTING": True,
            "METRICS_TOKEN": TOKEN,
            **config,
        }
    )


@pytest.fixture
def app(db_url: str) -> Any:
    app = make_app(db_url)
    with app.app_context():
        create_campaign(db.session, "drive", 100, title="Drive")
        create_campaign(db.session, "spring", 500, title="Spring")
    yield app
    app.extensions["database.engine"].dispose()


def deliver(app: Any, n: int) -> None:
    for i in range(n):
        event = sf.checkout_event(
            f"cs_m{i}", int(time.time()) - 60, customer=f"cus_m{i}", subscription=f"sub_m{i}"
        )
        body, headers = sf.signed(event, SECRET)
        response = app.test_client().post("/webhooks/stripe", data=body, headers=headers)
        assert response.status_code == 200


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(app: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = app.test_client().get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "text/plain"
    return samples(response.get_data(as_text=True))


# --- who may read it ---------------------------------------------------------------------------


def test_without_a_metrics_token_there_is_no_metrics_route(db_url):
    app = make_app(db_url, METRICS_TOKEN=None)
    response = app.test_client().get("/metrics", headers=AUTH)
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "no-store"
    assert b"membership_" not in response.data
    app.extensions["database.engine"].dispose()


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Basic " + TOKEN}, 401),
        ({"Authorization": "Bearer "}, 401),
        ({"Authorization": "Bearer not-the-token-at-all"}, 403),
        ({"Authorization": f"Bearer {TOKEN}x"}, 403),
        ({"Authorization": f"Bearer {TOKEN[:-1]}"}, 403),
        ({"Authorization": f"bearer {TOKEN}"}, 200),
    ],
)
def test_only_the_bearer_of_the_token_reads_the_metrics(app, headers, status):
    response = app.test_client().get("/metrics", headers=headers)
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "no-store"
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
    if status != 200:
        assert b"membership_" not in response.data


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"METRICS_TOKEN": "short"}, "at least 16"),
        ({"METRICS_TOKEN": "sixteen chars and spaces"}, "without spaces"),
        ({"LOG_FORMAT": "yaml"}, "LOG_FORMAT must be one of text, json"),
    ],
)
def test_malformed_settings_stop_the_app_at_start(db_url, settings, message):
    with pytest.raises(ConfigError, match=message):
        make_app(db_url, **settings)


def test_settings_come_from_the_environment_outside_tests(tmp_path):
    config = {"MEMBERSHIP_ENV": "production"}
    environ = {"METRICS_TOKEN": " " + TOKEN + " ", "LOG_FORMAT": "JSON"}
    found = metrics_web.settings(config, environ)
    assert (found.metrics_token, found.log_format, found.multiprocess_dir) == (TOKEN, "json", None)
    assert metrics_web.settings({"MEMBERSHIP_ENV": "test"}, environ).metrics_token is None
    with pytest.raises(ConfigError, match="PROMETHEUS_MULTIPROC_DIR"):
        metrics_web.settings(config, {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "missing")})


# --- what it says ------------------------------------------------------------------------------


def test_a_delivery_is_counted_by_source_type_and_outcome_with_its_apply_time():
    key = {"source": "stripe", "type": "checkout.session.completed", "outcome": "applied"}
    before = metrics.REGISTRY.get_sample_value("membership_webhook_deliveries_total", key) or 0
    seconds = {"source": "stripe"}
    count_before = (
        metrics.REGISTRY.get_sample_value("membership_webhook_apply_seconds_count", seconds) or 0
    )
    fast = {"source": "stripe", "le": "0.005"}
    fast_before = (
        metrics.REGISTRY.get_sample_value("membership_webhook_apply_seconds_bucket", fast) or 0
    )
    metrics.delivery("stripe", "checkout.session.completed", "applied", 0.004)
    metrics.delivery("stripe", "checkout.session.completed", "applied", 0.3)
    metrics.delivery("stripe", "checkout.session.completed", "duplicate")
    assert metrics.REGISTRY.get_sample_value("membership_webhook_deliveries_total", key) == (
        before + 2
    )
    assert metrics.REGISTRY.get_sample_value("membership_webhook_apply_seconds_count", seconds) == (
        count_before + 2
    )
    assert metrics.REGISTRY.get_sample_value("membership_webhook_apply_seconds_bucket", fast) == (
        fast_before + 1
    )


def test_a_scrape_shows_deliveries_counts_cache_hits_event_age_and_backlog(app):
    deliver(app, 3)
    client = app.test_client()
    assert client.get("/api/campaigns/drive").get_json()["count"] == 3
    first = scrape(app)
    metrics.delivery("paypal", "BILLING.SUBSCRIPTION.ACTIVATED", "ignored", 0.02)
    for _ in range(4):
        assert client.get("/api/campaigns/drive").status_code == 200
    with app.app_context():
        channel = NotifyChannel(campaign_id=1, kind="email", address="desk@news.example")
        db.session.add(channel)
        db.session.flush()
        for n in range(2):
            db.session.add(
                NotifyDelivery(
                    public_id=f"nd_{n}",
                    channel_id=channel.id,
                    campaign_id=1,
                    notice_key=f"milestone:{n}",
                    kind="milestone",
                    subject="A milestone",
                    text="Crossed",
                    data="{}",
                )
            )
        db.session.commit()
    then = scrape(app)

    assert then[("membership_campaign_count", (("campaign", "drive"),))] == 3
    assert then[("membership_campaign_count", (("campaign", "spring"),))] == 3
    age = then[("membership_source_last_event_age_seconds", (("source", "stripe"),))]
    assert 0 <= age < 3600
    assert ("membership_source_last_event_age_seconds", (("source", "paypal"),)) not in then
    assert then[("membership_outbox_backlog", ())] == 2
    assert first[("membership_outbox_backlog", ())] == 0
    assert then[("membership_metrics_database_up", ())] == 1
    paypal = (
        ("outcome", "ignored"),
        ("source", "paypal"),
        ("type", "BILLING.SUBSCRIPTION.ACTIVATED"),
    )
    assert then[("membership_webhook_deliveries_total", paypal)] == (
        first.get(("membership_webhook_deliveries_total", paypal), 0) + 1
    )
    hits = ("membership_progress_cache_hits_total", ())
    # Four reads within the cache period, and the scrape's own two reads of the figures.
    assert then[hits] - first[hits] == 4 + 2


def stored_event(source: str, event_id: str, received_at: datetime) -> Event:
    return Event(
        source=source,
        id=event_id,
        type="t",
        created=received_at,
        outcome="ignored",
        payload="{}",
        received_at=received_at,
        processed_at=received_at,
    )


def test_each_sources_last_event_is_read_whole_once_then_only_what_arrived_since(app):
    now = utcnow()
    with app.app_context():
        db.session.add_all(
            [
                stored_event("stripe", "evt_old", now - timedelta(days=3)),
                stored_event("stripe", "evt_new", now - timedelta(hours=2)),
                stored_event("paypal", "WH-1", now - timedelta(days=40)),
                stored_event("csv-archive", "row-1", now - timedelta(minutes=1)),
            ]
        )
        db.session.commit()
        last = metrics_web.LastEvents()
        first = last.read(db.session, now)
        assert first == {
            "stripe": now - timedelta(hours=2),
            "paypal": now - timedelta(days=40),
            "patreon": None,
        }
        later = now + timedelta(minutes=1)
        db.session.add_all(
            [
                stored_event("patreon", "p-1", later),
                stored_event("stripe", "evt_later", later),
            ]
        )
        db.session.commit()
        second = last.read(db.session, later + timedelta(seconds=30))
        assert second == {
            "stripe": later,
            "paypal": now - timedelta(days=40),
            "patreon": later,
        }
        db.session.rollback()


def test_while_the_database_is_down_a_scrape_still_answers_with_the_cached_counts(app):
    deliver(app, 2)
    assert app.test_client().get("/api/campaigns/drive").status_code == 200
    break_database(app)
    found = scrape(app)
    assert found[("membership_metrics_database_up", ())] == 0
    assert found[("membership_campaign_count", (("campaign", "drive"),))] == 2
    assert ("membership_outbox_backlog", ()) not in found


# --- every worker's figures, in one scrape --------------------------------------------------


def worker_values(directory: Path, name: str) -> dict[str, float]:
    """The total of the metrics named ``name``… in each worker's counter file, by file."""
    found = {}
    for path in directory.glob("counter_*.db"):
        total = sum(
            value
            for key, value, *_ in MmapedDict.read_all_values_from_file(str(path))
            if f'"{name}' in key
        )
        if total:
            found[path.name] = total
    return found


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read().decode()


@pytest.mark.slow
def test_reads_on_two_workers_add_up_in_one_scrape(db_url, tmp_path):
    engine_app = make_app(db_url)
    with engine_app.app_context():
        create_campaign(db.session, "drive", 100, title="Drive")
    engine_app.extensions["database.engine"].dispose()
    directory = tmp_path / "metrics"
    directory.mkdir()
    env = {
        "DATABASE_URL": db_url,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
    }
    with service(env, workers=2, log_path=tmp_path / "gunicorn.log") as server:
        reads = 0
        deadline = time.monotonic() + 60
        # Until both workers have answered some: the kernel, not the test, spreads them.
        while len(worker_values(directory, "membership_progress_cache_hits")) < 2:
            assert time.monotonic() < deadline, "one worker answered every read"
            with ThreadPoolExecutor(8) as pool:
                statuses = list(
                    pool.map(lambda _: get(server.url + "/api/campaigns/drive")[0], range(40))
                )
            assert statuses == [200] * 40
            reads += 40
        status, text = get(server.url + "/metrics", AUTH)
    assert status == 200
    found = samples(text)
    hits = found[("membership_progress_cache_hits_total", ())]
    misses = found[("membership_progress_cache_misses_total", ())]
    # Every read is one hit or one miss; the scrape reads the figures once more.
    assert hits + misses == reads + 1
    assert found[("membership_campaign_count", (("campaign", "drive"),))] == 0


def deliveries_add_up(db_url: str, tmp_path: Path, app: str = "app:app") -> None:
    """Signed deliveries from eight senders until two workers have each counted some; one
    scrape then counts every one of them, with an apply time each."""
    directory = tmp_path / "metrics"
    directory.mkdir()
    env = {
        "DATABASE_URL": db_url,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "GUNICORN_WORKERS": "2",
        "GUNICORN_ACCESSLOG": "",
        "GUNICORN_LOGLEVEL": "warning",
    }
    server = Gunicorn(env, app=app, log_path=tmp_path / "gunicorn.log")
    sent = 0

    def send(n: int) -> int:
        event = sf.checkout_event(
            f"cs_w{n}", int(time.time()) - 60, customer=f"cus_w{n}", subscription=f"sub_w{n}"
        )
        body, headers = sf.signed(event, SECRET)
        return post(server.url + "/webhooks/stripe", body, headers)[0]

    with server:
        deadline = time.monotonic() + 60
        while len(worker_values(directory, "membership_webhook_deliveries")) < 2:
            assert time.monotonic() < deadline, "one worker answered every delivery"
            with ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(send, range(sent, sent + 16)))
            assert statuses == [200] * 16
            sent += 16
            assert worker_values(directory, "membership_webhook_deliveries"), "none counted"
        status, text = get(server.url + "/metrics", AUTH)
    assert status == 200
    found = samples(text)
    applied = (("outcome", "applied"), ("source", "stripe"), ("type", "checkout.session.completed"))
    assert found[("membership_webhook_deliveries_total", applied)] == sent
    assert found[("membership_webhook_apply_seconds_count", (("source", "stripe"),))] == sent


@pytest.mark.slow
def test_deliveries_on_two_workers_add_up_in_one_scrape(db_url, tmp_path):
    deliveries_add_up(db_url, tmp_path)


def write_values(directory: Path, kind: str, pid: int, values: dict[str, float]) -> None:
    """Values as a worker writes them: the client's file format, keyed as it keys them."""
    names = {"counter": "membership_x", "histogram": "membership_y"}
    store = MmapedDict(str(directory / f"{kind}_{pid}.db"))
    for labels, value in values.items():
        name = names[kind]
        sample = f"{name}_total" if kind == "counter" else f"{name}_count"
        key = json.dumps([name, sample, {"source": labels}, "help"], sort_keys=True)
        store.write_value(key, value, 0.0)
    store.close()


def totals(directory: Path) -> str:
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    return generate_latest(registry).decode()


def test_a_finished_workers_values_are_folded_into_the_archive_and_still_add_up(tmp_path):
    write_values(tmp_path, "counter", 111, {"stripe": 3, "paypal": 1})
    write_values(tmp_path, "counter", 222, {"stripe": 5})
    write_values(tmp_path, "histogram", 111, {"stripe": 3})
    before = totals(tmp_path)
    assert 'membership_x_total{source="stripe"} 8.0' in before
    metrics_fold.fold(tmp_path, 111)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "counter_222.db",
        "counter_archive.db",
        "histogram_archive.db",
    ]
    assert totals(tmp_path) == before
    metrics_fold.fold(tmp_path, 222)
    metrics_fold.fold(tmp_path, 333)  # a worker that never counted anything
    assert totals(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "counter_archive.db",
        "histogram_archive.db",
    ]


@pytest.mark.slow
def test_a_worker_that_exits_leaves_its_counts_in_the_next_scrape(db_url, tmp_path):
    setup = make_app(db_url)
    with setup.app_context():
        create_campaign(db.session, "drive", 100, title="Drive")
    setup.extensions["database.engine"].dispose()
    directory = tmp_path / "metrics"
    directory.mkdir()
    env = {
        "DATABASE_URL": db_url,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
    }
    with service(env, workers=2, log_path=tmp_path / "gunicorn.log") as server:
        with ThreadPoolExecutor(8) as pool:
            statuses = list(
                pool.map(lambda _: get(server.url + "/api/campaigns/drive")[0], range(60))
            )
        assert statuses == [200] * 60
        # A worker that answered some of them.
        counted = worker_values(directory, "membership_progress_cache")
        gone = int(min(counted).removeprefix("counter_").removesuffix(".db"))
        assert gone in server.workers()
        os.kill(gone, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while (directory / f"counter_{gone}.db").exists() or len(server.workers()) < 2:
            assert time.monotonic() < deadline, "the exited worker was not folded or replaced"
            time.sleep(0.05)
        assert (directory / "counter_archive.db").exists()
        assert gone not in server.workers()
        status, text = get(server.url + "/metrics", AUTH)
    assert status == 200
    found = samples(text)
    hits = found[("membership_progress_cache_hits_total", ())]
    misses = found[("membership_progress_cache_misses_total", ())]
    assert hits + misses == 60 + 1
