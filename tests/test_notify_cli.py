"""`flask notify add|list|remove|digest|run`: channels with masked secrets, and the worker as a
real process that is killed mid-delivery and restarted without losing a notice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from membership.campaigns import adjustments
from membership.models import NotifyChannel, NotifyDelivery
from membership.notify import secrets
from membership.notify.outbox import Notice, enqueue
from tests.notify_servers import NOTIFY_KEY, Receiver, notify_settings, wait_for
from tests.servers import ROOT

SLACK_PATH = "/services/T0AAAA/B0BBBB/xoxb-very-secret-token"
SECRET = "receiver-shared-secret-0123456789"


@pytest.fixture(autouse=True)
def notify_key(monkeypatch):
    monkeypatch.setenv("NOTIFY_KEY", NOTIFY_KEY)


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.release.set()
    receiver.stop()


@pytest.fixture
def drive(app, campaign):
    return campaign("drive", goal=100)


def invoke(runner, *args: str):
    return runner.invoke(args=["notify", *args], catch_exceptions=False)


def test_channels_are_added_listed_and_removed_with_their_secrets_masked(
    runner, session, drive, receiver
):
    slack = invoke(runner, "add", "drive", "--slack", receiver.url + SLACK_PATH)
    email = invoke(
        runner, "add", "drive", "--email", "desk@news.example", "--milestones", "50%, goal 100"
    )
    hook = invoke(runner, "add", "drive", "--webhook", receiver.url + "/hook", "--secret", SECRET)
    assert [r.exit_code for r in (slack, email, hook)] == [0, 0, 0]
    assert slack.output == "Added #1 slack: Slack webhook …oken; hears all milestones\n"
    assert email.output == "Added #2 email: desk@news.example; hears 50%, goal 100\n"
    assert "(signed, secret …6789)" in hook.output

    listed = invoke(runner, "list", "drive").output
    assert listed.splitlines() == [
        "drive #1 slack: Slack webhook …oken; hears all milestones",
        "drive #2 email: desk@news.example; hears 50%, goal 100",
        f"drive #3 webhook: {receiver.url}/hook (signed, secret …6789); hears all milestones",
    ]
    everything = slack.output + email.output + hook.output + listed
    assert "xoxb-very-secret" not in everything and SECRET not in everything

    # Stored only encrypted, and the encryption is with NOTIFY_KEY.
    stored = {c.kind: c for c in session.scalars(select(NotifyChannel))}
    assert "very-secret" not in stored["slack"].secret + stored["slack"].address
    assert SECRET not in stored["webhook"].secret + stored["webhook"].address
    keys = notify_settings().keys
    assert secrets.decrypt(keys, stored["slack"].secret) == receiver.url + SLACK_PATH
    assert secrets.decrypt(keys, stored["webhook"].secret) == SECRET

    removed = invoke(runner, "remove", "2")
    assert removed.output == "Removed #2 email: desk@news.example; hears 50%, goal 100\n"
    assert len(invoke(runner, "list").output.splitlines()) == 2
    assert invoke(runner, "remove", "2").exit_code == 1


def test_a_webhook_without_a_secret_gets_one_shown_once(runner, session, drive, receiver):
    added = invoke(runner, "add", "drive", "--webhook", receiver.url + "/hook")
    shown = added.output.splitlines()[-1].rsplit(" ", 1)[-1]
    assert len(shown) >= 32
    (channel,) = session.scalars(select(NotifyChannel))
    assert secrets.decrypt(notify_settings().keys, channel.secret) == shown
    assert shown not in invoke(runner, "list").output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["drive"], "give one of --slack URL"),
        (["drive", "--email", "a@news.example", "--slack", "https://x.example/y"], "give one of"),
        (["drive", "--email", "not an address"], "must be one email address"),
        (["drive", "--slack", "ftp://hooks.example/x"], "http:// or https://"),
        (["drive", "--email", "a@news.example", "--secret", "s" * 20], "--webhook only"),
        (["drive", "--webhook", "https://x.example/h", "--secret", "short"], "at least 16"),
        (["nowhere", "--email", "a@news.example"], "no campaign 'nowhere'"),
    ],
)
def test_add_refuses_what_it_cannot_use(runner, session, drive, args, message):
    result = invoke(runner, "add", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert session.scalars(select(NotifyChannel)).all() == []


def test_production_without_notify_key_refuses_to_store_a_secret(runner, drive, monkeypatch):
    monkeypatch.delenv("NOTIFY_KEY")
    runner.app.config["MEMBERSHIP_ENV"] = "production"
    result = invoke(runner, "add", "drive", "--slack", "https://hooks.example/services/x")
    assert result.exit_code != 0 and "NOTIFY_KEY is not set" in result.output
    assert invoke(runner, "add", "drive", "--email", "desk@news.example").exit_code == 0


def test_the_weekly_digest_is_turned_on_and_off(runner, drive):
    assert invoke(runner, "digest", "drive", "--weekly").output == "drive: weekly digest on\n"
    assert "(already)" in invoke(runner, "digest", "drive", "--weekly").output
    assert "drive: weekly digest on" in invoke(runner, "list", "drive").output
    assert invoke(runner, "digest", "drive", "--off").output == "drive: weekly digest off\n"
    assert "digest" not in invoke(runner, "list", "drive").output


def test_run_once_detects_a_crossing_and_delivers_it(runner, session, drive, receiver):
    invoke(runner, "add", "drive", "--webhook", receiver.url + "/hook", "--secret", SECRET)
    invoke(
        runner, "add", "drive", "--webhook", receiver.url + "/goal-only", "--milestones", "goal 100"
    )
    milestones = runner.invoke(args=["campaign", "update", "drive", "--milestones", "50%"])
    assert milestones.exit_code == 0, milestones.output
    # Not through `campaign adjust`, which detects at once: here the worker's tick must.
    adjustments.add_adjustment(session, drive, 55, "Sign-ups at the book fair", "desk")
    assert invoke(runner, "run", "--once").exit_code == 0
    answered = receiver.answered(200)
    assert [(r.path, r.json()["type"]) for r in answered] == [("/hook", "milestone.crossed")]
    assert answered[0].json()["milestone"] == "50%"
    assert invoke(runner, "run", "--once").exit_code == 0
    assert len(receiver.requests) == 1


def worker_process(db_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "MEMBERSHIP_ENV": "development",
        "NOTIFY_KEY": NOTIFY_KEY,
        "NOTIFY_LEASE_SECONDS": "2",
        "NOTIFY_POLL_SECONDS": "1",
        "NOTIFY_RETRY_SECONDS": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "notify", "run"],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


@pytest.mark.slow
def test_a_worker_killed_mid_delivery_and_restarted_loses_nothing(
    runner, session, db_url, drive, receiver, tmp_path
):
    invoke(runner, "add", "drive", "--webhook", receiver.url + "/hook", "--secret", SECRET)
    labels = ["10%", "25%", "50%", "75%", "goal 100"]
    for label in labels:
        notice = Notice("milestone", f"milestone:{label}", label, label, label, {"label": label})
        enqueue(session, drive.id, notice)
    session.commit()

    receiver.mode = "hang"  # the first delivery is held: the worker is mid-delivery
    first = worker_process(db_url, tmp_path / "worker.log")
    try:
        wait_for(lambda: receiver.requests, "the first delivery to arrive")
        first.send_signal(signal.SIGKILL)
        assert first.wait(30) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
    in_flight = receiver.requests[0].headers["Membership-Delivery-Id"]
    receiver.mode = "ok"
    receiver.release.set()

    second = worker_process(db_url, tmp_path / "worker.log")
    try:

        def all_delivered() -> bool:
            session.rollback()  # a new snapshot: SQLite's would stay where it began
            found = session.scalars(select(NotifyDelivery.status)).all()
            return found == ["delivered"] * len(labels)

        wait_for(all_delivered, "every notice to be delivered after the restart", 60)
        second.send_signal(signal.SIGTERM)  # a deployment's stop: ends after the delivery in hand
        assert second.wait(30) == 0
    finally:
        if second.poll() is None:
            second.kill()

    received = Counter(r.headers["Membership-Delivery-Id"] for r in receiver.requests)
    public_ids = set(session.scalars(select(NotifyDelivery.public_id)))
    assert set(received) == public_ids
    # At least once: only the delivery in flight when the worker died arrived a second time.
    assert received == Counter({**dict.fromkeys(public_ids, 1), in_flight: 2})
    again = receiver.requests[0].json()["milestone"]
    assert sorted(r.json()["milestone"] for r in receiver.requests) == sorted([*labels, again])
