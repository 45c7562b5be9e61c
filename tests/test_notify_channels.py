"""The three channel kinds, end to end through the worker: Slack's payload, the signed webhook
checked with the recipe docs/notifications.md gives receivers, and email through a real SMTP
server (aiosmtpd) over plain SMTP, STARTTLS and implicit TLS."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select

from membership.models import NotifyDelivery
from membership.notify import channels, worker
from membership.notify.outbox import Notice, enqueue
from tests.notify_servers import (
    SMTP_PASSWORD,
    SMTP_USER,
    Receiver,
    make_certificate,
    notify_settings,
    smtp_server,
)
from tests.servers import ROOT

# aiosmtpd cannot tell an implicit-TLS connection is encrypted (see tests/notify_servers.py).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

SECRET = "whsec-for-the-newsroom-tools-0123"
HALF_WAY = Notice(
    kind="milestone",
    key="milestone:50%",
    milestone="50%",
    subject="Membership drive: half way",
    text="12,503 of 25,000 members <b>& counting</b>.",
    data={
        "slug": "drive",
        "title": "Membership drive",
        "label": "50%",
        "threshold": 12_500,
        "count": 12_503,
        "goal": 25_000,
        "crossed_at": "2026-11-30T09:00:00Z",
        "cta_url": "https://news.example/join",
    },
)


def documented_verify():
    """The receivers' `verify` from docs/notifications.md, run as written."""
    doc = (ROOT / "docs" / "notifications.md").read_text()
    (snippet,) = [b for b in re.findall(r"```python\n(.*?)```", doc, re.S) if "def verify" in b]
    namespace: dict = {}
    exec(snippet, namespace)
    return namespace["verify"]


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def drive(app, campaign):
    return campaign("drive", goal=25_000)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


def deliver(session, drive, kind, target, settings, **options):
    channels.add_channel(session, drive, kind, target, settings.keys, **options)
    enqueue(session, drive.id, HALF_WAY)
    session.commit()
    return worker.deliver_due(session, settings)


def test_slack_gets_the_payload_slack_documents(session, drive, receiver):
    outcome = deliver(
        session, drive, "slack", receiver.url + "/services/T0/B0/secretpart", notify_settings()
    )
    assert outcome["delivered"] == 1
    (request,) = receiver.requests
    assert request.path == "/services/T0/B0/secretpart"
    assert request.headers["Content-Type"] == "application/json"
    body = request.json()
    assert body["text"] == f"{HALF_WAY.subject}\n{HALF_WAY.text}"
    header, section, context = body["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Membership drive: half way"},
    }
    # mrkdwn escapes only &, < and >, so readers' text cannot become a link or a mention.
    assert section["text"] == {
        "type": "mrkdwn",
        "text": "12,503 of 25,000 members &lt;b&gt;&amp; counting&lt;/b&gt;.",
    }
    assert context["elements"][0]["text"] == (
        "Membership drive · <https://news.example/join|https://news.example/join>"
    )


def test_the_webhook_signature_verifies_with_the_documented_recipe(session, drive, receiver):
    assert (
        deliver(
            session, drive, "webhook", receiver.url + "/hook", notify_settings(), secret=SECRET
        )["delivered"]
        == 1
    )
    (request,) = receiver.requests
    verify = documented_verify()
    header = request.headers["Membership-Signature"]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    assert verify(request.body, header, SECRET)
    assert not verify(request.body.replace(b"12503", b"12504"), header, SECRET)
    assert not verify(request.body, header, "another-secret-entirely-0000")
    # An independent computation of the scheme, not the project's own function.
    t = header.split(",")[0][2:]
    expected = hmac.new(SECRET.encode(), f"{t}.".encode() + request.body, hashlib.sha256)
    assert header.endswith(expected.hexdigest())

    event = request.json()
    assert event["id"] == request.headers["Membership-Delivery-Id"]
    assert event["type"] == "milestone.crossed"
    assert event["milestone"] == "50%"
    assert event["data"] == HALF_WAY.data


def test_the_documented_recipe_refuses_an_old_signature():
    verify = documented_verify()
    body = b'{"id":"ntf_1"}'
    old = int(time.time()) - 3600
    digest = hmac.new(SECRET.encode(), f"{old}.".encode() + body, hashlib.sha256).hexdigest()
    assert not verify(body, f"t={old},v1={digest}", SECRET)
    assert not verify(body, "v1=nothing", SECRET)


def test_a_redirect_is_not_followed_and_counts_as_a_failure(session, drive, receiver):
    receiver.mode = "redirect"
    outcome = deliver(session, drive, "webhook", receiver.url + "/hook", notify_settings())
    assert outcome == {"delivered": 0, "pending": 1, "failed": 0}
    (row,) = session.scalars(select(NotifyDelivery))
    assert row.last_error.startswith("HTTP 302 to http://elsewhere.invalid/hook")
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    "url", ["ftp://files.example/hook", "file:///etc/passwd", "hooks.slack.com/x", "http:///x"]
)
def test_only_http_and_https_urls_are_accepted(session, drive, url):
    for kind in ("slack", "webhook"):
        with pytest.raises(channels.ChannelError, match="http:// or https://"):
            channels.add_channel(session, drive, kind, url, notify_settings().keys)
    assert channels.list_channels(session, drive) == []


