"""Settings are built once from environment and flags; wrong values stop with one sentence."""

from __future__ import annotations

import pytest

from edgar_ingest.errors import ConfigError
from edgar_ingest.settings import Settings, normalise_database_url


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
