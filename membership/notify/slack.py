"""The Slack channel: a message to an incoming webhook, in the payload Slack documents.

https://api.slack.com/messaging/webhooks: POST JSON with ``text`` (the notification's fallback)
and ``blocks`` (what the message shows). Any service that takes Slack's format (Mattermost,
Rocket.Chat, Discord's /slack endpoint) works the same.
"""

from __future__ import annotations

import json
from typing import Any

from .outbox import Notice
from .outgoing import post_json

HEADER_CHARS = 150  # Slack's limit for a header block's text


def escape(text: str) -> str:
    """Slack's mrkdwn escapes: only these three characters have a meaning of their own."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(notice: Notice) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": notice.subject[:HEADER_CHARS]},
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": escape(notice.text)}},
    ]
    title, link = notice.data.get("title"), notice.data.get("cta_url")
    if title or link:
        parts = [escape(str(title))] if title else []
        if link:
            parts.append(f"<{link}|{escape(str(link))}>")
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(parts)}]}
        )
    return {"text": f"{notice.subject}\n{notice.text}", "blocks": blocks}


def send(url: str, notice: Notice, timeout: float) -> None:
    # Slack drops nothing by delivery id; a repeat after a lost answer shows twice (rare).
    post_json(url, json.dumps(payload(notice)).encode(), {}, timeout)
