"""One reader, one member: accounts linked by a keyed email fingerprint (ledger/identity.py)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from membership.ledger import persons
from membership.ledger.identity import fingerprint, normalise
from membership.models import AuditEntry, Base, Event, Member, Person
from membership.recount import recount
from membership.sources.stripe.translate import Settings, translator
from tests import stripe_factory as sf
from tests.conftest import count_of

KEY = b"identity-key-for-the-suite-0123456789"
T = int(time.time()) - 3600


@pytest.fixture
def linking(app):
    app.config["IDENTITY_KEY"] = KEY
    return app


def deliver_all(deliver, *events):
    for event in events:
        response = deliver(event)
        assert response.status_code == 200, response.get_json()


def test_an_address_is_compared_trimmed_and_in_lower_case():
    assert normalise("  Olena@Example.ORG ") == "olena@example.org"
    assert fingerprint("Olena@Example.org", KEY) == fingerprint("olena@example.org ", KEY)
    assert fingerprint("olena@example.org", KEY) != fingerprint("olena@example.org", b"x" * 32)
    for not_an_address in (None, "", "olena", "olena@", "@example.org", "o lena@example.org", 3):
        assert fingerprint(not_an_address, KEY) is None
    assert fingerprint("olena@example.org", None) is None


def test_a_reader_who_pays_twice_is_one_member(linking, client, deliver, campaign):
    campaign()
    deliver_all(
        deliver,
        sf.checkout_event(
            "cs_1", T, customer="cus_1", subscription="sub_1", email="Olena@Example.org"
        ),
        sf.checkout_event(
            "cs_2", T + 5, customer="cus_2", subscription="sub_2", email="olena@example.org"
        ),
        sf.checkout_event("cs_3", T + 9, customer="cus_3", subscription="sub_3", email="b@x.org"),
    )
    assert count_of(client) == 2


def test_a_new_rule_counts_the_persons_first_membership_across_accounts(
    linking, client, deliver, campaign
):
    today = date.today()
    campaign(rule="new", starts_on=today - timedelta(days=1))
    deliver_all(
        deliver,
        # Olena joined long before the drive through one account, and again during it.
        sf.checkout_event(
            "cs_old", T - 30 * 86400, customer="cus_1", subscription="sub_1", email="o@x.org"
        ),
        sf.checkout_event("cs_new", T, customer="cus_2", subscription="sub_2", email="o@x.org"),
        sf.checkout_event("cs_b", T, customer="cus_3", subscription="sub_3", email="b@x.org"),
    )
    assert count_of(client) == 1  # only b@x.org is new


@pytest.mark.parametrize("identity_first", [True, False])
def test_a_customers_email_links_accounts_in_any_order(
    linking, client, deliver, campaign, identity_first
):
    campaign()
    signups = [
        sf.checkout_event("cs_1", T, customer="cus_1", subscription="sub_1", email="o@x.org"),
        sf.subscription_event("created", "sub_2", "cus_2", "active", T + 1),
    ]
    link = sf.other_event("customer.updated", T + 2, id="cus_2", email="O@x.org")
    deliver_all(deliver, *([link, *signups] if identity_first else [*signups, link]))
    assert count_of(client) == 1


def test_without_an_identity_key_nothing_is_linked_and_no_fingerprint_is_kept(
    client, deliver, campaign, session
):
    campaign()
    deliver_all(
        deliver,
        sf.checkout_event("cs_1", T, customer="cus_1", subscription="sub_1", email="o@x.org"),
        sf.checkout_event("cs_2", T, customer="cus_2", subscription="sub_2", email="o@x.org"),
    )
    assert count_of(client) == 2
    assert session.scalars(select(Event.identity)).all() == [None, None]


def test_the_email_itself_is_stored_nowhere(linking, client, deliver, campaign, session):
    campaign()
    email = "unique-reader-7731@example.org"
    deliver_all(
        deliver,
        sf.checkout_event("cs_1", T, customer="cus_1", subscription="sub_1", email=email),
        sf.other_event("customer.created", T + 1, id="cus_1", email=email),
    )
    for table in Base.metadata.sorted_tables:
        for row in session.execute(text(f'SELECT * FROM "{table.name}"')):
            assert email not in str(row) and "unique-reader" not in str(row)
    assert session.scalar(select(Member.identity)) == fingerprint(email, KEY)


def test_a_member_joining_another_person_leaves_no_empty_person_and_recount_agrees(
    linking, client, deliver, campaign, session
):
    campaign()
    deliver_all(
        deliver,
        sf.checkout_event("cs_1", T, customer="cus_1", subscription="sub_1", email="o@x.org"),
        sf.subscription_event("created", "sub_2", "cus_2", "active", T + 1),
    )
    assert count_of(client) == 2
    assert session.get(Person, "stripe:cus_2") is not None
    session.rollback()
    deliver_all(deliver, sf.other_event("customer.updated", T + 2, id="cus_2", email="o@x.org"))
    assert count_of(client) == 1
    assert session.get(Person, "stripe:cus_2") is None
    persons = session.scalars(select(Person.key)).all()
    assert persons == [fingerprint("o@x.org", KEY)]
    translators = {"stripe": translator(Settings(identity_key=KEY))}
    report = recount(session, translators, datetime.now(UTC))
    assert report.clean, report.differences


def test_forgetting_a_reader_unlinks_their_accounts_and_keeps_no_fingerprint(
    linking, client, deliver, campaign, session
):
    campaign()
    deliver_all(
        deliver,
        sf.checkout_event("cs_1", T, customer="cus_1", subscription="sub_1", email="o@x.org"),
        sf.checkout_event("cs_2", T, customer="cus_2", subscription="sub_2", email="o@x.org"),
    )
    assert count_of(client) == 1
    session.rollback()
    events, members = persons.forget(session, fingerprint("o@x.org", KEY), datetime.now(UTC))
    assert (events, members) == (2, 2)
    assert count_of(client) == 2
    assert session.scalars(select(Event.identity)).all() == [None, None]
    assert session.scalars(select(Member.identity)).all() == [None, None]
    assert session.get(Person, fingerprint("o@x.org", KEY)) is None
    translators = {"stripe": translator(Settings(identity_key=KEY))}
    assert recount(session, translators, datetime.now(UTC)).clean


def test_the_dashboard_shows_members_by_source_and_readers_linked(
    linking, admin, deliver, campaign
):
    campaign()
    deliver_all(
        deliver,
        sf.checkout_event("cs_1", T, customer="cus_1", subscription="sub_1", email="o@x.org"),
        sf.checkout_event("cs_2", T, customer="cus_2", subscription="sub_2", email="o@x.org"),
        sf.checkout_event("cs_3", T, customer="cus_3", subscription="sub_3", email="b@x.org"),
    )
    page = admin.get("/admin/").get_data(as_text=True)
    section = page[page.index('id="sources"') :]
    assert "<td>stripe</td>" in section and "<td>3</td>" in section
    assert "1 readers pay through two or more accounts" in section
    assert "(2 accounts in all)" in section


def test_members_forget_erases_a_readers_fingerprint_and_says_what_changed(
    linking, client, deliver, campaign, runner, session
):
    campaign()
    deliver_all(
        deliver,
        sf.checkout_event("cs_1", T, customer="cus_1", subscription="sub_1", email="o@x.org"),
        sf.checkout_event("cs_2", T, customer="cus_2", subscription="sub_2", email="o@x.org"),
    )
    assert count_of(client) == 1
    result = runner.invoke(args=["members", "forget", "O@X.org"])
    assert result.exit_code == 0, result.output
    assert "cleared from 2 stored event(s) and 2 member(s)" in result.output
    assert count_of(client) == 2
    again = runner.invoke(args=["members", "forget", "o@x.org"])
    assert "No stored event or member carried" in again.output
    assert runner.invoke(args=["members", "forget", "not an address"]).exit_code != 0
    session.rollback()
    actions = session.scalars(select(AuditEntry.action)).all()
    assert actions.count("members.identity_forgotten") == 2
