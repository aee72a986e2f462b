"""A browser's view of the Carbon management console: login.jsp's form, the JSESSIONID cookie, index.jsp.
Redirects are returned, not followed, so a test sees each answer; TLS is not verified (self-signed keystores)."""

from __future__ import annotations

import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message

LOGIN = "/carbon/admin/login.jsp"
ACTION = "/carbon/admin/login_action.jsp"
INDEX = "/carbon/admin/index.jsp"
LOGOUT = "/carbon/admin/logout_action.jsp"
SESSION_COOKIE = re.compile(r"^JSESSIONID=([0-9A-F]{32}); Path=/(; Secure)?; HttpOnly$")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Message
    body: str

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")

    @property
    def session(self) -> str | None:
        """The `JSESSIONID=…` pair this answer sets, if any."""
        cookies = self.headers.get_all("Set-Cookie") or []
        assert len(cookies) <= 1, cookies
        return cookies[0].split(";", 1)[0] if cookies else None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def request(url: str, *, form: dict[str, str] | None = None, cookie: str | None = None,
            timeout: float = 10) -> Answer:
    """GET, or POST of an urlencoded UTF-8 form as a browser sends login.jsp's."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _NoRedirect)
    data = urllib.parse.urlencode(form, encoding="utf-8").encode("ascii") if form is not None else None
    req = urllib.request.Request(url, data=data)
    if data is not None:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    if cookie:
        req.add_header("Cookie", cookie)
    try:
        with opener.open(req, timeout=timeout) as resp:
            return Answer(resp.status, resp.headers, resp.read().decode())
    except urllib.error.HTTPError as err:
        return Answer(err.code, err.headers, err.read().decode())


def log_in(base: str, username: str, password: str) -> Answer:
    """POST the login form to `base` + login_action.jsp (base: scheme://host:port)."""
    return request(base + ACTION, form={"username": username, "password": password})
