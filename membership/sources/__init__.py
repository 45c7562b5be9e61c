"""Payment sources: each turns its provider's deliveries into ledger changes and heals gaps.

A source verifies nothing it was not given and stores nothing itself: the web layer checks a
delivery's signature, the source parses and translates it, and the ledger stores and applies
it. Sources import the ledger; the ledger never imports a source.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

from ..ledger.store import Translate
from .api import translate as api
from .imports import translate as imports
from .patreon import envelope as patreon_envelope
from .patreon.translate import Settings as PatreonSettings
from .patreon.translate import translator as patreon_translator
from .paypal import envelope as paypal_envelope
from .paypal.translate import Settings as PayPalSettings
from .paypal.translate import translator as paypal_translator
from .stripe import envelope as stripe_envelope
from .stripe.translate import Settings as StripeSettings
from .stripe.translate import translator as stripe_translator

# Every source this deployment knows, by the name its keys and events carry.
SOURCES = (stripe_envelope.SOURCE, paypal_envelope.SOURCE, patreon_envelope.SOURCE)


class Translators(Mapping[str, Translate]):
    """Each source's translate function by source name: the providers', and one for every
    import source (``csv-NAME``) and membership API source (``api-NAME``), whose names are
    the newsroom's own."""

    def __init__(self, providers: dict[str, Translate], imported: Translate) -> None:
        self._providers = providers
        self._imported = imported

    def __getitem__(self, source: str) -> Translate:
        if source in self._providers:
            return self._providers[source]
        if imports.is_import_source(source):
            return self._imported
        if api.is_api_source(source):
            return api.translate
        raise KeyError(source)

    def __iter__(self) -> Iterator[str]:
        return iter(self._providers)

    def __len__(self) -> int:
        return len(self._providers)


def translators(config: Mapping[str, Any]) -> Translators:
    """Each source's translate function under this deployment's settings (for replay and
    recount, which meet events of every source)."""
    return Translators(
        {
            stripe_envelope.SOURCE: stripe_translator(StripeSettings.from_config(config)),
            paypal_envelope.SOURCE: paypal_translator(PayPalSettings.from_config(config)),
            patreon_envelope.SOURCE: patreon_translator(PatreonSettings.from_config(config)),
        },
        imports.translator(timedelta(days=config["MEMBERSHIP_TERM_DAYS"])),
    )


# The offer kinds (ledger/offers.py) each provider's memberships can be defined by.
OFFER_KINDS = {
    stripe_envelope.SOURCE: ("price", "product", "payment_link", "metadata"),
    paypal_envelope.SOURCE: ("plan",),
    patreon_envelope.SOURCE: ("tier",),
}


def offer_kinds(source: str) -> tuple[str, ...] | None:
    """What a source's memberships can be defined by: its offer kinds; () for an import or
    membership API source, which counts as a whole; None for a source this deployment does
    not have."""
    if source in OFFER_KINDS:
        return OFFER_KINDS[source]
    return () if imports.is_import_source(source) or api.is_api_source(source) else None
