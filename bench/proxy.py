"""The progress read through the shipped nginx config, against nginx serving the same bytes as a
static file: one nginx, one run, alternating wrk rounds (item 5's first ratio, target >= 0.8).

    .venv/bin/python bench/proxy.py [--quick] [--json bench/proxy-results.json]

Starts one app host (gunicorn, gunicorn.conf.py, any GUNICORN_* of this environment) on a SQLite
file, and Debian's nginx from `deploy/render-nginx --standalone` with one more server block: a
root holding the JSON body the service answers, byte for byte. wrk asks both on 127.0.0.1 with
the same connections and threads; the ratio is the median of the paired rounds' ratios, since
other work on a shared machine comes and goes within seconds. Needs nginx and wrk.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.orm import sessionmaker  # noqa: E402

from membership.campaigns import settings as campaigns  # noqa: E402
from membership.database import make_engine  # noqa: E402
from membership.models import Base  # noqa: E402
from tests.proxy.stack import NGINX, fetch, render  # noqa: E402
from tests.servers import Gunicorn, free_port  # noqa: E402

SLUG = "bench"
TARGET = 0.8


def log(message: str) -> None:
    print(f"[bench proxy {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def wrk(url: str, seconds: int, connections: int = 32, threads: int = 2) -> dict[str, Any]:
    command = ["wrk", "--latency", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "p99_ms": round(float(p99.group(1)) * scale[p99.group(2)], 2) if p99 else None,
        "non_2xx_3xx": int(non_2xx.group(1)) if non_2xx else 0,
    }


def cpu_seconds(master: int) -> float:
    """User and system CPU time of nginx's workers so far: the cost of the answers, which a
    busy shared machine changes far less than it changes the requests per second."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone since the listing
            if int(fields[1]) == master:  # the parent's pid
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def measured(url: str, seconds: int, master: int) -> dict[str, Any]:
    before = cpu_seconds(master)
    result = wrk(url, seconds)
    result["cpu_us_per_request"] = (cpu_seconds(master) - before) / result["requests"] * 1e6
    return result


def database(work: Path) -> str:
    url = f"sqlite:///{work / 'bench.sqlite3'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    with sessionmaker(engine)() as session:
        campaigns.create_campaign(session, SLUG, 25_000, title="Membership drive")
    engine.dispose()
    return url


def nginx_config(work: Path, app_port: int, proxy_port: int, static_port: int) -> Path:
    """The shipped site, plus a plain static server over a root holding the same body."""
    prefix = work / "nginx"
    for folder in (prefix / "tmp", prefix / "cache"):
        folder.mkdir(parents=True, exist_ok=True)
    conf = render(
        *("--listen", f"127.0.0.1:{proxy_port}", "--app", f"127.0.0.1:{app_port}"),
        *("--static-root", str(ROOT / "static"), "--cache-dir", str(prefix / "cache")),
        *("--standalone", str(prefix), "--access-log", "off"),
    )
    static = (
        f"    server {{\n        listen 127.0.0.1:{static_port};\n"
        f"        root {work / 'static'};\n    }}\n}}\n"
    )
    assert conf.endswith("}\n")
    path = prefix / "nginx.conf"
    path.write_text(conf[: -len("}\n")] + static)
    return path


def measure(work: Path, seconds: int, rounds: int) -> dict[str, Any]:
    """The figures, in an empty folder of their own (bench/run.py may call this too)."""
    work.mkdir(parents=True, exist_ok=True)
    app = Gunicorn(
        {"DATABASE_URL": database(work), "GUNICORN_ACCESSLOG": "", "GUNICORN_LOGLEVEL": "warning"},
        log_path=work / "gunicorn.log",
    )
    proxy_port, static_port = free_port(), free_port()
    with app:
        conf = nginx_config(work, app.port, proxy_port, static_port)
        prefix = conf.parent
        nginx = subprocess.Popen(
            [NGINX, "-p", str(prefix), "-c", str(conf), "-g", f"daemon off; pid {prefix}/pid;"],
            stderr=subprocess.DEVNULL,
        )
        try:
            proxied = f"http://127.0.0.1:{proxy_port}/api/campaigns/{SLUG}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    answer = fetch(proxied)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            assert answer.status == 200, answer.body
            (work / "static" / "api" / "campaigns").mkdir(parents=True)
            (work / "static" / "api" / "campaigns" / f"{SLUG}.json").write_bytes(answer.body)
            static = f"http://127.0.0.1:{static_port}/api/campaigns/{SLUG}.json"
            assert fetch(static).body == answer.body
            assert fetch(proxied).header("X-Cache-Status") == "HIT"
            urls = {"proxy": proxied, "static": static}
            for url in urls.values():
                wrk(url, seconds=2)  # warm: connections, the page cache
            runs: dict[str, list[dict[str, Any]]] = {"proxy": [], "static": []}
            for round_ in range(rounds):
                order = ("proxy", "static") if round_ % 2 == 0 else ("static", "proxy")
                for side in order:
                    runs[side].append(measured(urls[side], seconds, nginx.pid))
        finally:
            nginx.terminate()
            nginx.wait()
    pairs = list(zip(runs["proxy"], runs["static"], strict=True))
    ratio = statistics.median(p["rps"] / s["rps"] for p, s in pairs)
    return {
        "proxy_rps": statistics.median(r["rps"] for r in runs["proxy"]),
        "static_rps": statistics.median(r["rps"] for r in runs["static"]),
        "proxy_p99_ms": statistics.median(r["p99_ms"] or 0 for r in runs["proxy"]),
        "static_p99_ms": statistics.median(r["p99_ms"] or 0 for r in runs["static"]),
        "non_2xx_3xx": sum(r["non_2xx_3xx"] for side in runs.values() for r in side),
        "proxy_vs_static": round(ratio, 3),
        "proxy_cpu_us": round(statistics.median(r["cpu_us_per_request"] for r in runs["proxy"]), 1),
        "static_cpu_us": round(
            statistics.median(r["cpu_us_per_request"] for r in runs["static"]), 1
        ),
        # nginx's CPU time per answer, static over proxied: the same comparison, less noisy.
        "proxy_vs_static_cpu": round(
            statistics.median(s["cpu_us_per_request"] / p["cpu_us_per_request"] for p, s in pairs),
            3,
        ),
        "target": TARGET,
        "rounds": [(p["rps"], s["rps"]) for p, s in pairs],
        "body_bytes": len(answer.body),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s rounds instead of 4 s")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    for tool in (NGINX, "wrk"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed: apt-get install nginx-light wrk")
    with tempfile.TemporaryDirectory(prefix="bench-proxy-") as work:
        result = measure(Path(work), 2 if args.quick else 4, args.rounds)
    log(
        f"progress JSON through nginx: {result['proxy_rps']:.0f} req/s; the same bytes as a "
        f"static file: {result['static_rps']:.0f} req/s; {result['proxy_vs_static']}x "
        f"(target >= {TARGET}); nginx CPU per answer {result['proxy_cpu_us']} vs "
        f"{result['static_cpu_us']} us: {result['proxy_vs_static_cpu']}x"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if result["non_2xx_3xx"]:
        sys.exit("some answers were not 2xx/3xx")


if __name__ == "__main__":
    main()
