"""Campaigns: settings and copy, adjustments, windows and status, progress figures, history."""
