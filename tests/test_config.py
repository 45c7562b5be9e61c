"""membership/config.py: every setting's default, what it accepts, and how it refuses."""

from __future__ import annotations

import os

import pytest

from membership import create_app
from membership.config import from_environ
from membership.config_values import (
    ConfigError,
    database_url,
    livemode,
    public_url,
    trusted_hosts,
    webhook_secrets,
)

INSTANCE = "/srv/membership/instance"
SETTINGS = (
    "MEMBERSHIP_ENV",
    "SECRET_KEY",
    "DATABASE_URL",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_LIVEMODE",
    "MEMBERSHIP_TERM_DAYS",
    "PROGRESS_MAX_AGE",
    "PROGRESS_STALE_WHILE_REVALIDATE",
    "PROGRESS_STALE_IF_ERROR",
    "PROGRESS_CACHE_SECONDS",
    "SQLITE_BUSY_TIMEOUT_MS",
    "PUBLIC_URL",
    "TRUSTED_HOSTS",
    "METRICS_TOKEN",
    "LOG_FORMAT",
)


def dev(**environ: str) -> dict:
    """The config for a development environment plus ``environ``."""
    return from_environ({"MEMBERSHIP_ENV": "development", **environ}, INSTANCE)


@pytest.fixture
def clean_environ(monkeypatch):
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# --- DATABASE_URL ------------------------------------------------------------------------------


def test_the_database_defaults_to_sqlite_in_the_instance_folder():
    expected = "sqlite:///" + os.path.join(INSTANCE, "membership.sqlite3")
    assert database_url(None, INSTANCE) == expected
    assert database_url("", INSTANCE) == expected
    assert database_url("   ", INSTANCE) == expected
    assert dev()["DATABASE_URL"] == expected


@pytest.mark.parametrize(
    "raw",
    [
        "postgresql://user:pw@db.example:5432/members",
        "postgres://user:pw@db.example:5432/members",
    ],
)
def test_a_plain_postgres_url_uses_psycopg_3(raw):
    assert database_url(raw, INSTANCE) == "postgresql+psycopg://user:pw@db.example:5432/members"


def test_a_postgres_url_keeps_its_query_string():
    url = database_url("postgres://u@h/db?sslmode=require", INSTANCE)
    assert url == "postgresql+psycopg://u@h/db?sslmode=require"


@pytest.mark.parametrize(
    "raw",
    ["postgresql+psycopg://u@h/db", "sqlite:////var/lib/members.sqlite3", "sqlite://"],
)
def test_it_keeps_a_url_that_already_names_a_supported_driver(raw):
    assert database_url(raw, INSTANCE) == raw


def test_it_strips_whitespace_around_the_database_url():
    assert database_url("  sqlite:////tmp/x.db\n", INSTANCE) == "sqlite:////tmp/x.db"


@pytest.mark.parametrize("raw", ["mysql://u@h/db", "postgresql+psycopg2://u@h/db", "http://h/"])
def test_it_refuses_an_unsupported_database_scheme(raw):
    with pytest.raises(ConfigError, match="DATABASE_URL scheme .* is not supported"):
        database_url(raw, INSTANCE)


@pytest.mark.parametrize("raw", ["db.example:5432/members", "members.sqlite3", "postgresql:/x"])
def test_it_refuses_a_database_url_without_a_scheme(raw):
    with pytest.raises(ConfigError, match="DATABASE_URL must look like scheme://"):
        database_url(raw, INSTANCE)


def test_the_database_url_error_reaches_from_environ():
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        dev(DATABASE_URL="mysql://u@h/db")


# --- MEMBERSHIP_ENV and SECRET_KEY --------------------------------------------------------------


def test_the_environment_defaults_to_production():
    config = from_environ({"SECRET_KEY": "s3cret-" * 8}, INSTANCE)
    assert config["MEMBERSHIP_ENV"] == "production"


@pytest.mark.parametrize("raw", ["development", "test", "production", " Development "])
def test_it_accepts_each_known_environment(raw):
    config = from_environ({"MEMBERSHIP_ENV": raw, "SECRET_KEY": "k" * 40}, INSTANCE)
    assert config["MEMBERSHIP_ENV"] == raw.strip().lower()


