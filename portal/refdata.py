"""Reference data shipped as files under portal/data/ (an NHIA change is a data edit)."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


@cache
def load(name: str) -> dict:
    """A TOML file of portal/data/ (name without extension), parsed once per process."""
    with open(DATA_DIR / f"{name}.toml", "rb") as fh:
        return tomllib.load(fh)
