"""`flask paypal simulate` against a served app, and `flask paypal replay`."""

from __future__ import annotations

import threading

from sqlalchemy import select
from werkzeug.serving import make_server

from membership.models import Event
from membership.sources.paypal import standin
from tests import paypal_factory
from tests.conftest import count_of
from tests.paypal_factory import at, subscription_event
from tests.servers import free_port

app, pki, post = paypal_factory.app, paypal_factory.pki, paypal_factory.post


def test_simulate_posts_signed_signups_the_server_trusts_when_told(
    app, runner, campaign, client, session, tmp_path
):
    campaign()
    port = free_port()
    standin.saved(tmp_path)  # what the command reuses; the server must trust its CA
    app.config.update(
        PAYPAL_CERT_HOSTS=(f"127.0.0.1:{port}",), PAYPAL_CA_BUNDLE=str(tmp_path / "ca.pem")
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/webhooks/paypal"
        args = ["paypal", "simulate", "-n", "2", "--url", url, "--cert-port", str(port)]
        result = runner.invoke(args=[*args, "--keys-dir", str(tmp_path)])
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
    assert result.exit_code == 0, result.output
    assert "6 answered 200" in result.output
    assert f"PAYPAL_CERT_HOSTS=127.0.0.1:{port}" in result.output
    assert count_of(client) == 2
    session.rollback()
    assert all(i.startswith("WH-DEMO") for i in session.scalars(select(Event.id)))


def test_simulate_to_a_server_that_trusts_paypal_only_is_refused(app, runner, tmp_path):
    port = free_port()
    server = make_server("127.0.0.1", 0, app, threaded=True)  # the test CA, not the stand-in
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/webhooks/paypal"
        args = ["paypal", "simulate", "--url", url, "--cert-port", str(port)]
        result = runner.invoke(args=[*args, "--keys-dir", str(tmp_path)])
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
    assert result.exit_code != 0
    assert "3 answered 400" in result.output


def test_simulate_without_a_webhook_id_says_why(app, runner, tmp_path):
    app.config["PAYPAL_WEBHOOK_ID"] = ""
    result = runner.invoke(args=["paypal", "simulate", "--keys-dir", str(tmp_path)])
    assert result.exit_code != 0 and "PAYPAL_WEBHOOK_ID" in result.output


def test_replay_retries_failed_events_and_counts_a_settled_one_as_duplicate(post, runner):
    odd = subscription_event("BILLING.SUBSCRIPTION.UPDATED", "I-9", "HIBERNATING", at(0))
    odd["id"] = "WH-ODD"
    assert post(odd).status_code == 500  # stored as failed; PayPal retries
    good = subscription_event("BILLING.SUBSCRIPTION.ACTIVATED", "I-1", "ACTIVE", at(1))
    good["id"] = "WH-GOOD"
    assert post(good).status_code == 200
    failed = runner.invoke(args=["paypal", "replay", "--failed"])
    assert failed.exit_code != 0 and "WH-ODD: failed" in failed.output
    settled = runner.invoke(args=["paypal", "replay", "WH-GOOD"])
    assert settled.exit_code == 0 and "WH-GOOD: duplicate" in settled.output
    missing = runner.invoke(args=["paypal", "replay", "WH-NONE"])
    assert missing.exit_code != 0 and "no stored event" in missing.output


def test_recount_replays_paypal_events_to_the_same_counts(post, runner, campaign):
    campaign()
    stream = [
        subscription_event("BILLING.SUBSCRIPTION.ACTIVATED", "I-1", "ACTIVE", at(0)),
        subscription_event("BILLING.SUBSCRIPTION.ACTIVATED", "I-2", "ACTIVE", at(1)),
        subscription_event("BILLING.SUBSCRIPTION.CANCELLED", "I-2", "CANCELLED", at(2)),
        paypal_factory.capture_completed("CAP1", "ORDER1", at(3)),
    ]
    for delivery in stream:
        assert post(delivery).status_code == 200
    result = runner.invoke(args=["recount"])
    assert result.exit_code == 0, result.output
    assert "Replayed 4 stored events." in result.output
    assert "drive (active): members 2 (from memberships 2, replayed 2)" in result.output
    assert "All counts agree." in result.output
