"""`flask patreon sync` against a fake Patreon API: dry run, apply, pages, rate limits, errors."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from membership.ledger.rules import current_state
from membership.models import Event, Membership
from membership.sources.patreon.client import Client, PatreonError
from tests import patreon_factory
from tests.conftest import count_of
from tests.fake_patreon import CAMPAIGN, TOKEN
from tests.patreon_factory import member

patreon, deliver = patreon_factory.patreon, patreon_factory.deliver


def stored_ids(session) -> list[str]:
    session.rollback()
    ids = sorted(session.scalars(select(Event.id)))
    session.rollback()
    return ids


def states(session) -> dict[str, str]:
    session.rollback()
    found = {m.key: current_state(m.state, m.final_at) for m in session.scalars(select(Membership))}
    session.rollback()
    return found


def test_sync_shows_missed_deliveries_then_heals_them_once(
    runner, deliver, patreon, campaign, client, session
):
    campaign()
    patreon.members["m-1"] = member("m-1")
    patreon.members["m-2"] = member("m-2")
    assert deliver(member("m-1")).status_code == 200
    assert deliver(member("m-2")).status_code == 200
    # Deliveries that never arrived: m-1 left, m-3 joined, m-4 follows for free.
    patreon.members["m-1"] = member("m-1", "former_patron")
    patreon.members["m-3"] = member("m-3")
    patreon.members["m-4"] = member("m-4", None, cents=0, tiers=(), follower=True)
    before = stored_ids(session)

    dry = runner.invoke(args=["patreon", "sync"])
    assert dry.exit_code == 0, dry.output
    assert "Dry run" in dry.output
    assert "Campaign drive: 2 -> 2" in dry.output  # one left, one joined
    assert "membership patreon:m-1: state active -> lapsed" in dry.output
    assert "membership patreon:m-3: new" in dry.output
    assert "m-4" not in dry.output
    assert stored_ids(session) == before and count_of(client) == 2

    applied = runner.invoke(args=["patreon", "sync", "--apply"])
    assert applied.exit_code == 0, applied.output
    assert states(session) == {
        "patreon:m-1": "lapsed",
        "patreon:m-2": "active",
        "patreon:m-3": "active",
    }
    assert len(stored_ids(session)) == len(before) + 2

    again = runner.invoke(args=["patreon", "sync", "--apply"])
    assert "4 listed, 0 read one by one, 4 agree with the ledger, 0 recorded" in again.output
    assert len(stored_ids(session)) == len(before) + 2


def test_sync_follows_the_cursors_through_every_page(runner, patreon, session):
    patreon.page_size = 2
    for n in range(7):
        patreon.members[f"m-{n}"] = member(f"m-{n}")
    result = runner.invoke(args=["patreon", "sync", "--apply"])
    assert result.exit_code == 0, result.output
    assert "(4 pages)" in result.output and "7 listed" in result.output
    assert len(states(session)) == 7
    cursors = [p for p in patreon.paths("/api/oauth2/v2/campaigns/") if "cursor" in p]
    assert len(cursors) == 3


def test_a_counted_member_the_list_no_longer_returns_is_read_alone(
    runner, deliver, patreon, session
):
    patreon.members["m-gone"] = member("m-gone")
    deliver(member("m-gone"))
    del patreon.members["m-gone"]  # deleted at Patreon: neither listed nor found
    result = runner.invoke(args=["patreon", "sync", "--apply"])
    assert "0 listed, 1 read one by one" in result.output, result.output
    assert states(session) == {"patreon:m-gone": "lapsed"}


def test_a_webhook_read_newer_than_the_sync_page_wins(deliver, patreon, app, session):
    """Sync's page was requested first; the webhook's read, sent later, holds the register."""
    from membership.sources.patreon import sync, translate

    patreon.members["m-1"] = member("m-1")
    client = Client(patreon.url, TOKEN)
    pages = list(client.members(CAMPAIGN))  # read while m-1 was active ...
    patreon.members["m-1"] = member("m-1", "former_patron")
    deliver(member("m-1"), "members:pledge:delete")  # ... then m-1 left, and Patreon said so

    class Replayed(Client):
        def members(self, campaign_id):
            yield from pages

    with app.app_context():
        report = sync.run(
            session,
            translate.Settings(CAMPAIGN),
            Replayed(patreon.url, TOKEN),
            CAMPAIGN,
            apply=True,
            now=datetime.now(pages[0].fetched_at.tzinfo),
        )
    assert len(report.recorded) == 1  # the ledger disagreed with the (older) page ...
    assert states(session) == {"patreon:m-1": "lapsed"}  # ... but the newer read stands


def test_rate_limits_wait_as_patreon_asks_and_then_succeed(patreon):
    patreon.members["m-1"] = member("m-1")
    patreon.rate_limited, patreon.retry_after = 2, "7"
    waited: list[float] = []
    client = Client(patreon.url, TOKEN, sleep=waited.append)
    [page] = list(client.members(CAMPAIGN))
    assert [m["id"] for m in page.members] == ["m-1"]
    assert waited == [7.0, 7.0]
    assert [status for _, status in patreon.requests] == [429, 429, 200]


def test_a_rate_limit_longer_than_the_client_waits_fails_clearly(patreon):
    patreon.rate_limited, patreon.retry_after = 1, "3600"
    client = Client(patreon.url, TOKEN, sleep=pytest.fail)
    with pytest.raises(PatreonError, match="rate limited"):
        client.member("m-1")


def test_server_errors_are_retried_with_back_off_then_fail_clearly(patreon):
    patreon.members["m-1"] = member("m-1")
    patreon.failing = 2
    waited: list[float] = []
    client = Client(patreon.url, TOKEN, sleep=waited.append)
    assert client.member("m-1")[1]["id"] == "m-1"
    assert waited == [0.5, 1.0]
    patreon.failing = 10
    with pytest.raises(PatreonError, match="HTTP 500"):
        Client(patreon.url, TOKEN, attempts=3, sleep=waited.append).member("m-1")


def test_an_unreachable_api_fails_and_writes_nothing(runner, app, deliver, patreon, session):
    patreon.members["m-1"] = member("m-1")
    deliver(member("m-1"))
    before = stored_ids(session)
    from tests.servers import free_port

    app.config["PATREON_API_BASE"] = f"http://127.0.0.1:{free_port()}"
    client = Client(app.config["PATREON_API_BASE"], TOKEN, attempts=2, sleep=lambda _: None)
    with pytest.raises(PatreonError, match="network error"):
        client.member("m-1")
    result = runner.invoke(args=["patreon", "sync", "--apply"])
    assert result.exit_code != 0 and "nothing was written" in result.output
    assert stored_ids(session) == before


def test_a_refused_token_and_missing_settings_fail_clearly(runner, app, patreon):
    app.config["PATREON_ACCESS_TOKEN"] = "revoked"
    result = runner.invoke(args=["patreon", "sync"])
    assert result.exit_code != 0 and "refused PATREON_ACCESS_TOKEN" in result.output
    app.config["PATREON_CAMPAIGN_ID"] = ""
    result = runner.invoke(args=["patreon", "sync"])
    assert result.exit_code != 0 and "PATREON_CAMPAIGN_ID is not set" in result.output
    app.config["PATREON_CAMPAIGN_ID"] = "my-campaign"
    result = runner.invoke(args=["patreon", "sync"])
    assert result.exit_code != 0 and "must be the campaign's number" in result.output


def test_each_read_is_stamped_before_patreon_reads_the_request(patreon):
    """What Patreon answers was true after the stamp (docs/patreon.md), never before it."""
    patreon.members["m-1"] = member("m-1")
    client = Client(patreon.url, TOKEN)
    fetched_at, _member = client.member("m-1")
    [page] = list(client.members(CAMPAIGN))
    assert fetched_at <= patreon.read_at[0] and page.fetched_at <= patreon.read_at[1]
