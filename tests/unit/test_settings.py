"""Settings: one group per concern, each variable read by one group, each group read once and on its own."""

import pytest
from pydantic import BaseModel, ValidationError

from shared import settings as settings_module
from shared.settings import ApiSettings, SettingsGroup, StoreSettings, WebhookSettings, WebhookUrlSettings, settings
from shared.wiring import reset


def _groups() -> list[type[SettingsGroup]]:
    return SettingsGroup.__subclasses__()


def _variables(group: type[SettingsGroup]) -> set[str]:
    names = {field.validation_alias for field in group.model_fields.values()}
    assert all(isinstance(name, str) for name in names), f"{group.__name__}: every field names its variable"
    return {str(name) for name in names}


def test_every_group_of_the_module_is_a_settings_group() -> None:
    """The alias check below sees every group: none bypasses the base class."""
    declared = {
        value
        for value in vars(settings_module).values()
        if isinstance(value, type) and issubclass(value, BaseModel) and value not in (BaseModel, SettingsGroup)
    }
    assert declared == set(_groups())


def test_each_variable_is_read_by_one_group() -> None:
    readers: dict[str, list[str]] = {}
    for group in _groups():
        for variable in _variables(group):
            readers.setdefault(variable, []).append(group.__name__)
    assert {variable: groups for variable, groups in readers.items() if len(groups) > 1} == {}


def test_webhook_url_policy_is_its_own_group() -> None:
    """Both the API (accepting a URL) and delivery (reaching it) read it; delivery's group does not."""
    assert _variables(WebhookUrlSettings) == {"WEBHOOKS_ALLOW_INSECURE"}
    assert "WEBHOOKS_ALLOW_INSECURE" not in _variables(WebhookSettings)


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    for group in _groups():
        for variable in _variables(group):
            monkeypatch.delenv(variable, raising=False)
    reset()


@pytest.mark.usefixtures("fresh")
def test_a_group_reads_only_its_own_variables() -> None:
    """A function without TABLE_NAME (GetHealth) still reads the API's knobs; the store's group alone fails."""
    assert settings(ApiSettings).max_wait_seconds == 20.0
    with pytest.raises(ValidationError, match="TABLE_NAME"):
        settings(StoreSettings)


@pytest.mark.usefixtures("fresh")
def test_a_group_is_read_once_until_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "first")
    read = settings(StoreSettings)
    monkeypatch.setenv("TABLE_NAME", "second")

    assert settings(StoreSettings) is read
    reset()
    assert settings(StoreSettings).table_name == "second"


@pytest.mark.usefixtures("fresh")
def test_variables_are_validated_as_their_fields_types(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_WAIT_SECONDS", "12.5")
    monkeypatch.setenv("WEBHOOKS_ALLOW_INSECURE", "true")
    monkeypatch.setenv("RETENTION_DAYS", "30")
    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.setenv("table_name", "not read: variable names are exact")

    assert settings(ApiSettings).max_wait_seconds == 12.5
    assert settings(WebhookUrlSettings).allow_insecure is True
    assert settings(StoreSettings) == StoreSettings(TABLE_NAME="t", RETENTION_DAYS=30)


@pytest.mark.usefixtures("fresh")
@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TABLE_NAME", "", "at least 1 character"),  # set but empty is a value, not a default
        ("RETENTION_DAYS", "0", "greater than or equal to 1"),
        ("RETENTION_DAYS", "a week", "valid integer"),
    ],
)
def test_a_bad_variable_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=message) as refused:
        settings(StoreSettings)
    assert variable in str(refused.value)
