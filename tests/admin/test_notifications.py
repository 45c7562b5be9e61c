"""GET/POST /admin/campaigns/<slug>/notifications: channels (masked), the digest, deliveries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from membership.database import db
from membership.models import NotifyChannel, utcnow
from membership.notify import secrets, worker
from membership.notify.outbox import Notice, enqueue
from tests.admin.conftest import audit_rows, post_form
from tests.notify_servers import NOTIFY_KEY, Receiver, notify_settings

URL = "/admin/campaigns/drive/notifications"
SLACK_TOKEN = "xoxb-slack-token-never-shown"
SECRET = "admin-typed-secret-0123456789"


@pytest.fixture(autouse=True)
def notify_key(monkeypatch):
    monkeypatch.setenv("NOTIFY_KEY", NOTIFY_KEY)


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def stored_channels(app) -> list[NotifyChannel]:
    with app.app_context():
        return list(db.session.scalars(select(NotifyChannel).order_by(NotifyChannel.id)))


def test_channels_are_added_listed_masked_and_removed(admin, admin_app, campaign):
    campaign("drive")
    slack = f"https://hooks.slack.example/services/T0/B0/{SLACK_TOKEN}"
    added = post_form(admin, URL, {"kind": "slack", "target": slack, "milestones": ""})
    assert added.status_code == 302 and added.headers["Location"] == URL
    post_form(
        admin,
        URL,
        {"kind": "webhook", "target": "https://tools.news.example/membership", "secret": SECRET},
    )
    post_form(
        admin, URL, {"kind": "email", "target": "desk@news.example", "milestones": "50%,goal 25000"}
    )
    html = admin.get(URL).get_data(as_text=True)
    assert "#1 slack: Slack webhook …hown; hears all milestones" in html
    assert "(signed, secret …6789)" in html
    assert "desk@news.example; hears 50%, goal 25000" in html
    assert SLACK_TOKEN not in html and SECRET not in html

    stored = stored_channels(admin_app)
    assert SLACK_TOKEN not in stored[0].secret and SECRET not in stored[1].secret
    assert secrets.decrypt(notify_settings().keys, stored[1].secret) == SECRET

    removed = post_form(admin, f"{URL}/remove", {"channel": "1"}, token_from=URL)
    assert removed.status_code == 302
    other = campaign("other")
    assert other.slug == "other"
    missing = post_form(admin, "/admin/campaigns/other/notifications/remove", {"channel": "2"})
    assert missing.status_code == 302  # another campaign's channel is not removed from here
    assert [c.kind for c in stored_channels(admin_app)] == ["webhook", "email"]
    actions = [row.action for row in audit_rows(admin_app)]
    assert actions.count("notify.channel_added") == 3
    assert "notify.channel_removed" in actions
    assert all(SLACK_TOKEN not in row.detail for row in audit_rows(admin_app))


def test_a_generated_webhook_secret_is_shown_once(admin, admin_app, campaign):
    campaign("drive")
    response = post_form(
        admin, URL, {"kind": "webhook", "target": "https://tools.news.example/m"}, token_from=URL
    )
    first = admin.get(response.headers["Location"]).get_data(as_text=True)
    shown = re.search(r"shown this once\): (\S+)</p>", first)
    assert shown
    (channel,) = stored_channels(admin_app)
    assert secrets.decrypt(notify_settings().keys, channel.secret) == shown.group(1)
    assert shown.group(1) not in admin.get(URL).get_data(as_text=True)


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"kind": "email", "target": "nobody"}, "must be one email address"),
        ({"kind": "slack", "target": "javascript:alert(1)"}, "http:// or https://"),
        ({"kind": "webhook", "target": "https://x.example/h", "secret": "short"}, "at least 16"),
        ({"kind": "pigeon", "target": "x"}, "choose Slack, email or webhook"),
    ],
)
def test_a_channel_that_cannot_work_is_refused(admin, admin_app, campaign, form, error):
    campaign("drive")
    response = post_form(admin, URL, form, token_from=URL)
    assert response.status_code == 422
    assert error in response.get_data(as_text=True)
    assert stored_channels(admin_app) == []


def test_the_digest_is_turned_on_and_off(admin, campaign):
    campaign("drive")
    assert "Now <strong>off</strong>" in admin.get(URL).get_data(as_text=True)
    post_form(admin, f"{URL}/digest", {"weekly": "on"}, token_from=URL)
    assert "Now <strong>on</strong>" in admin.get(URL).get_data(as_text=True)
    post_form(admin, f"{URL}/digest", {"weekly": "off"}, token_from=URL)
    assert "Now <strong>off</strong>" in admin.get(URL).get_data(as_text=True)


def test_recent_deliveries_show_status_attempts_and_the_last_error(
    admin, admin_app, campaign, receiver
):
    drive = campaign("drive")
    post_form(admin, URL, {"kind": "webhook", "target": receiver.url + "/h", "secret": SECRET})
    receiver.mode = "error"
    with admin_app.app_context():
        notice = Notice("milestone", "milestone:50%", "50%", "Half way there", "50%", {})
        enqueue(db.session, drive.id, notice)
        db.session.commit()
        settings = notify_settings()
        worker.deliver_due(db.session, settings)
    html = admin.get(URL).get_data(as_text=True)
    assert "Half way there" in html
    assert "<td>pending (next " in html
    assert '<td class="num">1</td>' in html
    assert "HTTP 500: no" in html

    receiver.mode = "ok"
    with admin_app.app_context():
        later = utcnow() + timedelta(hours=2)
        worker.deliver_due(db.session, settings, lambda: later)
    html = admin.get(URL).get_data(as_text=True)
    assert "<td>delivered</td>" in html
    assert '<td class="num">2</td>' in html


def test_the_page_needs_a_login(app, client, campaign):
    campaign("drive")
    assert client.get(URL).status_code == 302
    response = client.post(URL, data={"kind": "email", "target": "a@news.example"})
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert stored_channels(app) == []
