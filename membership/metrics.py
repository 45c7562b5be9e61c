"""The service's Prometheus figures: counters kept per process, figures read at scrape time.

Counters and the histogram are the official client's. Under gunicorn (gunicorn.conf.py sets
PROMETHEUS_MULTIPROC_DIR before any worker imports this) each worker writes its values to its
own file in that directory and a scrape adds up every worker's, those of workers since
recycled included; without it (flask run, tests) they live in this process.

The other figures are read when scraped (scrape_families), from the progress cache and the
database, so they cost nothing between scrapes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

# *_created series mean nothing once workers are recycled, and multiprocess mode drops them.
disable_created_metrics()

# Only this module's own metrics: not the client's process and platform collectors, whose
# figures would be one worker's out of many.
REGISTRY = CollectorRegistry(auto_describe=True)

DELIVERIES = Counter(
    "membership_webhook_deliveries",
    "Webhook deliveries answered, by source, event type and outcome.",
    ["source", "type", "outcome"],
    registry=REGISTRY,
)
APPLY_SECONDS = Histogram(
    "membership_webhook_apply_seconds",
    "Seconds from a verified delivery to its stored outcome, by source.",
    ["source"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
CACHE_HITS = Counter(
    "membership_progress_cache_hits",
    "Progress reads answered from a worker's memory, without the database.",
    registry=REGISTRY,
)
CACHE_MISSES = Counter(
    "membership_progress_cache_misses",
    "Progress reads that had to ask the database whether the figures changed.",
    registry=REGISTRY,
)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def delivery(source: str, event_type: str, outcome: str, seconds: float | None = None) -> None:
    """Count one answered webhook delivery; ``seconds`` is how long it took to store and apply.

    ``outcome`` is the ledger's (applied, ignored, failed, duplicate) or why nothing was
    stored (refused, unavailable). Event types are the providers' own, a bounded set.
    """
    DELIVERIES.labels(source, event_type or "unknown", outcome).inc()
    if seconds is not None:
        APPLY_SECONDS.labels(source).observe(seconds)


def progress_cache_hit() -> None:
    CACHE_HITS.inc()


def progress_cache_miss() -> None:
    CACHE_MISSES.inc()


def multiprocess_dir() -> str | None:
    """The directory the workers share their values through, or None in one process."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def gauge(name: str, documentation: str, samples: Iterable[tuple[dict[str, str], float]]) -> Metric:
    labels = sorted({key for sample_labels, _ in samples for key in sample_labels})
    family = GaugeMetricFamily(name, documentation, labels=labels or None)
    for sample_labels, value in samples:
        family.add_metric([sample_labels[key] for key in labels], value)
    return family


class ScrapeTime(Collector):
    """Figures computed when scraped, by a function the caller passes (it knows the app)."""

    def __init__(self, families: Any) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families()


def exposition(scrape_families: Any) -> bytes:
    """The text format of every worker's counters plus the scrape-time figures."""
    registry = CollectorRegistry()
    # First, so the counters below include the cache reads this scrape makes.
    registry.register(ScrapeTime(scrape_families))
    directory = multiprocess_dir()
    if directory:
        registry.register(WorkerFiles(directory))
    else:
        registry.register(REGISTRY)  # type: ignore[arg-type] - a registry collects, too
    return generate_latest(registry)


class WorkerFiles(Collector):
    """Every worker's values from the shared directory (prometheus_client's collector).

    The master folds an exited worker's files into the archive (metrics_fold.py); a scrape
    that lists a file just before it goes is read again rather than failing.
    """

    def __init__(self, directory: str) -> None:
        self.collector = MultiProcessCollector(None, path=directory)

    def collect(self) -> Iterator[Metric]:
        for attempt in range(3):
            try:
                found = list(self.collector.collect())
            except FileNotFoundError:
                if attempt == 2:
                    raise
                continue
            yield from found
            return


def age_seconds(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else max(0.0, (now - then).total_seconds())
