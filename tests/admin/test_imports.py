"""GET/POST /admin/imports: upload shows a dry run, confirm applies it, undo takes it back."""

from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import func, select

from membership.accounts import audit
from membership.database import db
from membership.models import Membership
from tests.admin.conftest import audit_rows
from tests.conftest import csrf_token
from tests.imports_helpers import KEY, csv

URL = "/admin/imports"
FILE = csv("m1,one@example.org,2024-01-05,,,", "m2,,2024-02-01,2024-12-01,,one-off")


@pytest.fixture
def admin_app(admin_app, tmp_path):
    admin_app.config["IDENTITY_KEY"] = KEY
    admin_app.config["IMPORT_UPLOAD_DIR"] = str(tmp_path)
    return admin_app


def memberships(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Membership))


def upload(client, data: bytes = FILE, **fields: str):
    form = {"csrf_token": csrf_token(client, URL), "source": "bank", **fields}
    form["file"] = (io.BytesIO(data), "members.csv")
    return client.post(URL, data=form, content_type="multipart/form-data")


def confirm(client, data: bytes = FILE, **fields: str):
    form = {
        "csrf_token": csrf_token(client, URL),
        "sha256": hashlib.sha256(data).hexdigest(),
        "source": "bank",
        "file_name": "members.csv",
        **fields,
    }
    return client.post(f"{URL}/apply", data=form)


def test_the_page_needs_a_login(client, user):
    assert client.get(URL).status_code == 302


def test_an_upload_is_a_dry_run_and_confirming_applies_it(admin, admin_app):
    shown = upload(admin)
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "Apply this import" in html
    assert '<td>New</td><td class="num">2</td><td>m1, m2</td>' in html
    assert memberships(admin_app) == 0
    applied = confirm(admin)
    assert applied.status_code == 302 and memberships(admin_app) == 2
    page = admin.get(URL).get_data(as_text=True)
    assert "2 new, 0 changed, 0 lapsed, 0 unchanged" in page and "Undo" in page
    actions = [(row.actor, row.action) for row in audit_rows(admin_app)]
    assert ("editor", audit.MEMBERS_IMPORTED) in actions


def test_an_invalid_file_is_shown_with_its_lines_and_cannot_be_applied(admin, admin_app):
    bad = csv("m1,,2024-13-01,,,")
    shown = upload(admin, bad)
    html = shown.get_data(as_text=True)
    assert shown.status_code == 422 and "line 2: started_at" in html
    assert "Apply this import" not in html
    assert confirm(admin, bad).status_code == 422 and memberships(admin_app) == 0


def test_a_bad_source_name_is_refused(admin):
    response = upload(admin, source="Bank Transfers!")
    assert response.status_code == 422 and "not a source name" in response.get_data(as_text=True)


def test_posts_need_the_csrf_token(admin, admin_app):
    form = {"source": "bank", "file": (io.BytesIO(FILE), "members.csv")}
    assert admin.post(URL, data=form, content_type="multipart/form-data").status_code == 400
    upload(admin)
    sha256 = hashlib.sha256(FILE).hexdigest()
    assert admin.post(f"{URL}/apply", data={"sha256": sha256, "source": "bank"}).status_code == 400
    assert memberships(admin_app) == 0


def test_a_file_above_the_app_wide_limit_may_be_uploaded_here(admin, admin_app):
    rows = [f"member-{n:07d},,2024-01-05,,," for n in range(40_000)]  # about 1.1 MB
    big = csv(*rows)
    assert len(big) > admin_app.config["MAX_CONTENT_LENGTH"]
    assert upload(admin, big).status_code == 200
    admin_app.config["IMPORT_MAX_BYTES"] = 1000
    assert upload(admin, big).status_code == 413


def test_undo_takes_an_import_back(admin, admin_app):
    upload(admin)
    confirm(admin)
    form = {
        "csrf_token": csrf_token(admin, URL),
        "sha256": hashlib.sha256(FILE).hexdigest(),
        "source": "csv-bank",
    }
    response = admin.post(f"{URL}/undo", data=form)
    assert response.status_code == 302 and memberships(admin_app) == 0
    assert "undone (2 events)" in admin.get(URL).get_data(as_text=True)
    assert admin.post(f"{URL}/undo", data=form).status_code == 422
