"""Settings: config.toml, PORTAL_<KEY> overrides with the default's type, paths made absolute."""

import pytest

from portal.config import ROOT, ConfigError, load_config, secret_key


def test_defaults_are_documented_and_paths_absolute():
    config = load_config()
    assert config["DATABASE_URL"] == f"sqlite:///{ROOT / 'instance' / 'portal.db'}"
    assert config["REDIS_URL"] == f"unix://{ROOT / 'instance' / 'redis' / 'redis.sock'}"
    assert config["STORAGE_DIR"] == str(ROOT / "instance" / "storage")
    text = (ROOT / "config.toml").read_text()
    for key in config:
        assert f"\n{key} = " in text
        before = text.split(f"\n{key} = ")[0].rstrip().splitlines()[-1]
        assert before.startswith("#") or "=" in before, f"{key} has no comment"


def test_environment_overrides_use_the_type_of_the_default(monkeypatch):
    monkeypatch.setenv("PORTAL_HTTP_PORT", "8123")
    monkeypatch.setenv("PORTAL_HTTPS", "true")
    monkeypatch.setenv("PORTAL_SERVICE_PHONE", "(02)1234-5678")
    config = load_config()
    assert config["HTTP_PORT"] == 8123 and config["HTTPS"] is True and config["SERVICE_PHONE"] == "(02)1234-5678"


@pytest.mark.parametrize("key, value", [("PORTAL_HTTP_PORT", "eighty"), ("PORTAL_HTTPS", "maybe")])
def test_bad_environment_values_are_refused_with_the_key_named(monkeypatch, key, value):
    monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=key):
        load_config()


def test_secret_key_is_generated_once_and_kept(tmp_path):
    config = {"SECRET_KEY": "", "INSTANCE_DIR": str(tmp_path)}
    first = secret_key(config)
    assert len(first) == 64 and secret_key(config) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
