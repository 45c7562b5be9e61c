"""The deployed shape on one machine: Debian's nginx, rendered by deploy/render-nginx, in front of
two gunicorn app hosts; and a small HTTP client that can speak from another loopback address.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tests.servers import ROOT, STARTUP_SECONDS, Gunicorn, free_port

RENDER = ROOT / "deploy" / "render-nginx"
NGINX = "/usr/sbin/nginx"
BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so")


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def fetch(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    source: str | None = None,
    timeout: float = 30,
) -> Answer:
    """One request on its own connection; ``source`` is the client's address (127.0.0.2, …),
    so nginx sees a reader other than itself."""
    rest = url.removeprefix("http://")
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    conn = http.client.HTTPConnection(
        host, int(port or 80), timeout=timeout, source_address=(source, 0) if source else None
    )
    try:
        conn.request(method, "/" + path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        conn.close()


def render(*args: str) -> str:
    """deploy/render-nginx's output for these arguments (it fails the test on a refusal)."""
    done = subprocess.run(
        [sys.executable, str(RENDER), *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@dataclass
class Nginx:
    """`nginx -p PREFIX -c CONF -g 'daemon off; pid …;'` from the shipped config, on a free port."""

    prefix: Path
    apps: list[str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def cache_dir(self) -> Path:
        return self.prefix / "cache"

    def config(self) -> Path:
        for folder in (self.prefix / "tmp", self.cache_dir):
            folder.mkdir(parents=True, exist_ok=True)
        app_args = [arg for app in self.apps for arg in ("--app", app)]
        text = render(
            *("--listen", f"127.0.0.1:{self.port}", *app_args),
            *("--static-root", str(ROOT / "static"), "--cache-dir", str(self.cache_dir)),
            *("--standalone", str(self.prefix), "--workers", "2"),
        )
        path = self.prefix / "nginx.conf"
        path.write_text(text)
        return path

    def __enter__(self) -> Nginx:
        conf = self.config()
        self._log = open(self.prefix / "nginx.out", "ab")  # noqa: SIM115
        directives = f"daemon off; pid {self.prefix / 'nginx.pid'};"
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.prefix), "-c", str(conf), "-g", directives],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.process.returncode}: {self.log()}")
            try:
                fetch(self.url + "/nginx-is-up", timeout=5)
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx did not answer within {STARTUP_SECONDS} s: {self.log()}")

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful, as `nginx -s quit`
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log:
            self._log.close()

    def log(self) -> str:
        parts = [self.prefix / "nginx.out", self.prefix / "error.log"]
        return "\n".join(p.read_text(errors="replace")[-2000:] for p in parts if p.exists())

    def cached_keys(self) -> list[str]:
        """The keys of every answer in nginx's cache, read from the cache files' headers."""
        keys = []
        for path in self.cache_dir.rglob("*"):
            if path.is_file():
                head = path.read_bytes()[:4096]
                start = head.find(b"\nKEY: ")
                if start >= 0:
                    keys.append(head[start + 6 : head.index(b"\n", start + 1)].decode())
        return keys


def kill_host(host: Gunicorn) -> None:
    """A machine dying: SIGKILL to gunicorn's master and every worker, no goodbyes."""
    assert host.process is not None
    pids = host.workers()
    os.kill(host.process.pid, signal.SIGKILL)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # gone with its master
            os.kill(pid, signal.SIGKILL)
    host.process.wait()


def graceful_restart(host: Gunicorn, deadline_seconds: float = STARTUP_SECONDS) -> None:
    """SIGHUP to gunicorn's master (systemctl reload): new workers start, the old ones finish
    what they hold and leave. Returns once every worker is a new one."""
    assert host.process is not None
    before = set(host.workers())
    os.kill(host.process.pid, signal.SIGHUP)
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        now = set(host.workers())
        if now and not now & before and len(now) == len(before):
            return
        time.sleep(0.05)
    raise AssertionError(f"gunicorn's workers were not replaced: {before} -> {host.workers()}")
