"""The service's tables, as typed SQLAlchemy 2.0 models, one module per part. No Flask here."""

from .accounts import AdminSession, AdminUser, AuditEntry
from .api_tokens import SourceToken
from .base import FOREVER, NAMING_CONVENTION, Base, UTCDateTime, utcnow
from .campaigns import Adjustment, Campaign, CampaignCopy, CampaignSource
from .ledger import (
    INSERT_LEDGER_ROW,
    LEDGER_ROW,
    Event,
    LedgerState,
    Member,
    Membership,
    MembershipOffer,
    Person,
    Refund,
)
from .milestones import Milestone
from .notifications import NotifyChannel, NotifyDelivery, NotifyDigest

__all__ = [
    "FOREVER",
    "INSERT_LEDGER_ROW",
    "LEDGER_ROW",
    "NAMING_CONVENTION",
    "Adjustment",
    "AdminSession",
    "AdminUser",
    "AuditEntry",
    "Base",
    "Campaign",
    "CampaignCopy",
    "CampaignSource",
    "Event",
    "LedgerState",
    "Member",
    "Membership",
    "MembershipOffer",
    "NotifyChannel",
    "NotifyDelivery",
    "NotifyDigest",
    "Milestone",
    "Person",
    "Refund",
    "SourceToken",
    "UTCDateTime",
    "utcnow",
]