@pytest.mark.parametrize("raw", ["prod", "staging", "dev"])
def test_it_refuses_an_unknown_environment(raw):
    with pytest.raises(ConfigError, match="MEMBERSHIP_ENV must be one of development, test"):
        from_environ({"MEMBERSHIP_ENV": raw, "SECRET_KEY": "k" * 40}, INSTANCE)


@pytest.mark.parametrize("secret", [None, "", "   "])
def test_production_requires_a_secret_key_and_says_how_to_make_one(secret):
    environ = {"MEMBERSHIP_ENV": "production"}
    if secret is not None:
        environ["SECRET_KEY"] = secret
    with pytest.raises(ConfigError) as info:
        from_environ(environ, INSTANCE)
    message = str(info.value)
    assert "SECRET_KEY is required" in message
    assert "secrets.token_urlsafe" in message
    assert "MEMBERSHIP_ENV=development" in message


@pytest.mark.parametrize("env", ["development", "test"])
def test_outside_production_a_missing_secret_key_gets_a_dev_default(env):
    config = from_environ({"MEMBERSHIP_ENV": env}, INSTANCE)
    assert config["SECRET_KEY"] == "dev-only-not-secret"


def test_a_given_secret_key_is_used_as_is():
    config = from_environ({"SECRET_KEY": "  a-long-random-string  "}, INSTANCE)
    assert config["SECRET_KEY"] == "a-long-random-string"


# --- STRIPE_WEBHOOK_SECRET ----------------------------------------------------------------------


def test_without_a_webhook_secret_there_are_none():
    assert webhook_secrets(None) == ()
    assert webhook_secrets("") == ()
    assert dev()["STRIPE_WEBHOOK_SECRETS"] == ()


def test_it_reads_one_webhook_secret():
    assert webhook_secrets("whsec_0123456789abcdef") == ("whsec_0123456789abcdef",)


def test_it_reads_several_comma_separated_webhook_secrets_with_spaces():
    raw = " whsec_old_0123456789 , whsec_new_0123456789,"
    assert webhook_secrets(raw) == ("whsec_old_0123456789", "whsec_new_0123456789")
    assert dev(STRIPE_WEBHOOK_SECRET=raw)["STRIPE_WEBHOOK_SECRETS"] == (
        "whsec_old_0123456789",
        "whsec_new_0123456789",
    )


@pytest.mark.parametrize(
    "raw",
    [
        "sk_test_0123456789abcdef",  # an API key pasted by mistake
        "whsec_",
        "whsec_abc",
        "whsec_good_0123456789,oops",
        "0123456789abcdef",
    ],
)
def test_it_refuses_a_malformed_webhook_secret_and_says_where_to_find_it(raw):
    with pytest.raises(ConfigError) as info:
        webhook_secrets(raw)
    assert "STRIPE_WEBHOOK_SECRET" in str(info.value)
    assert "whsec_" in str(info.value)
    assert "Signing secret" in str(info.value)


def test_the_error_message_does_not_echo_the_secret():
    with pytest.raises(ConfigError) as info:
        webhook_secrets("sk_live_very_private_key_123")
    assert "very_private" not in str(info.value)


# --- STRIPE_LIVEMODE ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("live", "live"),
        ("test", "test"),
        ("LIVE", "live"),
        (" test ", "test"),
        (None, None),
        ("", None),
    ],
)
def test_it_reads_the_livemode(raw, expected):
    assert livemode(raw) == expected


def test_the_livemode_defaults_to_counting_both_modes():
    assert dev()["STRIPE_LIVEMODE"] is None


@pytest.mark.parametrize("raw", ["true", "production", "1", "livemode"])
def test_it_refuses_an_unknown_livemode(raw):
    with pytest.raises(ConfigError, match="STRIPE_LIVEMODE must be 'live', 'test' or unset"):
        livemode(raw)


