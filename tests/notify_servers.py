"""Real receivers for the notification tests: an HTTP endpoint that can fail, refuse or hang,
an SMTP server (aiosmtpd) with plain, STARTTLS or implicit TLS, and a certificate to trust."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from membership.notify.settings import NotifySettings, from_config
from tests.servers import free_port

SMTP_USER, SMTP_PASSWORD = "newsroom", "smtp password with spaces"


def wait_for(check: Callable[[], Any], what: str, seconds: float = 30) -> Any:
    """Poll ``check`` until it returns something true, or fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int  # the status the receiver answered, 0 if it never answered

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A local HTTP endpoint. ``mode``: "ok" (200), "error" (500), "redirect" (302 elsewhere)
    or "hang" (holds each request until ``release`` is set, then answers 200)."""

    mode: str = "ok"
    requests: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    port: int = field(default_factory=free_port)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answered(self, status: int = 200) -> list[Received]:
        return [r for r in self.requests if r.answered == status]

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                seen = Received(self.path, dict(self.headers.items()), body, 0)
                receiver.requests.append(seen)
                mode = receiver.mode
                if mode == "hang":
                    receiver.release.wait(60)
                status = {"error": 500, "redirect": 302}.get(mode, 200)
                # Recorded before the last byte goes out: the sender may read the answer and
                # the test look at this before this thread runs again.
                seen.answered = status
                try:
                    self.send_response(status)
                    if mode == "redirect":
                        self.send_header("Location", "http://elsewhere.invalid/hook")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"no" if status != 200 else b"ok")
                except OSError:
                    seen.answered = 0  # the sender is gone (killed mid-delivery)

            def log_message(self, *args: Any) -> None:
                pass

        # The same port after a restart (HTTPServer reuses addresses): a receiver that was
        # down comes back where it was.
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Down: connections to its port are refused until ``start`` again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (certificate, key) PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "membership test SMTP")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class Inbox:
    """What the SMTP server accepted: (envelope sender, recipients, parsed message)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


def _authenticator(inbox: Inbox) -> Callable[..., AuthResult]:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            SMTP_USER.encode(),
            SMTP_PASSWORD.encode(),
        )
        if ok:
            inbox.logins.append(mechanism)
        return AuthResult(success=ok, handled=False)

    return check


def smtp_server(
    mode: str, certificate: tuple[Path, Path] | None = None
) -> tuple[Controller, Inbox]:
    """A started aiosmtpd server: "plain" (no TLS, no login), "starttls" (STARTTLS offered,
    login required after it) or "implicit" (TLS from the first byte, login required)."""
    inbox = Inbox()
    kwargs: dict[str, Any] = {}
    if mode != "plain":
        assert certificate is not None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*map(str, certificate))
        kwargs = {"authenticator": _authenticator(inbox), "auth_required": True}
        if mode == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        else:
            # aiosmtpd does not see that an implicit-TLS connection is encrypted; it is.
            kwargs.update(ssl_context=context, auth_require_tls=False)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller, inbox


# One key for the suite's channel secrets: in-process code and `flask notify run` subprocesses.
NOTIFY_KEY = "q3mDRbOaP1d9W4U0k9lO9P1t0wz8m0Dq6J1yJ0lq3sQ="


def notify_settings(**values: Any) -> NotifySettings:
    """The notification settings the tests run with; ``values`` by their variable's name."""
    config = {"MEMBERSHIP_ENV": "test", "NOTIFY_KEY": NOTIFY_KEY, **values}
    return from_config({k: str(v) for k, v in config.items()}, environ={})
