"""Agent settings: documented defaults, --config FILE, CARDAGENT_<KEY> with the default's type."""

from pathlib import Path

import pytest

from portal.cardagent import protocol
from portal.cardagent.config import DEFAULT_PATH, ConfigError, load_config


def test_defaults_match_the_spec_table(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={})
    assert config["PORT"] == protocol.DEFAULT_AGENT_PORT == 17777
    assert config["BACKEND"] == "soft"
    assert config["ALLOWED_ORIGINS"] == ["http://localhost:8000", "http://127.0.0.1:8000"]
    assert config["READERS"] == []
    assert config["SOFT_CARDS_DIR"] == str(tmp_path / "instance" / "cardagent" / "cards")
    assert config["CLOUD_MODULE"] == str(tmp_path / "instance" / "cardagent" / "module")


def test_every_key_is_documented_in_config_toml():
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    for key in ("PORT", "ALLOWED_ORIGINS", "BACKEND", "SOFT_CARDS_DIR", "CLOUD_MODULE", "READERS"):
        before = text.split(f"\n{key} = ")[0]
        assert before.rstrip().splitlines()[-1].startswith("#"), f"{key} has no comment above it"


def test_environment_overrides_with_the_type_of_the_default():
    config = load_config(environ={
        "CARDAGENT_PORT": "18888",
        "CARDAGENT_ALLOWED_ORIGINS": "https://portal.example, http://localhost:8000",
        "CARDAGENT_BACKEND": "pcsc",
        "CARDAGENT_READERS": '[{match = "Virtual PCD 00 00", type = "nhi-reader", sam = "Virtual PCD 00 01"}]',
    })
    assert config["PORT"] == 18888
    assert config["ALLOWED_ORIGINS"] == ["https://portal.example", "http://localhost:8000"]
    assert config["BACKEND"] == "pcsc"
    assert config["READERS"] == [{"match": "Virtual PCD 00 00", "type": "nhi-reader", "sam": "Virtual PCD 00 01"}]


def test_origins_list_may_come_as_a_toml_array():
    config = load_config(environ={"CARDAGENT_ALLOWED_ORIGINS": '["https://portal.example:8443"]'})
    assert config["ALLOWED_ORIGINS"] == ["https://portal.example:8443"]


def test_config_file_changes_only_its_keys_and_relative_paths_follow_the_current_directory(tmp_path, monkeypatch):
    path = tmp_path / "agent.toml"
    path.write_text('PORT = 17000\nSOFT_CARDS_DIR = "cards"\n[[READERS]]\nmatch = "EZ100"\ntype = "chip-reader"\n')
    monkeypatch.chdir(tmp_path / "..")
    config = load_config(path, environ={"CARDAGENT_PORT": "17001"})
    assert config["PORT"] == 17001  # the environment wins over the file
    assert config["BACKEND"] == "soft"
    assert config["SOFT_CARDS_DIR"] == str(Path.cwd() / "cards")
    assert config["READERS"] == [{"match": "EZ100", "type": "chip-reader"}]


@pytest.mark.parametrize(("environ", "message"), [
    ({"CARDAGENT_PORT": "seventeen"}, "whole number"),
    ({"CARDAGENT_PORT": "70000"}, "PORT"),
    ({"CARDAGENT_BACKEND": "pkcs11"}, "BACKEND"),
    ({"CARDAGENT_ALLOWED_ORIGINS": "https://portal.example/login"}, "not an origin"),
    ({"CARDAGENT_ALLOWED_ORIGINS": "portal.example"}, "not an origin"),
    ({"CARDAGENT_READERS": '[{match = "X", type = "usb"}]'}, "type"),
    ({"CARDAGENT_READERS": '[{type = "nhi-reader"}]'}, "match"),
    ({"CARDAGENT_READERS": '[{match = "X", type = "nhi-reader", slot = 2}]'}, "table of"),
    ({"CARDAGENT_READERS": "[{match = "}, "TOML array"),
])
def test_unusable_values_are_refused_with_the_key_named(environ, message):
    with pytest.raises(ConfigError, match=message):
        load_config(environ=environ)


def test_unknown_key_in_a_config_file_is_refused(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text("PROT = 1\n")
    with pytest.raises(ConfigError, match="PROT"):
        load_config(path, environ={})
