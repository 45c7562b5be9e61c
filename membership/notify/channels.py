"""A campaign's notification channels and digest: add, list, remove, shown masked. No Flask.

Secrets go in encrypted (secrets.py); what is shown of a channel is ``describe``, never a
secret in full: a Slack URL shows as its host and last characters, a webhook as its URL and
whether it is signed.
"""

from __future__ import annotations

import re
import secrets as random_secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..accounts import audit
from ..models import Campaign, NotifyChannel, NotifyDelivery, NotifyDigest, utcnow
from . import secrets
from .outgoing import check_url

KINDS = ("slack", "email", "webhook")
EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
# "50%", "10000", "goal 25000": no commas (the column is comma-separated), one short line.
LABEL = re.compile(r"^[^,\n\r]{1,80}$")


class ChannelError(ValueError):
    """A channel cannot be added as asked; ``field`` names the option or form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Added:
    channel: NotifyChannel
    generated_secret: str | None  # a webhook secret made here: shown once, to give the receiver


def parse_milestones(raw: str | None) -> str:
    """``--milestones 50%,goal 25000`` as stored: labels, stripped, comma-joined; "" for all."""
    labels = [label.strip() for label in (raw or "").split(",") if label.strip()]
    for label in labels:
        if not LABEL.match(label):
            raise ChannelError("milestones", f"{label!r} is not a milestone label")
    return ",".join(dict.fromkeys(labels))


def add_channel(
    session: Session,
    campaign: Campaign,
    kind: str,
    target: str,
    keys: tuple[bytes, ...],
    *,
    secret: str | None = None,
    milestones: str | None = None,
    actor: audit.Actor = audit.CLI,
) -> Added:
    """Add and commit a channel. A webhook without ``secret`` gets a generated one."""
    target = (target or "").strip()
    chosen = parse_milestones(milestones)
    channel = NotifyChannel(campaign_id=campaign.id, kind=kind, milestones=chosen)
    generated = None
    if kind == "email":
        if not EMAIL.match(target):
            raise ChannelError("email", "must be one email address")
        channel.address = target
    elif kind in ("slack", "webhook"):
        try:
            check_url(target)
        except ValueError as exc:
            raise ChannelError(kind, str(exc)) from None
        if kind == "slack":
            channel.secret, channel.hint = secrets.encrypt(keys, target), secrets.hint(target)
        else:
            if secret is not None and len(secret.strip()) < 16:
                raise ChannelError("secret", "must be at least 16 characters")
            plain = secret.strip() if secret else random_secrets.token_urlsafe(32)
            generated = None if secret else plain
            channel.address = target
            channel.secret, channel.hint = secrets.encrypt(keys, plain), secrets.hint(plain)
    else:
        raise ChannelError("kind", f"must be one of {', '.join(KINDS)}")
    session.add(channel)
    session.flush()
    audit.add(session, actor, audit.NOTIFY_CHANNEL_ADDED, f"{campaign.slug}: {describe(channel)}")
    session.commit()
    return Added(channel, generated)


def list_channels(session: Session, campaign: Campaign | None = None) -> list[NotifyChannel]:
    query = select(NotifyChannel).order_by(NotifyChannel.campaign_id, NotifyChannel.id)
    if campaign is not None:
        query = query.where(NotifyChannel.campaign_id == campaign.id)
    return list(session.scalars(query))


def remove_channel(
    session: Session,
    channel_id: int,
    *,
    campaign: Campaign | None = None,
    actor: audit.Actor = audit.CLI,
) -> NotifyChannel | None:
    """Remove and commit a channel (its deliveries go with it); None if there is none."""
    channel = session.get(NotifyChannel, channel_id)
    if channel is None or (campaign is not None and channel.campaign_id != campaign.id):
        return None
    owner = session.get(Campaign, channel.campaign_id)
    # Explicit: SQLite enforces ON DELETE CASCADE only with its foreign keys pragma on.
    session.execute(delete(NotifyDelivery).where(NotifyDelivery.channel_id == channel.id))
    session.delete(channel)
    slug = owner.slug if owner else "?"
    audit.add(session, actor, audit.NOTIFY_CHANNEL_REMOVED, f"{slug}: {describe(channel)}")
    session.commit()
    return channel


def describe(channel: NotifyChannel) -> str:
    """One line for lists and the audit log, with every secret masked."""
    heard = channel.milestones.replace(",", ", ") if channel.milestones else "all milestones"
    if channel.kind == "email":
        where = channel.address
    elif channel.kind == "slack":
        where = f"Slack webhook {channel.hint}"
    else:
        where = f"{masked_url(channel.address)} (signed, secret {channel.hint})"
    return f"#{channel.id} {channel.kind}: {where}; hears {heard}"


def masked_url(url: str) -> str:
    """A URL with its path and query hidden but for the last characters (tokens hide there)."""
    parts = urlsplit(url)
    rest = url.split(parts.netloc, 1)[-1]
    return f"{parts.scheme}://{parts.netloc}/…{rest[-4:]}" if len(rest) > 8 else url


def set_digest(
    session: Session, campaign: Campaign, weekly: bool, *, actor: audit.Actor = audit.CLI
) -> bool:
    """Turn the weekly digest on or off, committed; True if it changed."""
    current = session.get(NotifyDigest, campaign.id)
    if weekly == (current is not None):
        return False
    if weekly:
        session.add(NotifyDigest(campaign_id=campaign.id, since=utcnow()))
    else:
        session.delete(current)
    audit.add(
        session, actor, audit.NOTIFY_DIGEST, f"{campaign.slug}: {'weekly' if weekly else 'off'}"
    )
    session.commit()
    return True


def digest_on(session: Session, campaign: Campaign) -> bool:
    return session.get(NotifyDigest, campaign.id) is not None


def recent_deliveries(
    session: Session, campaign: Campaign, limit: int = 50
) -> list[NotifyDelivery]:
    return list(
        session.scalars(
            select(NotifyDelivery)
            .where(NotifyDelivery.campaign_id == campaign.id)
            .order_by(NotifyDelivery.id.desc())
            .limit(limit)
        )
    )
