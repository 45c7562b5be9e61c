"""Every app host down: readers still get the last copy from nginx's cache.

Last of the package on purpose (pytest runs modules by name): after every host was down, nginx
keeps counting the restarted hosts as down for a while, which the tests after it would meet.
"""

from __future__ import annotations

import time

from tests.proxy.conftest import MAX_AGE
from tests.proxy.stack import fetch, kill_host

SLACK = 15


def test_the_last_copy_is_served_while_every_app_host_is_down(stack, slug):
    progress = f"/api/campaigns/{slug}"
    pages = [progress, f"/embed/{slug}", f"{progress}/badge.svg", "/api/openapi.json"]
    first = {}
    for path in pages:
        first[path] = fetch(stack.url + path)
        assert first[path].status == 200, (path, first[path].body[:200])
    for host in stack.hosts:
        kill_host(host)
    # Once max-age has passed the copy is stale, and still what readers get.
    deadline = time.monotonic() + MAX_AGE + SLACK
    statuses = []
    while time.monotonic() < deadline and "STALE" not in statuses:
        answer = fetch(stack.url + progress)
        assert (answer.status, answer.body) == (200, first[progress].body)
        statuses.append(answer.header("X-Cache-Status"))
        time.sleep(0.1)
    assert statuses[-1] == "STALE", statuses
    for path in pages:
        answer = fetch(stack.url + path)
        assert (answer.status, answer.body) == (200, first[path].body), path
    # Nothing kept, nothing to serve: an uncached page says the hosts are gone.
    assert fetch(stack.url + f"/api/campaigns/{slug}-never-seen").status == 502
