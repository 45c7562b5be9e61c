"""settings.save_campaign and add_adjustment with an actor: the admin's saves, each one commit
that holds the campaign, its copy and the audit entry, or nothing at all."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, func, select

from membership.accounts import audit
from membership.campaigns.adjustments import add_adjustment
from membership.campaigns.copy import list_copies, set_copy
from membership.campaigns.settings import get_campaign, save_campaign
from membership.campaigns.validation import CampaignError
from membership.models import Adjustment, AuditEntry, Campaign, CampaignCopy

EDITOR = audit.Actor("editor", "203.0.113.7")
SETTINGS = {
    "title": "Membership drive 2026",
    "goal": 25_000,
    "starts_on": date(2026, 1, 1),
    "deadline": date(2026, 12, 31),
    "rule": "active",
    "baseline": 1200,
    "cta_url": "https://news.example/join",
    "locale": "en",
    "headline": "Quality journalism takes work.",
    "message": "Help us reach 25,000 members.",
    "cta_label": "Become a member",
}
UKRAINIAN = {
    "headline": "Якісна журналістика — це праця.",
    "message": "Допоможіть нам.",
    "cta_label": "Стати членом",
}


@pytest.fixture
def commits(session) -> Iterator[list[Any]]:
    """Every commit the session makes while the test runs."""
    made: list[Any] = []

    def count(s: Any) -> None:
        made.append(s)

    event.listen(session, "after_commit", count)
    yield made
    event.remove(session, "after_commit", count)


def create(session, slug: str = "drive", **changes: Any) -> Campaign:
    return save_campaign(
        session, None, {"slug": slug, **SETTINGS, **changes}, {"uk": UKRAINIAN}, EDITOR
    )


def entries(session) -> list[tuple[str, str, str, str | None]]:
    session.rollback()
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    return [(e.actor, e.action, e.detail, e.ip) for e in rows]


def stored(session, slug: str = "drive") -> tuple[dict, dict]:
    """The campaign's settings and its translations, as the database holds them."""
    session.rollback()
    campaign = get_campaign(session, slug)
    settings = {field: getattr(campaign, field) for field in SETTINGS}
    copies = {
        c.locale: {"headline": c.headline, "message": c.message, "cta_label": c.cta_label}
        for c in list_copies(session, campaign)
    }
    return settings, copies


# --- creating -----------------------------------------------------------------------------------


def test_a_new_campaign_its_copy_and_its_audit_entry_are_one_commit(session, commits):
    create(session)
    assert len(commits) == 1
    assert stored(session) == (SETTINGS, {"uk": UKRAINIAN})
    assert entries(session) == [("editor", "campaign.created", "drive: goal 25,000", "203.0.113.7")]


def test_a_refused_translation_stores_no_campaign_and_no_audit_entry(session, commits):
    with pytest.raises(CampaignError) as refused:
        save_campaign(
            session,
            None,
            {"slug": "drive", **SETTINGS},
            {"uk": {**UKRAINIAN, "headline": "х" * 201}},
            EDITOR,
        )
    assert (refused.value.field, refused.value.locale) == ("headline", "uk")
    assert commits == []
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0
    assert entries(session) == []


def test_a_new_campaign_is_checked_by_the_same_rules_as_the_cli(session):
    with pytest.raises(CampaignError, match="^slug: must be 1-64 lowercase letters"):
        create(session, slug="Bad Slug")
    create(session)
    with pytest.raises(CampaignError, match="^slug: a campaign called 'drive' already exists"):
        create(session)
    with pytest.raises(CampaignError, match="^deadline: must not be before the start"):
        create(session, slug="later", starts_on=date(2027, 1, 1))


# --- changing -----------------------------------------------------------------------------------


def test_a_change_and_its_audit_entry_are_one_commit_that_names_what_changed(session, commits):
    create(session)
    words = {**UKRAINIAN, "message": "Нове повідомлення."}
    save_campaign(
        session, "drive", {**SETTINGS, "goal": 30_000, "deadline": None}, {"uk": words}, EDITOR
    )
    assert len(commits) == 2
    settings, copies = stored(session)
    assert (settings["goal"], settings["deadline"], copies["uk"]) == (30_000, None, words)
    assert entries(session)[-1] == (
        "editor",
        "campaign.updated",
        "drive: changed deadline, goal, message_uk",
        "203.0.113.7",
    )


