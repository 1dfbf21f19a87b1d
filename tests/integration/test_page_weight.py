"""Page weight (DESIGN.md §7): first view <= 60 KB gzip, htmx fragments <= 8 KB gzip.

Byte budgets only; timings live in tests/perf/bench.py and are never asserted.
"""

from __future__ import annotations

import gzip

import pytest
from bs4 import BeautifulSoup

from portal.logic import announcements
from portal.models import Contact, ContactGroup

PAGE_BUDGET = 60 * 1024
FRAGMENT_BUDGET = 8 * 1024
STATIC_ROUTES = [
    "/", "/?page=2", "/professionals", "/announcements/business", "/announcements/system",
    "/downloads", "/downloads?service=all", "/contacts", "/links", "/sitemap",
    "/guide/system", "/guide/security", "/guide/setup", "/guide/faq", "/guide/manuals",
    "/policies/privacy", "/policies/security", "/policies/open-data", "/login", "/login?card=nhi",
]
FRAGMENT_ROUTES = ["/?page=2", "/announcements/business?page=2", "/downloads?service=all", "/contacts", "/guide/faq"]


def gz(data: bytes) -> int:
    """Size of data gzipped at level 6, as a web server would send it."""
    return len(gzip.compress(data, compresslevel=6, mtime=0))


def fetch(client, url: str, **headers) -> bytes:
    """The body of a 200 response (closed afterwards, so no file handle leaks)."""
    with client.get(url, headers=headers) as response:
        assert response.status_code == 200, f"{url}: {response.status_code}"
        return response.get_data()


def public_routes() -> list[str]:
    """Every public route, with ids of a demo business announcement and a service item with contacts."""
    business = announcements.visible("business").first()
    service = (ContactGroup.select().join(Contact)
               .where(ContactGroup.parent.is_null(False) & (ContactGroup.audience == "public")).first())
    assert business is not None and service is not None, "demo data lacks an announcement or contact"
    return STATIC_ROUTES + [f"/announcements/{business.id}", f"/contacts?service={service.id}"]


def weigh(client, url: str) -> dict:
    """Raw and gzip bytes of a page and of the stylesheets and scripts it references."""
    html = fetch(client, url)
    soup = BeautifulSoup(html, "html.parser")
    css = [link["href"] for link in soup.find_all("link", href=True) if "stylesheet" in link.get("rel", [])]
    js = [script["src"] for script in soup.find_all("script", src=True)]
    return {
        "route": url, "html": len(html), "html_gz": gz(html),
        "css_gz": sum(gz(fetch(client, href)) for href in css),
        "js_gz": sum(gz(fetch(client, src)) for src in js),
    }


def test_first_view_of_every_public_page_fits_the_budget(demo_client, capsys):
    """HTML + CSS + JS of each page's first view, gzipped, is at most 60 KB."""
    rows = [weigh(demo_client, url) for url in public_routes()]
    for row in rows:
        row["total"] = row["html_gz"] + row["css_gz"] + row["js_gz"]
    with capsys.disabled():
        print(f"\n{'route':<34}{'html':>8}{'html gz':>9}{'css gz':>8}{'js gz':>8}{'total gz':>10}")
        for r in rows:
            print(f"{r['route']:<34}{r['html']:>8}{r['html_gz']:>9}{r['css_gz']:>8}{r['js_gz']:>8}{r['total']:>10}")
        print(f"budget per page: {PAGE_BUDGET} bytes gzip")
    offenders = [f"{r['route']}: {r['total']} B" for r in rows if r["total"] > PAGE_BUDGET]
    assert not offenders, f"pages over {PAGE_BUDGET} B gzip: {offenders}"


@pytest.mark.parametrize("url", FRAGMENT_ROUTES)
def test_htmx_fragment_fits_the_budget(demo_client, url):
    """The fragment an htmx swap receives is at most 8 KB gzip."""
    body = fetch(demo_client, url, **{"HX-Request": "true"})
    assert b"<html" not in body[:200].lower(), f"{url} answered htmx with a full page"
    assert gz(body) <= FRAGMENT_BUDGET, f"{url}: fragment is {gz(body)} B gzip > {FRAGMENT_BUDGET}"
