"""deploy/: the rendered site passes `nginx -t` in each shape (brotli or not, TLS or not), the
committed example is what the script prints, the environment template names every setting the
service reads, and the systemd units run the migrations before the app.
"""

from __future__ import annotations

import configparser
import datetime
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from membership.notify.settings import NAMES as NOTIFY_NAMES
from tests.proxy.conftest import missing
from tests.proxy.stack import BROTLI_MODULE, NGINX, RENDER, render
from tests.servers import ROOT

DEPLOY = ROOT / "deploy"
# Names that are read from the environment but are not settings for the file: set by the unit
# (PROMETHEUS_MULTIPROC_DIR), by gunicorn.conf.py's own default (PORT), or by the test suite.
NOT_SETTINGS = {"PORT", "PROMETHEUS_MULTIPROC_DIR", "TEST_DATABASE_URL", "CI"}
SET = re.compile(r"""environ\[\s*["']([A-Z][A-Z0-9_]+)["']\s*\]\s*=[^=]""")
# A WSGI request's environ is read the same way; its keys are the request's, not settings.
WSGI_KEYS = re.compile(
    r"HTTP_\w+|PATH_INFO|QUERY_STRING|REQUEST_METHOD|SCRIPT_NAME|SERVER_\w+|"
    r"REMOTE_\w+|CONTENT_\w+|wsgi\.\w+"
)
READ = re.compile(
    r"""(?:environ(?:\.get)?\(\s*|whole_number\(\s*\w+,\s*|read\(|value\()["']([A-Z][A-Z0-9_]+)["']"""
)


def nginx_t(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if not os.path.exists(NGINX):
        missing(f"nginx is not installed at {NGINX} (apt-get install nginx-light)")
    prefix = tmp_path / "nginx"
    for folder in (prefix / "tmp", tmp_path / "cache"):
        folder.mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(render(*args, "--standalone", str(prefix)))
    return subprocess.run(
        [NGINX, "-t", "-p", str(prefix), "-c", str(conf), "-g", f"pid {prefix / 'nginx.pid'};"],
        capture_output=True,
        text=True,
        check=False,
    )


def base_args(tmp_path: Path) -> list[str]:
    return [
        *("--listen", "127.0.0.1:18080", "--app", "127.0.0.1:18001", "--app", "[::1]:18002"),
        *("--static-root", str(ROOT / "static"), "--cache-dir", str(tmp_path / "cache")),
    ]


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "members.example.org")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_the_site_passes_nginx_t_without_brotli_and_with_it_where_the_module_is(tmp_path):
    done = nginx_t(tmp_path, *base_args(tmp_path), "--brotli", "off")
    assert done.returncode == 0, done.stderr
    assert "brotli on;" not in render(*base_args(tmp_path), "--brotli", "off")
    if BROTLI_MODULE.exists():
        done = nginx_t(tmp_path, *base_args(tmp_path), "--brotli", "on")
        assert done.returncode == 0, done.stderr
        assert "brotli on;" in render(*base_args(tmp_path), "--brotli", "auto")


def test_the_tls_site_passes_nginx_t_and_sends_plain_http_to_https(tmp_path):
    cert, key = self_signed(tmp_path)
    tls = ["--tls-cert", str(cert), "--tls-key", str(key), "--tls-listen", "127.0.0.1:18443"]
    acme = ["--acme-root", str(tmp_path / "acme"), "--server-name", "members.example.org"]
    done = nginx_t(tmp_path, *base_args(tmp_path), *tls, *acme)
    assert done.returncode == 0, done.stderr
    site = render(*base_args(tmp_path), *tls, *acme)
    assert "listen 127.0.0.1:18443 ssl http2;" in site
    assert "return 301 https://$host$request_uri;" in site
    assert site.count("location ^~ /.well-known/acme-challenge/") == 2  # renewals keep working