def test_a_refused_translation_leaves_the_campaign_as_it_was_and_no_audit_entry(session, commits):
    create(session)
    before = stored(session)
    with pytest.raises(CampaignError) as refused:
        save_campaign(
            session,
            "drive",
            {**SETTINGS, "goal": 30_000, "title": "Another title"},
            {"uk": {**UKRAINIAN, "cta_label": "Стати\x0bчленом"}},
            EDITOR,
        )
    assert (refused.value.field, refused.value.locale) == ("cta_label", "uk")
    assert len(commits) == 1  # the create
    assert stored(session) == before
    assert [action for _, action, _, _ in entries(session)] == ["campaign.created"]


def test_a_refused_setting_leaves_the_translations_as_they_were(session):
    create(session)
    before = stored(session)
    with pytest.raises(CampaignError, match="^cta_url: "):
        save_campaign(
            session,
            "drive",
            {**SETTINGS, "cta_url": "ftp://news.example"},
            {"uk": {**UKRAINIAN, "headline": "Нове"}},
            EDITOR,
        )
    assert stored(session) == before


def test_switching_the_language_removes_the_stale_translation_in_the_same_commit(session, commits):
    create(session)
    english = {field: SETTINGS[field] for field in ("headline", "message", "cta_label")}
    save_campaign(
        session, "drive", {**SETTINGS, "locale": "uk", **UKRAINIAN}, {"en": english}, EDITOR
    )
    assert len(commits) == 2
    settings, copies = stored(session)
    assert (settings["locale"], settings["headline"]) == ("uk", UKRAINIAN["headline"])
    assert copies == {"en": english}
    assert session.scalar(select(func.count()).select_from(CampaignCopy)) == 1


def test_copy_in_the_campaigns_own_new_language_is_refused(session):
    create(session)
    with pytest.raises(CampaignError, match="^locale: the campaign's own language"):
        save_campaign(session, "drive", {**SETTINGS, "locale": "uk"}, {"uk": UKRAINIAN}, EDITOR)
    assert stored(session)[0]["locale"] == "en"


def test_empty_words_remove_a_translation(session):
    create(session)
    empty = {"headline": "", "message": "", "cta_label": ""}
    save_campaign(session, "drive", SETTINGS, {"uk": empty}, EDITOR)
    assert stored(session)[1] == {}


def test_translations_the_form_does_not_show_are_kept(session):
    campaign = create(session)
    set_copy(session, campaign, "de", headline="Journalismus", message="", cta_label="")
    save_campaign(session, "drive", {**SETTINGS, "goal": 26_000}, {"uk": UKRAINIAN}, EDITOR)
    assert set(stored(session)[1]) == {"de", "uk"}
    assert entries(session)[-1][2] == "drive: changed goal"


def test_an_unknown_campaign_is_refused(session):
    with pytest.raises(CampaignError, match="^slug: no campaign called 'nope'"):
        save_campaign(session, "nope", SETTINGS, {}, EDITOR)


# --- adjustments --------------------------------------------------------------------------------


def test_an_adjustment_and_its_audit_entry_are_one_commit(session, commits):
    campaign = create(session)
    add_adjustment(session, campaign, 40, " Print subscribers ", "editor", actor=EDITOR)
    assert len(commits) == 2
    assert entries(session)[-1] == (
        "editor",
        "adjustment.added",
        "drive: +40 (Print subscribers)",
        "203.0.113.7",
    )


def test_a_refused_adjustment_writes_no_audit_entry(session):
    campaign = create(session)
    with pytest.raises(CampaignError, match="^reason: is required"):
        add_adjustment(session, campaign, 40, "  ", "editor", actor=EDITOR)
    assert session.scalar(select(func.count()).select_from(Adjustment)) == 0
    assert [action for _, action, _, _ in entries(session)] == ["campaign.created"]


def test_an_adjustment_without_an_actor_is_not_audited(session):
    campaign = create(session)
    add_adjustment(session, campaign, -3, "Duplicates", "cli")
    assert [action for _, action, _, _ in entries(session)] == ["campaign.created"]
