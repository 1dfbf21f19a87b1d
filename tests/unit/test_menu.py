"""The A–O 服務項目 menu (portal/data/menu.toml, portal/logic/menu.py): shape, targets, and who may open what."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import pytest

from portal import refdata
from portal.logic import catalogue, file_queries, menu
from portal.logic.authority import Access

CODE = re.compile(r"^[A-O](\.\d{2}){0,2}$")
# SPEC H4: the fifteen categories.
CATEGORIES = {
    "A": "費用申報及資料登錄", "B": "審查作業(含事前審查)", "C": "特約機構資料維護", "D": "照護計畫維護追蹤",
    "E": "費用支付資料下載", "F": "轉診及轉介", "G": "居家醫療", "H": "健保卡上傳資訊",
    "I": "檢驗(查)結果、影像及出院病摘上傳", "J": "醫療資訊雲端系統", "K": "資料交換與查詢",
    "L": "藥材調查及診療增修", "M": "行政協助項目", "N": "偏鄉醫師人力需求", "O": "機構授權作業",
}
ROLES = {"representative", "manager"}


def items():
    return list(menu.menu().by_code.values())


def leaves():
    return [i for i in items() if i.is_leaf]


def test_codes_are_unique_and_well_formed():
    rows = refdata.load("menu")["item"]
    counts = Counter(row["code"] for row in rows)
    assert [code for code, n in counts.items() if n > 1] == []
    assert [code for code in counts if not CODE.match(code)] == []
    assert len(items()) == len(rows)


def test_the_fifteen_categories_of_spec_h4_in_order():
    assert {c.code: c.title for c in menu.menu().categories} == CATEGORIES
    assert [c.code for c in menu.menu().categories] == list(CATEGORIES)
    assert all(c.label == c.code + c.title for c in menu.menu().categories)


def test_every_item_has_its_parent_and_three_levels_at_most():
    rows = refdata.load("menu")["item"]
    seen = set()
    for row in rows:
        code = row["code"]
        if "." in code:
            assert code.rsplit(".", 1)[0] in seen, f"{code} comes before its parent"
        seen.add(code)
    for item in items():
        if item.level > 1:
            parent = menu.find(item.parent)
            assert parent is not None and item in parent.children and parent.level == item.level - 1
    # Categories hold groups, groups hold functions: a function is always at level 3.
    assert all(item.level == 3 for item in leaves())
    assert all(item.children for item in items() if item.level < 3)


def test_a_and_b_are_complete_as_in_the_seed_site_map():
    assert [g.code for g in menu.find("A").children] == [f"A.{n:02d}" for n in range(1, 8)]
    assert [g.code for g in menu.find("B").children] == [f"B.{n:02d}" for n in range(1, 8)]
    assert menu.find("A.01").title == "醫療費用申報" and len(menu.find("A.01").children) >= 10
    assert menu.find("B.01").title == "事前審查"
    assert all(menu.find(code).children for code in "CDEFGHIJKLMNO")


def test_every_function_has_exactly_one_target_and_one_way_to_be_allowed():
    subsystems = menu.menu().subsystems
    services = set(catalogue.by_code())
    for leaf in leaves():
        targets = [t for t in (leaf.endpoint, leaf.subsystem, leaf.external) if t]
        assert len(targets) == 1, (leaf.code, targets)
        assert bool(leaf.service) != bool(leaf.roles), leaf.code
        if leaf.external:
            assert leaf.external.startswith("/") and "//" not in leaf.external and " " not in leaf.external, leaf.code
        if leaf.subsystem:
            assert leaf.subsystem in subsystems, leaf.code
        if leaf.service:
            assert leaf.service in services, (leaf.code, leaf.service)
        assert set(leaf.roles) <= ROLES, leaf.code
    for item in items():
        if not item.is_leaf:
            assert not (item.endpoint or item.subsystem or item.external or item.service or item.roles), item.code


def test_every_endpoint_is_one_function_and_external_paths_are_distinct():
    endpoints = Counter(leaf.endpoint for leaf in leaves() if leaf.endpoint)
    # One screen serves every 查詢下載 leaf, told apart by the leaf's code in its URL.
    assert [e for e, n in endpoints.items() if n > 1] == ["payments.query"]
    assert {leaf.code for leaf in leaves() if leaf.endpoint == "payments.query"} == set(file_queries.SCREENS)
    assert menu.for_endpoint("authority.services").code == "O.02.01"
    assert menu.for_endpoint("nope") is None and menu.for_endpoint(None) is None
    external = Counter(leaf.external for leaf in leaves() if leaf.external)
    assert [e for e, n in external.items() if n > 1] == []


def test_titles_are_there_and_labels_carry_the_code():
    for item in items():
        assert item.title.strip() == item.title and item.title, item.code
        if item.level > 1:
            assert item.label == f"{item.code} {item.title}"


def test_every_service_opens_something():
    used = {leaf.service for leaf in leaves() if leaf.service}
    assert set(catalogue.by_code()) - used == set()


def test_a_services_category_is_where_its_functions_are():
    where = defaultdict(set)
    for leaf in leaves():
        if leaf.service:
            where[leaf.service].add(leaf.code[0])
    wrong = {s.code: (s.category, sorted(where[s.code])) for s in catalogue.services()
             if s.category not in where[s.code]}
    assert wrong == {}


@pytest.mark.parametrize("code", ["", None, "Z", "a", "A.", "A.1", "A.99", "A.01.01.01", "../A", "A ", " A"])
def test_unknown_or_malformed_codes_are_not_found(code):
    assert menu.find(code) is None


def test_path_siblings_and_contact_category():
    leaf = menu.find("A.01.01")
    assert [i.code for i in menu.path(leaf)] == ["A", "A.01", "A.01.01"]
    assert [i.code for i in menu.path(menu.find("A"))] == ["A"]
    assert menu.find("A.01.01") in menu.siblings(leaf) and all(i.parent == "A.01" for i in menu.siblings(leaf))
    assert [i.code for i in menu.siblings(menu.find("A"))] == list(CATEGORIES)
    assert menu.contact_category(leaf) == "醫療費用申報"
    assert all(menu.contact_category(item) for item in items()), "every item leads to a 聯絡窗口 服務類別"


def test_who_may_open_what():
    nobody = Access()
    assert menu.open_codes(nobody) == frozenset()
    ipa = menu.open_codes(Access(services=frozenset({"IPA"})))
    assert {c for c in ipa if "." not in c} == {"H"}
    assert {"H", "H.01", "H.01.01", "H.02", "H.02.03"} <= ipa
    rwm = menu.open_codes(Access(services=frozenset({"RWM"})))
    assert {c for c in rwm if "." not in c} == {"A", "B"}
    assert "A.02" not in rwm and "A.01.05" not in rwm and "A.01.03" not in rwm
    representative = menu.open_codes(Access(representative=True))
    assert {"O.01.01", "O.01.02", "A.01.03"} <= representative
    assert "O.02" not in representative and "O.02.01" not in representative
    assert {c for c in representative if "." not in c} == {"A", "O"}
    manager = menu.open_codes(Access(manager=object()))
    assert {"O.02.01", "O.02.02", "O.02.03", "O.01.02", "O.01.03", "A.01.03"} <= manager
    assert "O.01.01" not in manager
    # Services the user holds do not make role items open, and roles do not open service items.
    assert not menu.may_open(menu.find("O"), Access(services=frozenset(catalogue.by_code())))
    assert not menu.may_open(menu.find("A.01.01"), Access(representative=True))
    # A group or category is open exactly when one of its functions is.
    for access in (Access(services=frozenset({"RWM", "IWF"})), Access(representative=True)):
        allowed = menu.open_codes(access)
        for item in items():
            assert (item.code in allowed) == any(leaf.code in allowed for leaf in item.leaves()), item.code
            assert (item.code in allowed) == menu.may_open(item, access), item.code
