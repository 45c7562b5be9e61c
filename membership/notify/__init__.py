"""Notifications: an outbox of notices per campaign channel, and the worker that delivers them."""