# --- PUBLIC_URL and TRUSTED_HOSTS ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://members.example.org", "https://members.example.org"),
        ("https://members.example.org/", "https://members.example.org"),
        (" HTTPS://Members.Example.org ", "https://members.example.org"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        (None, None),
        ("", None),
    ],
)
def test_it_reads_the_public_url_as_an_origin_without_a_trailing_slash(raw, expected):
    assert public_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("members.example.org", "http\\(s\\) address"),
        ("ftp://members.example.org", "http\\(s\\) address"),
        ("https://", "http\\(s\\) address"),
        ("https://members.example.org/drive", "origin only"),
        ("https://members.example.org/?x=1", "origin only"),
        ("https://members.example.org/?", "origin only"),
        ("https://members.example.org#top", "origin only"),
        ("https://user@members.example.org", "origin only"),
        ("https://members.example.org:port", "public origin"),
        ("https://[::1]:5000", "DNS name or an IPv4 address"),
        ("https://members_example.org", "DNS name or an IPv4 address"),
    ],
)
def test_it_refuses_a_public_url_that_is_not_an_http_origin(raw, reason):
    with pytest.raises(ConfigError, match=f"PUBLIC_URL.*{reason}") as info:
        public_url(raw)
    assert "https://members.example.org" in str(info.value)  # an example of the right form
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        dev(PUBLIC_URL=raw)


def test_without_public_url_development_and_test_trust_the_local_names():
    for env in ("development", "test"):
        config = from_environ({"MEMBERSHIP_ENV": env}, INSTANCE)
        assert config["PUBLIC_URL"] is None
        assert config["TRUSTED_HOSTS"] == ["localhost", "127.0.0.1"]


def test_production_without_public_url_starts_and_trusts_any_host():
    # A warning at start, not a refusal: deployments from before PUBLIC_URL keep running.
    config = from_environ({"SECRET_KEY": "k" * 40}, INSTANCE)
    assert (config["PUBLIC_URL"], config["TRUSTED_HOSTS"]) == (None, None)


def test_production_with_public_url_trusts_only_its_host():
    config = from_environ(
        {"SECRET_KEY": "k" * 40, "PUBLIC_URL": "https://members.example.org:8443/"}, INSTANCE
    )
    assert config["PUBLIC_URL"] == "https://members.example.org:8443"
    assert config["TRUSTED_HOSTS"] == ["members.example.org"]


def test_development_with_public_url_trusts_it_and_the_local_names():
    config = dev(PUBLIC_URL="https://members.example.org")
    assert config["TRUSTED_HOSTS"] == ["localhost", "127.0.0.1", "members.example.org"]


def test_trusted_hosts_replace_the_defaults_and_always_keep_the_public_host():
    assert trusted_hosts(" Admin.Internal , 10.0.0.5,", None, "development") == [
        "admin.internal",
        "10.0.0.5",
    ]
    assert trusted_hosts(".example.org", "https://members.example.org", "production") == [
        ".example.org",
        "members.example.org",
    ]
    config = dev(TRUSTED_HOSTS="10.0.0.5", PUBLIC_URL="https://members.example.org")
    assert config["TRUSTED_HOSTS"] == ["10.0.0.5", "members.example.org"]


def test_a_star_trusts_any_host():
    assert trusted_hosts("*", "https://members.example.org", "production") is None
    assert dev(TRUSTED_HOSTS=" * ")["TRUSTED_HOSTS"] is None


@pytest.mark.parametrize(
    "raw", ["https://members.example.org", "members.example.org:443", "a b", "[::1]", "*.x.org"]
)
def test_it_refuses_trusted_hosts_that_are_not_host_names(raw):
    with pytest.raises(ConfigError, match="TRUSTED_HOSTS must be comma-separated host names"):
        dev(TRUSTED_HOSTS=raw)


# --- integer settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "default"),
    [
        ("MEMBERSHIP_TERM_DAYS", 365),
        ("PROGRESS_MAX_AGE", 15),
        ("PROGRESS_STALE_WHILE_REVALIDATE", 60),
        ("PROGRESS_STALE_IF_ERROR", 86400),
        ("PROGRESS_CACHE_SECONDS", 2),
        ("SQLITE_BUSY_TIMEOUT_MS", 15000),
    ],
)
def test_each_whole_number_setting_has_its_default_and_reads_a_value(name, default):
    assert dev()[name] == default
    assert dev(**{name: ""})[name] == default
    assert dev(**{name: " 30 "})[name] == 30


