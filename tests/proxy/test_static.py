"""Static assets through nginx: the scripts and the admin's files come from disk with the app's
headers, the hashed widget is immutable and kept by the cache, and text is compressed.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import brotli
import pytest

from membership.web.embed import widget_asset
from tests.proxy.stack import BROTLI_MODULE, fetch
from tests.servers import ROOT

pytestmark = pytest.mark.slow
STATIC = ROOT / "static"
# Headers a publisher's page depends on: nginx must say what the app says.
SCRIPT_HEADERS = (
    "Content-Type",
    "Cache-Control",
    "Access-Control-Allow-Origin",
    "Cross-Origin-Resource-Policy",
    "X-Content-Type-Options",
)


def nginx_etag(path: Path) -> str:
    """The ETag nginx gives a file it reads from disk: its mtime and size in hex (the app's
    are content digests), so a match shows no app host was asked."""
    stat = path.stat()
    return f'"{int(stat.st_mtime):x}-{stat.st_size:x}"'


def test_the_scripts_come_from_disk_with_the_headers_the_app_gives_them(stack):
    for name in ("widget.js", "embed-resize.js"):
        path = STATIC / name
        answer = fetch(f"{stack.url}/{name}")
        assert (answer.status, answer.body) == (200, path.read_bytes())
        assert answer.header("ETag") == nginx_etag(path)
        from_app = fetch(f"{stack.hosts[0].url}/{name}")
        assert from_app.body == answer.body
        for header in SCRIPT_HEADERS:
            assert answer.header(header) == from_app.header(header), (name, header)
        assert answer.header("Content-Type") == "text/javascript; charset=utf-8"
        again = fetch(f"{stack.url}/{name}", headers={"If-None-Match": answer.header("ETag")})
        assert again.status == 304


def test_the_hashed_widget_is_immutable_and_served_from_the_proxy_cache(stack):
    digest = widget_asset().digest
    first = fetch(f"{stack.url}/widget.{digest}.js")
    second = fetch(f"{stack.url}/widget.{digest}.js")
    for answer in (first, second):
        assert (answer.status, answer.body) == (200, (STATIC / "widget.js").read_bytes())
        assert answer.header("Cache-Control") == "public, max-age=31536000, immutable"
        assert answer.header("Access-Control-Allow-Origin") == "*"
    assert second.header("X-Cache-Status") == "HIT"
    # Only the current build exists: another digest is the app's 404, and never kept.
    for _ in range(2):
        stale = fetch(f"{stack.url}/widget.{'0' * 16}.js")
        assert stale.status == 404
        assert stale.header("X-Cache-Status") == "MISS"


def test_the_admin_assets_come_from_disk_and_are_revalidated_each_time(stack):
    for name in ("admin.css", "admin.js"):
        path = STATIC / "admin" / name
        answer = fetch(f"{stack.url}/admin/static/{name}")
        assert (answer.status, answer.body) == (200, path.read_bytes())
        assert answer.header("ETag") == nginx_etag(path)
        assert answer.header("Cache-Control") == "no-cache"
        assert answer.header("X-Content-Type-Options") == "nosniff"
        again = fetch(
            f"{stack.url}/admin/static/{name}", headers={"If-None-Match": answer.header("ETag")}
        )
        assert (again.status, again.body) == (304, b"")
    assert fetch(f"{stack.url}/admin/static/no-such-file.css").status == 404


def test_text_is_compressed_with_gzip_and_with_brotli_where_nginx_has_the_module(stack, slug):
    widget = (STATIC / "widget.js").read_bytes()
    packed = fetch(f"{stack.url}/widget.js", headers={"Accept-Encoding": "gzip"})
    assert packed.header("Content-Encoding") == "gzip"
    assert gzip.decompress(packed.body) == widget
    assert "Accept-Encoding" in packed.header("Vary")
    plain = fetch(f"{stack.url}/embed/{slug}")
    page = fetch(f"{stack.url}/embed/{slug}", headers={"Accept-Encoding": "gzip"})
    assert page.header("Content-Encoding") == "gzip"
    assert gzip.decompress(page.body) == plain.body

    answer = fetch(f"{stack.url}/widget.js", headers={"Accept-Encoding": "br, gzip"})
    if BROTLI_MODULE.exists():
        assert answer.header("Content-Encoding") == "br"
        assert brotli.decompress(answer.body) == widget
    else:
        assert answer.header("Content-Encoding") == "gzip"
