"""The widget's byte budget, checked on every run (as Plausible checks its tracker, but failing)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parent.parent / "static"
BUDGET = 2_000  # bytes gzipped


def gzipped_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))


def test_widget_js_fits_its_gzipped_budget(capsys: pytest.CaptureFixture[str]) -> None:
    size = gzipped_size(STATIC / "widget.js")
    with capsys.disabled():  # shown on every run, not only when the test fails
        print(
            f"\nwidget.js: {(STATIC / 'widget.js').stat().st_size} bytes, {size} bytes gzipped "
            f"(budget {BUDGET})"
        )
    assert size <= BUDGET, f"widget.js is {size} bytes gzipped, over the {BUDGET}-byte budget"


def test_the_built_widget_keeps_the_rules_of_the_source() -> None:
    # The built file is what publishers run: nothing that a strict host CSP would refuse.
    built = (STATIC / "widget.js").read_text(encoding="utf-8")
    for forbidden in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "eval(",
        "new Function",
        "document.write",
        ".style.",
        'createElement("style")',
        'setAttribute("style"',
    ):
        assert forbidden not in built, forbidden
    assert 'credentials:"omit"' in built


def test_the_built_widget_is_newer_than_its_source() -> None:
    # A cheap staleness check without Node: every public name in the source is in the build.
    source = (STATIC / "widget.src.js").read_text(encoding="utf-8")
    built = (STATIC / "widget.js").read_text(encoding="utf-8")
    for name in set(re.findall(r"'((?:membership-progress|data-membership)[a-z:-]*)'", source)):
        assert name in built, f"{name} is in widget.src.js but not in widget.js: rebuild it"
