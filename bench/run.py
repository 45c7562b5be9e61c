"""`make bench`: the service against the framework's floor, in one run, on this machine.

Starts the service (`gunicorn app:app`) and a bare Flask app (`bench/bare_app.py`) under the
project's gunicorn.conf.py on free ports of 127.0.0.1, and measures:

- read:   GET /api/campaigns/<slug> with wrk (200s, and 304s with If-None-Match), vs bare
          (a bare jsonify of a constant dict, no extra headers: the floor for both);
- nginx:  the same read through the shipped nginx config vs nginx serving the same bytes as a
          static file (bench/proxy.py; skipped without nginx, or with --no-proxy);
- scale:  the same read with 1,000 and with 1,000,000 members, on SQLite and PostgreSQL;
- ingest: signed, new sign-up webhooks from 8 concurrent senders (wrk + bench/ingest.lua),
          vs a route that only verifies the signature;
- widget: static/widget.js raw / gzip -9 / brotli bytes, and in Chromium the time from the API
          response to the painted number.

Prints one table and writes bench/results.json. Ratios are what matter: the machine is shared.

    .venv/bin/python bench/run.py [--quick] [--reads-only] [--profile] [--app bench.tuned_app:app]

The read without membership/web/fast_path.py (the "before"): BENCH_TUNE=no-fast-path with
--app bench.tuned_app:app.

PostgreSQL: BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test) names a
server and a database to connect to; the run drops and creates its own database `bench` there.
Set BENCH_POSTGRES_URL= (empty) to skip PostgreSQL.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

from bench import seed as seeding  # noqa: E402
from membership.sources.stripe.simulate import sign, stripe_id  # noqa: E402
from tests.servers import Gunicorn  # noqa: E402 - the tests' launcher, one for both
from tests.servers import get as http_get  # noqa: E402
from tests.stripe_factory import checkout_event  # noqa: E402

PYTHON = sys.executable
SECRET = "whsec_bench_only_not_a_real_secret"
SLUG = "bench"
GOAL = 2_000_000
SENDERS = 8
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
TARGETS = {
    "read_vs_bare": 1.0,
    "read_1m_vs_1k": 0.95,
    "ingest_vs_verify": 0.5,
    "ingest_p99_ms": 100.0,
    "widget_gzip_bytes": 2000,
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- wrk --------------------------------------------------------------------------------------

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def parse_wrk(output: str) -> dict[str, Any]:
    """Requests/s, latency percentiles (ms) and error counts from `wrk --latency` output."""
    result: dict[str, Any] = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
    }
    for percent, value in re.findall(
        r"^\s*(50|75|90|99)%\s+([\d.]+(?:us|ms|s|m))\s*$", output, re.M
    ):
        result[f"p{percent}_ms"] = round(_ms(value), 2)
    if "p99_ms" not in result:
        result["wrk_output"] = output  # for whoever has to find out why
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx_3xx"] = int(non_2xx.group(1)) if non_2xx else 0
    errors = re.search(r"Socket errors: (.*)", output)
    result["socket_errors"] = errors.group(1).strip() if errors else ""
    again = re.search(r"SENT_AGAIN (\d+)", output)
    if again:
        result["sent_again"] = int(again.group(1))
    return result


def wrk(
    url: str,
    *,
    seconds: int,
    threads: int = 2,
    connections: int = 32,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
    script_args: list[str] | None = None,
) -> dict[str, Any]:
    # wrk drops a request that takes longer than --timeout (2 s by default) from its latency
    # figures and counts it as an error; 30 s (about what Stripe waits for a webhook answer)
    # keeps a slow tail in the p99 where it belongs.
    command = ["wrk", "--latency", "--timeout", "30s", f"-t{threads}", f"-c{connections}"]
    command.append(f"-d{seconds}s")
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", str(script)]
    command.append(url)
    if script_args:
        command += ["--", *script_args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


# --- the measurements -------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.seconds = 4 if args.quick else 8
        self.warmup = 2
        self.rounds = args.rounds
        self.round_seconds = 2 if args.quick else 4
        self.bare_url = ""
        self.big = 100_000 if args.quick else 1_000_000
        self.results: dict[str, Any] = {"reads": {}, "ingest": {}, "seed": {}, "count_ms": {}}

    def server(self, app: str, name: str, env: dict[str, str] | None = None) -> Gunicorn:
        """``app`` as deployed (gunicorn.conf.py, with any GUNICORN_* of this environment)."""
        env = {"STRIPE_WEBHOOK_SECRET": SECRET, **(env or {})}
        return Gunicorn(env, app=app, log_path=self.work / f"{name}.log")

    # read

    def read(self, base: str, label: str) -> None:
        """The service's read path against the bare route, in alternating short runs.

        Other work on a shared machine comes and goes within seconds, so each service run is
        paired with a bare run next to it, and the ratio is the median of the pairs' ratios.
        """
        for suffix, conditional in (("", False), (" 304", True)):
            runs: dict[str, list[dict[str, Any]]] = {"service": [], "bare": []}
            urls = {"service": base, "bare": self.bare_url}
            headers: dict[str, dict[str, str]] = {}
            for side, root in urls.items():
                url = f"{root}/api/campaigns/{SLUG}"
                status, response_headers, _ = http_get(url)
                if status != 200:
                    raise RuntimeError(f"{url} answered {status}")
                # The floor is a bare jsonify with no ETag: against the service's 304s it
                # answers its constant 200, so both rows share one floor.
                etag = response_headers.get("ETag")
                headers[side] = {"If-None-Match": etag} if conditional and etag else {}
                if conditional and side == "service" and http_get(url, headers[side])[0] != 304:
                    raise RuntimeError(f"{url} did not answer 304 to If-None-Match")
                wrk(url, seconds=self.warmup, headers=headers[side])  # imports, connections
            for round_ in range(self.rounds):
                order = ("service", "bare") if round_ % 2 == 0 else ("bare", "service")
                for side in order:
                    runs[side].append(
                        wrk(
                            f"{urls[side]}/api/campaigns/{SLUG}",
                            seconds=self.round_seconds,
                            headers=headers[side],
                        )
                    )
            result = median_run(runs["service"])
            bare = median_run(runs["bare"])
            result["bare_rps"] = bare["rps"]
            result["bare_p99_ms"] = bare.get("p99_ms")
            result["vs_bare"] = round(
                statistics.median(
                    s["rps"] / b["rps"] for s, b in zip(runs["service"], runs["bare"], strict=True)
                ),
                3,
            )
            result["rounds"] = [
                (s["rps"], b["rps"]) for s, b in zip(runs["service"], runs["bare"], strict=True)
            ]
            self.results["reads"][label + suffix] = result
            log(
                f"read {label}{suffix}: {result['rps']:.0f} req/s (bare {bare['rps']:.0f}), "
                f"p99 {result.get('p99_ms')} ms, {result['vs_bare']}× bare"
            )

    # ingest

    def deliveries(self, count: int) -> Path:
        """``count`` signed checkout.session.completed events, each a new member, signed now."""
        path = self.work / "deliveries.tsv"
        now = int(time.time())
        with path.open("w") as out:
            for _ in range(count):
                event = checkout_event(
                    stripe_id("cs_test"),
                    now,
                    customer=stripe_id("cus"),
                    subscription=stripe_id("sub"),
                    id=stripe_id("evt"),
                )
                body = json.dumps(event)
                out.write(f"{sign(body, SECRET, now)}\t{body}\n")
        return path

    def ingest(self, base: str, label: str) -> dict[str, Any]:
        # Enough for a verify-only route at several thousand a second; signed just before use,
        # well within the 300 s tolerance.
        count = (6_000 if label.startswith("verify-only") else 1_500) * self.seconds
        path = self.deliveries(count)
        result = wrk(
            f"{base}/webhooks/stripe",
            seconds=self.seconds,
            threads=2,
            connections=SENDERS,
            script=BENCH / "ingest.lua",
            script_args=[str(path), "2"],
        )
        path.unlink()
        # Sent twice is harmless to a route that only verifies; to the service it is a cheap
        # duplicate that would flatter the figure.
        if result.get("sent_again") and not label.startswith("verify-only"):
            raise RuntimeError(f"ingest {label}: ran out of deliveries; raise the count")
        if result["non_2xx_3xx"] or result["socket_errors"]:
            raise RuntimeError(f"ingest {label}: errors {result}")
        self.results["ingest"][label] = result
        log(f"ingest {label}: {result['rps']:.0f}/s, p99 {result.get('p99_ms')} ms")
        return result

    # databases

    def prepare(self, url: str) -> None:
        """Schema by migration, the campaign by the CLI, 1,000 members by the seeder."""
        env = {**os.environ, "DATABASE_URL": url, "MEMBERSHIP_ENV": "development"}
        flask = [PYTHON, "-m", "flask", "--app", "app"]
        for command in (
            ["db", "upgrade"],
            [
                "campaign",
                "create",
                SLUG,
                "--goal",
                str(GOAL),
                "--title",
                "Membership drive",
                "--headline",
                "Quality journalism takes work — and a community that cares.",
                "--message",
                "Help us reach 2,000,000 members.",
                "--cta-label",
                "Become a member",
                "--cta-url",
                "https://example.org/join",
            ],
        ):
            subprocess.run(
                flask + command, cwd=ROOT, env=env, check=True, capture_output=True, text=True
            )

    def seed(self, url: str, label: str, members: int) -> None:
        result = seeding.seed(url, members)
        self.results["seed"][f"{label} {members}"] = result
        log(f"seeded {label} to {members:,} members: {result}")

    def count_time(self, url: str, label: str) -> None:
        """How long one recount takes (progress.compute), the only work that grows with members."""
        from sqlalchemy.orm import Session

        from membership.campaigns import progress
        from membership.config import database_url
        from membership.database import make_engine
        from membership.models import Campaign, utcnow

        engine = make_engine(database_url(url, ""))
        times = []
        with Session(engine) as session:
            campaign = session.query(Campaign).filter_by(slug=SLUG).one()
            for _ in range(5):
                began = time.perf_counter()
                figures = progress.compute(session, campaign, utcnow())
                times.append((time.perf_counter() - began) * 1000)
                session.rollback()
        engine.dispose()
        self.results["count_ms"][label] = {"count": figures.count, "ms": round(min(times), 2)}
        log(f"recount {label}: {figures.count:,} members in {min(times):.1f} ms")

    def stored_applied(self, url: str) -> int:
        from sqlalchemy import create_engine, text

        from membership.config import database_url

        engine = create_engine(database_url(url, ""))
        with engine.connect() as connection:
            applied = connection.scalar(
                text("SELECT count(*) FROM event WHERE outcome = 'applied'")
            )
        engine.dispose()
        return int(applied)

    def database(self, label: str, url: str) -> None:
        log(f"--- {label}")
        self.prepare(url)
        self.seed(url, label, 1_000)
        self.count_time(url, f"{label} 1k")
        env = {"DATABASE_URL": url}
        with self.server(self.args.app, f"service-{label}", env) as server:
            self.read(server.url, f"{label} 1k")
        if self.args.reads_only:
            return
        self.seed(url, label, self.big)
        self.count_time(url, f"{label} {self.big_label}")
        with self.server(self.args.app, f"service-{label}", env) as server:
            self.read(server.url, f"{label} {self.big_label}")
            verify = self.ingest(self.bare_url, f"verify-only ({label})")
            result = self.ingest(server.url, label)
            result["verify_only_rps"] = verify["rps"]
            result["vs_verify_only"] = round(result["rps"] / verify["rps"], 3)
            if self.args.widget_on == label:
                self.widget_paint(server.url)
            if self.args.profile:
                self.profile(server, label)
        applied = self.stored_applied(url)
        # wrk counts the requests answered within its time; a few more may be in flight.
        if not self.args.profile and not 0 <= applied - result["requests"] <= SENDERS:
            raise RuntimeError(f"{label}: {applied} events applied, {result['requests']} answered")
        result["applied"] = applied

    @property
    def big_label(self) -> str:
        return "1M" if self.big == 1_000_000 else f"{self.big // 1000}k"

    # widget

    def widget_sizes(self) -> None:
        import brotli

        data = (ROOT / "static" / "widget.js").read_bytes()
        self.results["widget"] = {
            "raw_bytes": len(data),
            "gzip9_bytes": len(gzip.compress(data, compresslevel=9, mtime=0)),
            "brotli_bytes": len(brotli.compress(data, quality=11)),
        }

    def widget_paint(self, api: str, loads: int = 11) -> None:
        """Median ms from the API response's last byte to the frame that shows the number."""
        from playwright.sync_api import sync_playwright

        from tests.browser.conftest import CHROMIUM_ARGS, chromium_path

        executable = chromium_path()
        if executable is None:
            log("widget paint: no Chromium, skipped")
            return
        _, _, body = http_get(f"{api}/api/campaigns/{SLUG}")
        expected = f"{json.loads(body)['count']:,}"
        html = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Article</title>'
            "</head><body><h1>An article</h1>"
            f'<script src="{api}/widget.js" async></script>'
            f'<membership-progress campaign="{SLUG}"></membership-progress></body></html>'
        )
        probe = (
            "window.__bench = {};"
            "const attach = Element.prototype.attachShadow;"
            "Element.prototype.attachShadow = function (init) {"
            "  const root = attach.call(this, init);"
            "  new MutationObserver(() => {"
            "    if (window.__bench.text || !root.textContent.includes(EXPECTED)) return;"
            "    window.__bench.text = performance.now();"
            "    requestAnimationFrame(() => {"
            "      const channel = new MessageChannel();"  # runs after the frame is painted
            "      channel.port1.onmessage = () => { window.__bench.painted = performance.now(); };"
            "      channel.port2.postMessage(0);"
            "    });"
            "  }).observe(root, { subtree: true, childList: true, characterData: true });"
            "  return root;"
            "};"
        ).replace("EXPECTED", json.dumps(expected))
        samples: list[dict[str, float]] = []
        # The publisher's page, on another origin ("localhost" vs the API's "127.0.0.1"). A real
        # server: Chromium refuses a page it cannot place in an address space (page.route) the
        # right to load scripts from the loopback address.
        with serve_page(html.encode()) as host, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            for _ in range(loads):
                context = browser.new_context(viewport={"width": 800, "height": 700})
                context.add_init_script(probe)
                page = context.new_page()
                page.goto(f"{host}/article.html")
                page.wait_for_function("window.__bench.painted", timeout=15_000)
                samples.append(
                    page.evaluate(
                        """() => {
                          const api = performance.getEntriesByType('resource')
                            .find((e) => e.name.includes('/api/campaigns/'));
                          return { responseEnd: api.responseEnd, text: window.__bench.text,
                                   painted: window.__bench.painted };
                        }"""
                    )
                )
                context.close()
            browser.close()
        to_text = [s["text"] - s["responseEnd"] for s in samples[1:]]  # the first warms up
        to_paint = [s["painted"] - s["responseEnd"] for s in samples[1:]]
        from_start = [s["painted"] for s in samples[1:]]
        self.results.setdefault("widget", {}).update(
            {
                "loads": len(to_paint),
                "response_to_text_ms": round(statistics.median(to_text), 1),
                "response_to_paint_ms": round(statistics.median(to_paint), 1),
                "response_to_paint_max_ms": round(max(to_paint), 1),
                "navigation_to_paint_ms": round(statistics.median(from_start), 1),
            }
        )
        log(f"widget paint: {self.results['widget']}")

    # through nginx (item 5's first ratio; bench/proxy.py measures it)

    def through_nginx(self) -> None:
        from bench import proxy

        if shutil.which(proxy.NGINX) is None:
            log("through nginx: no nginx, skipped (apt-get install nginx-light)")
            return
        result = proxy.measure(self.work / "proxy", self.round_seconds, self.rounds)
        self.results["proxy"] = result
        log(
            f"read through nginx: {result['proxy_rps']:.0f} req/s, the same bytes as a static "
            f"file {result['static_rps']:.0f} req/s: {result['proxy_vs_static']}× static"
        )

    # profiling (optional)

    def profile(self, server: Gunicorn, label: str) -> None:
        """py-spy on every worker while wrk drives the read path, then the ingest path."""
        py_spy = shutil.which("py-spy") or str(Path(PYTHON).parent / "py-spy")
        out = BENCH / "profiles"
        out.mkdir(exist_ok=True)
        url = f"{server.url}/api/campaigns/{SLUG}"
        for name, drive in (
            ("read", lambda: wrk(url, seconds=self.seconds)),
            ("ingest", lambda: self.ingest(server.url, label + " (profiled)")),
        ):
            spies = [
                subprocess.Popen(
                    [
                        py_spy,
                        "record",
                        "--pid",
                        str(pid),
                        "--duration",
                        str(self.seconds + 2),
                        "--rate",
                        "200",
                        "--format",
                        "raw",
                        "--nonblocking",
                        "--output",
                        str(out / f"{name}-{label}-{pid}.txt"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for pid in server.workers()
            ]
            time.sleep(1)
            drive()
            for spy in spies:
                spy.wait()
        log(f"profiles written to {out}")

    # all of it

    def run(self, databases: list[str]) -> dict[str, Any]:
        started = time.monotonic()
        if not self.args.reads_only:
            self.widget_sizes()
        if "sqlite" not in databases:
            self.args.widget_on = "postgresql"
        if "postgresql" not in databases:
            self.args.widget_on = "sqlite"
        # The floor, up for the whole run: every measurement of the service is paired with one
        # of it taken next to it in time.
        with self.server("bench.bare_app:app", "bare") as bare:
            self.bare_url = bare.url
            for label in databases:
                if label == "sqlite":
                    self.database("sqlite", f"sqlite:///{self.work / 'bench.sqlite3'}")
                else:
                    self.database("postgresql", fresh_postgres(self.args.postgres))
        if not self.args.no_proxy:
            self.through_nginx()
        self.results["seconds"] = round(time.monotonic() - started)
        self.results["machine"] = machine()
        self.results["config"] = {
            "app": self.args.app,
            "wrk_read": f"-t2 -c32, {self.rounds} alternating rounds of {self.round_seconds} s",
            "wrk_ingest": f"-t2 -c{SENDERS} -d{self.seconds}s",
            "gunicorn_env": {k: v for k, v in os.environ.items() if k.startswith("GUNICORN_")},
            "bench_tune": os.environ.get("BENCH_TUNE", ""),
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self.results["ratios"] = ratios(self.results, self.big_label)
        return self.results


def fresh_postgres(url: str) -> str:
    """Drop and create the database `bench` on the server of ``url``; its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS bench WITH (FORCE)")
        connection.execute("CREATE DATABASE bench")
    return url.rsplit("/", 1)[0] + "/bench"


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(memory_kb / 2**20, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def ratios(results: dict[str, Any], big: str) -> dict[str, Any]:
    """The figures the targets are about. Scale compares each read's ratio to the bare route
    measured next to it, so that load from elsewhere between the two reads cancels out."""
    reads, ingest = results["reads"], results["ingest"]
    out: dict[str, Any] = {}
    for db in ("sqlite", "postgresql"):
        small, large = reads.get(f"{db} 1k"), reads.get(f"{db} {big}")
        if small:
            out[f"read {db} 1k / bare"] = small["vs_bare"]
            out[f"read 304 {db} 1k / bare"] = reads[f"{db} 1k 304"]["vs_bare"]
        if large:
            out[f"read {db} {big} / bare"] = large["vs_bare"]
        if small and large:
            out[f"read {db} {big} / 1k"] = round(large["vs_bare"] / small["vs_bare"], 3)
            out[f"read {db} {big} / 1k (raw req/s)"] = round(large["rps"] / small["rps"], 3)
        if db in ingest:
            out[f"ingest {db} / verify-only"] = ingest[db]["vs_verify_only"]
    if "proxy" in results:
        out["read through nginx / static file"] = results["proxy"]["proxy_vs_static"]
    return out


# --- the table --------------------------------------------------------------------------------


def table(results: dict[str, Any]) -> str:
    lines = [
        f"{'measurement':<30} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}   "
        f"{'floor req/s':>11} {'floor p99':>9}  ratio"
    ]
    for label, r in results["reads"].items():
        floor = "bare"  # a bare jsonify of a constant dict, no ETag: one floor for both rows
        lines.append(
            f"{'read ' + label:<30} {r['rps']:>7.0f} {r.get('p50_ms', 0):>7.2f} "
            f"{r.get('p99_ms', 0):>7.2f}   {r['bare_rps']:>11.0f} {r['bare_p99_ms'] or 0:>9.2f}"
            f"  {r['vs_bare']:.2f}× {floor}"
        )
    proxy = results.get("proxy")
    if proxy:
        lines.append(
            f"{'read through nginx':<30} {proxy['proxy_rps']:>7.0f} {'':>7} "
            f"{proxy['proxy_p99_ms']:>7.2f}   {proxy['static_rps']:>11.0f} "
            f"{proxy['static_p99_ms']:>9.2f}  {proxy['proxy_vs_static']:.2f}× static file"
        )
    for label, r in results["ingest"].items():
        if "vs_verify_only" not in r:  # the floor itself, or a profiled run
            continue
        lines.append(
            f"{'ingest ' + label + f' ({SENDERS} senders)':<30} {r['rps']:>7.0f} "
            f"{r.get('p50_ms', 0):>7.2f} {r.get('p99_ms', 0):>7.2f}   "
            f"{r['verify_only_rps']:>11.0f} {'':>9}  {r['vs_verify_only']:.2f}× verify-only"
        )
    for label, c in results["count_ms"].items():
        lines.append(f"{'recount ' + label:<30} {c['count']:>9,} members in {c['ms']:.1f} ms")
    for label, s in results["seed"].items():
        if s["inserted"] > 10_000:
            lines.append(
                f"{'seed ' + label:<30} {s['members_per_second']:>9,} members/s ({s['seconds']} s)"
            )
    w = results.get("widget", {})
    if w:
        lines.append(
            f"{'widget.js bytes':<30} raw {w['raw_bytes']:,}, gzip -9 {w['gzip9_bytes']:,}, "
            f"brotli {w['brotli_bytes']:,}"
        )
    if "response_to_paint_ms" in w:
        lines.append(
            f"{'widget API response -> paint':<30} median {w['response_to_paint_ms']} ms "
            f"(to text {w['response_to_text_ms']} ms; max {w['response_to_paint_max_ms']} ms; "
            f"{w['loads']} loads)"
        )
    lines.append("")
    lines.append(targets(results))
    return "\n".join(lines)


def targets(results: dict[str, Any]) -> str:
    r = results["ratios"]
    checks = []
    for db in ("sqlite", "postgresql"):
        value = r.get(f"read {db} 1k / bare")
        if value is not None:
            checks.append((f"read {db} ≥ 1.0× bare", value, value >= TARGETS["read_vs_bare"]))
        value = r.get(f"read 304 {db} 1k / bare")
        if value is not None:
            ok = value >= TARGETS["read_vs_bare"]
            checks.append((f"read 304 {db} ≥ 1.0× bare", value, ok))
        value = r.get(f"read {db} 1M / 1k")
        if value is not None:
            checks.append((f"read {db} 1M ≥ 0.95× 1k", value, value >= TARGETS["read_1m_vs_1k"]))
    value = r.get("read through nginx / static file")
    if value is not None:
        checks.append(("read through nginx ≥ 0.8× static file", value, value >= 0.8))
    value = r.get("ingest postgresql / verify-only")
    if value is not None:
        ok = value >= TARGETS["ingest_vs_verify"]
        checks.append(("ingest postgresql ≥ 0.5× verify-only", value, ok))
        p99 = results["ingest"]["postgresql"].get("p99_ms")
        checks.append(("ingest postgresql p99 < 100 ms", p99, p99 < TARGETS["ingest_p99_ms"]))
    gz = results.get("widget", {}).get("gzip9_bytes")
    if gz is not None:
        checks.append(("widget.js ≤ 2,000 B gzipped", gz, gz <= TARGETS["widget_gzip_bytes"]))
    results["targets"] = {name: {"value": value, "met": ok} for name, value, ok in checks}
    return "\n".join(
        f"  {'MET   ' if ok else 'MISSED'} {name}: {value}" for name, value, ok in checks
    )


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median req/s, and the median of each latency percentile."""
    chosen = dict(sorted(runs, key=lambda run: run["rps"])[len(runs) // 2])
    for key in ("p50_ms", "p75_ms", "p90_ms", "p99_ms"):
        values = [run[key] for run in runs if key in run]
        if values:
            chosen[key] = round(statistics.median(values), 2)
    chosen["requests"] = sum(run["requests"] for run in runs)
    return chosen


@contextmanager
def serve_page(html: bytes) -> Iterator[str]:
    """Serve ``html`` at http://localhost:<port>/article.html from a thread; the origin."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            found = self.path == "/article.html"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(html if found else b"")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def workdir(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="membership-bench-"))
    try:
        yield path
    finally:
        if keep:
            log(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the service against bare Flask.")
    parser.add_argument("--quick", action="store_true", help="4 s runs, 100k members")
    parser.add_argument("--profile", action="store_true", help="py-spy the workers too")
    parser.add_argument("--app", default="app:app", help="WSGI app to benchmark (app:app)")
    parser.add_argument("--widget-on", default="postgresql", help="database for the paint test")
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="one database only")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs, SQLite)")
    parser.add_argument("--no-proxy", action="store_true", help="skip the read through nginx")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating read rounds per pair (3)"
    )
    parser.add_argument(
        "--reads-only", action="store_true", help="the read vs bare ratios only (1k members)"
    )
    parser.add_argument("--output", default=str(BENCH / "results.json"))
    args = parser.parse_args()
    for tool in ("wrk",):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed: apt-get install {tool}")
    args.postgres = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    databases = [args.only] if args.only else ["sqlite", "postgresql"]
    if not args.postgres:
        databases = [db for db in databases if db != "postgresql"]
    with workdir(args.keep) as work:
        results = Bench(args, work).run(databases)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\n(written to {args.output}; {results.get('seconds', '?')} s)")


if __name__ == "__main__":
    main()
