"""Payment sources: each turns its provider's deliveries into ledger changes and heals gaps.

A source verifies nothing it was not given and stores nothing itself: the web layer checks a
delivery's signature, the source parses and translates it, and the ledger stores and applies
it. Sources import the ledger; the ledger never imports a source.
"""
