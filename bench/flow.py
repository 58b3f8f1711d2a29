#!/usr/bin/env python3
"""The authorization code flow as a browser without JavaScript walks it, for the benchmark.

One flow: GET /o/authorize/ (PKCE, prompt=consent) -> 302 to the login page -> GET the page and
post its form -> 303 back to /o/authorize/ -> the consent page -> post "approve" -> 303 to the
redirect URI with a code -> POST /o/token/ for it. Every step must answer what a browser would
see (status, Location, the form and its fields, the state, an access token); anything else
makes the flow an error, counted under the step that went wrong.

  flow.py load   --workers N --seconds T   N threads doing whole flows for T seconds, each flow
                                           in a fresh browser (cookie jar, keep-alive connection);
                                           prints one line "BENCH {json}" (flows, errors, p50/p99,
                                           errors by step)
  flow.py tokens --count N                 one sign-in, then N refresh tokens through that
                                           session (consent remembered): one per line
Both take --base URL --client-id ID --client-secret S --username U --password P
(or the environment: BENCH_BASE, BENCH_CLIENT_ID, ...). Python 3 standard library only.
"""

import argparse
import base64
import hashlib
import http.client
import json
import os
import secrets
import statistics
import sys
import threading
import time
import urllib.parse
from html.parser import HTMLParser

REDIRECT_URI = "https://app.example/cb"
SCOPE = "openid profile"
TIMEOUT = 30  # seconds per request: the server's own request timeout


class FlowError(Exception):
    """A step answered something a browser would not expect."""

    def __init__(self, step, what):
        super().__init__(f"{step}: {what}")
        self.step = step


class Forms(HTMLParser):
    """Every <form> on a page: its action and the fields a browser would submit."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                               "fields": {}, "buttons": {}})
        elif self.forms and tag == "input" and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a.get("value") or ""
        elif self.forms and tag == "button" and a.get("name"):
            self.forms[-1]["buttons"].setdefault(a["name"], []).append(a.get("value") or "")


def form_of(html, action, step):
    """The form on `html` that posts to `action`."""
    parser = Forms()
    parser.feed(html)
    for form in parser.forms:
        if form["action"] == action and form["method"] == "post":
            return form
    raise FlowError(step, f"no form posting to {action}")


class Browser:
    """One keep-alive connection and a cookie jar (cookies by name; this origin only)."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.base = base.rstrip("/")
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=TIMEOUT)
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request(method, path, body=body, headers=h)
            resp = self.conn.getresponse()
            data = resp.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            self.conn.close()  # reconnects on the next request
            raise
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                pair, _, attrs = value.partition(";")
                k, _, v = pair.strip().partition("=")
                if v == "" or "max-age=0" in attrs.lower().replace(" ", ""):
                    self.cookies.pop(k, None)
                else:
                    self.cookies[k] = v
        return resp.status, resp.getheader("Location") or "", data

    def page(self, path):
        return self.request("GET", path, headers={"Accept": "text/html"})

    def submit(self, path, fields):
        body = urllib.parse.urlencode(fields)
        return self.request("POST", path, body, {"Accept": "text/html", "Origin": self.base,
                                                 "Content-Type": "application/x-www-form-urlencoded"})

    def token(self, cfg, fields):
        fields = dict(fields, client_id=cfg.client_id, client_secret=cfg.client_secret)
        status, _, data = self.request("POST", "/o/token/", urllib.parse.urlencode(fields),
                                       {"Content-Type": "application/x-www-form-urlencoded"})
        try:
            return status, json.loads(data)
        except ValueError:
            return status, {}


def expect(step, ok, what):
    if not ok:
        raise FlowError(step, what)


def authorize_query(cfg, state, challenge, prompt):
    q = {"response_type": "code", "client_id": cfg.client_id, "redirect_uri": REDIRECT_URI, "scope": SCOPE,
         "state": state, "code_challenge": challenge, "code_challenge_method": "S256"}
    if prompt:
        q["prompt"] = prompt
    return "/o/authorize/?" + urllib.parse.urlencode(q, quote_via=urllib.parse.quote)


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def code_from(step, location, state):
    """The code in a redirect to the client, after checking state and iss."""
    expect(step, location.startswith(REDIRECT_URI + "?"), f"not sent to the client: {location[:120]}")
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    expect(step, params.get("state") == [state], f"state changed: {location[:120]}")
    expect(step, "iss" in params, "no iss")
    expect(step, "code" in params, f"no code: {location[:120]}")
    return params["code"][0]


def redeem(b, cfg, code, verifier):
    status, tok = b.token(cfg, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                                "code_verifier": verifier})
    expect("token", status == 200 and "access_token" in tok and "id_token" in tok, f"{status} {tok}")
    return tok


