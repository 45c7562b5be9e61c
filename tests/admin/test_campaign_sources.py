"""The admin's "what counts" page, and the webhook log saying what is not a membership."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from membership.accounts import audit
from tests import stripe_factory as sf
from tests.admin.conftest import audit_rows, post_form
from tests.conftest import count_of

T = int((datetime.now(UTC) - timedelta(days=5)).timestamp())


def on_price(deliver, sub: str, customer: str, price: str) -> None:
    event = sf.subscription_event("created", sub, customer, "active", T)
    item = event["data"]["object"]["items"]["data"][0]
    item["price"] = item["plan"] = {"id": price, "product": "prod_1"}
    assert deliver(event).status_code == 200


def test_the_page_shows_what_counts_and_the_offers_in_the_ledger(admin, deliver, campaign):
    campaign("drive")
    on_price(deliver, "sub_1", "cus_1", "price_member")
    page = admin.get("/admin/campaigns/drive/sources")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<code>price:price_member</code>" in text
    assert '<textarea id="f-definitions" name="definitions" rows="6"' in text


def test_saving_definitions_recounts_the_campaign_and_is_audited(
    admin, admin_app, deliver, campaign
):
    campaign("drive")
    on_price(deliver, "sub_1", "cus_1", "price_member")
    on_price(deliver, "sub_2", "cus_2", "price_donation")
    assert count_of(admin) == 2
    saved = post_form(
        admin, "/admin/campaigns/drive/sources", {"definitions": "stripe=price:price_member\n"}
    )
    assert saved.status_code == 302
    assert count_of(admin) == 1
    shown = admin.get("/admin/campaigns/drive/sources").get_data(as_text=True)
    assert ">stripe=price:price_member</textarea>" in shown
    entry = audit_rows(admin_app)[-1]
    assert (entry.actor, entry.action) == ("editor", audit.CAMPAIGN_SOURCES)
    assert entry.detail == "drive: stripe=price:price_member"


def test_a_bad_definition_is_refused_with_the_reason_and_changes_nothing(admin, deliver, campaign):
    campaign("drive")
    on_price(deliver, "sub_1", "cus_1", "price_member")
    refused = post_form(admin, "/admin/campaigns/drive/sources", {"definitions": "paypal=price:x"})
    assert refused.status_code == 422
    assert "paypal memberships are defined by plan" in refused.get_data(as_text=True)
    assert count_of(admin) == 1


def test_the_webhook_log_says_which_payments_are_not_memberships_and_why(admin, deliver, campaign):
    campaign("drive")
    on_price(deliver, "sub_1", "cus_1", "price_member")
    on_price(deliver, "sub_2", "cus_2", "price_donation")
    log = admin.get("/admin/events").get_data(as_text=True)
    assert "not a membership" not in log  # every campaign counts everything
    post_form(admin, "/admin/campaigns/drive/sources", {"definitions": "stripe=price:price_member"})
    log = admin.get("/admin/events").get_data(as_text=True)
    assert log.count('<span class="tag ignored">not a membership</span>') == 1
    assert "bought as price:price_donation, product:prod_1; drive counts price:price_member" in log


def test_an_events_page_lists_each_campaigns_verdict(admin, deliver, campaign, session):
    campaign("drive")
    campaign("paypal-only")
    event = sf.subscription_event("created", "sub_1", "cus_1", "active", T, id="evt_member")
    item = event["data"]["object"]["items"]["data"][0]
    item["price"] = item["plan"] = {"id": "price_member", "product": "prod_1"}
    deliver(event)
    post_form(admin, "/admin/campaigns/paypal-only/sources", {"definitions": "paypal"})
    page = admin.get("/admin/events/stripe/evt_member").get_data(as_text=True)
    assert "<li>drive: counts</li>" in page
    assert "<li>paypal-only: not a membership (paypal-only counts paypal only)</li>" in page
