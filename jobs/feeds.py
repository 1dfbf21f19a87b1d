"""Rebuild the prebuilt Atom feeds."""

from __future__ import annotations

from jobs import context
from jobs.tracking import tracked
from portal.logic import feeds
from portal.storage import storage_for


@tracked
def rebuild_feeds(row):
    """Write every announcement feed to storage (idempotent: same data, same files)."""
    config = context.config()
    kinds = feeds.publish_all(config, storage_for(config))
    return f"已更新 {len(kinds)} 個公告訂閱來源（Atom）。"
