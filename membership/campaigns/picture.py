"""The PNG badge and share card: what they show (a Card) and drawing it with Pillow.

No Flask here. card() turns a campaign's public figures into a Card, worded and formatted per
language as the SVG badge is; badge() and share_card() draw one. A Card is frozen and holds
everything that is drawn, so a caller may keep the PNG per (card, scale): a new count, goal or
copy is a new card. The fonts are the project's own (membership/fonts, DejaVu Sans): Pillow's
built-in font has no Cyrillic, and a system font may be missing or differ between hosts.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from .. import i18n
from .validation import printable

FONT_DIR = Path(__file__).resolve().parents[1] / "fonts"
REGULAR_FONT = FONT_DIR / "DejaVuSans.ttf"
BOLD_FONT = FONT_DIR / "DejaVuSans-Bold.ttf"

WHITE = (255, 255, 255)
INK = (26, 26, 26)
MUTED = (85, 85, 85)
BORDER = (208, 208, 208)
TRACK = (230, 230, 230)
FILL = (179, 38, 30)  # the SVG badge's and the widget's bar colour
MARK = (26, 26, 26)

# At 1×, in pixels. The badge keeps the SVG badge's width, bar and type sizes, plus a line under
# the bar for the state of the drive (the next goal, how far past it).
BADGE_SIZE = (400, 104)
BADGE_BAR = (16, 62, 368, 12)  # x, y, width, height
SHARE_SIZE = (1200, 630)  # what Open Graph and Twitter cards display without cropping
SHARE_BAR = (72, 430, 1056, 36)
SCALES = (1, 2)
# Breaks between words: ASCII whitespace only, so a number's no-break space ("12 345") holds.
SPACES = re.compile(r"[ \t\n\r\f\v]+")


@dataclass(frozen=True)
class Card:
    """Exactly what one picture shows."""

    lang: str
    title: str
    headline: str = ""
    count: str = ""  # "12,345"; empty on the neutral card, which shows no figures at all
    of_goal: str = ""  # "out of 25,000"
    note: str = ""  # the line under the bar
    cta_label: str = ""
    fill: float = 0.0  # the bar's filled share, 0 to 1
    mark: float | None = None  # where a goal reached sits on the bar, 0 to 1


def neutral(lang: str) -> Card:
    """For a campaign we cannot show (unknown, or no figures at all): a bar with no numbers."""
    return Card(lang=lang, title=str(i18n.COPY[lang]["label"]))


def card(progress: dict[str, Any], lang: str, fill: float, mark: float | None) -> Card:
    """What the pictures show for a campaign's public figures (the progress JSON) in ``lang``,
    with the bar's ``fill`` and goal ``mark`` (0 to 1) as the SVG badge has them: the callers
    take both from its rule, so that every surface draws the same bar."""
    # The campaign's words in this language if it has them, else its own, as the embed page.
    words = {**progress, **(progress.get("translations") or {}).get(lang, {})}
    count, goal = int(progress["count"]), int(progress["goal"])
    # The words under the bar are the SVG badge's and the embed page's: the message, the next
    # stretch goal, how far past the goal, or the drive's end.
    note = i18n.status_message(words, lang)
    return Card(
        lang=lang,
        title=_line(printable(progress.get("title") or "")) or str(i18n.COPY[lang]["label"]),
        headline=_line(printable(words.get("headline") or "")),
        count=i18n.format_number(count, lang),
        of_goal=f"{i18n.COPY[lang]['of']} {i18n.format_number(goal, lang)}",
        note=_line(printable(note)),
        cta_label=_line(printable(words.get("cta_label") or "")),
        fill=min(max(fill, 0.0), 1.0),
        mark=mark,
    )


def _line(text: str) -> str:
    return SPACES.sub(" ", text).strip()  # pictures have no line breaks of the campaign's own


@lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    # The basic layout needs no libraqm, so every host draws the same pixels; Latin and
    # Cyrillic need no shaping.
    path = BOLD_FONT if bold else REGULAR_FONT
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.BASIC)


def badge(shown: Card, scale: int = 1) -> bytes:
    """The badge for newsletters: title, "12,345 out of 25,000", the bar and a note; PNG."""
    s = scale if scale in SCALES else 1
    width, height = BADGE_SIZE
    image = Image.new("RGB", (width * s, height * s), WHITE)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(
        (0, 0, width * s - 1, height * s - 1), radius=8 * s, fill=WHITE, outline=BORDER, width=s
    )
    x, bar_y, bar_width, bar_height = (v * s for v in BADGE_BAR)
    title = font(15 * s, bold=True)
    draw.text((x, 26 * s), _fit(shown.title, title, bar_width), font=title, fill=INK, anchor="ls")
    _count_line(draw, shown, x, 50 * s, 16 * s, 16 * s)
    _bar(image, (x, bar_y, bar_width, bar_height), shown, mark=s)
    note = font(12 * s)
    draw.text((x, 92 * s), _fit(shown.note, note, bar_width), font=note, fill=MUTED, anchor="ls")
    return _png(image)


def share_card(shown: Card) -> bytes:
    """The 1200×630 picture a post about the drive shows: title, headline, figures, bar; PNG."""
    width, height = SHARE_SIZE
    image = Image.new("RGB", SHARE_SIZE, WHITE)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width - 1, 11), fill=FILL)
    x, bar_y, bar_width, bar_height = SHARE_BAR
    # Title and headline flow down from the top; the figures keep their place at the bottom.
    baseline = 44
    title = font(56, bold=True)
    for line in _wrap(shown.title, title, bar_width, 2):
        baseline += 68
        draw.text((x, baseline), line, font=title, fill=INK, anchor="ls")
    baseline += 20
    headline = font(32)
    for line in _wrap(shown.headline, headline, bar_width, 2):
        baseline += 42
        draw.text((x, baseline), line, font=headline, fill=MUTED, anchor="ls")
    _count_line(draw, shown, x, 400, 72, 40)
    _bar(image, SHARE_BAR, shown, mark=3)
    note = font(30)
    draw.text((x, 520), _fit(shown.note, note, bar_width), font=note, fill=MUTED, anchor="ls")
    cta = font(30, bold=True)
    draw.text((x, 588), _fit(shown.cta_label, cta, bar_width), font=cta, fill=FILL, anchor="ls")
    return _png(image)


def _count_line(
    draw: ImageDraw.ImageDraw, shown: Card, x: int, baseline: int, count_size: int, rest_size: int
) -> None:
    """The count in bold, then "out of 25,000" on the same baseline; nothing on a neutral card."""
    if not shown.count:
        return
    count = font(count_size, bold=True)
    draw.text((x, baseline), shown.count, font=count, fill=INK, anchor="ls")
    rest = font(rest_size)
    after = x + count.getlength(shown.count)
    draw.text((after, baseline), " " + shown.of_goal, font=rest, fill=INK, anchor="ls")


def _bar(image: Image.Image, box: tuple[int, int, int, int], shown: Card, mark: int) -> None:
    """The track, its fill clipped to the track's rounded shape (so a small share is a sliver,
    not a pill), and a mark ``2 * mark`` pixels wide across the bar where a goal was reached."""
    x, y, width, height = box
    shape = (0, 0, width - 1, height - 1)
    ImageDraw.Draw(image).rounded_rectangle(
        (x, y, x + width - 1, y + height - 1), radius=height // 2, fill=TRACK
    )
    filled = round(width * shown.fill)
    if filled > 0:
        mask = Image.new("L", (width, height), 0)
        ImageDraw.Draw(mask).rounded_rectangle(shape, radius=height // 2, fill=255)
        ImageDraw.Draw(mask).rectangle((filled, 0, width, height), fill=0)
        image.paste(FILL, (x, y, x + width, y + height), mask)
    if shown.mark is not None:
        reach = height // 3  # how far the mark stands out above and below the bar
        at = x + min(max(round(width * shown.mark), 0), width - 1)
        ImageDraw.Draw(image).rectangle(
            (at - mark, y - reach, at + mark - 1, y + height + reach - 1), fill=MARK
        )


def _fit(text: str, used: ImageFont.FreeTypeFont, width: int) -> str:
    """``text`` cut with an ellipsis to fit ``width`` pixels."""
    if used.getlength(text) <= width:
        return text
    keep, cut = 0, len(text)  # the longest prefix that fits with its ellipsis, by bisection
    while keep < cut:
        middle = (keep + cut + 1) // 2
        if used.getlength(text[:middle].rstrip() + "…") <= width:
            keep = middle
        else:
            cut = middle - 1
    return text[:keep].rstrip() + "…"


def _wrap(text: str, used: ImageFont.FreeTypeFont, width: int, lines: int) -> list[str]:
    """Up to ``lines`` lines of whole words within ``width``; the last one cut to fit."""
    words, out = SPACES.split(text.strip()) if text.strip() else [], []
    while words and len(out) < lines - 1:
        n = 1
        while n < len(words) and used.getlength(" ".join(words[: n + 1])) <= width:
            n += 1
        out.append(" ".join(words[:n]))
        words = words[n:]
    if words:
        out.append(" ".join(words))
    return [_fit(line, used, width) for line in out]


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
