"""The ledger: members, memberships and the events that move them; no Flask, no provider.

store.py keeps every event once with its outcome, rules.py turns ledger changes into
memberships and members, locks.py serialises writers where they meet, counting.py counts
members under a campaign's rule, and checks.py compares a ledger with a rebuilt copy.
"""
