"""健保資訊網服務系統 (VPN).

This package holds both the web portal and the card agent (portal.cardagent),
which runs on clinic PCs without Flask; so nothing here imports Flask until
create_app() is called.
"""

from __future__ import annotations


def create_app(overrides: dict | None = None):
    """Build the Flask app (see portal.factory)."""
    from portal.factory import create_app as build

    return build(overrides)
