"""Sources the newsroom names itself: imports (``csv-NAME``) and the membership API
(``api-NAME``). A prefix keeps each kind apart from the providers and from each other."""

from __future__ import annotations

import re
from dataclasses import dataclass

NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,27}")  # the source column holds 32 characters


class BadSourceName(ValueError):
    pass


@dataclass(frozen=True)
class Kind:
    prefix: str  # "csv-", "api-"

    def source_of(self, name: str) -> str:
        """The ledger source a newsroom's name stands for (bank -> csv-bank)."""
        name = name.strip().lower().removeprefix(self.prefix)
        if not NAME.fullmatch(name):
            raise BadSourceName(
                f"{name!r} is not a source name: up to 28 of a-z, 0-9, - and _, starting with "
                "a letter or digit"
            )
        return self.prefix + name

    def holds(self, source: str) -> bool:
        """Whether ``source`` is one of this kind's."""
        return (
            source.startswith(self.prefix)
            and NAME.fullmatch(source.removeprefix(self.prefix)) is not None
        )