@pytest.mark.parametrize("name", ["PROGRESS_MAX_AGE", "PROGRESS_CACHE_SECONDS"])
def test_a_cache_setting_may_be_zero(name):
    assert dev(**{name: "0"})[name] == 0


@pytest.mark.parametrize(
    "name",
    [
        "MEMBERSHIP_TERM_DAYS",
        "PROGRESS_MAX_AGE",
        "PROGRESS_STALE_IF_ERROR",
        "SQLITE_BUSY_TIMEOUT_MS",
    ],
)
@pytest.mark.parametrize("raw", ["15s", "1.5", "ten", "0x10"])
def test_it_refuses_a_whole_number_setting_that_is_not_a_number(name, raw):
    with pytest.raises(ConfigError, match=f"{name} must be a whole number, got '{raw}'"):
        dev(**{name: raw})


@pytest.mark.parametrize(
    "name",
    [
        "PROGRESS_MAX_AGE",
        "PROGRESS_STALE_WHILE_REVALIDATE",
        "PROGRESS_CACHE_SECONDS",
        "SQLITE_BUSY_TIMEOUT_MS",
    ],
)
def test_it_refuses_a_negative_whole_number_setting(name):
    with pytest.raises(ConfigError, match=f"{name} must be from 0 to [0-9]+, got -1"):
        dev(**{name: "-1"})


@pytest.mark.parametrize("raw", ["0", "-30"])
def test_a_membership_term_must_be_at_least_a_day(raw):
    with pytest.raises(ConfigError, match="MEMBERSHIP_TERM_DAYS must be from 1 to 36500"):
        dev(MEMBERSHIP_TERM_DAYS=raw)


def test_it_refuses_a_membership_term_no_date_can_hold():
    with pytest.raises(ConfigError, match="MEMBERSHIP_TERM_DAYS"):
        dev(MEMBERSHIP_TERM_DAYS="10000000")  # 27,000 years


def test_the_body_limit_is_one_mebibyte():
    assert dev()["MAX_CONTENT_LENGTH"] == 1024 * 1024


# --- create_app() from the environment ----------------------------------------------------------


def test_create_app_refuses_to_start_in_production_without_a_secret_key(clean_environ):
    with pytest.raises(ConfigError, match="SECRET_KEY is required"):
        create_app()


def test_create_app_in_production_is_the_default_when_no_environment_is_set(clean_environ):
    clean_environ.setenv("DATABASE_URL", "sqlite://")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_create_app_refuses_a_malformed_setting_at_start(clean_environ, tmp_path):
    clean_environ.setenv("MEMBERSHIP_ENV", "development")
    clean_environ.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'm.sqlite3'}")
    clean_environ.setenv("STRIPE_LIVEMODE", "sometimes")
    with pytest.raises(ConfigError, match="STRIPE_LIVEMODE"):
        create_app()


def test_create_app_reads_every_setting_from_the_environment(clean_environ, tmp_path):
    clean_environ.setenv("SECRET_KEY", "production-secret-" * 3)
    clean_environ.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'm.sqlite3'}")
    clean_environ.setenv("STRIPE_WEBHOOK_SECRET", "whsec_aaaaaaaaaaaa, whsec_bbbbbbbbbbbb")
    clean_environ.setenv("STRIPE_LIVEMODE", "live")
    clean_environ.setenv("MEMBERSHIP_TERM_DAYS", "30")
    clean_environ.setenv("PROGRESS_MAX_AGE", "5")
    app = create_app()
    try:
        assert app.config["MEMBERSHIP_ENV"] == "production"
        assert app.config["SECRET_KEY"] == "production-secret-" * 3
        assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'm.sqlite3'}"
        assert app.config["STRIPE_WEBHOOK_SECRETS"] == ("whsec_aaaaaaaaaaaa", "whsec_bbbbbbbbbbbb")
        assert app.config["STRIPE_LIVEMODE"] == "live"
        assert app.config["MEMBERSHIP_TERM_DAYS"] == 30
        assert app.config["PROGRESS_MAX_AGE"] == 5
    finally:
        app.extensions["database.engine"].dispose()


