"""Per-view request size limits: upload forms take large files, every other POST stays small.

The limit has to be known before anything reads the body, and CSRF protection
reads the form in an app-level before_request; so the request class asks the
matched view for its limit instead of the view setting it later.
"""

from __future__ import annotations

from flask import current_app

# Multipart framing and the small form fields around the file.
FORM_OVERHEAD = 1024 * 1024


def large_upload(config_key: str):
    """Decorator: this view accepts bodies up to config[config_key] (+ form overhead) bytes."""

    def mark(view):
        view.upload_limit_key = config_key
        return view

    return mark


def limit_key(endpoint: str | None) -> str | None:
    """The config key of the upload limit of an endpoint, if it has one."""
    view = current_app.view_functions.get(endpoint or "")
    return getattr(view, "upload_limit_key", None)


class UploadLimits:
    """Request mixin: max_content_length follows the view's upload limit."""

    @property
    def max_content_length(self) -> int | None:
        """The view's upload limit when it has one, else MAX_CONTENT_LENGTH."""
        if self._max_content_length is None and current_app and self.url_rule is not None:
            key = limit_key(self.url_rule.endpoint)
            if key:
                return current_app.config[key] + FORM_OVERHEAD
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def install(app) -> None:
    """Give the app's request class (htmx-flask's, by then) the per-view limits."""
    app.request_class = type("PortalRequest", (UploadLimits, app.request_class), {})


def too_large_message() -> str | None:
    """A 413 message naming the limit of the view that refused, e.g. 上傳檔案超過 512 MB 上限."""
    from flask import request

    key = limit_key(request.url_rule.endpoint if request.url_rule else None)
    if not key:
        return None
    megabytes = current_app.config[key] // (1024 * 1024)
    return f"上傳檔案超過 {megabytes} MB 上限，系統未接收此檔案；請分批上傳或洽詢聯絡窗口。"
