"""The agent's zh-TW pages: plain HTML forms, every value escaped, no inline script or style."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from portal.cardagent import __version__, protocol
from portal.cardagent.applet import MAX_TRIES
from portal.cardagent.backend import AgentStatus
from portal.cardagent.checks import SignRequest

CARD_NAMES = {"medical-staff": "醫事人員卡", "nhi": "健保卡", "citizen": "自然人憑證",
              "medical-org": "醫事機構卡", "government": "政府單位憑證卡"}
READER_NAMES = {"nhi-reader": "健保讀卡機", "chip-reader": "晶片讀卡機", "soft": "軟體憑證"}
STATES = {"no_reader": "未偵測到讀卡機", "no_card": "未插卡", "ready": "就緒"}


@dataclass
class Page:
    """An answer of the agent: status, HTML, and whether it may post to portals or be framed."""

    status: int
    html: str
    framed: bool = False   # the status page: frame-ancestors = ALLOWED_ORIGINS


def e(value) -> str:
    """Escape for text and double-quoted attributes."""
    return escape(str(value), quote=True)


def layout(title: str, body: str, script: bool = False, body_class: str = "") -> str:
    """The document around every page (the version shows at the bottom)."""
    tail = '<script src="/v1/static/submit.js"></script>\n' if script else ""
    css_class = f' class="{e(body_class)}"' if body_class else ""
    return (f'<!DOCTYPE html>\n<html lang="zh-Hant-TW">\n<head>\n'
            f'<meta http-equiv="X-UA-Compatible" content="IE=edge">\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<title>{e(title)} - 讀卡元件</title>\n<link rel="stylesheet" href="/v1/static/agent.css">\n'
            f'</head>\n<body{css_class}>\n<main role="main">\n<h1>{e(title)}</h1>\n{body}</main>\n'
            f'<footer><p>讀卡元件 版本 {e(__version__)}</p></footer>\n{tail}</body>\n</html>\n')


def hidden(fields: dict[str, str]) -> str:
    """Hidden inputs for fields."""
    return "".join(f'<input type="hidden" name="{e(k)}" value="{e(v)}">\n' for k, v in fields.items())


def post_form(action: str, fields: dict[str, str], button: str, form_id: str = "") -> str:
    """A POST form of hidden fields and one visible button."""
    ident = f' id="{e(form_id)}"' if form_id else ""
    return (f'<form{ident} method="post" action="{e(action)}" accept-charset="utf-8">\n{hidden(fields)}'
            f'<button type="submit">{e(button)}</button>\n</form>\n')


def asker(request: SignRequest) -> str:
    """Which portal asks, by name and origin."""
    return (f'<p>「{e(request.portal_name)}」（{e(request.origin)}）要求以'
            f'<strong>{e(CARD_NAMES[request.card_type])}</strong>登入。</p>\n')


def pin_page(request: SignRequest, token: str, holder: str, tries_left: int | None, notice: str = "",
             choices: list[tuple[str, str]] = (), chosen: str | None = None) -> Page:
    """The PIN page (健保卡: consent to send the basic data, no PIN)."""
    nhi = request.card_type in protocol.PASSWORD_CARDS
    # With several soft cards to choose from, the radio list names the holders instead.
    shown = "請在下方選擇卡片" if len(choices) > 1 else holder
    body = asker(request) + f'<p>持卡人：<strong id="holder">{e(shown)}</strong></p>\n'
    if notice:
        body += f'<p role="alert" id="notice">{e(notice)}</p>\n'
    elif tries_left is not None and tries_left < MAX_TRIES:
        body += f'<p id="notice">PIN 碼剩餘 {tries_left} 次</p>\n'
    body += '<form method="post" action="/v1/sign/pin" accept-charset="utf-8">\n'
    body += hidden({"token": token}) + _choices(choices, chosen)
    if nhi:
        body += (f'<p>按「確認」即同意將健保卡的基本資料（卡號、姓名、身分證號、出生日期、性別）'
                 f'傳送給「{e(request.portal_name)}」。</p>\n')
    else:
        body += ('<p><label for="pin">PIN 碼</label>\n<input type="password" id="pin" name="pin" '
                 'inputmode="numeric" autocomplete="off" maxlength="12" required autofocus></p>\n')
    body += ('<p><button type="submit" name="action" value="confirm">確認</button>\n'
             '<button type="submit" name="action" value="cancel" formnovalidate>取消</button></p>\n</form>\n')
    return Page(200, layout("健保卡確認" if nhi else "輸入 PIN 碼", body))


def _choices(choices, chosen) -> str:
    """Soft backend: radio buttons standing in for "which card is inserted"."""
    if not choices:
        return ""
    items = "".join(
        f'<div><input type="radio" name="card" id="card-{i}" value="{e(cid)}"{" checked" if cid == chosen else ""}>'
        f'<label for="card-{i}">{e(label)}</label></div>\n' for i, (cid, label) in enumerate(choices))
    return f"<fieldset>\n<legend>使用的卡片（軟體憑證）</legend>\n{items}</fieldset>\n"


def problem_page(request: SignRequest, code: str) -> Page:
    """A card/reader problem before the PIN: 返回 (wrong reader) or 重試 / 取消."""
    body = f'<p role="alert" id="problem">{e(protocol.ERRORS[code])}</p>\n'
    back = {"nonce": request.nonce, "card_type": request.card_type, "reader_type": request.reader_type,
            "agent_version": __version__}
    if code == "wrong_reader":
        takes = "、".join(CARD_NAMES[c] for c in protocol.READER_CARDS[request.reader_type])
        body += f"<p>{e(READER_NAMES[request.reader_type])}可讀取：{e(takes)}。</p>\n"
        body += post_form(request.return_url, {**back, "error": "wrong_reader"}, "返回")
    else:
        body += asker(request) + post_form("/v1/sign", request.fields(), "重試")
        body += post_form(request.return_url, {**back, "error": "cancelled"}, "取消")
    return Page(200, layout("無法讀取卡片", body))


def post_back_page(request: SignRequest, fields: dict[str, str]) -> Page:
    """The form back to return_url, submitted by submit.js, with a visible 繼續 button."""
    error = fields.get("error")
    text = protocol.ERRORS.get(error, "") if error else "卡片簽章完成。"
    body = (f'<p id="result">{e(text)}</p>\n<p>正在返回「{e(request.portal_name)}」；'
            f'若畫面沒有自動跳轉，請按「繼續」。</p>\n')
    body += post_form(request.return_url, fields, "繼續", form_id="postback")
    return Page(200, layout("返回入口網站", body, script=True))


def refused_page(status: int, message: str) -> Page:
    """A request the agent does not serve: no form to anywhere."""
    body = f'<p role="alert" id="problem">{e(message)}</p>\n<p>請回到入口網站重新操作。</p>\n'
    return Page(status, layout("無法處理這個請求", body))


def status_page(status: AgentStatus) -> Page:
    """For an iframe on the portal's login page (no auto-refresh: WCAG 2.2.1; a link re-checks)."""
    body = f'<p id="state">{e(STATES[status.state])}</p>\n'
    if status.state == "ready":
        names = "、".join(CARD_NAMES[c] for c in status.card_types)
        module = "已安裝" if module_ready(status) else "未安裝"
        body += f'<p id="cards">卡片：{e(names)}</p>\n<p id="module">安全模組：{module}</p>\n'
    body += '<p><a href="/v1/status">重新檢查</a></p>\n'
    return Page(200, layout(f"讀卡元件 版本 {__version__}", body, body_class="status"), framed=True)


def module_ready(status: AgentStatus) -> bool:
    """Whether a module is there for a reader that holds a card."""
    kinds = {r.reader_type for r in status.readers if r.card_type}
    return any(ok for kind, ok in status.modules.items() if kind in kinds or "soft" in kinds)
