"""The admin dashboard in Chromium: log in, read the count, adjust it, see the widget move."""

from __future__ import annotations

from typing import Any

import pytest

from membership.accounts import users
from membership.database import db

pytestmark = pytest.mark.slow

USERNAME, PASSWORD = "editor", "correct horse battery staple"


@pytest.fixture
def editor(api: Any) -> str:
    with api.app.app_context():
        users.create_user(db.session, USERNAME, PASSWORD)
    return USERNAME


def test_an_editor_logs_in_adjusts_the_count_and_sees_the_widget_move(
    api: Any, page: Any, campaign: Any, editor: str, artifacts: Any
) -> None:
    campaign("drive", goal=25_000, baseline=12_345, title="Membership drive 2026")

    page.goto(f"{api.origin}/admin/campaigns/drive")
    assert "/admin/login?next=/admin/campaigns/drive" in page.url
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{api.origin}/admin/campaigns/drive")

    assert page.locator('[data-field="count"]').text_content() == "12,345"
    assert page.locator('[data-field="goal"]').text_content() == "25,000"
    assert page.locator("svg.chart").count() == 2
    assert page.evaluate("window.__csp") == []
    page.screenshot(path=str(artifacts / "admin-dashboard.png"), full_page=True)

    page.get_by_role("link", name="Adjustments").first.click()
    page.get_by_label("Number of members").fill("40")
    page.get_by_label("Reason").fill("Sign-ups at the book fair")
    page.get_by_role("button", name="Record adjustment").click()
    page.wait_for_selector("text=+40 members recorded for drive.")
    assert page.locator("td", has_text="Sign-ups at the book fair").count() == 1

    # The dashboard's own poll (every 30 s) reads the JSON this fetch reads.
    summary = page.evaluate("fetch('/admin/campaigns/drive/summary.json').then((r) => r.json())")
    assert summary["display"]["count"] == "12,385"

    # The settings page previews the real embed, which now shows the new count.
    page.goto(f"{api.origin}/admin/campaigns/drive/edit")
    preview = page.frame_locator('iframe[title="Widget preview in English"]')
    assert preview.locator(".count").text_content().startswith("12,385")
    assert page.evaluate("window.__csp") == []

    # And so does the public widget on its own.
    page.goto(f"{api.origin}/embed/drive?lang=en&after=adjustment")
    assert page.locator(".count").text_content().startswith("12,385")


def test_the_copy_buttons_copy_the_embed_code(
    api: Any, browser: Any, campaign: Any, editor: str
) -> None:
    campaign("drive")
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=api.origin)
    page = context.new_page()
    page.goto(f"{api.origin}/admin/login?next=/admin/campaigns/drive/edit")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{api.origin}/admin/campaigns/drive/edit")
    button = page.locator('button[data-copy="snippet-script"]')
    button.click()
    page.wait_for_function(
        "() => document.querySelector('[data-copy=snippet-script]').textContent === 'Copied'"
    )
    copied = page.evaluate("navigator.clipboard.readText()")
    assert '<membership-progress campaign="drive"></membership-progress>' in copied
    context.close()


def test_a_wrong_password_is_told_in_the_browser(api: Any, page: Any, editor: str) -> None:
    page.goto(f"{api.origin}/admin/login")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill("not it at all")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").text_content().strip() == "Wrong username or password."
    assert page.evaluate("window.__csp") == []
