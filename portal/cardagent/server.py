"""The HTTP side: a threaded stdlib server on 127.0.0.1, the routes of docs/card-login.md §2."""

from __future__ import annotations

import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from portal.cardagent import __version__, pages
from portal.cardagent.backend import CardBackend
from portal.cardagent.checks import MAX_BODY_BYTES, Refused, check_host, check_origin, parse_form, sign_request
from portal.cardagent.flow import Agent

log = logging.getLogger(__name__)
SUBMIT_JS = (Path(__file__).parent / "static" / "submit.js").read_bytes()
AGENT_CSS = (Path(__file__).parent / "static" / "agent.css").read_bytes()
ROUTES = {
    ("GET", "/v1/status"): "status_page",
    ("GET", "/v1/status.json"): "status_json",
    ("OPTIONS", "/v1/status.json"): "status_preflight",
    ("GET", "/v1/static/submit.js"): "submit_js",
    ("GET", "/v1/static/agent.css"): "agent_css",
    ("POST", "/v1/sign"): "sign",
    ("POST", "/v1/sign/pin"): "sign_pin",
}


class AgentServer(ThreadingHTTPServer):
    """Bound to 127.0.0.1 only; server_close() waits for the request threads."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, config: dict, backend: CardBackend, agent: Agent | None = None):
        super().__init__(("127.0.0.1", config["PORT"]), AgentHandler)
        self.config = config
        self.agent = agent or Agent(backend)
        self.allowed = set(config["ALLOWED_ORIGINS"])
        self.own = {f"http://127.0.0.1:{self.port}", f"http://localhost:{self.port}"}

    @property
    def port(self) -> int:
        """The port actually bound (PORT = 0 picks a free one)."""
        return self.server_address[1]

    def csp(self, framed: bool) -> str:
        """Forms may go to the agent and the allowed portals; only the status page may be framed."""
        origins = sorted(self.allowed)
        ancestors = " ".join(origins) if framed and origins else "'none'"
        targets = " ".join(["'self'", *origins])
        return f"default-src 'self'; form-action {targets}; frame-ancestors {ancestors}"


class AgentHandler(BaseHTTPRequestHandler):
    """One request: Host check, route, answer (HTTP/1.0: one request per connection)."""

    server: AgentServer
    timeout = 15

    def version_string(self) -> str:
        """The Server header: the agent and its version, not Python's."""
        return f"NHI-CardAgent/{__version__}"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        """GET routes."""
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        """POST routes."""
        self._dispatch("POST")

    def do_OPTIONS(self) -> None:  # noqa: N802
        """CORS preflight."""
        self._dispatch("OPTIONS")

    def _dispatch(self, method: str) -> None:
        """Host check, route, and every refusal as the agent's own error page."""
        path = urlsplit(self.path).path
        try:
            check_host(self.headers.get("Host"), self.server.port)
            route = ROUTES.get((method, path))
            if route is None:
                known = any(p == path for _m, p in ROUTES)
                raise Refused(405 if known else 404, "讀卡元件沒有這個功能。")
            getattr(self, route)()
        except Refused as exc:
            self.close_connection = True
            self._page(pages.refused_page(exc.status, exc.message))
        except Exception:
            log.exception("request %s %s failed", method, path)
            self.close_connection = True
            self._page(pages.refused_page(500, "讀卡元件發生錯誤，請重新啟動讀卡元件後再試。"))

    # --- routes ---------------------------------------------------------------------------------

    def status_page(self) -> None:
        """GET /v1/status: the iframe page."""
        self._page(pages.status_page(self.server.agent.backend.status()))

    def status_json(self) -> None:
        """GET /v1/status.json: the same as JSON, readable by allowed origins."""
        status = self.server.agent.backend.status()
        body = {"agent_version": __version__, "state": status.state, "message": pages.STATES[status.state],
                "card_types": status.card_types, "module": pages.module_ready(status),
                "readers": [{"type": r.reader_type, "card_present": r.card_present, "card_type": r.card_type}
                            for r in status.readers]}
        data = json.dumps(body, ensure_ascii=False).encode()
        self._send(200, data, "application/json; charset=utf-8", self._cors())

    def status_preflight(self) -> None:
        """OPTIONS /v1/status.json: CORS and Private Network Access preflight."""
        headers = self._cors()
        if "Access-Control-Allow-Origin" not in headers:
            raise Refused(403, "這個網站不在讀卡元件允許的入口網站清單中。")
        # Chrome's Private Network Access asks before a public page reads from 127.0.0.1.
        headers.update({"Access-Control-Allow-Methods": "GET", "Access-Control-Allow-Private-Network": "true",
                        "Access-Control-Max-Age": "600"})
        self._send(204, b"", None, headers)

    def submit_js(self) -> None:
        """GET /v1/static/submit.js."""
        self._send(200, SUBMIT_JS, "application/javascript; charset=utf-8", {"Cache-Control": "no-cache"})

    def agent_css(self) -> None:
        """GET /v1/static/agent.css."""
        self._send(200, AGENT_CSS, "text/css; charset=utf-8", {"Cache-Control": "no-cache"})

    def sign(self) -> None:
        """POST /v1/sign from the portal's login page (or the agent's 重試)."""
        check_origin(self.headers.get("Origin"), self.server.allowed | self.server.own)  # own: 重試
        request = sign_request(self._form(), self.server.allowed)
        self._page(self.server.agent.start(request))

    def sign_pin(self) -> None:
        """POST /v1/sign/pin from the agent's PIN page."""
        check_origin(self.headers.get("Origin"), self.server.own)  # only the agent's PIN page posts here
        self._page(self.server.agent.submit(self._form()))

    # --- helpers --------------------------------------------------------------------------------

    def _form(self) -> dict[str, str]:
        """The urlencoded body, refused unread when too large."""
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise Refused(411, "請求缺少內容長度。")
        if int(length) > MAX_BODY_BYTES:
            raise Refused(413, "請求內容過大。")
        media = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if media != "application/x-www-form-urlencoded":
            raise Refused(415, "請求內容格式不正確。")
        return parse_form(self.rfile.read(int(length)))

    def _cors(self) -> dict[str, str]:
        """CORS headers: the Origin echoed only when allowed."""
        origin = self.headers.get("Origin")
        if origin in self.server.allowed:
            return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        return {"Vary": "Origin"} if origin else {}

    def _page(self, page: pages.Page) -> None:
        """An HTML page with its CSP."""
        headers = {"Content-Security-Policy": self.server.csp(page.framed)}
        if not page.framed:
            headers["X-Frame-Options"] = "DENY"  # IE11 ignores frame-ancestors
        self._send(page.status, page.html.encode(), "text/html; charset=utf-8", headers)

    def _send(self, status: int, body: bytes, content_type: str | None, headers: dict[str, str]) -> None:
        """Status, headers every answer carries, body."""
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", headers.pop("Cache-Control", "no-store"))
        self.send_header("X-Content-Type-Options", "nosniff")
        # Not no-referrer: under it browsers send "Origin: null" even on same-origin form posts,
        # and the PIN post and 重試 must show the agent's own origin.
        self.send_header("Referrer-Policy", "same-origin")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
        """Requests go to logging, not stderr."""
        log.info("%s %s", self.address_string(), format % args)
