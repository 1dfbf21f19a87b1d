"""Sending stored files to the browser."""

from __future__ import annotations

import logging

from flask import abort, current_app, send_file

from portal.models.files import StoredFile
from portal.storage import storage_for

log = logging.getLogger(__name__)


def send_stored(stored: StoredFile):
    """Stream a stored file as a download under its display name (404 if the blob is missing)."""
    path = storage_for(current_app.config).path(stored.key)
    if not path.is_file():
        log.error("stored file %s (%s) has no blob at %s", stored.id, stored.name, path)
        abort(404)
    return send_file(
        path, mimetype=stored.content_type, as_attachment=True, download_name=stored.name,
        etag=stored.sha256, conditional=True, max_age=0,
    )
