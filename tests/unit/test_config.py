"""Node configuration: defaults, TOML file, ``SPREADWIRE_`` environment overlay, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from spreadwire.config import NodeConfig, load
from spreadwire.errors import ConfigError
from spreadwire.risk.config import RateLimit

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "node.toml"


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "node.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_without_sources_returns_valid_defaults() -> None:
    config = load()

    assert config == NodeConfig()
    assert config.strategy.exit_z < config.strategy.entry_z < config.strategy.stop_z
    assert config.marketdata.stale_after_ns > 0


def test_load_example_file_is_valid() -> None:
    config = load(EXAMPLE)

    assert config.pairs == 2
    assert config.risk.max_order_quantity == "100000"


def test_load_toml_file_overrides_named_fields_and_keeps_others(tmp_path: Path) -> None:
    path = _toml(
        tmp_path,
        'seed = 11\n[risk]\nmax_order_quantity = "250"\n[strategy]\nwindow = 120\n',
    )

    config = load(path)

    assert (config.seed, config.risk.max_order_quantity, config.strategy.window) == (11, "250", 120)
    assert config.risk.collar_bps == NodeConfig().risk.collar_bps
    assert config.pairs == NodeConfig().pairs


def test_load_toml_nested_section_sets_one_field_keeps_sibling_defaults(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[risk.order_rate]\nlimit = 5\n")

    config = load(path)

    assert config.risk.order_rate == RateLimit(
        limit=5, interval_ns=NodeConfig().risk.order_rate.interval_ns
    )


def test_load_environment_overrides_top_level_field() -> None:
    config = load(environ={"SPREADWIRE_SEED": "3"})

    assert config.seed == 3


def test_load_environment_nested_double_underscore_sets_section_field() -> None:
    config = load(environ={"SPREADWIRE_RISK__MAX_ORDER_QUANTITY": "500"})

    assert config.risk.max_order_quantity == "500"


def test_load_environment_values_take_the_setting_type() -> None:
    environ = {
        "SPREADWIRE_API__ENABLED": "true",
        "SPREADWIRE_STRATEGY__ENTRY_Z": "2.5",
        "SPREADWIRE_STRATEGY__NOTIONAL": "5000",
        "SPREADWIRE_STORE__URL": "memory://",
        "SPREADWIRE_RISK__ORDER_RATE__LIMIT": "7",
    }

    config = load(environ=environ)

    assert config.api.enabled is True
    assert config.strategy.entry_z == 2.5
    assert config.strategy.notional == "5000"
    assert config.store.url == "memory://"
    assert config.risk.order_rate.limit == 7


def test_load_environment_overrides_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, "seed = 11\n[strategy]\nwindow = 120\n")

    config = load(path, environ={"SPREADWIRE_STRATEGY__WINDOW": "60"})

    assert (config.seed, config.strategy.window) == (11, 60)


def test_load_overrides_win_over_environment_and_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, "seed = 11\n")

    config = load(path, environ={"SPREADWIRE_SEED": "12"}, overrides={"seed": 13})

    assert config.seed == 13


def test_load_environment_ignores_other_variables() -> None:
    environ = {"HOME": "/root", "SPREADWIRE_API_KEY": "secret", "OTHER_SEED": "9"}

    config = load(environ=environ)

    assert config == NodeConfig()


@pytest.mark.parametrize(
    ("environ", "field"),
    [
        ({"SPREADWIRE_PAIRS": "99"}, "$.pairs"),
        ({"SPREADWIRE_SEED": "abc"}, "$.seed"),
        ({"SPREADWIRE_RISK__MAX_ORDER_QUANTITY": "-5"}, "$.risk.max_order_quantity"),
        ({"SPREADWIRE_RISK__MAX_ORDER_QUANTITY": "lots"}, "$.risk.max_order_quantity"),
        ({"SPREADWIRE_STRATEGY__WINDOW": "5"}, "$.strategy.window"),
        ({"SPREADWIRE_API__ENABLED": "maybe"}, "$.api.enabled"),
        ({"SPREADWIRE_MARKETDATA__STALE_AFTER_NS": "0"}, "$.marketdata.stale_after_ns"),
        ({"SPREADWIRE_GC__MODE": "sometimes"}, "$.gc.mode"),
        ({"SPREADWIRE_GC__SAFETY_LIMIT": "10"}, "$.gc.safety_limit"),
        ({"SPREADWIRE_DRIVER__IDLE": "doze"}, "$.driver.idle"),
        ({"SPREADWIRE_DRIVER__SHADOW": "true"}, "$.driver"),
    ],
)
def test_load_bad_environment_value_raises_config_error_naming_field(
    environ: dict[str, str], field: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load(environ=environ)

    assert f"`{field}`" in str(error.value)


def test_load_bad_file_value_raises_config_error_naming_field(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[risk]\nmax_order_quantity = 500\n")

    with pytest.raises(ConfigError) as error:
        load(path)

    assert "`$.risk.max_order_quantity`" in str(error.value)


def test_load_unknown_file_setting_raises_config_error_naming_it(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[risk]\nmax_order_quantiy = "5"\n')

    with pytest.raises(ConfigError) as error:
        load(path)

    assert "`$.risk.max_order_quantiy`" in str(error.value)


def test_load_unknown_nested_environment_setting_raises_config_error() -> None:
    with pytest.raises(ConfigError) as error:
        load(environ={"SPREADWIRE_STRATEGY__ENTRY": "3"})

    assert "`$.strategy.entry`" in str(error.value)


def test_load_unknown_setting_in_list_of_sections_raises_naming_index(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[[venue.generator.pairs]]\nleg_a = "AAA"\nleg_c = "CCC"\n')

    with pytest.raises(ConfigError) as error:
        load(path)

    assert "`$.venue.generator.pairs[0].leg_c`" in str(error.value)


def test_load_environment_value_into_scalar_raises_config_error() -> None:
    with pytest.raises(ConfigError) as error:
        load(environ={"SPREADWIRE_SEED__X": "1"})

    assert "$.seed" in str(error.value)


def test_load_missing_file_raises_config_error_naming_path(tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"

    with pytest.raises(ConfigError) as error:
        load(missing)

    assert "no such file" in str(error.value)
    assert str(missing) in str(error.value)


def test_load_directory_as_file_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load(tmp_path)

    assert str(tmp_path) in str(error.value)


def test_load_malformed_toml_raises_config_error_naming_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, "seed = = 3\n")

    with pytest.raises(ConfigError) as error:
        load(path)

    assert str(path) in str(error.value)


def test_load_driver_idle_from_file_and_default_sleep(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[driver]\nidle = "spin"\n')

    assert load(path).driver.idle == "spin"
    assert load().driver.idle == "sleep"
