"""The notification settings: SMTP_URL, NOTIFY_KEY and the worker's timings, refused when
malformed with a message naming the variable."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from membership.config_values import ConfigError
from membership.notify import secrets
from membership.notify.settings import from_config, smtp_url


def test_smtp_url_reads_user_password_host_port_and_tls():
    plain = smtp_url("smtp://news%40example.org:p%40ss%20word@smtp.example.org:2525")
    assert (plain.host, plain.port, plain.implicit_tls, plain.starttls) == (
        "smtp.example.org",
        2525,
        False,
        "auto",
    )
    assert (plain.username, plain.password) == ("news@example.org", "p@ss word")
    assert smtp_url("smtp://smtp.example.org").port == 587
    implicit = smtp_url("smtps://u:p@smtp.example.org?cafile=/etc/relay.pem")
    assert (implicit.port, implicit.implicit_tls, implicit.cafile) == (465, True, "/etc/relay.pem")
    assert smtp_url("smtp://h.example?starttls=required").starttls == "required"
    assert smtp_url("  ") is None


@pytest.mark.parametrize(
    "raw",
    ["http://smtp.example.org", "smtp://", "smtp://h.example:99999", "smtp://h?starttls=maybe"],
)
def test_a_malformed_smtp_url_is_refused_without_showing_its_password(raw):
    with pytest.raises(ConfigError, match="SMTP_URL"):
        smtp_url(raw)


def test_the_password_is_not_in_the_message_about_a_bad_smtp_url():
    with pytest.raises(ConfigError) as refused:
        smtp_url("imap://user:hunter2-secret@h.example")
    assert "hunter2" not in str(refused.value)


def test_email_needs_a_sender():
    with pytest.raises(ConfigError, match="NOTIFY_FROM"):
        from_config({"SMTP_URL": "smtp://h.example", "MEMBERSHIP_ENV": "test"}, environ={})


def test_notify_key_must_be_fernet_keys_and_the_first_encrypts():
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with pytest.raises(ConfigError, match="NOTIFY_KEY"):
        from_config({"NOTIFY_KEY": "not a key"}, environ={})
    before = from_config({"NOTIFY_KEY": old}, environ={})
    token = secrets.encrypt(before.keys, "https://hooks.example/services/x")
    rolling = from_config({"NOTIFY_KEY": f"{new}, {old}"}, environ={})
    assert secrets.decrypt(rolling.keys, token) == "https://hooks.example/services/x"
    after = from_config({"NOTIFY_KEY": new}, environ={})
    assert secrets.decrypt(after.keys, secrets.encrypt(rolling.keys, "s")) == "s"
    with pytest.raises(secrets.SecretError, match="cannot be decrypted"):
        secrets.decrypt(after.keys, token)


def test_without_notify_key_development_derives_one_and_production_has_none():
    dev = from_config({"MEMBERSHIP_ENV": "development", "SECRET_KEY": "a"}, environ={})
    same = from_config({"MEMBERSHIP_ENV": "test", "SECRET_KEY": "a"}, environ={})
    other = from_config({"MEMBERSHIP_ENV": "development", "SECRET_KEY": "b"}, environ={})
    assert dev.keys == same.keys != other.keys
    assert from_config({"MEMBERSHIP_ENV": "production", "SECRET_KEY": "a"}, environ={}).keys == ()
    with pytest.raises(ConfigError, match="NOTIFY_KEY is not set"):
        secrets.encrypt((), "secret")


def test_the_environment_is_read_when_the_config_does_not_say():
    settings = from_config({}, environ={"NOTIFY_RETRY_SECONDS": "7", "NOTIFY_GIVE_UP_HOURS": "48"})
    assert (settings.first_retry, settings.max_retry, settings.give_up_hours) == (7, 3600, 48)
    with pytest.raises(ConfigError, match="NOTIFY_GIVE_UP_HOURS"):
        from_config({"NOTIFY_GIVE_UP_HOURS": "2"}, environ={})  # less than a day


def test_only_the_end_of_a_long_secret_is_ever_shown():
    assert secrets.hint("https://hooks.slack.com/services/T0/B0/abcdefWXYZ") == "…WXYZ"
    assert secrets.hint("short") == "…"
