"""The one gunicorn launcher, over real sockets, of the end-to-end tests and the benchmarks.

bench/run.py imports it too, with the small HTTP client below.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
# Slow machines and cold imports: a server that has not answered by then never will.
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """`gunicorn -c gunicorn.conf.py <app>` on a free port of 127.0.0.1, started and stopped.

    Everything but ``env`` is as deployed: the project's gunicorn.conf.py, production settings,
    and any GUNICORN_* the caller's environment sets (the benchmarks are tuned that way).
    """

    def __init__(
        self, env: dict[str, str], *, app: str = "app:app", log_path: Path | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = app
        self.env = {
            **os.environ,
            "MEMBERSHIP_ENV": "production",
            "SECRET_KEY": "test-secret-key-not-for-production",
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
        }
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        # Appended: a caller may start the same server twice and want both runs' logs.
        self._log = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), self.app],
            cwd=ROOT,
            env=self.env,
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._stop()
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}{self._log_tail()}"
                )
            try:
                if get(self.url + "/healthz")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.1)
        self._stop()
        raise RuntimeError(
            f"gunicorn did not answer /healthz within {STARTUP_SECONDS} s{self._log_tail()}"
        )

    def workers(self) -> list[int]:
        """The process ids of the workers running now (the master's children)."""
        assert self.process is not None
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue  # gone since listdir
                # The parent's pid is the second field after the command, which may hold ")".
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    pids.append(int(entry))
        return pids

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _stop(self) -> None:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def _log_tail(self) -> str:
        if self.log_path and self.log_path.exists():
            tail = self.log_path.read_text(errors="replace")[-3000:]
            return f"; {self.log_path}:\n{tail}"
        return ""


def service(env: dict[str, str], *, workers: int, log_path: Path | None = None) -> Gunicorn:
    """The service as the end-to-end tests run it: a set number of workers, no access log and
    only warnings, so a failing test's log shows what went wrong."""
    quiet = {"GUNICORN_ACCESSLOG": "", "GUNICORN_LOGLEVEL": "warning"}
    return Gunicorn({"GUNICORN_WORKERS": str(workers), **quiet, **env}, log_path=log_path)


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
