"""A Patreon member's state, as read back from the API, -> ledger change. Pure: no I/O.

A member counts while ``patron_status`` is ``active_patron`` with a paid entitlement
(``currently_entitled_amount_cents`` above zero; a free trial is entitled too, as Stripe's
``trialing`` counts). ``declined_patron`` (Patreon's past due: the last charge was declined
and Patreon retries) still counts for ``DECLINED_GRACE`` after the declined charge, as
Stripe's ``past_due`` counts while Stripe retries; past that it stops counting without any
further event. ``former_patron``, followers, free members (no status, or nothing paid) and a
member Patreon no longer knows (404) do not count. Every read is recorded, counting or not, so
the newest read always holds the ledger's register.

Keys: the member id (a UUID) is both the recurring membership and its member, like PayPal's
subscriptions; the reader behind it is linked to other sources by the email's fingerprint.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ...ledger.rules import Change, Ignored, RecurringChange, State
from ...ledger.store import Event, Translate
from ..payloads import MAX_ID_LENGTH
from .settings import Settings as PatreonSettings

DECLINED_GRACE = timedelta(days=30)  # one monthly charge cycle of Patreon's retries
KNOWN_STATUSES = frozenset({"active_patron", "declined_patron", "former_patron", None})


class UnreadableEvent(ValueError):
    """A member read back whose state this code cannot read: recorded as failed, retried,
    and replayable once the code reads it."""


@dataclass(frozen=True)
class Settings:
    campaign_id: str = ""  # "" counts members of any campaign the token reads

    @classmethod
    def from_patreon(cls, settings: PatreonSettings) -> Settings:
        return cls(campaign_id=settings.campaign_id)

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> Settings:
        """For sources.translators (replay, recount): PATREON_CAMPAIGN_ID from the config, else
        the environment."""
        return cls.from_patreon(
            PatreonSettings.from_config(config, os.environ if environ is None else environ)
        )


def translator(settings: Settings) -> Translate:
    return lambda event: translate(event, settings)


def time_of(value: object) -> datetime | None:
    """Patreon's times (``2023-12-29T05:26:19.000+00:00``) in UTC; None if not one."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return None if parsed.tzinfo is None else parsed.astimezone(UTC)


def _related_ids(member: Mapping[str, Any], name: str) -> list[str]:
    relationships = member.get("relationships")
    related = relationships.get(name) if isinstance(relationships, Mapping) else None
    data = related.get("data") if isinstance(related, Mapping) else None
    items = data if isinstance(data, list) else [data]
    return [
        item["id"]
        for item in items
        if isinstance(item, Mapping)
        and isinstance(item.get("id"), str)
        and 0 < len(item["id"]) <= MAX_ID_LENGTH - 5
        and item["id"].isprintable()
    ]


def offers_of(member: Mapping[str, Any]) -> frozenset[str]:
    """The member's entitled tiers as offers (``tier:ID``), what campaigns may count by."""
    return frozenset(f"tier:{tier}" for tier in _related_ids(member, "currently_entitled_tiers"))


def state_of(attributes: Mapping[str, Any], fetched_at: datetime) -> tuple[State, datetime | None]:
    """The ledger state of a member's attributes, and until when it lasts (None: until the
    next read says otherwise)."""
    status = attributes.get("patron_status")
    if status not in KNOWN_STATUSES:
        raise UnreadableEvent(f"unknown patron_status {status!r}")
    cents = attributes.get("currently_entitled_amount_cents")
    paid = isinstance(cents, int) and not isinstance(cents, bool) and cents > 0
    if attributes.get("is_follower") is True or not paid:
        return State.LAPSED, None
    if status == "active_patron":
        return State.ACTIVE, None
    if status == "declined_patron":
        declined = time_of(attributes.get("last_charge_date")) or fetched_at
        until = declined + DECLINED_GRACE
        return (State.ACTIVE, until) if until > fetched_at else (State.LAPSED, None)
    return State.LAPSED, None


def translate(event: Event, settings: Settings = Settings()) -> Change | Ignored:  # noqa: B008
    """What a stored Patreon event means for the ledger, or why it means nothing."""
    body = event.body
    if "ignored" in body:
        return Ignored(str(body["ignored"]))
    if body.get("error"):
        return Ignored(
            f"the member could not be read from Patreon ({body['error']}); the delivery was "
            "answered 503 so Patreon sends it again, and `flask patreon sync` heals it"
        )
    member_id = body.get("member_id")
    if not isinstance(member_id, str) or not member_id:
        raise UnreadableEvent("the event names no member")
    member = body.get("member")
    offers: frozenset[str] = frozenset()
    if not body.get("found") or not isinstance(member, Mapping):
        state, until, started = State.LAPSED, None, None  # Patreon no longer knows them
    else:
        campaigns = _related_ids(member, "campaign")
        if settings.campaign_id and campaigns and campaigns != [settings.campaign_id]:
            return Ignored(
                f"a member of campaign {campaigns[0]}; PATREON_CAMPAIGN_ID is "
                f"{settings.campaign_id}"
            )
        attributes = member.get("attributes")
        if not isinstance(attributes, Mapping):
            raise UnreadableEvent("the member has no attributes")
        state, until = state_of(attributes, event.created)
        started = time_of(attributes.get("pledge_relationship_start"))
        offers = offers_of(member)
    return RecurringChange(
        source=event.source,
        membership=member_id,
        member=member_id,
        state=state,
        final=False,  # a former patron may pledge again under the same member id
        at=event.created,
        event_id=event.id,
        started_at=started if state == State.ACTIVE and started else None,
        until=until,
        identity=event.identity,
        offers=offers,
    )
