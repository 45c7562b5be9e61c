"""The demo in Chromium: after `flask campaign seed-demo`, the admin and the widget show a drive."""

from __future__ import annotations

from typing import Any

import pytest

from membership.accounts import users
from membership.database import db

pytestmark = pytest.mark.slow

USERNAME, PASSWORD = "editor", "correct horse battery staple"


def test_the_seeded_demo_opens_on_a_moving_drive_with_a_pace_and_a_projection(
    api: Any, page: Any, artifacts: Any
) -> None:
    seeded = api.app.test_cli_runner().invoke(args=["campaign", "seed-demo"])
    assert seeded.exit_code == 0, seeded.output
    with api.app.app_context():
        users.create_user(db.session, USERNAME, PASSWORD)

    page.goto(f"{api.origin}/admin/login?next=/admin/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{api.origin}/admin/")
    count = page.locator('[data-field="count"]').text_content()
    assert int(count.replace(",", "")) > 8_000
    assert page.locator('[data-field="per_day_7"]').text_content() not in ("+0.0", "-0.0")
    assert page.locator('[data-field="projected"]').text_content()[:2] == "20"  # a date
    page.screenshot(path=str(artifacts / "demo-admin.png"), full_page=True)

    page.goto(f"{api.origin}/admin/campaigns/members")
    assert page.locator("svg.chart polyline.count").count() == 1
    assert page.locator("svg.chart rect.joined").count() >= 30
    assert page.locator("svg.chart rect.left").count() > 0
    page.screenshot(path=str(artifacts / "demo-campaign.png"), full_page=True)

    page.goto(f"{api.origin}/embed/members?lang=en")
    assert page.locator(".count").text_content().startswith(f"{count} out of 25,000")
    page.screenshot(path=str(artifacts / "demo-embed.png"))
