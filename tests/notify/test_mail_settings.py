"""Mail settings come from KHENTHUONG_SMTP_*, KHENTHUONG_MAILDIR and KHENTHUONG_BASE_URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from khenthuong.notify.mail_settings import MailSettings


def test_settings_read_their_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each field is read from its documented environment variable."""
    env = {
        "KHENTHUONG_SMTP_HOST": "mailpit",
        "KHENTHUONG_SMTP_PORT": "1025",
        "KHENTHUONG_SMTP_SECURITY": "starttls",
        "KHENTHUONG_SMTP_USERNAME": "tdkt",
        "KHENTHUONG_SMTP_PASSWORD": "changethis",
        "KHENTHUONG_SMTP_TIMEOUT": "2.5",
        "KHENTHUONG_SMTP_SENDER": "tdkt@tinh.gov.vn",
        "KHENTHUONG_MAILDIR": "/srv/khenthuong/maildir",
        "KHENTHUONG_BASE_URL": "https://tdkt.example.vn",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = MailSettings(_env_file=None)
    assert (settings.host, settings.port, settings.security) == ("mailpit", 1025, "starttls")
    assert settings.username == "tdkt"
    assert settings.password is not None
    assert settings.password.get_secret_value() == "changethis"
    assert settings.timeout == 2.5
    assert settings.sender == "tdkt@tinh.gov.vn"
    assert settings.maildir == Path("/srv/khenthuong/maildir")
    assert settings.base_url == "https://tdkt.example.vn"


def test_defaults_mean_embedded_maildir_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing set there is no SMTP host, mail goes to ./var/maildir and links are off."""
    for name in ("KHENTHUONG_SMTP_HOST", "KHENTHUONG_MAILDIR", "KHENTHUONG_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = MailSettings(_env_file=None)
    assert settings.host is None
    assert settings.maildir == Path("var/maildir")
    assert settings.base_url is None
    assert settings.sender_name == "Hệ thống Thi đua – Khen thưởng"


def test_unknown_security_is_rejected() -> None:
    """A security mode other than none, starttls or ssl is a configuration error."""
    with pytest.raises(ValueError, match="security"):
        MailSettings.model_validate({"security": "tls"})
