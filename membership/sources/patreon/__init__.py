"""Patreon: member deliveries verified, the member's state read back from API v2, and sync."""
