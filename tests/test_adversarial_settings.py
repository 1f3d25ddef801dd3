"""Settings values that start the app but break it at run time."""

import pytest

from bot.settings import SettingsError, load_settings


@pytest.mark.parametrize("variable, value", [
    ("slash_command", "bounces"),
    ("support_email", "not-an-email"),
])
def test_invalid_value_stops_start_up(variable, value):
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None, **{variable: value})
    assert variable.upper() in str(error.value)
