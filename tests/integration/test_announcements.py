"""Saving announcements: sanitized once, publish windows respected everywhere."""

from datetime import timedelta

import pytest

from portal.logic import announcements
from portal.logic.keywords import parse_keyword
from portal.models import Announcement
from portal.models.base import utcnow


def _save(**fields):
    base = dict(kind="business", title="標題", publish_at=utcnow() - timedelta(days=1), department="資訊組")
    return announcements.save(**{**base, **fields})


def test_html_is_sanitized_when_saved(app):
    saved = _save(title='<b>重要</b><script>alert(1)</script>', content='<p onclick="x()">內容</p><img src=x>')
    stored = Announcement.get_by_id(saved.id)
    assert stored.title == "<b>重要</b>" and stored.content == "<p>內容</p>"


@pytest.mark.parametrize("fields, message", [
    ({"kind": "secret"}, "公告類別"),
    ({"title": "<script>x</script>"}, "請輸入公告標題"),
    ({"expire_at": utcnow() - timedelta(days=2)}, "結束時間"),
])
def test_invalid_announcements_are_refused_with_zh_tw_messages(app, fields, message):
    with pytest.raises(announcements.AnnouncementError, match=message):
        _save(**fields)
    assert Announcement.select().count() == 0


def test_future_and_expired_announcements_are_invisible_everywhere(app, client):
    now = utcnow()
    current = _save(title="現在")
    future = _save(title="未來", publish_at=now + timedelta(days=1))
    expired = _save(title="過期", publish_at=now - timedelta(days=3), expire_at=now - timedelta(days=1))
    assert [a.title for a in announcements.visible("business")] == ["現在"]
    assert [a.title for a in announcements.search("business", parse_keyword("未來"))] == []
    assert client.get(f"/announcements/{current.id}").status_code == 200
    for hidden in (future, expired):
        assert client.get(f"/announcements/{hidden.id}").status_code == 404
    home = client.get("/").get_data(as_text=True)
    assert "現在" in home and "未來" not in home and "過期" not in home


def test_attachment_of_a_hidden_announcement_is_not_served(app, client, tmp_path):
    from portal.demo import store
    from portal.storage import storage_for

    hidden = _save(title="未來", publish_at=utcnow() + timedelta(days=1))
    stored = store(storage_for(app.config), "附件.pdf", "pdf", "附件", "內容")
    attachment = announcements.attach(hidden, stored)
    assert client.get(f"/announcements/{hidden.id}/attachments/{attachment.id}").status_code == 404
    shown = _save(title="現在")
    assert client.get(f"/announcements/{shown.id}/attachments/{attachment.id}").status_code == 404
