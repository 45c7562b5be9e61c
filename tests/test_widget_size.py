"""The widget's byte budget, checked on every run (as Plausible checks its tracker, but failing)."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
TOOLS = ROOT / "tools" / "widget"
BUDGET = 2_200  # bytes gzipped


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


def _unavailable(reason: str) -> None:
    # As for the browser tests: a missing tool skips here, and fails the run in CI.
    if os.environ.get("CI"):
        pytest.fail(f"cannot rebuild the widget in CI: {reason}", pytrace=False)
    pytest.skip(f"widget rebuild skipped: {reason}")


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_committed_widget_is_exactly_the_build_of_its_source(tmp_path: Path) -> None:
    """Rebuild static/widget.js from widget.src.js, as `make widget` does, in a scratch copy
    of tools/widget (its lockfile pins the minifier), and compare byte for byte."""
    if not (shutil.which("node") and shutil.which("npm")):
        _unavailable("Node.js is not installed (apt-get install nodejs npm)")
    tools = tmp_path / "tools" / "widget"
    tools.mkdir(parents=True)
    for name in ("build.mjs", "package.json", "package-lock.json"):
        shutil.copy(TOOLS / name, tools / name)
    (tmp_path / "static").mkdir()
    shutil.copy(STATIC / "widget.src.js", tmp_path / "static" / "widget.src.js")
    npm_ci = ["npm", "ci", "--silent", "--no-audit", "--no-fund", "--prefer-offline"]
    installed = _run(npm_ci, tools)
    if installed.returncode != 0:  # offline, with nothing in npm's cache
        _unavailable(f"`npm ci` in tools/widget failed: {installed.stderr.strip()[-500:]}")
    built = _run(["node", "build.mjs"], tools)
    assert built.returncode == 0, f"the widget does not build: {built.stderr.strip()[-2000:]}"
    rebuilt = (tmp_path / "static" / "widget.js").read_bytes()
    assert rebuilt == (STATIC / "widget.js").read_bytes(), (
        "static/widget.js is not the build of static/widget.src.js: run `make widget`"
    )
