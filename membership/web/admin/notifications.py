"""GET/POST /admin/campaigns/<slug>/notifications: channels, the weekly digest, deliveries."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ...config_values import ConfigError
from ...database import db
from ...models import Campaign
from ...notify import channels
from ...notify import settings as notify_settings
from . import audit_log, bp
from .views_common import campaign_or_404


def _render(campaign: Campaign, form: dict[str, str], errors: dict[str, str], status: int):
    return (
        render_template(
            "admin/notifications.html",
            campaign=campaign,
            channels=[
                (c, channels.describe(c)) for c in channels.list_channels(db.session, campaign)
            ],
            digest_on=channels.digest_on(db.session, campaign),
            deliveries=channels.recent_deliveries(db.session, campaign),
            kinds=channels.KINDS,
            form=form,
            errors=errors,
        ),
        status,
    )


@bp.get("/campaigns/<slug>/notifications")
def notifications(slug: str) -> ResponseReturnValue:
    return _render(campaign_or_404(slug), {"kind": "slack"}, {}, 200)


@bp.post("/campaigns/<slug>/notifications")
def add_notification_channel(slug: str) -> ResponseReturnValue:
    campaign = campaign_or_404(slug)
    form = request.form.to_dict()
    kind = form.get("kind", "")
    if kind not in channels.KINDS:
        return _render(campaign, form, {"kind": "choose Slack, email or webhook"}, 422)
    try:
        keys = notify_settings.from_config(current_app.config).keys if kind != "email" else ()
        added = channels.add_channel(
            db.session,
            campaign,
            kind,
            form.get("target", ""),
            keys,
            secret=form.get("secret", "").strip() or None,
            milestones=form.get("milestones", ""),
            actor=audit_log.current_actor(),
        )
    except channels.ChannelError as exc:
        field = exc.field if exc.field in ("secret", "milestones") else "target"
        return _render(campaign, form, {field: exc.message}, 422)
    except ConfigError as exc:
        return _render(campaign, form, {"target": str(exc)}, 422)
    flash(f"Added {channels.describe(added.channel)}.", "success")
    if added.generated_secret:
        # Shown once, on the next page only: the receiver needs it to check signatures.
        flash(
            f"Signing secret for the receiver (shown this once): {added.generated_secret}", "secret"
        )
    return redirect(url_for("admin.notifications", slug=slug))


@bp.post("/campaigns/<slug>/notifications/remove")
def remove_notification_channel(slug: str) -> ResponseReturnValue:
    campaign = campaign_or_404(slug)
    raw = request.form.get("channel", "")
    removed = None
    if raw.isdigit():
        removed = channels.remove_channel(
            db.session, int(raw), campaign=campaign, actor=audit_log.current_actor()
        )
    if removed is None:
        flash(f"No channel #{raw} in {slug}.", "error")
    else:
        flash(f"Removed {channels.describe(removed)}.", "success")
    return redirect(url_for("admin.notifications", slug=slug))


@bp.post("/campaigns/<slug>/notifications/digest")
def set_notification_digest(slug: str) -> ResponseReturnValue:
    campaign = campaign_or_404(slug)
    weekly = request.form.get("weekly") == "on"
    channels.set_digest(db.session, campaign, weekly, actor=audit_log.current_actor())
    flash(f"Weekly digest {'on' if weekly else 'off'}.", "success")
    return redirect(url_for("admin.notifications", slug=slug))
