"""The 服務項目 menu around every page after login (SPEC H4–H6, H9).

Which items the left column lists depends on where the user is: the fifteen
categories on 我的首頁 and pages outside the tree, a category's groups on its
layer-2 page, a group's functions on the group page and on each function
screen. Views of the tree set `g.menu_item`; screens of this portal that are
menu leaves (the 機構授權作業 pages …) are found by their endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from portal.logic import menu
from portal.memo import memo
from portal.models.announcements import MEMBER_KINDS


@dataclass(frozen=True)
class SideMenu:
    """What the left column shows."""

    nodes: list
    here: menu.Item | None
    open: frozenset

    def is_open(self, item: menu.Item) -> bool:
        """Whether the user may open the item (grey text otherwise)."""
        return item.code in self.open

    def visible_children(self, item: menu.Item) -> list:
        """Below a category, only what the user may open is listed (seed 000: 「使用者有權限的所有作業」)."""
        return [child for child in item.children if child.code in self.open]


def open_codes() -> frozenset:
    """Codes this session may open, computed once per request."""
    if "menu_open" not in g:
        g.menu_open = menu.open_codes(current_user.access) if current_user.is_authenticated else frozenset()
    return g.menu_open


def current_item() -> menu.Item | None:
    """The menu item of this page, if it is one."""
    return g.get("menu_item") or menu.for_endpoint(request.endpoint)


def side_menu() -> SideMenu:
    """The left column for this page."""
    here, allowed = current_item(), open_codes()
    if here is None:
        nodes = list(menu.menu().categories)
    elif here.is_leaf:
        nodes = [i for i in menu.siblings(here) if i.code in allowed]
    else:
        nodes = [i for i in here.children if i.code in allowed]
    return SideMenu(nodes, here, allowed)


def side_menu_html() -> Markup:
    """The rendered left column; the same for every user with these grants on this page."""
    here = current_item()
    key = ("side-menu", open_codes(), here.code if here else None, request.endpoint == "files.shortcut")
    return memo(key, lambda: Markup(render_template("components/side_menu.html")))


def item_url(item: menu.Item) -> str:
    """Where an item leads: a screen of this portal directly, otherwise its page under /services."""
    if item.is_leaf and item.endpoint:
        # Screens that serve several leaves (the 查詢下載 screens) take the leaf's code.
        return url_for(item.endpoint, code=item.code) if _takes_code(item.endpoint) else url_for(item.endpoint)
    return url_for("services.show", code=item.code)


def _takes_code(endpoint: str) -> bool:
    """Whether the endpoint's URL has a <code> part."""
    return any("code" in rule.arguments for rule in current_app.url_map.iter_rules(endpoint))


def init_app(app) -> None:
    """Templates call side_menu() and item_url()."""
    app.jinja_env.globals.update(side_menu=side_menu, side_menu_html=side_menu_html, current_item=current_item, item_url=item_url, menu_path=menu.path,
                                 MEMBER_KINDS=MEMBER_KINDS, contact_topic=menu.contact_category,
                                 has_endpoint=lambda name: name in app.view_functions)
