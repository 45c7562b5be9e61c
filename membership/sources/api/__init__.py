"""The membership API as a source: other systems PUT their memberships, one source each.

``tokens`` makes, lists, checks and revokes a source's bearer tokens; ``translate`` turns a
PUT body into a stored ledger event and that event into a change; ``receive`` stores one PUT
and says what the membership is now.
"""
