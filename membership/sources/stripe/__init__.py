"""Stripe: events to ledger changes, signed test events, and reconcile against Stripe's API."""
