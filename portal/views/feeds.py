"""Atom feeds of the public announcements, served from the files the worker builds."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, send_file

from portal.logic import feeds
from portal.storage import storage_for

bp = Blueprint("feeds", __name__, url_prefix="/feeds")
log = logging.getLogger(__name__)


@bp.get("/<kind>.atom")
def feed(kind: str):
    """The prebuilt feed; built here once if the worker has not written it yet."""
    if kind not in feeds.FEED_KINDS:
        abort(404)
    storage = storage_for(current_app.config)
    key = feeds.storage_key(kind)
    if not storage.exists(key):
        log.warning("feed %s not built yet; building it in the request", kind)
        feeds.publish_all(current_app.config, storage)
    return send_file(storage.path(key), mimetype="application/atom+xml", conditional=True, max_age=300)
