"""Imports: memberships from a spreadsheet (bank transfers, events, a legacy CRM) as a source.

``reader`` checks a CSV file row by row, ``translate`` turns a row into a stored ledger event
and that event into a change, ``runner`` plans, applies and undoes one import.
"""
