"""Settings are built once from environment and flags; wrong values stop with one sentence."""

from __future__ import annotations

import pytest

from edgar_ingest.errors import ConfigError
from edgar_ingest.settings import Settings, normalise_database_url, redact_database_url


def test_defaults_follow_the_design_contract() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite:///edgar_ingest.db"
    assert settings.user_agent is None
    assert settings.base_url == "https://www.sec.gov"
    assert settings.data_url == "https://data.sec.gov"
    assert settings.max_rps == 10
    assert settings.block_pause_s == 600


def test_flags_override_environment() -> None:
    env = {"EDGAR_INGEST_MAX_RPS": "5", "EDGAR_INGEST_BASE_URL": "http://127.0.0.1:9/"}
    settings = Settings.from_env(env, max_rps="2.5", base_url=None)
    assert settings.max_rps == 2.5
    assert settings.base_url == "http://127.0.0.1:9"


@pytest.mark.parametrize("value", ["10.5", "0", "-1", "many"])
def test_max_rps_above_the_sec_limit_or_not_a_rate_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="request rate"):
        Settings.from_env({"EDGAR_INGEST_MAX_RPS": value})


@pytest.mark.parametrize("agent", [None, "", "Acme Research", "acme at example dot com"])
def test_user_agent_without_an_email_is_refused(agent: str | None) -> None:
    settings = Settings.from_env({}, user_agent=agent)
    with pytest.raises(ConfigError, match="User-Agent"):
        settings.require_user_agent()


def test_user_agent_with_an_email_is_accepted() -> None:
    settings = Settings.from_env({"EDGAR_INGEST_USER_AGENT": "Acme Research data@acme.example"})
    assert settings.require_user_agent() == "Acme Research data@acme.example"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_postgres_urls_map_to_the_installed_driver(url: str, expected: str) -> None:
    assert normalise_database_url(url) == expected


def test_a_database_url_that_is_not_a_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="not a URL"):
        normalise_database_url("edgar.db")


@pytest.mark.parametrize("url", ["mysql://u:p@h/db", "mssql+pyodbc://h/db", "oracle+cx_oracle://h/db"])
def test_a_database_other_than_sqlite_or_postgresql_is_refused_by_its_scheme_alone(url: str) -> None:
    with pytest.raises(ConfigError, match="is not supported") as refused:
        normalise_database_url(url)
    assert url.split("://")[1] not in str(refused.value)  # the rest may hold a password


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e300", "-1", "86401", "ten"])
def test_a_block_pause_that_is_not_a_finite_number_of_seconds_up_to_a_day_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^The block pause ") as refused:
        Settings.from_env({"EDGAR_INGEST_BLOCK_PAUSE_S": value})
    assert str(refused.value).count(". ") == 0  # one sentence


@pytest.mark.parametrize("value", ["nan", "inf", "NaN", "1e300"])
def test_a_request_rate_that_is_not_a_finite_number_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^The maximum request rate "):
        Settings.from_env({}, max_rps=value)


def test_a_block_pause_of_zero_to_a_day_is_accepted() -> None:
    assert Settings.from_env({}, block_pause_s="0").block_pause_s == 0
    assert Settings.from_env({}, block_pause_s="86400").block_pause_s == 86_400


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("SQLITE:///x.db", "sqlite:///x.db"),
        ("Postgresql://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("POSTGRES://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@[::1]:5432/db", "postgresql+psycopg://u@[::1]:5432/db"),
    ],
)
def test_a_scheme_in_capitals_is_read_as_the_same_scheme(url: str, expected: str) -> None:
    # RFC 3986: schemes are case-insensitive; SQLAlchemy knows its dialects in lower case only.
    assert normalise_database_url(url) == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("u:secret@h/db", "is not a URL"),
        ("postgresql://u:secret@h:99999/db", "has port 99999: a port is a number from 1 to 65535"),
        ("postgresql://u:secret@h:0/db", "has port 0"),
        ("postgresql://u:secret@h:abc/db", "cannot be parsed"),
        ("postgresql://u:secret@[::1/db", "cannot be parsed"),
        ("postgresql://u:secret@::1/db", "cannot be parsed"),
    ],
)
def test_a_database_url_that_cannot_be_parsed_is_one_sentence_without_its_password(
    url: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        normalise_database_url(url)
    message = str(refused.value)
    assert reason in message
    assert "secret" not in message
    assert "u:***@" in message
    assert refused.value.__cause__ is None  # no chained error that quotes the URL


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:secret@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:se:cr@et@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgresql://u:secret@[::1/db", "postgresql://u:***@[::1/db"),
        ("u:secret@h/db", "u:***@h/db"),
        (
            "postgresql://u@h/db?sslmode=require&password=secret",
            "postgresql://u@h/db?sslmode=require&password=***",
        ),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_a_database_url_is_shown_without_its_password_whether_or_not_it_parses(url: str, shown: str) -> None:
    assert redact_database_url(url) == shown
