"""The one error reconcile raises: a clear message for the command line."""

from __future__ import annotations


class ReconcileError(RuntimeError):
    """Stripe could not be read (after retries), or refused the request; a clear message."""
