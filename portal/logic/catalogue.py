"""The 健保服務 catalogue (portal/data/services.toml): 業務代號, 業務別 and menu category."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from portal import refdata


@dataclass(frozen=True)
class Service:
    """One service of the catalogue."""

    code: str
    name: str
    category: str
    provisional: bool = False


@cache
def services() -> tuple[Service, ...]:
    """Every service, in catalogue order."""
    return tuple(Service(**row) for row in refdata.load("services")["service"])


def by_code() -> dict[str, Service]:
    """Services keyed by 業務代號."""
    return {s.code: s for s in services()}


def known(codes) -> set[str]:
    """The codes of the catalogue among the given ones."""
    return set(codes) & set(by_code())
