"""The page helper: every page parses, ids are unique, forms and htmx elements work without JS."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

HX_REQUESTS = ("hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete")
NO_LABEL_TYPES = {"hidden", "submit", "button", "reset", "image"}


def parse(response) -> BeautifulSoup:
    """Parse an HTML response and check what every page and fragment must satisfy."""
    assert response.mimetype == "text/html", response.mimetype
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    check_ids(soup)
    check_forms(soup)
    check_htmx_fallbacks(soup)
    check_labels(soup)
    return soup


def check_page(response) -> BeautifulSoup:
    """A full page: the checks above, plus language, title, one h1 and resolvable htmx targets."""
    soup = parse(response)
    assert soup.html is not None and soup.html.get("lang") == "zh-Hant-TW"
    assert soup.title and soup.title.get_text(strip=True)
    assert len(soup.find_all("h1")) == 1, [h.get_text() for h in soup.find_all("h1")]
    assert soup.find("meta", attrs={"http-equiv": "X-UA-Compatible"}) is soup.head.find("meta")
    for el in soup.select("[hx-target]"):
        target = el["hx-target"]
        if target.startswith("#"):
            assert soup.find(id=target[1:]) is not None, f"hx-target {target} is not on the page"
    return soup


def check_ids(soup) -> None:
    """No id appears twice."""
    repeated = [i for i, n in Counter(el["id"] for el in soup.find_all(id=True)).items() if n > 1]
    assert not repeated, f"duplicate ids: {repeated}"


def check_forms(soup) -> None:
    """Every form says where and how it submits; GET forms carry no CSRF-sensitive action."""
    for form in soup.find_all("form"):
        assert form.get("action"), f"form without action: {form.prettify()[:200]}"
        assert form.get("method", "").lower() in ("get", "post"), f"form without method: {form.get('action')}"


def check_htmx_fallbacks(soup) -> None:
    """Every element that makes an htmx request also works as a plain link or form."""
    for el in soup.find_all(lambda tag: any(tag.has_attr(a) for a in HX_REQUESTS)):
        verb = next(a for a in HX_REQUESTS if el.has_attr(a))
        if el.name == "a":
            href = el.get("href", "")
            assert href and not href.startswith(("#", "javascript:")), f"htmx link without href: {el}"
            assert verb == "hx-get", f"a link can only stand in for a GET: {el}"
        elif el.name == "form":
            method = el.get("method", "").lower()
            assert method == verb[3:], f"form method {method} does not match {verb}: {el.get('action')}"
            assert urlsplit(el["action"]).path == urlsplit(el[verb]).path, f"form action differs: {el}"
        elif "every " in el.get("hx-trigger", ""):
            # A polling status box: without JavaScript its 重新整理 link loads the same state.
            assert el[verb] in [a.get("href") for a in el.find_all("a")], f"polling {el.name} without a refresh link"
        else:
            form = el.find_parent("form")
            assert form is not None and form.get("action"), f"{el.name} with {verb} has no non-JS fallback"


def check_labels(soup) -> None:
    """Every visible form control has an accessible name."""
    labelled = {label.get("for") for label in soup.find_all("label") if label.get("for")}
    for control in soup.find_all(["input", "select", "textarea"]):
        if control.get("type", "text") in NO_LABEL_TYPES:
            continue
        named = control.get("id") in labelled or control.get("aria-label") or control.find_parent("label")
        assert named, f"control without label: {control}"


def is_fragment(response) -> bool:
    """Whether a response is a fragment (no document around it)."""
    text = response.get_data(as_text=True).lstrip().lower()
    return not text.startswith("<!doctype") and "<html" not in text


def fetch(client, url: str, **kwargs):
    """GET a URL and close the response once read (file responses would otherwise stay open)."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response
