"""Settings: the documented config.toml, an optional --config FILE, CARDAGENT_<KEY> variables."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from portal.cardagent import protocol
from portal.cardagent.checks import origin_of

DEFAULT_PATH = Path(__file__).with_name("config.toml")
ENV_PREFIX = "CARDAGENT_"
PATH_KEYS = ("SOFT_CARDS_DIR", "CLOUD_MODULE")
BACKENDS = ("soft", "pcsc")
READER_KEYS = {"match", "type", "sam"}


class ConfigError(ValueError):
    """A setting the agent cannot use."""


def load_config(path: str | os.PathLike | None = None, overrides: dict | None = None,
                environ: dict | None = None) -> dict:
    """Defaults, then FILE, then CARDAGENT_<KEY>, then explicit overrides; checked, paths absolute."""
    config = _read(DEFAULT_PATH)
    if path is not None:
        extra = _read(Path(path))
        unknown = sorted(set(extra) - set(config))
        if unknown:
            raise ConfigError(f"{path}: unknown settings {', '.join(unknown)}")
        config.update(extra)
    environ = os.environ if environ is None else environ
    for key, default in list(config.items()):
        raw = environ.get(ENV_PREFIX + key)
        if raw is not None:
            config[key] = _coerce(key, raw, default)
    config.update(overrides or {})
    return _checked(config)


def _read(path: Path) -> dict:
    """A TOML file, or ConfigError naming it."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _coerce(key: str, raw: str, default):
    """An environment string read with the type of the default value."""
    name = ENV_PREFIX + key
    if isinstance(default, bool):
        if raw.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return raw.lower() in ("1", "true", "yes", "on")
        raise ConfigError(f"{name} must be true or false, not {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if isinstance(default, list):
        if raw.lstrip().startswith("["):
            try:
                return tomllib.loads(f"value = {raw}")["value"]
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{name} is not a TOML array: {exc}") from None
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def _checked(config: dict) -> dict:
    """Reject values the agent cannot use; normalise origins; make paths absolute."""
    port = config["PORT"]
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"PORT must be 0–65535 (0: any free port), not {port!r}")
    if config["BACKEND"] not in BACKENDS:
        raise ConfigError(f"BACKEND must be one of {', '.join(BACKENDS)}, not {config['BACKEND']!r}")
    origins = []
    for value in config["ALLOWED_ORIGINS"]:
        origin = origin_of(value) if isinstance(value, str) else None
        if origin is None or origin != value.lower().rstrip("/"):
            raise ConfigError(f"ALLOWED_ORIGINS: {value!r} is not an origin like https://portal.example")
        origins.append(origin)
    config["ALLOWED_ORIGINS"] = origins
    config["READERS"] = [_reader(entry) for entry in config["READERS"]]
    for key in PATH_KEYS:
        config[key] = str(Path(config[key]).expanduser().resolve())
    return config


def _reader(entry) -> dict:
    """One READERS table, checked."""
    if not isinstance(entry, dict) or set(entry) - READER_KEYS:
        raise ConfigError(f"READERS: {entry!r} must be a table of {', '.join(sorted(READER_KEYS))}")
    if not isinstance(entry.get("match"), str) or not entry["match"]:
        raise ConfigError(f"READERS: {entry!r} needs a match (part of the reader name)")
    if entry.get("type") not in protocol.READER_TYPES:
        raise ConfigError(f"READERS: type must be one of {', '.join(protocol.READER_TYPES)}")
    if "sam" in entry and (not isinstance(entry["sam"], str) or not entry["sam"]):
        raise ConfigError(f"READERS: sam of {entry['match']!r} must be part of a reader name")
    return dict(entry)
