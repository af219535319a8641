"""Settings: one object from the environment and an optional .env file."""

from pathlib import Path

import pytest

from planwh.settings import PROJECT_ROOT, SettingsError, load_settings


def test_defaults_need_nothing_configured(tmp_path: Path) -> None:
    # GIVEN an empty environment and no .env file
    settings = load_settings({"PLANWH_DOTENV": str(tmp_path / "absent.env")})
    # THEN the embedded warehouse is used and every folder sits in the project
    assert settings.uses_embedded
    assert settings.national_url is None
    assert settings.state_dir == PROJECT_ROOT / ".state"
    assert settings.landing_dir == PROJECT_ROOT / "landing"
    assert settings.airflow_home == settings.state_dir / "airflow"
    assert settings.pgdata_dir == settings.state_dir / "pgdata"


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "PLANWH_WAREHOUSE_URL=postgresql://a@db:5432/wh\n"
        "PLANWH_LANDING_DIR=/srv/landing\n"
        "PLANWH_MAX_FILE_MB=5\n"
    )
    settings = load_settings(
        {"PLANWH_DOTENV": str(dotenv), "PLANWH_LANDING_DIR": str(tmp_path / "in")}
    )
    assert settings.warehouse_url == "postgresql://a@db:5432/wh"
    assert not settings.uses_embedded
    assert settings.landing_dir == tmp_path / "in"
    assert settings.max_file_bytes == 5 * 1024 * 1024


def test_state_dir_moves_airflow_home_with_it(tmp_path: Path) -> None:
    settings = load_settings({"PLANWH_DOTENV": "/nonexistent", "PLANWH_STATE_DIR": str(tmp_path)})
    assert settings.airflow_home == tmp_path / "airflow"
    assert settings.archive_dir == tmp_path / "archive"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PLANWH_WAREHOUSE_URL", "mysql://root@localhost/x", "must be a PostgreSQL URL"),
        ("PLANWH_MAX_FILE_MB", "lots", "whole number"),
        ("PLANWH_EMBEDDED_PORT", "-1", "positive"),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as info:
        load_settings({"PLANWH_DOTENV": "/nonexistent", name: value})
    assert name in str(info.value)


def test_url_error_does_not_echo_the_password() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({"PLANWH_DOTENV": "/nonexistent", "PLANWH_WAREHOUSE_URL": "mysql://u:s3cret@h/x"})
    assert "s3cret" not in str(info.value)


def test_pseudonym_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = load_settings({"PLANWH_DOTENV": "/nonexistent", "PLANWH_STATE_DIR": str(tmp_path)})
    first = settings.pseudonym_key
    again = load_settings({"PLANWH_DOTENV": "/nonexistent", "PLANWH_STATE_DIR": str(tmp_path)}).pseudonym_key
    assert first == again and len(first) == 64
    assert (tmp_path / "pseudonym.key").stat().st_mode & 0o777 == 0o600
    assert first.decode() not in repr(settings)


def test_configured_pseudonym_key_is_used_and_not_in_repr() -> None:
    settings = load_settings({"PLANWH_DOTENV": "/nonexistent", "PLANWH_PSEUDONYM_KEY": "k-123-secret"})
    assert settings.pseudonym_key == b"k-123-secret"
    assert "k-123-secret" not in repr(settings)