def test_create_app_in_development_starts_without_a_secret_key(clean_environ, tmp_path):
    clean_environ.setenv("MEMBERSHIP_ENV", "development")
    clean_environ.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'm.sqlite3'}")
    app = create_app()
    try:
        assert app.config["SECRET_KEY"] == "dev-only-not-secret"
    finally:
        app.extensions["database.engine"].dispose()


def test_admin_and_proxy_settings_come_from_the_environment(tmp_path):
    settings = from_environ(
        {
            "MEMBERSHIP_ENV": "development",
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/1",
            "ADMIN_LOGIN_RATE_LIMIT": "5 per minute",
            "ADMIN_SESSION_HOURS": "2",
            "ADMIN_QUIET_HOURS": "6",
            "ADMIN_FAILURE_ALERT": "3",
            "PROXY_HOPS": "1",
        },
        str(tmp_path),
    )
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/1"
    assert settings["ADMIN_LOGIN_RATE_LIMIT"] == "5 per minute"
    assert (settings["ADMIN_SESSION_HOURS"], settings["ADMIN_QUIET_HOURS"]) == (2, 6)
    assert (settings["ADMIN_FAILURE_ALERT"], settings["PROXY_HOPS"]) == (3, 1)
    with pytest.raises(ConfigError, match="PROXY_HOPS"):
        from_environ({"MEMBERSHIP_ENV": "development", "PROXY_HOPS": "9"}, str(tmp_path))


def test_behind_a_proxy_the_readers_address_is_the_forwarded_one(db_url):
    from flask import request

    app = create_app(
        {"DATABASE_URL": db_url, "TESTING": True, "PROXY_HOPS": 1, "ENVIRON": {"PROXY_HOPS": "1"}}
    )

    @app.get("/_whoami")
    def whoami():
        return {"addr": request.remote_addr, "secure": request.is_secure}

    answer = (
        app.test_client()
        .get("/_whoami", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
        .get_json()
    )
    assert answer == {"addr": "203.0.113.9", "secure": True}
    app.extensions["database.engine"].dispose()


def test_the_paypal_settings_default_to_paypal_itself():
    config = dev()
    assert config["PAYPAL_WEBHOOK_ID"] == ""
    assert config["PAYPAL_CERT_HOSTS"] == (
        "api.paypal.com",
        "api-m.paypal.com",
        "api.sandbox.paypal.com",
        "api-m.sandbox.paypal.com",
    )
    assert config["PAYPAL_CA_BUNDLE"] is None
    assert config["PAYPAL_MODE"] is None
    assert (config["PAYPAL_CLIENT_ID"], config["PAYPAL_CLIENT_SECRET"]) == ("", "")
    assert config["PAYPAL_API_BASE"] == "https://api-m.paypal.com"


def test_the_paypal_settings_are_read(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    config = dev(
        PAYPAL_WEBHOOK_ID=" 8PT597110X687430LKGECATA ",
        PAYPAL_CERT_HOSTS="API.paypal.com, 127.0.0.1:8443",
        PAYPAL_CA_BUNDLE=str(bundle),
        PAYPAL_MODE="Sandbox",
        PAYPAL_CLIENT_ID="client",
        PAYPAL_CLIENT_SECRET="secret",
        PAYPAL_API_BASE="https://api-m.sandbox.paypal.com/",
    )
    assert config["PAYPAL_WEBHOOK_ID"] == "8PT597110X687430LKGECATA"
    assert config["PAYPAL_CERT_HOSTS"] == ("api.paypal.com", "127.0.0.1:8443")
    assert config["PAYPAL_CA_BUNDLE"] == str(bundle)
    assert config["PAYPAL_MODE"] == "sandbox"
    assert (config["PAYPAL_CLIENT_ID"], config["PAYPAL_CLIENT_SECRET"]) == ("client", "secret")
    assert config["PAYPAL_API_BASE"] == "https://api-m.sandbox.paypal.com"


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("PAYPAL_WEBHOOK_ID", "has spaces in it"),
        ("PAYPAL_WEBHOOK_ID", "x" * 65),
        ("PAYPAL_CERT_HOSTS", "https://api.paypal.com"),
        ("PAYPAL_CERT_HOSTS", "api.paypal.com:0"),
        ("PAYPAL_CERT_HOSTS", "api.paypal.com:99999"),
        ("PAYPAL_CERT_HOSTS", "api.paypal.com/certs"),
        ("PAYPAL_CERT_HOSTS", ".paypal.com"),
        ("PAYPAL_CA_BUNDLE", "/no/such/bundle.pem"),
        ("PAYPAL_CA_BUNDLE", "NOT_PEM"),  # a file that holds no certificate
        ("PAYPAL_MODE", "test"),
        ("PAYPAL_API_BASE", "api-m.paypal.com"),
    ],
)
def test_it_refuses_a_malformed_paypal_setting_and_names_it(name, raw, tmp_path):
    if raw == "NOT_PEM":
        raw = str(tmp_path / "notes.txt")
        (tmp_path / "notes.txt").write_text("not a certificate")
    with pytest.raises(ConfigError, match=name):
        dev(**{name: raw})


