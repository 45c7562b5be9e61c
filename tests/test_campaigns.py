"""membership/campaigns.py: campaign settings and manual adjustments, validated and stored."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from membership.campaigns.adjustments import add_adjustment
from membership.campaigns.copy import set_copy
from membership.campaigns.settings import (
    create_campaign,
    ensure_demo,
    get_campaign,
    list_campaigns,
    update_campaign,
)
from membership.campaigns.validation import MAX_GOAL, CampaignError, check_copy, printable
from membership.models import Adjustment, Campaign, CampaignCopy, utcnow

# Characters a badge (XML 1.0) cannot carry, as found in titles typed or pasted by hand; and
# DEL and a C1 control, which XML allows but no copy means.
FORBIDDEN = ["\x0b", "\x01", "\x1b", "\ufffe", "\x00", "\uffff", "\x7f", "\x85"]
TEXT_FIELDS = ["title", "headline", "message", "cta_label"]


def refused(field: str):
    """pytest.raises for a CampaignError about ``field``."""
    return pytest.raises(CampaignError, match=f"^{field}: ")


def campaigns_in(session) -> list[tuple]:
    session.rollback()
    return [
        (c.slug, c.goal, c.title, c.starts_on, c.deadline, c.rule, c.baseline)
        for c in session.scalars(select(Campaign).order_by(Campaign.slug))
    ]


def snapshot(session, slug: str) -> dict:
    session.rollback()
    campaign = get_campaign(session, slug)
    return {column.key: getattr(campaign, column.key) for column in Campaign.__table__.columns}


# --- creating -----------------------------------------------------------------------------------


def test_it_creates_a_campaign_with_sensible_defaults(session):
    campaign = create_campaign(session, "drive", 100)
    session.rollback()
    stored = get_campaign(session, "drive")
    assert stored.id == campaign.id
    assert (stored.goal, stored.title, stored.rule, stored.baseline, stored.locale) == (
        100,
        "drive",
        "active",
        0,
        "en",
    )
    assert (stored.starts_on, stored.deadline) == (None, None)
    assert (stored.headline, stored.message, stored.cta_label, stored.cta_url) == ("", "", "", "")


def test_it_stores_every_setting_given(session):
    create_campaign(
        session,
        "spring-2026",
        2500,
        title="Spring drive",
        starts_on=date(2026, 3, 1),
        deadline=date(2026, 5, 31),
        rule="new",
        baseline=120,
        headline="Join us",
        message="We need you.",
        cta_label="Join",
        cta_url="https://news.example/join",
        locale="pt-BR",
    )
    stored = snapshot(session, "spring-2026")
    assert stored["title"] == "Spring drive"
    assert (stored["starts_on"], stored["deadline"]) == (date(2026, 3, 1), date(2026, 5, 31))
    assert (stored["rule"], stored["baseline"], stored["locale"]) == ("new", 120, "pt-BR")
    assert stored["cta_url"] == "https://news.example/join"


@pytest.mark.parametrize("slug", ["a", "7", "drive", "spring-2026", "a" * 64, "x-y-z"])
def test_it_accepts_a_slug_of_lowercase_letters_digits_and_dashes(session, slug):
    assert create_campaign(session, slug, 10).slug == slug


@pytest.mark.parametrize(
    "slug",
    [
        "",
        "-drive",
        "drive-",
        "Drive",
        "spring drive",
        "drive/2026",
        "drive_2026",
        "a" * 65,
        "café",
        "../x",
        None,
        42,
    ],
)
def test_it_refuses_a_malformed_slug(session, slug):
    with refused("slug"):
        create_campaign(session, slug, 10)
    assert campaigns_in(session) == []


def test_it_refuses_a_slug_ending_in_a_newline(session):
    with refused("slug"):
        create_campaign(session, "drive\n", 10)


def test_it_refuses_a_duplicate_slug(session):
    create_campaign(session, "drive", 10)
    with pytest.raises(CampaignError, match="slug: a campaign called 'drive' already exists"):
        create_campaign(session, "drive", 20)
    assert campaigns_in(session) == [("drive", 10, "drive", None, None, "active", 0)]


@pytest.mark.parametrize("goal", [0, -1, True, False, 1.5, "100", MAX_GOAL + 1])
def test_it_refuses_a_goal_that_is_not_a_whole_number_above_zero(session, goal):
    with refused("goal"):
        create_campaign(session, "drive", goal)
    assert campaigns_in(session) == []


def test_it_refuses_a_missing_goal_before_writing(session):
    with refused("goal"):
        create_campaign(session, "drive", None)


def test_it_accepts_the_largest_goal(session):
    assert create_campaign(session, "drive", MAX_GOAL).goal == MAX_GOAL


@pytest.mark.parametrize("baseline", [-1, 1.0, "5"])
def test_it_refuses_a_negative_or_non_integer_baseline(session, baseline):
    with refused("baseline"):
        create_campaign(session, "drive", 10, baseline=baseline)
    assert campaigns_in(session) == []


def test_a_baseline_of_zero_is_fine(session):
    assert create_campaign(session, "drive", 10, baseline=0).baseline == 0


def test_it_refuses_a_true_or_false_baseline(session):
    with refused("baseline"):
        create_campaign(session, "drive", 10, baseline=True)


def test_it_refuses_a_baseline_too_large_for_its_column(session):
    with refused("baseline"):
        create_campaign(session, "drive", 10, baseline=3_000_000_000)


def test_it_refuses_an_unknown_rule(session):
    with pytest.raises(CampaignError, match="rule: must be 'active' or 'new'"):
        create_campaign(session, "drive", 10, rule="everyone")


@pytest.mark.parametrize("field", ["starts_on", "deadline"])
@pytest.mark.parametrize("value", ["2026-01-01", 20260101])
def test_it_refuses_a_date_that_is_not_a_date(session, field, value):
    with refused(field):
        create_campaign(session, "drive", 10, **{field: value})


def test_it_refuses_a_deadline_before_the_start(session):
    with pytest.raises(CampaignError, match="deadline: must not be before the start"):
        create_campaign(
            session, "drive", 10, starts_on=date(2026, 6, 1), deadline=date(2026, 5, 31)
        )
    assert campaigns_in(session) == []


def test_a_one_day_campaign_is_fine(session):
    campaign = create_campaign(
        session, "drive", 10, starts_on=date(2026, 6, 1), deadline=date(2026, 6, 1)
    )
    assert campaign.starts_on == campaign.deadline


@pytest.mark.parametrize(
    "url",
    [
        "https://news.example/join",
        "http://news.example/join?src=widget#top",
        "HTTPS://NEWS.EXAMPLE/",
        "",
    ],
)
def test_it_accepts_an_http_or_https_call_to_action(session, url):
    assert create_campaign(session, "drive", 10, cta_url=url).cta_url == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "ftp://news.example/",
        "//news.example/join",
        "/join",
        "news.example/join",
        "https://",
        "mailto:members@news.example",
    ],
)
def test_it_refuses_a_call_to_action_that_is_not_an_http_address(session, url):
    with pytest.raises(CampaignError, match="cta_url: must be an http:// or https:// address"):
        create_campaign(session, "drive", 10, cta_url=url)
    assert campaigns_in(session) == []


@pytest.mark.parametrize(
    ("field", "limit"),
    [("title", 200), ("headline", 200), ("message", 500), ("cta_label", 80), ("locale", 16)],
)
def test_it_refuses_copy_longer_than_its_column(session, field, limit):
    with pytest.raises(CampaignError, match=f"{field}: must be at most {limit} characters"):
        create_campaign(session, "drive", 10, **{field: "a" * (limit + 1)})
    assert campaigns_in(session) == []


def test_it_refuses_a_call_to_action_url_longer_than_its_column(session):
    url = "https://news.example/" + "a" * 480
    with pytest.raises(CampaignError, match="cta_url: must be at most 500 characters"):
        create_campaign(session, "drive", 10, cta_url=url)


@pytest.mark.parametrize(("field", "limit"), [("title", 200), ("message", 500), ("cta_label", 80)])
def test_it_accepts_copy_exactly_as_long_as_its_column(session, field, limit):
    text = "é" * limit  # characters, not bytes
    assert getattr(create_campaign(session, "drive", 10, **{field: text}), field) == text
    assert snapshot(session, "drive")[field] == text


@pytest.mark.parametrize("field", ["title", "headline", "message", "cta_label", "locale"])
def test_it_refuses_copy_that_is_not_text(session, field):
    with pytest.raises(CampaignError, match=f"{field}: must be text"):
        create_campaign(session, "drive", 10, **{field: 42})


@pytest.mark.parametrize("char", FORBIDDEN)
@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_it_refuses_a_control_character_in_any_copy_naming_the_field(session, field, char):
    code = f"U+{ord(char):04X}"
    message = f"{field}: must not contain invisible control characters ({code})"
    with pytest.raises(CampaignError, match=f"^{re.escape(message)}$"):
        create_campaign(session, "drive", 10, **{field: f"Drive{char}2026"})
    assert campaigns_in(session) == []


@pytest.mark.parametrize("char", FORBIDDEN)
def test_it_refuses_a_control_character_in_the_call_to_action_url(session, char):
    with refused("cta_url"):
        create_campaign(session, "drive", 10, cta_url=f"https://news.example/{char}join")


@pytest.mark.parametrize("char", ["\t", "\n", "\r"])
@pytest.mark.parametrize("field", ["title", "headline", "cta_label", "cta_url"])
def test_it_refuses_a_tab_or_line_break_in_a_one_line_field(session, field, char):
    with pytest.raises(CampaignError, match=f"^{field}: must be one line"):
        create_campaign(session, "drive", 10, **{field: f"https://news.example/a{char}b"})


def test_a_message_may_hold_line_breaks_and_tabs_as_typed_in_its_textarea(session):
    text = "Help us.\r\n\tThank you!"
    assert create_campaign(session, "drive", 10, message=text).message == text


def test_letters_of_any_script_and_emoji_are_fine(session):
    title = "Членська кампанія \u00a0 2026 — 🎉 \ue000"
    assert create_campaign(session, "drive", 10, title=title).title == title


def test_printable_drops_only_what_the_rules_refuse_everywhere():
    assert printable("A\x0bB\x01C\x1bD\ufffeE\x85F") == "ABCDEF"
    assert printable("Line\r\none\ttwo — 🎉") == "Line\r\none\ttwo — 🎉"


def test_surrounding_spaces_of_a_call_to_action_url_are_dropped(session):
    campaign = create_campaign(session, "drive", 10, cta_url="  https://news.example/join \n")
    assert campaign.cta_url == "https://news.example/join"
    update_campaign(session, "drive", cta_url=" http://news.example/other\t")
    assert snapshot(session, "drive")["cta_url"] == "http://news.example/other"


@pytest.mark.parametrize(
    "url", ["https://news.example/join us", "https://news.example/\u00a0join", "https:// x.example"]
)
def test_it_refuses_a_call_to_action_url_with_spaces_inside(session, url):
    with pytest.raises(CampaignError, match="cta_url: must not contain spaces"):
        create_campaign(session, "drive", 10, cta_url=url)


@pytest.mark.parametrize("title", ["", "   "])
def test_it_refuses_an_empty_title(session, title):
    with pytest.raises(CampaignError, match="title: must not be empty"):
        create_campaign(session, "drive", 10, title=title)


@pytest.mark.parametrize("locale", ["en", "uk", "fil", "pt-BR", "zh-Hant-TW", "de-CH"])
def test_it_accepts_a_language_tag(session, locale):
    assert create_campaign(session, "drive", 10, locale=locale).locale == locale


@pytest.mark.parametrize("locale", ["", "EN", "e", "english", "en_US", "en-", "-en", "en us"])
def test_it_refuses_a_locale_that_is_not_a_language_tag(session, locale):
    with pytest.raises(CampaignError, match="locale: must be a language tag"):
        create_campaign(session, "drive", 10, locale=locale)


def test_it_refuses_a_locale_ending_in_a_newline(session):
    with pytest.raises(CampaignError, match="locale"):
        create_campaign(session, "drive", 10, locale="en\n")


def test_it_refuses_an_unknown_field_as_a_programming_error(session):
    with pytest.raises(TypeError, match="unknown campaign fields: colour"):
        create_campaign(session, "drive", 10, colour="red")


def test_it_lists_campaigns_by_slug(session):
    for slug in ("zeta", "alpha", "mid"):
        create_campaign(session, slug, 10)
    assert [c.slug for c in list_campaigns(session)] == ["alpha", "mid", "zeta"]


# --- updating -----------------------------------------------------------------------------------


@pytest.fixture
def drive(session):
    create_campaign(
        session,
        "drive",
        100,
        title="Drive",
        starts_on=date(2026, 1, 1),
        deadline=date(2026, 12, 31),
        rule="new",
        baseline=5,
        headline="Headline",
        message="Message",
        cta_label="Join",
        cta_url="https://news.example/join",
        locale="en",
    )
    return snapshot(session, "drive")


def test_update_changes_only_the_settings_given(session, drive):
    update_campaign(session, "drive", goal=200, title=None, deadline=None)
    after = snapshot(session, "drive")
    assert after["goal"] == 200
    changed = {k for k in drive if drive[k] != after[k]}
    assert changed == {"goal", "updated_at"}


def test_update_moves_updated_at(session, drive):
    update_campaign(session, "drive", headline="New headline")
    assert snapshot(session, "drive")["updated_at"] >= drive["updated_at"]
    assert snapshot(session, "drive")["headline"] == "New headline"


def test_update_of_an_unknown_campaign_is_refused(session):
    with pytest.raises(CampaignError, match="slug: no campaign called 'nope'"):
        update_campaign(session, "nope", goal=10)


@pytest.mark.parametrize(
    "values",
    [
        {"goal": 0},
        {"goal": True},
        {"baseline": -3},
        {"rule": "all"},
        {"title": "  "},
        {"cta_url": "javascript:alert(1)"},
        {"locale": "English"},
        {"headline": "h" * 201},
        {"goal": 500, "cta_url": "javascript:alert(1)"},  # one bad value spoils them all
    ],
)
def test_a_refused_update_leaves_the_campaign_unchanged(session, drive, values):
    with pytest.raises(CampaignError):
        update_campaign(session, "drive", **values)
    assert snapshot(session, "drive") == drive


@pytest.mark.parametrize(
    "values",
    [
        {"deadline": date(2025, 12, 31)},
        {"starts_on": date(2027, 1, 1)},
        {"goal": 500, "starts_on": date(2027, 1, 1)},
    ],
)
def test_an_update_that_puts_the_deadline_before_the_start_changes_nothing(session, drive, values):
    with pytest.raises(CampaignError, match="deadline: must not be before the start"):
        update_campaign(session, "drive", **values)
    assert snapshot(session, "drive") == drive


def test_update_can_move_both_dates_at_once(session, drive):
    update_campaign(session, "drive", starts_on=date(2027, 1, 1), deadline=date(2027, 6, 30))
    after = snapshot(session, "drive")
    assert (after["starts_on"], after["deadline"]) == (date(2027, 1, 1), date(2027, 6, 30))


def test_update_can_clear_copy_with_an_empty_string(session, drive):
    update_campaign(session, "drive", headline="", cta_url="")
    after = snapshot(session, "drive")
    assert (after["headline"], after["cta_url"]) == ("", "")


def test_update_can_remove_the_start_and_or_the_deadline(session, drive):
    update_campaign(session, "drive", clear_deadline=True)
    after = snapshot(session, "drive")
    assert (after["starts_on"], after["deadline"]) == (date(2026, 1, 1), None)
    update_campaign(session, "drive", clear_start=True)
    after = snapshot(session, "drive")
    assert (after["starts_on"], after["deadline"]) == (None, None)
    assert after["goal"] == drive["goal"]


@pytest.mark.parametrize("char", FORBIDDEN)
def test_an_update_with_a_control_character_changes_nothing(session, drive, char):
    with refused("title"):
        update_campaign(session, "drive", goal=200, title=f"Drive{char}")
    assert snapshot(session, "drive") == drive


def test_removing_a_date_and_an_invalid_change_together_changes_nothing(session, drive):
    with pytest.raises(CampaignError, match="goal"):
        update_campaign(session, "drive", clear_deadline=True, goal=0)
    assert snapshot(session, "drive") == drive


# --- adjustments --------------------------------------------------------------------------------


def adjustments(session) -> list[tuple]:
    session.rollback()
    return [
        (a.delta, a.reason, a.created_by)
        for a in session.scalars(select(Adjustment).order_by(Adjustment.id))
    ]


def test_an_adjustment_is_stored_with_its_reason_and_author(session, drive):
    campaign = get_campaign(session, "drive")
    add_adjustment(session, campaign, 40, "  Print subscribers, March  ", "maria@news.example")
    add_adjustment(session, campaign, -3, "Duplicates", "cli")
    assert adjustments(session) == [
        (40, "Print subscribers, March", "maria@news.example"),
        (-3, "Duplicates", "cli"),
    ]
    assert snapshot(session, "drive")["updated_at"] >= drive["updated_at"]


@pytest.mark.parametrize("delta", [0, True, False, 1.5, "3", MAX_GOAL + 1, -MAX_GOAL - 1])
def test_it_refuses_an_adjustment_that_is_not_a_nonzero_whole_number(session, drive, delta):
    campaign = get_campaign(session, "drive")
    with refused("delta"):
        add_adjustment(session, campaign, delta, "reason", "cli")
    assert adjustments(session) == []


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_it_refuses_an_adjustment_without_a_reason(session, drive, reason):
    campaign = get_campaign(session, "drive")
    with pytest.raises(CampaignError, match="reason: is required"):
        add_adjustment(session, campaign, 5, reason, "cli")
    assert adjustments(session) == []


def test_it_refuses_a_reason_longer_than_500_characters(session, drive):
    campaign = get_campaign(session, "drive")
    with pytest.raises(CampaignError, match="reason: must be at most 500 characters"):
        add_adjustment(session, campaign, 5, "r" * 501, "cli")
    add_adjustment(session, campaign, 5, "r" * 500, "cli")
    assert adjustments(session) == [(5, "r" * 500, "cli")]


def test_an_overlong_author_is_cut_to_fit(session, drive):
    campaign = get_campaign(session, "drive")
    add_adjustment(session, campaign, 1, "reason", "a" * 150)
    assert adjustments(session) == [(1, "reason", "a" * 100)]


# --- the demo -----------------------------------------------------------------------------------


def test_the_demo_campaign_runs_this_calendar_year_to_25000(session):
    demo = ensure_demo(session)
    year = utcnow().year
    stored = snapshot(session, "members")
    assert demo.slug == "members"
    assert stored["goal"] == 25_000
    assert (stored["starts_on"], stored["deadline"]) == (date(year, 1, 1), date(year, 12, 31))
    assert stored["rule"] == "active"
    assert str(year) in stored["title"]
    assert f"by the end of {year}" in stored["message"]
    assert stored["cta_url"].startswith("https://")


def test_the_demo_is_created_once_and_then_left_alone(session):
    first = ensure_demo(session)
    update_campaign(session, "members", goal=30_000)
    again = ensure_demo(session)
    assert again.id == first.id
    assert snapshot(session, "members")["goal"] == 30_000
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Campaign)) == 1


# --- copy in other languages --------------------------------------------------------------------


def test_copy_in_another_language_is_served_with_the_progress(client, session, drive):
    from membership.campaigns.copy import set_copy

    campaign = get_campaign(session, "drive")
    set_copy(
        session,
        campaign,
        "uk",
        headline="Журналістика",
        message="Допоможіть нам",
        cta_label="Стати членом",
    )
    body = client.get("/api/campaigns/drive").get_json()
    assert body["translations"] == {
        "uk": {"headline": "Журналістика", "message": "Допоможіть нам", "cta_label": "Стати членом"}
    }
    set_copy(session, campaign, "uk", headline="", message="", cta_label="")
    assert client.get("/api/campaigns/drive").get_json()["translations"] == {}


def test_copy_in_the_campaigns_own_language_is_refused(session, drive):
    from membership.campaigns.copy import set_copy

    campaign = get_campaign(session, "drive")
    with pytest.raises(CampaignError, match="locale"):
        set_copy(session, campaign, campaign.locale, headline="x", message="", cta_label="")
    with pytest.raises(CampaignError, match="headline"):
        set_copy(session, campaign, "uk", headline="x" * 201, message="", cta_label="")


@pytest.mark.parametrize("char", FORBIDDEN)
@pytest.mark.parametrize("field", ["headline", "message", "cta_label"])
def test_copy_in_another_language_with_a_control_character_is_refused(session, drive, field, char):
    campaign = get_campaign(session, "drive")
    words = {"headline": "", "message": "", "cta_label": "", field: f"Гурт{char}"}
    with pytest.raises(CampaignError, match=f"^{field}: .*control characters") as raised:
        set_copy(session, campaign, "uk", **words)
    assert raised.value.locale == "uk"  # so a form marks the Ukrainian field, not the English
    session.rollback()
    assert session.scalar(select(func.count()).select_from(CampaignCopy)) == 0


def test_copy_can_be_checked_for_every_language_before_anything_is_saved():
    check_copy("uk", headline="Журналістика", message="Рядок\nдругий", cta_label="Стати")
    with pytest.raises(CampaignError, match="^cta_label: must be one line") as raised:
        check_copy("uk", headline="", message="", cta_label="Стати\nчленом")
    assert (raised.value.field, raised.value.locale) == ("cta_label", "uk")


# --- the CLI goes through the same rules --------------------------------------------------------


@pytest.mark.parametrize("char", ["\x0b", "\x01", "\x1b", "\ufffe"])
def test_the_cli_refuses_a_control_character_and_names_the_field(runner, session, char):
    result = runner.invoke(
        args=["campaign", "create", "drive", "--goal", "10", "--title", f"Drive{char}2026"]
    )
    assert result.exit_code == 2, result.output
    assert f"title: must not contain invisible control characters (U+{ord(char):04X})" in (
        result.output
    )
    assert campaigns_in(session) == []
    create_campaign(session, "drive", 10)
    result = runner.invoke(args=["campaign", "update", "drive", "--cta-label", f"Join{char}"])
    assert result.exit_code == 2, result.output
    assert "cta_label: must not contain invisible control characters" in result.output
    assert snapshot(session, "drive")["cta_label"] == ""


def test_the_cli_stores_a_call_to_action_url_without_surrounding_spaces(runner, session):
    args = ["campaign", "create", "drive", "--goal", "10", "--cta-url", " https://news.example/j"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert snapshot(session, "drive")["cta_url"] == "https://news.example/j"


# --- rows stored before the rules: the progress JSON shows them clean ---------------------------


def test_the_progress_json_drops_control_characters_an_old_row_holds(app, client, session, drive):
    from tests.test_badge import stored_before_the_rule

    stored_before_the_rule(
        app, title="Dri\x0bve", headline="Head\x01line", message="Mes\x1bsage", cta_label="J\ufffe"
    )
    session.rollback()  # the requests share this session: let it see the write
    campaign = get_campaign(session, "drive")
    session.add(
        CampaignCopy(
            campaign_id=campaign.id, locale="uk", headline="Г\x0b", message="М\x7f", cta_label="Т"
        )
    )
    session.commit()
    body = client.get("/api/campaigns/drive").get_json()
    copy = {key: body[key] for key in ("title", "headline", "message", "cta_label")}
    assert copy == {
        "title": "Drive",
        "headline": "Headline",
        "message": "Message",
        "cta_label": "J",
    }
    assert body["translations"] == {"uk": {"headline": "Г", "message": "М", "cta_label": "Т"}}


def test_the_progress_json_gives_an_old_rows_link_without_surrounding_spaces(
    app, client, session, drive
):
    from tests.test_badge import stored_before_the_rule

    # The widget shows its button only for a link that starts with http(s).
    stored_before_the_rule(app, cta_url=" https://news.example/join ")
    session.rollback()  # the requests share this session: let it see the write
    assert client.get("/api/campaigns/drive").get_json()["cta_url"] == "https://news.example/join"