def test_the_site_works_included_by_debians_own_nginx_conf(tmp_path):
    debian = Path("/etc/nginx/nginx.conf")
    if not debian.exists():
        missing("Debian's /etc/nginx/nginx.conf is missing (apt-get install nginx-light)")
    if os.geteuid() != 0:
        pytest.skip("Debian's nginx.conf runs its workers as www-data: nginx -t needs root")
    cert, key = self_signed(tmp_path)
    (tmp_path / "cache").mkdir()
    site = tmp_path / "membership"
    site.write_text(
        render(
            *base_args(tmp_path),
            *("--server-name", "members.example.org", "--acme-root", str(tmp_path)),
            *("--tls-cert", str(cert), "--tls-key", str(key)),
        )
    )
    # Debian's file as installed, but with this site as the only one, and its pid and logs
    # moved to the test's folder (nginx -t opens them).
    text = debian.read_text().replace("include /etc/nginx/sites-enabled/*;", f"include {site};")
    text = re.sub(r"^pid .*;$", "", text, flags=re.MULTILINE)
    text = re.sub(r"(access_log|error_log) /var/log/nginx/", rf"\1 {tmp_path}/", text)
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    done = subprocess.run(
        [NGINX, "-t", "-c", str(conf), "-g", f"pid {tmp_path / 'nginx.pid'};"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "warn" not in done.stderr, done.stderr


def test_render_nginx_refuses_what_nginx_would_misread(tmp_path):
    cases = {
        "expected HOST:PORT": ["--app", "http://127.0.0.1:8000"],
        "must be an absolute path": ["--cache-dir", "relative/cache"],
        "go together": ["--tls-cert", str(tmp_path / "cert.pem")],
    }
    for message, change in cases.items():
        args = base_args(tmp_path)
        flag = change[0]
        if flag in args and flag != "--app":
            at = args.index(flag)
            args[at : at + 2] = change
        else:
            args = [*args, *change]
        done = subprocess.run(
            [sys.executable, str(RENDER), *args], capture_output=True, text=True, check=False
        )
        assert done.returncode == 2 and message in done.stderr, (change, done.stderr)


def test_the_committed_site_example_is_what_render_nginx_prints():
    example = (DEPLOY / "nginx-site.conf.example").read_text()
    command = example.splitlines()[1].removeprefix("#").strip()
    assert command.startswith("deploy/render-nginx ")
    assert render(*shlex.split(command)[1:]) == example


def settings_read() -> set[str]:
    sources = [ROOT / "gunicorn.conf.py", *sorted((ROOT / "membership").rglob("*.py"))]
    texts = [path.read_text() for path in sources]
    names = {name for text in texts for name in READ.findall(text)}
    # A name the code sets for itself (a marker passed from gunicorn's master) is no setting.
    own = {name for text in texts for name in SET.findall(text)}
    names = {name for name in names - own if not WSGI_KEYS.fullmatch(name)}
    return (names | set(NOTIFY_NAMES)) - NOT_SETTINGS


def test_the_environment_template_names_every_setting_the_service_reads():
    template = (DEPLOY / "membership.env.example").read_text()
    named = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", template, re.MULTILINE))
    read = settings_read()
    assert {"SECRET_KEY", "DATABASE_URL", "PROXY_HOPS", "NOTIFY_KEY"} <= read  # the scan works
    assert read - named == set()
    assert re.search(r"^PROXY_HOPS=1$", template, re.MULTILINE)
    assert re.search(r"^RATELIMIT_STORAGE_URI=redis://", template, re.MULTILINE)


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read_string((DEPLOY / "systemd" / name).read_text())
    return parser


def test_the_units_migrate_before_the_app_starts_and_reload_with_a_hup(runner):
    app, migrate, notify = (
        unit(n)
        for n in ("membership.service", "membership-migrate.service", "membership-notify.service")
    )
    assert "membership-migrate.service" in app["Unit"]["Requires"].split()
    assert "membership-migrate.service" in app["Unit"]["After"].split()
    assert app["Service"]["ExecStart"].endswith("gunicorn -c gunicorn.conf.py app:app")
    assert app["Service"]["ExecReload"] == "/bin/kill -s HUP $MAINPID"
    assert migrate["Service"]["Type"] == "oneshot"
    assert "RemainAfterExit" not in migrate["Service"]  # so every start migrates again
    assert migrate["Service"]["ExecStart"].endswith("flask --app app db upgrade")
    assert notify["Service"]["ExecStart"].endswith("flask --app app notify run")
    for parsed in (app, migrate, notify):
        assert parsed["Service"]["EnvironmentFile"] == "/etc/membership/membership.env"
        assert parsed["Service"]["WorkingDirectory"] == "/srv/membership/app"
        assert parsed["Service"]["User"] == "membership"
    # The commands the units run exist in this version of the app.
    for command in (["db", "upgrade", "--help"], ["notify", "run", "--help"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 0, result.output
    assert (ROOT / "gunicorn.conf.py").exists()


def test_the_backup_runs_nightly_with_pg_dump_and_the_cli_wrapper_uses_the_services_setup():
    backup, timer = unit("membership-backup.service"), unit("membership-backup.timer")
    assert backup["Service"]["Type"] == "oneshot"
    assert "pg_dump --format=custom --dbname=membership" in backup["Service"]["ExecStart"]
    assert "/var/backups/membership" in backup["Service"]["ReadWritePaths"]
    assert timer["Timer"]["OnCalendar"] and timer["Timer"]["Persistent"] == "true"
    wrapper = DEPLOY / "membership-flask"
    assert os.access(wrapper, os.X_OK) and os.access(RENDER, os.X_OK)
    assert subprocess.run(["sh", "-n", str(wrapper)], check=False).returncode == 0
    text = wrapper.read_text()
    service = unit("membership.service")["Service"]
    assert f"--working-directory={service['WorkingDirectory']}" in text
    assert f"--uid={service['User']}" in text
    assert service["EnvironmentFile"] in text
