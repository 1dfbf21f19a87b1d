"""Atom feeds: built by the job's logic, served from storage, linked from pages."""

import xml.etree.ElementTree as ET

from portal.logic import feeds
from portal.models import Announcement
from portal.storage import storage_for
from tests.pages import fetch

ATOM = "{http://www.w3.org/2005/Atom}"


def test_feed_is_built_on_first_request_and_lists_newest_first(demo_client, demo_app):
    response = fetch(demo_client, "/feeds/business.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    entries = root.findall(f"{ATOM}entry")
    business = Announcement.select().where(Announcement.kind == "business")
    assert len(entries) == min(business.count(), demo_app.config["FEED_ENTRIES"])
    published = [e.find(f"{ATOM}published").text for e in entries]
    assert published == sorted(published, reverse=True)
    newest = business.order_by(Announcement.publish_at.desc()).first()
    assert entries[0].find(f"{ATOM}id").text == f"http://portal.test/announcements/{newest.id}"
    assert entries[0].find(f"{ATOM}author/{ATOM}name").text == newest.department
    assert root.find(f"{ATOM}title").text.endswith("業務公告")


def test_feed_revalidates_with_etag(demo_client):
    first = fetch(demo_client, "/feeds/system.atom")
    again = fetch(demo_client, "/feeds/system.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_publish_all_writes_every_kind(app):
    storage = storage_for(app.config)
    assert feeds.publish_all(app.config, storage) == ["realtime", "business", "system", "security"]
    for kind in feeds.FEED_KINDS:
        root = ET.fromstring(storage.path(feeds.storage_key(kind)).read_bytes())
        assert root.findall(f"{ATOM}entry") == []


def test_attachments_are_linked_from_feed_entries(demo_client):
    with_files = next(a for a in Announcement.select().where(Announcement.kind == "security") if a.attachments.count())
    root = ET.fromstring(fetch(demo_client, "/feeds/security.atom").data)
    entry = next(e for e in root.findall(f"{ATOM}entry")
                 if e.find(f"{ATOM}id").text.endswith(f"/announcements/{with_files.id}"))
    assert f"/announcements/{with_files.id}/attachments/" in entry.find(f"{ATOM}content").text
