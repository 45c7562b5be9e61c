"""Shared by the admin views: error pages, the webhook-health banner, small helpers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import TooManyRequests

from ...campaigns import settings as campaign_settings
from ...database import db
from ...ledger import event_log
from ...models import Campaign, utcnow
from . import bp


def _error_page(title: str, message: str, status: int) -> ResponseReturnValue:
    return render_template("admin/error.html", title=title, message=message), status


@bp.errorhandler(CSRFError)
def csrf_error(exc: CSRFError) -> ResponseReturnValue:
    return _error_page(
        "Form expired",
        "The form was missing its security token or it had expired. "
        "Go back, reload the page and try again.",
        400,
    )


@bp.errorhandler(TooManyRequests)
def too_many_requests(exc: TooManyRequests) -> ResponseReturnValue:
    return _error_page(
        "Too many login attempts",
        "Too many login attempts from your address. Wait a minute, then try again.",
        429,
    )


@bp.errorhandler(404)
def not_found(exc: Exception) -> ResponseReturnValue:
    return _error_page("Not found", str(exc), 404)


@bp.errorhandler(400)
def bad_request(exc: Exception) -> ResponseReturnValue:
    message = getattr(exc, "description", "") or "That request was not understood."
    return _error_page("Bad request", message, 400)


def webhook_health() -> dict[str, Any]:
    """What the banner says: quiet for too long, or failures piling up."""
    config = current_app.config
    now = utcnow()
    last = event_log.last_received_at(db.session)
    failed = event_log.failed_since(db.session, now - timedelta(hours=24))
    quiet_hours = config["ADMIN_QUIET_HOURS"]
    alerts = []
    if last is None:
        alerts.append("No webhook from Stripe has arrived yet. Check the endpoint in Stripe.")
    elif now - last > timedelta(hours=quiet_hours):
        alerts.append(
            f"No webhook from Stripe for {int((now - last).total_seconds() // 3600)} hours "
            f"(last at {last:%Y-%m-%d %H:%M} UTC). Is Stripe still delivering?"
        )
    if failed and failed >= config["ADMIN_FAILURE_ALERT"]:
        alerts.append(f"{failed} webhook events failed in the last 24 hours.")
    return {"alerts": alerts, "last_event_at": last, "failed_24h": failed or 0}


@bp.app_template_filter("admin_number")
def admin_number(value: int | float | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


@bp.app_template_filter("admin_time")
def admin_time(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "–"


@bp.context_processor
def banner() -> dict[str, Any]:
    if request.endpoint == "admin.static" or not current_user.is_authenticated:
        return {"health": None}
    return {"health": webhook_health()}


def public_root() -> tuple[str, bool]:
    """The service's public root URL for code pasted elsewhere, and whether it is a guess.

    PUBLIC_URL when it is set. Otherwise the address this page was opened at: right on a
    developer's machine, a guess in production (an internal name, a proxy's address).
    """
    configured = current_app.config.get("PUBLIC_URL")
    if configured:
        return configured + "/", False
    return request.url_root, current_app.config["MEMBERSHIP_ENV"] == "production"


def campaign_or_404(slug: str) -> Campaign:
    campaign = campaign_settings.get_campaign(db.session, slug)
    if campaign is None:
        abort(404, f"No campaign called {slug!r}.")
    return campaign


def page_number() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        abort(400, "page must be a whole number from 1")
    return int(raw)
