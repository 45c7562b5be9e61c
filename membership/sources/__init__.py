"""Payment sources: each turns its provider's deliveries into ledger changes and heals gaps.

A source verifies nothing it was not given and stores nothing itself: the web layer checks a
delivery's signature, the source parses and translates it, and the ledger stores and applies
it. Sources import the ledger; the ledger never imports a source.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..ledger.store import Translate
from .paypal import envelope as paypal_envelope
from .paypal.translate import Settings as PayPalSettings
from .paypal.translate import translator as paypal_translator
from .stripe import envelope as stripe_envelope
from .stripe.translate import Settings as StripeSettings
from .stripe.translate import translator as stripe_translator

# Every source this deployment knows, by the name its keys and events carry.
SOURCES = (stripe_envelope.SOURCE, paypal_envelope.SOURCE)


def translators(config: Mapping[str, Any]) -> dict[str, Translate]:
    """Each source's translate function under this deployment's settings (for replay and
    recount, which meet events of every source)."""
    return {
        stripe_envelope.SOURCE: stripe_translator(StripeSettings.from_config(config)),
        paypal_envelope.SOURCE: paypal_translator(PayPalSettings.from_config(config)),
    }
