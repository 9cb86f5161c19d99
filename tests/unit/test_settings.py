"""Settings: one group per concern, each variable read by one group, each group read once and on its own."""

import pytest
from pydantic import ValidationError

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
    from pydantic_settings import BaseSettings

    declared = {
        value
        for value in vars(settings_module).values()
        if isinstance(value, type) and issubclass(value, BaseSettings) and value not in (BaseSettings, SettingsGroup)
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