def smtp_settings(mode: str, port: int, cafile: Path | None = None, **extra: str):
    scheme = "smtps" if mode == "implicit" else "smtp"
    login = "" if mode == "plain" else f"{SMTP_USER}:{quote(SMTP_PASSWORD)}@"
    query = f"?cafile={cafile}" if cafile else ""
    return notify_settings(
        SMTP_URL=f"{scheme}://{login}127.0.0.1:{port}{query}",
        NOTIFY_FROM="Membership alerts <alerts@news.example>",
        **extra,
    )


@pytest.mark.parametrize("mode", ["plain", "starttls", "implicit"])
def test_email_arrives_exactly_once_over_each_kind_of_connection(session, drive, certificate, mode):
    controller, inbox = smtp_server(mode, certificate)
    try:
        settings = smtp_settings(mode, controller.port, certificate[0])
        channels.add_channel(session, drive, "email", "desk@news.example", ())
        channels.add_channel(
            session, drive, "email", "editor@news.example", (), milestones="goal 25000"
        )
        enqueue(session, drive.id, HALF_WAY)
        session.commit()
        assert worker.deliver_due(session, settings)["delivered"] == 1
        assert worker.deliver_due(session, settings)["delivered"] == 0
    finally:
        controller.stop()
    ((sender, recipients, message),) = inbox.messages
    assert sender == "alerts@news.example"
    assert recipients == ["desk@news.example"]
    assert message["Subject"] == "Membership drive: half way"
    assert message["From"] == "Membership alerts <alerts@news.example>"
    (row,) = session.scalars(select(NotifyDelivery))
    assert message["Membership-Delivery-Id"] == row.public_id
    assert message["Message-ID"] == f"<{row.public_id}@news.example>"
    assert message.get_payload(decode=True).decode().replace("\r\n", "\n") == (
        "12,503 of 25,000 members <b>& counting</b>.\n\nhttps://news.example/join\n"
    )
    assert inbox.logins == ([] if mode == "plain" else ["PLAIN"])


def test_starttls_required_refuses_a_server_that_does_not_offer_it(session, drive):
    controller, inbox = smtp_server("plain")
    try:
        settings = notify_settings(
            SMTP_URL=f"smtp://127.0.0.1:{controller.port}?starttls=required",
            NOTIFY_FROM="alerts@news.example",
        )
        outcome = deliver(session, drive, "email", "desk@news.example", settings)
    finally:
        controller.stop()
    assert outcome["pending"] == 1
    assert inbox.messages == []
    (row,) = session.scalars(select(NotifyDelivery))
    assert "does not offer STARTTLS" in row.last_error


def test_a_password_is_never_sent_without_tls(session, drive):
    controller, inbox = smtp_server("plain")
    try:
        settings = notify_settings(
            SMTP_URL=f"smtp://{SMTP_USER}:{quote(SMTP_PASSWORD)}@127.0.0.1:{controller.port}",
            NOTIFY_FROM="alerts@news.example",
        )
        outcome = deliver(session, drive, "email", "desk@news.example", settings)
    finally:
        controller.stop()
    assert outcome["pending"] == 1
    assert inbox.messages == [] and inbox.logins == []
    (row,) = session.scalars(select(NotifyDelivery))
    assert "not sending the password" in row.last_error
    assert SMTP_PASSWORD not in row.last_error


def test_a_certificate_the_worker_does_not_trust_fails_the_delivery(session, drive, certificate):
    controller, inbox = smtp_server("implicit", certificate)
    try:
        outcome = deliver(
            session, drive, "email", "desk@news.example", smtp_settings("implicit", controller.port)
        )
    finally:
        controller.stop()
    assert outcome["pending"] == 1 and inbox.messages == []
    (row,) = session.scalars(select(NotifyDelivery))
    assert "CERTIFICATE_VERIFY_FAILED" in row.last_error


def test_email_waits_while_smtp_is_not_configured_then_goes(session, drive):
    assert deliver(session, drive, "email", "desk@news.example", notify_settings())["pending"] == 1
    (row,) = session.scalars(select(NotifyDelivery))
    assert "SMTP_URL is not set" in row.last_error
    controller, inbox = smtp_server("plain")
    try:
        settings = smtp_settings("plain", controller.port)
        later = datetime(2100, 1, 1, tzinfo=UTC)
        assert worker.deliver_due(session, settings, lambda: later)["delivered"] == 1
    finally:
        controller.stop()
    assert len(inbox.messages) == 1


def test_the_slack_url_and_the_webhook_secret_are_stored_encrypted(session, drive, receiver):
    slack_url = receiver.url + "/services/T0/B0/verysecretpart"
    settings = notify_settings()
    channels.add_channel(session, drive, "slack", slack_url, settings.keys)
    channels.add_channel(
        session, drive, "webhook", receiver.url + "/h", settings.keys, secret=SECRET
    )
    stored = json.dumps(
        [
            [c.address, c.secret, c.hint, channels.describe(c)]
            for c in channels.list_channels(session, drive)
        ],
        ensure_ascii=False,
    )
    assert "verysecretpart" not in stored and SECRET not in stored
    assert "…part" in stored and "…0123" in stored
