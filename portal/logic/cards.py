"""Card and reader types of the login (SPEC L1), from portal/data/cards.toml."""

from __future__ import annotations

from portal import refdata


def card_types() -> list[dict]:
    """[{code, name}] in display order."""
    return refdata.load("cards")["card"]


def readers() -> list[dict]:
    """[{code, name, cards}] in display order."""
    return refdata.load("cards")["reader"]


def find_card(code: str | None) -> dict | None:
    """The card type with this code, or None."""
    return next((c for c in card_types() if c["code"] == code), None)


def readers_for(card_code: str) -> list[dict]:
    """Readers that accept a card type."""
    return [r for r in readers() if card_code in r["cards"]]
