"""醫事機構登入 (L1): choose card and reader. The card sign-in itself arrives with issue 3."""

from __future__ import annotations

from flask import Blueprint, request

from portal.htmx import render_page
from portal.logic import cards
from portal.pagecache import cached_page

bp = Blueprint("auth", __name__)


@bp.get("/login")
@cached_page
def login():
    """Card type and reader choice, telling which readers take the chosen card."""
    card = cards.find_card(request.args.get("card"))
    reader = next((r for r in cards.readers() if r["code"] == request.args.get("reader")), None)
    mismatch = bool(card and reader and card["code"] not in reader["cards"])
    return render_page(
        "auth/login.html", cards=cards.card_types(), readers=cards.readers(),
        card=card, reader=reader, mismatch=mismatch,
        compatible=cards.readers_for(card["code"]) if card else [],
    )
