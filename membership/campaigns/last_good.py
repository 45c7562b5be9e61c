"""A campaign's last good public figures on disk, for a worker that starts during an outage.

No Flask here.

One file per campaign, ``<folder>/<slug>.json``: the public JSON as served, ``"stale": false``
included. Every worker rewrites it each time it counts the campaign afresh; a file written by
an older version must keep loading, so its format only ever grows.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from .. import i18n

log = logging.getLogger(__name__)


def _path(folder: Path, slug: str) -> Path:
    return folder / f"{slug}.json"


def keep(folder: Path, slug: str, figures: dict[str, Any]) -> None:
    """Write the figures of ``slug``; a failure is logged, never raised (they are a spare)."""
    path = _path(folder, slug)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Per process and thread: workers and their threads write the same file at once.
        temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_bytes(json.dumps(figures).encode())
        os.replace(temporary, path)  # atomic: a reader sees the old or the new file
    except OSError as exc:
        log.warning("progress slug=%s could not keep last good figures: %s", slug, exc)


def read(folder: Path, slug: str) -> dict[str, Any] | None:
    """The figures last kept for ``slug``, or None if there are none or they cannot be read."""
    try:
        figures = json.loads(_path(folder, slug).read_bytes())
    except (OSError, ValueError):
        return None
    # The widget's words come from this code, not the file: one written by an older
    # version may lack them, and the widget would show nothing without them.
    return {**figures, "words": i18n.COPY} if isinstance(figures, dict) else None