# --- IDENTITY_KEY and imports ------------------------------------------------------------------


def test_the_identity_key_is_bytes_and_long_enough():
    assert dev(IDENTITY_KEY="k" * 40)["IDENTITY_KEY"] == b"k" * 40
    with pytest.raises(ConfigError, match="IDENTITY_KEY must be at least 32 characters"):
        dev(IDENTITY_KEY="short")


def test_without_an_identity_key_production_links_nothing_and_development_links():
    production = from_environ({"SECRET_KEY": "s" * 40}, INSTANCE)
    assert production["IDENTITY_KEY"] is None
    assert dev()["IDENTITY_KEY"]


def test_imports_have_their_own_upload_limit_and_folder():
    assert dev()["IMPORT_MAX_BYTES"] == 32 * 1024 * 1024
    assert dev()["IMPORT_UPLOAD_DIR"] == INSTANCE
    assert dev(IMPORT_MAX_BYTES="2048", IMPORT_UPLOAD_DIR="/srv/shared")["IMPORT_MAX_BYTES"] == 2048
    with pytest.raises(ConfigError, match="IMPORT_MAX_BYTES must be a whole number"):
        dev(IMPORT_MAX_BYTES="lots")


def test_production_with_paypal_needs_an_identity_key():
    environ = {"SECRET_KEY": "s" * 40, "PAYPAL_WEBHOOK_ID": "8PT597110X687430LKGECATA"}
    with pytest.raises(ConfigError, match="IDENTITY_KEY is required in production"):
        from_environ(environ, INSTANCE)
    assert from_environ({**environ, "IDENTITY_KEY": "k" * 40}, INSTANCE)["IDENTITY_KEY"]


def test_a_malformed_notification_setting_stops_the_start_naming_it():
    with pytest.raises(ConfigError, match="SMTP_URL"):
        from_environ({"MEMBERSHIP_ENV": "development", "SMTP_URL": "ftp://mail"}, "/tmp/i")


def test_the_notification_settings_reach_the_app_config():
    config = from_environ(
        {"MEMBERSHIP_ENV": "development", "NOTIFY_FROM": "drive@news.example"}, "/tmp/i"
    )
    assert config["NOTIFY_FROM"] == "drive@news.example"
    assert "SMTP_URL" not in config  # unset: notify/settings.py looks in the environment


def test_a_malformed_patreon_setting_stops_the_start_naming_it():
    with pytest.raises(ConfigError, match="PATREON_CAMPAIGN_ID"):
        from_environ({"MEMBERSHIP_ENV": "development", "PATREON_CAMPAIGN_ID": "my-page"}, "/tmp/i")


def test_production_with_patreon_needs_an_identity_key():
    environ = {"SECRET_KEY": "s" * 40, "PATREON_WEBHOOK_SECRET": "whsec"}
    with pytest.raises(ConfigError, match="IDENTITY_KEY is required in production"):
        from_environ(environ, "/tmp/i")
