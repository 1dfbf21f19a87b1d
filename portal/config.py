"""Settings from config.toml, PORTAL_<KEY> environment variables and test overrides.

Used by create_app() and by the worker, the scheduler and the launcher, none of
which build a Flask app.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "PORTAL_"


class ConfigError(ValueError):
    """A setting has a value the portal cannot use."""


def load_config(overrides: dict | None = None, path: str | os.PathLike | None = None) -> dict:
    """Return every setting, with environment and explicit overrides applied."""
    path = Path(path or os.environ.get("PORTAL_CONFIG") or ROOT / "config.toml")
    with open(path, "rb") as fh:
        config = tomllib.load(fh)
    base = path.resolve().parent
    for key, default in list(config.items()):
        raw = os.environ.get(ENV_PREFIX + key)
        if raw is not None:
            config[key] = _coerce(key, raw, default)
    config.update(overrides or {})
    return _resolve_paths(config, base)


def _coerce(key: str, raw: str, default):
    """Read an environment string with the type of the default value."""
    if isinstance(default, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{ENV_PREFIX}{key} must be true or false, not {raw!r}")
    if isinstance(default, list):
        return [item.strip() for item in raw.split(",") if item.strip()]
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{key} must be a whole number, not {raw!r}") from None
    return raw


def _resolve_paths(config: dict, base: Path) -> dict:
    """Make folder settings and file-based URLs absolute, relative to config.toml."""
    for key in [k for k in config if k.endswith("_DIR")]:
        config[key] = str((base / config[key]).resolve())
    db_url = config.get("DATABASE_URL", "")
    if db_url.startswith("sqlite:///") and not db_url.startswith("sqlite:////"):
        rel = db_url[len("sqlite:///"):]
        if rel != ":memory:":
            config["DATABASE_URL"] = "sqlite:///" + str((base / rel).resolve())
    redis_url = config.get("REDIS_URL", "")
    if redis_url.startswith("unix://") and not redis_url.startswith("unix:///"):
        config["REDIS_URL"] = "unix://" + str((base / redis_url[len("unix://"):]).resolve())
    return config


def secret_key(config: dict) -> str:
    """The configured secret, or one generated once and kept in the instance folder."""
    if config.get("SECRET_KEY"):
        return config["SECRET_KEY"]
    path = Path(config["INSTANCE_DIR"]) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"secret_key.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        # link() fails if another process won the race; everyone then reads the winner's key.
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()
