"""A fake WeChat for the browser tests (Python's standard library only): website QR login
(微信开放平台 网站应用), open.weixin.qq.com and api.weixin.qq.com on one loopback port.

It speaks WeChat's own formats:
  GET  /connect/qrconnect?appid=&redirect_uri=&response_type=code&scope=snsapi_login&state=
       The QR page. Where WeChat shows a code to scan, this shows a form: the person's name
       (prefilled from `name=` in the query, if given) and "确认登录 / Confirm", which stands for
       the scan and the confirmation on the phone.
  POST /connect/confirm
       The confirmation: 302 to redirect_uri with `code` and `state`.
  GET  /sns/oauth2/access_token?appid=&secret=&code=&grant_type=authorization_code
       {access_token, expires_in, refresh_token, openid, scope, unionid}
  GET  /sns/userinfo?access_token=&openid=
       {openid, nickname, sex, province, city, country, headimgurl, privilege, unionid}
Errors of the API are WeChat's: HTTP 200 with {"errcode": N, "errmsg": "..."}. A code lives five
minutes, works once and only for the application it was issued to; redirect_uri must be on the
application's callback domain (授权回调域; the host only, as WeChat compares it).

A person is their name: the openid derives from the appid and the name (one per application),
the unionid from the name alone (one per Open Platform account), and the nickname is 微信用户<name>.
So the same name signs in as the same person again.

Usage: python3 fake_wechat.py --port PORT --app APPID SECRET DOMAIN [--app ...]
"""
import argparse
import base64
import hashlib
import html
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

CODE_LIFETIME = 300
TOKEN_LIFETIME = 7200
NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def derived_id(*parts: str) -> str:
    """A stable 28-character id starting with "o", shaped like WeChat's openids and unionids."""
    digest = hashlib.sha256("\n".join(parts).encode("utf-8")).digest()
    return "o" + base64.urlsafe_b64encode(digest).decode("ascii")[:27]


def openid(appid: str, name: str) -> str:
    return derived_id("openid", appid, name)


def unionid(name: str) -> str:
    return derived_id("unionid", name)


PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>微信登录 (fake)</title></head>
<body><main>
<h1>微信登录</h1>
<p>网站应用 <code>{appid}</code> 申请使用你的微信账号登录 ({domain})</p>
<form method="post" action="/connect/confirm">
<input type="hidden" name="appid" value="{appid}">
<input type="hidden" name="redirect_uri" value="{redirect_uri}">
<input type="hidden" name="state" value="{state}">
<label for="name">微信名 / WeChat name</label>
<input id="name" name="name" value="{name}" required>
<button type="submit">确认登录 / Confirm</button>
</form>
</main></body></html>
"""


def make_handler(apps: dict):
    lock = threading.Lock()
    codes = {}  # code -> (appid, name, expires); moved to `used` when used
    used = set()
    tokens = {}  # access_token -> (appid, name, expires)

    class Handler(BaseHTTPRequestHandler):
        def send(self, status: int, body: bytes, content_type: str, headers=()) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def json(self, doc: dict) -> None:
            self.send(200, json.dumps(doc, ensure_ascii=False).encode("utf-8"), "application/json; encoding=utf-8")

        def errcode(self, code: int, msg: str) -> None:
            self.json({"errcode": code, "errmsg": msg})

        def page_error(self, msg: str) -> None:
            """What open.weixin.qq.com shows for a bad authorization request: a page, not JSON."""
            body = f"<!doctype html><html lang=zh-CN><meta charset=utf-8><title>错误</title><p>{html.escape(msg)}</p>"
            self.send(400, body.encode("utf-8"), "text/html; charset=utf-8")

        def authorization(self, q: dict) -> str:
            """Checks an authorization request; returns what is wrong with it, or ""."""
            app = apps.get(q.get("appid", ""))
            if app is None:
                return "该链接无法访问 (appid 参数错误)"
            target = urlsplit(q.get("redirect_uri", ""))
            host = (target.hostname or "").lower()
            if target.scheme not in ("http", "https") or not (host == app[1] or host.endswith("." + app[1])):
                return "redirect_uri 参数错误"
            if q.get("response_type") != "code" or q.get("scope") != "snsapi_login":
                return "Scope 参数错误或没有 Scope 权限"
            return ""

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            q = dict(parse_qsl(url.query))
            if url.path == "/connect/qrconnect":
                wrong = self.authorization(q)
                if wrong:
                    return self.page_error(wrong)
                name = q.get("name", "")
                fields = {k: html.escape(q.get(k, ""), quote=True) for k in ("appid", "redirect_uri", "state")}
                body = PAGE.format(**fields, name=html.escape(name, quote=True), domain=html.escape(apps[q["appid"]][1]))
                return self.send(200, body.encode("utf-8"), "text/html; charset=utf-8")
            if url.path == "/sns/oauth2/access_token":
                return self.access_token(q)
            if url.path == "/sns/userinfo":
                return self.userinfo(q)
            self.send(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/connect/confirm":
                return self.send(404, b"not found", "text/plain")
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode("utf-8")))
            form["response_type"], form["scope"] = "code", "snsapi_login"
            wrong = self.authorization(form)
            if wrong:
                return self.page_error(wrong)
            name = form.get("name", "")
            if not NAME.match(name):
                return self.page_error("name: 1-32 of A-Z, a-z, 0-9, _ and -")
            code = secrets.token_urlsafe(24)
            with lock:
                codes[code] = (form["appid"], name, time.time() + CODE_LIFETIME)
            target = urlsplit(form["redirect_uri"])
            query = "&".join(filter(None, [target.query, urlencode({"code": code, "state": form.get("state", "")})]))
            location = urlunsplit((target.scheme, target.netloc, target.path, query, ""))
            self.send(302, b"", "text/plain", [("Location", location)])

        def access_token(self, q: dict) -> None:
            appid = q.get("appid", "")
            if appid not in apps:
                return self.errcode(40013, "invalid appid")
            if not secrets.compare_digest(apps[appid][0], q.get("secret", "")):
                return self.errcode(40125, "invalid appsecret")
            if q.get("grant_type") != "authorization_code":
                return self.errcode(40002, "invalid grant_type")
            code = q.get("code", "")
            with lock:
                grant = codes.pop(code, None)
                again = code in used
                used.add(code)
            if again:
                return self.errcode(40163, "code been used")
            if grant is None or grant[0] != appid or grant[2] < time.time():
                return self.errcode(40029, "invalid code")
            token = secrets.token_urlsafe(32)
            with lock:
                tokens[token] = (appid, grant[1], time.time() + TOKEN_LIFETIME)
            self.json({
                "access_token": token,
                "expires_in": TOKEN_LIFETIME,
                "refresh_token": secrets.token_urlsafe(32),
                "openid": openid(appid, grant[1]),
                "scope": "snsapi_login",
                "unionid": unionid(grant[1]),
            })

        def userinfo(self, q: dict) -> None:
            with lock:
                grant = tokens.get(q.get("access_token", ""))
            if grant is None:
                return self.errcode(40001, "invalid credential, access_token is invalid or not latest")
            appid, name, expires = grant
            if expires < time.time():
                return self.errcode(42001, "access_token expired")
            if q.get("openid") != openid(appid, name):
                return self.errcode(40003, "invalid openid")
            self.json({
                "openid": openid(appid, name),
                "nickname": f"微信用户{name}",
                "sex": 0,
                "province": "",
                "city": "",
                "country": "",
                "headimgurl": "",
                "privilege": [],
                "unionid": unionid(name),
            })

        def log_message(self, fmt, *a) -> None:
            print("fake-wechat:", fmt % a, flush=True)

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--app", nargs=3, action="append", required=True, metavar=("APPID", "SECRET", "DOMAIN"),
                        help="an application: its appid, its secret and its callback domain (授权回调域)")
    args = parser.parse_args()
    apps = {appid: (secret, domain.lower()) for appid, secret, domain in args.app}
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(apps))
    print(f"fake WeChat on 127.0.0.1:{args.port} for {', '.join(apps)}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
