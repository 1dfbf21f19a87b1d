"""Central error pages: a short zh-TW message and a correlation code; details only in the log."""

from __future__ import annotations

import logging
import secrets

from flask import request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.htmx import render_page
from portal.upload_limits import too_large_message

log = logging.getLogger("portal.errors")

MESSAGES = {
    400: "無法處理這個請求，請確認輸入內容後再試一次。",
    401: "請先登入後再使用這個功能。",
    403: "您沒有使用這個功能的權限。",
    404: "找不到您要的網頁，可能已移除或網址有誤。",
    405: "不支援這種操作方式。",
    413: "送出的資料超過大小限制。",
    429: "操作太頻繁，請稍後再試。",
    500: "系統發生錯誤，請稍後再試；若持續發生，請將錯誤代碼告知聯絡窗口。",
    503: "系統暫時無法提供服務，請稍後再試。",
}
TITLES = {404: "找不到網頁", 500: "系統錯誤"}
CSRF_MESSAGE = "表單已逾時或來源無法確認，請重新整理頁面後再送出一次。"


def correlation_code() -> str:
    """Eight characters a user can read out on the phone; also written to the log."""
    return secrets.token_hex(4).upper()


def render_error(status: int, message: str | None = None):
    """The error page (or fragment, for htmx) for a status code."""
    code = correlation_code()
    message = message or MESSAGES.get(status, MESSAGES[400 if status < 500 else 500])
    log.log(logging.ERROR if status >= 500 else logging.INFO,
            "error %s status=%s %s %s", code, status, request.method, request.path)
    return render_page(
        _page_for(status), fragment="errors/_error.html", status=status,
        status_code=status, message=message, code=code, title=TITLES.get(status, "無法完成"),
    )


def _page_for(status: int) -> str:
    """A logged-in user keeps the member layout on a 4xx; anything else gets the public one.

    Server errors never touch the session: the database may be what failed.
    """
    if status < 500:
        try:
            if current_user.is_authenticated:
                return "errors/member_error.html"
        except Exception:  # noqa: BLE001 - an error page must render whatever broke
            log.exception("could not load the session for an error page")
    return "errors/error.html"


def init_app(app) -> None:
    """Route every HTTP error and unexpected exception to the zh-TW error page."""

    @app.errorhandler(CSRFError)
    def _csrf(error):
        return render_error(400, CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def _http(error):
        if error.code is None or error.code < 400:
            return error
        custom = error.description if error.description != type(error).description else None
        if error.code == 413:
            custom = too_large_message() or custom
        return render_error(error.code, custom)

    @app.errorhandler(Exception)
    def _unexpected(error):
        if isinstance(error, HTTPException):
            return _http(error)
        log.exception("unhandled exception on %s %s", request.method, request.path)
        return render_error(InternalServerError.code)