def sign_in(b, cfg, path):
    """GET the login page at `path` and post its form; returns where the 303 sends the browser."""
    status, _, html = b.page(path)
    expect("login page", status == 200, f"status {status}")
    form = form_of(html, "/api/login", "login page")
    expect("login page", form["fields"].get("csrf"), "no CSRF field")
    fields = dict(form["fields"], username=cfg.username, password=cfg.password)
    status, to, _ = b.submit(form["action"], fields)
    expect("login", status == 303 and to.startswith("/o/authorize/?"), f"{status} to {to[:120]}")
    return to


def approve(b, path, state, remembered=False):
    """GET the consent page at `path` and post "approve"; returns the code. With `remembered`,
    an earlier approval may have made the page redirect to the client at once."""
    status, to, html = b.page(path)
    if remembered and status == 302:
        return code_from("authorize", to, state)
    expect("consent page", status == 200, f"status {status}")
    form = form_of(html, "/api/consent", "consent page")
    expect("consent page", form["fields"].get("csrf") and form["fields"].get("query"), "no csrf or query")
    expect("consent page", "approve" in form["buttons"].get("decision", []), "no approve button")
    status, to, _ = b.submit(form["action"], dict(form["fields"], decision="approve"))
    expect("consent", status == 303, f"status {status}")
    # Approval answers with the client's redirect, or a GET of the endpoint that gives it.
    for _ in range(3):
        if not to.startswith("/"):
            break
        status, to, _ = b.page(to)
        expect("after consent", status in (302, 303), f"status {status}")
    return code_from("consent", to, state)


def one_flow(base, cfg):
    """authorize -> login -> consent -> token in a fresh browser; returns the token answer."""
    b = Browser(base)
    try:
        verifier, challenge = pkce()
        state = secrets.token_urlsafe(12)
        status, to, _ = b.page(authorize_query(cfg, state, challenge, "consent"))
        expect("authorize", status == 302 and to.startswith("/o/login/?next="), f"{status} to {to[:120]}")
        back = sign_in(b, cfg, to)
        code = approve(b, back, state)
        return redeem(b, cfg, code, verifier)
    finally:
        b.conn.close()


def load(cfg, workers, seconds):
    """`workers` threads doing flows until `seconds` have passed; a summary dict."""
    start = time.monotonic()
    deadline = start + seconds
    lock = threading.Lock()
    latencies, errors, steps = [], [0], {}

    def worker():
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            try:
                one_flow(cfg.base, cfg)
                ok, step = True, None
            except FlowError as e:
                ok, step = False, e.step
            except (OSError, http.client.HTTPException) as e:
                ok, step = False, f"connection ({type(e).__name__})"
            dt = time.monotonic() - t0
            with lock:
                if ok:
                    latencies.append(dt)
                else:
                    errors[0] += 1
                    steps[step] = steps.get(step, 0) + 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 6 * TIMEOUT)  # a flow is at most 7 requests, each bounded
    elapsed = time.monotonic() - start
    done = len(latencies) + errors[0]
    lat = sorted(latencies)
    pct = lambda p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000 if lat else 0.0
    return {"requests": done, "rps": done / elapsed, "duration_s": elapsed, "errors": errors[0],
            "p50_ms": pct(50), "p99_ms": pct(99), "error_steps": steps,
            "median_ms": statistics.median(lat) * 1000 if lat else 0.0}


def refresh_tokens(cfg, count):
    """One sign-in and consent, then `count` codes through that session, each redeemed."""
    b = Browser(cfg.base)
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(12)
    status, to, _ = b.page(authorize_query(cfg, state, challenge, None))
    expect("authorize", status == 302, f"status {status}")
    tokens = [redeem(b, cfg, approve(b, sign_in(b, cfg, to), state, remembered=True), verifier)["refresh_token"]]
    while len(tokens) < count:
        verifier, challenge = pkce()
        status, to, _ = b.page(authorize_query(cfg, state, challenge, None))
        tokens.append(redeem(b, cfg, code_from("authorize", to, state), verifier)["refresh_token"])
    return tokens


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["load", "tokens"])
    for name in ["base", "client-id", "client-secret", "username", "password"]:
        env = "BENCH_" + name.upper().replace("-", "_")
        p.add_argument("--" + name, default=os.environ.get(env), required=env not in os.environ)
    p.add_argument("--workers", type=int, default=16)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--count", type=int, default=100)
    cfg = p.parse_args()
    if cfg.mode == "load":
        print("BENCH " + json.dumps(load(cfg, cfg.workers, cfg.seconds)), flush=True)
    else:
        try:
            print("\n".join(refresh_tokens(cfg, cfg.count)))
        except (FlowError, OSError, http.client.HTTPException) as e:
            print(f"flow.py tokens: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
