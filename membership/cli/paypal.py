"""`flask paypal simulate|replay|reconcile`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import AppGroup

from ..database import db
from ..models import utcnow
from ..sources.paypal import reconcile, simulate, standin
from ..sources.paypal.envelope import SOURCE
from ..sources.paypal.translate import Settings, translator
from . import replay, send_signups

paypal_cli = AppGroup("paypal", help="Work with PayPal events.")


def _settings() -> Settings:
    return Settings.from_config(current_app.config)


@paypal_cli.command("simulate")
@click.option("-n", "count", type=click.IntRange(1, 10_000), default=1, show_default=True)
@click.option(
    "--url",
    default="http://127.0.0.1:5000/webhooks/paypal",
    show_default=True,
    help="The webhook endpoint of a running server.",
)
@click.option(
    "--cert-port",
    type=click.IntRange(1, 65535),
    default=8443,
    show_default=True,
    help="The loopback port that serves the stand-in signing certificate while sending.",
)
@click.option(
    "--keys-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the stand-in CA and certificate are kept (default: instance/paypal-simulator).",
)
def paypal_simulate(count: int, url: str, cert_port: int, keys_dir: Path | None) -> None:
    """Post N simulated, signed PayPal subscription sign-ups to a running server.

    PayPal's signing key is PayPal's, so these are signed by a stand-in certificate kept in
    the instance folder and served over HTTPS on 127.0.0.1 while they are sent. The server
    accepts them only if started with PAYPAL_CA_BUNDLE and PAYPAL_CERT_HOSTS pointing there
    (printed below); a production server with PayPal's defaults refuses them.
    """
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="--url")
    webhook_id = current_app.config["PAYPAL_WEBHOOK_ID"]
    if not webhook_id:
        raise click.UsageError("PAYPAL_WEBHOOK_ID is not set; the server would refuse them")
    folder = keys_dir or Path(current_app.instance_path, "paypal-simulator")
    ca, signer = standin.saved(folder)
    click.echo(
        "The server must trust the stand-in certificate: run it with\n"
        f"  PAYPAL_CA_BUNDLE={folder / 'ca.pem'} PAYPAL_CERT_HOSTS=127.0.0.1:{cert_port} "
        f"PAYPAL_WEBHOOK_ID={webhook_id}"
    )
    try:
        server = standin.CertServer(ca, {standin.CERT_PATH: signer.pem}, port=cert_port)
    except OSError as exc:
        raise click.ClickException(f"cannot serve the certificate on {cert_port}: {exc}") from None

    def send(delivery: dict) -> int:
        body = simulate.body_of(delivery)
        headers = simulate.sign(body, webhook_id, signer, server.url(standin.CERT_PATH))
        return simulate.deliver(url, body, headers)

    with server:
        send_signups(count, lambda: simulate.signup(at=datetime.now(UTC), demo=True), send, url)


@paypal_cli.command("replay")
@click.argument("event_id", required=False)
@click.option("--failed", "all_failed", is_flag=True, help="Every event recorded as failed.")
def paypal_replay(event_id: str | None, all_failed: bool) -> None:
    """Process stored PayPal events again from their payloads (idempotent)."""
    replay(SOURCE, event_id, all_failed, translator(_settings()))


@paypal_cli.command("reconcile")
@click.argument("subscription_ids", nargs=-1)
@click.option("--apply", "apply_", is_flag=True, help="Write the changes (default: dry run).")
def paypal_reconcile(subscription_ids: tuple[str, ...], apply_: bool) -> None:
    """Heal the ledger's PayPal subscriptions from PayPal's Subscriptions API.

    Checks every PayPal subscription the ledger knows, and SUBSCRIPTION_IDS (I-...) too.
    """
    config = current_app.config
    try:
        client = reconcile.Client(
            config["PAYPAL_API_BASE"], config["PAYPAL_CLIENT_ID"], config["PAYPAL_CLIENT_SECRET"]
        )
        report = reconcile.run(
            db.session,
            _settings(),
            client,
            subscription_ids,
            apply=apply_,
            identity_key=config["IDENTITY_KEY"],
            now=utcnow(),
        )
    except reconcile.PayPalError as exc:
        raise click.ClickException(str(exc)) from None
    for line in report.lines():
        click.echo(line)
    if report.failed:
        raise click.ClickException("some events failed to apply; see the event log")
