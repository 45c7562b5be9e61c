"""Is the PNG badge cheap enough for every open of a large newsletter? `python bench/badge_png.py`

Draws the badge and the share card straight through picture.py (every call a new drawing), then
serves GET /api/campaigns/<slug>/badge.png through the app (Flask's test client, a fresh SQLite
file, the default PROGRESS_CACHE_SECONDS) with the per-worker PNG cache cleared before every
request (uncached) and kept (cached), plus the 304 a revalidating image proxy gets, and the SVG
badge for comparison. Prints each rate and the ratios, all measured in this one run, on one
thread: multiply by workers for a host.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from membership import create_app  # noqa: E402
from membership.campaigns import picture  # noqa: E402
from membership.campaigns.settings import create_campaign  # noqa: E402
from membership.database import db, make_engine  # noqa: E402
from membership.models import Base  # noqa: E402
from membership.web import images  # noqa: E402

BADGE = "/api/campaigns/members/badge.png"


def rate(label: str, seconds: float, action: Callable[[], object]) -> float:
    """Calls per second of ``action``, run for about ``seconds``."""
    action()  # warm up: imports, fonts, first query
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        action()
        calls += 1
    per_second = calls / elapsed
    print(f"{label:<44} {per_second:>10,.0f} /s  ({1000 / per_second:.3f} ms each)")
    return per_second


def app_with_a_campaign():  # noqa: ANN201
    url = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "STRIPE_WEBHOOK_SECRETS": ("whsec_bench",)})
    with app.app_context():
        create_campaign(
            db.session,
            "members",
            25_000,
            title="Membership drive 2026",
            baseline=12_345,
            message="Help us reach 25,000 members by the end of 2026.",
        )
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    seconds = parser.parse_args().seconds

    shown = picture.Card(
        lang="en",
        title="Membership drive 2026",
        count="12,345",
        of_goal="out of 25,000",
        note="Help us reach 25,000 members by the end of 2026.",
        fill=12_345 / 25_000,
    )
    print("Drawing (picture.py, no cache):")
    draw_1x = rate("  badge 1×", seconds, lambda: picture.badge(shown, 1))
    draw_2x = rate("  badge 2×", seconds, lambda: picture.badge(shown, 2))
    draw_share = rate("  share card 1200×630", seconds, lambda: picture.share_card(shown))

    client = app_with_a_campaign().test_client()
    etag = client.get(BADGE).headers["ETag"]

    def uncached() -> None:
        images._drawn.cache_clear()
        client.get(BADGE)

    print("Serving GET badge.png (test client, one thread):")
    served_uncached = rate("  drawn on every request (cache cleared)", seconds, uncached)
    served_cached = rate("  cached PNG", seconds, lambda: client.get(BADGE))
    served_304 = rate(
        "  304 to If-None-Match",
        seconds,
        lambda: client.get(BADGE, headers={"If-None-Match": etag}),
    )
    served_2x = rate("  cached PNG, ?scale=2", seconds, lambda: client.get(BADGE + "?scale=2"))
    served_svg = rate(
        "  badge.svg, for comparison", seconds, lambda: client.get(BADGE[:-3] + "svg")
    )

    print("Ratios:")
    print(f"  cached / uncached requests           {served_cached / served_uncached:6.1f}×")
    print(f"  304 / uncached requests              {served_304 / served_uncached:6.1f}×")
    print(f"  cached requests / 1× drawings        {served_cached / draw_1x:6.1f}×")
    print(f"  cached 2× requests / 2× drawings     {served_2x / draw_2x:6.1f}×")
    print(f"  1× drawings / share-card drawings    {draw_1x / draw_share:6.1f}×")
    print(f"  cached PNG requests / SVG requests   {served_cached / served_svg:6.2f}×")


if __name__ == "__main__":
    main()
