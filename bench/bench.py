#!/usr/bin/env python3
"""The benchmark's driver (bench/run.sh starts the server and calls this; see bench/README.md).

  bench.py run   LABEL     measures the server at $BENCH_BASE (process $BENCH_PID) and prints
                           its markdown table, the argon2 ceiling, RSS and stalled renders
  bench.py sizes SITE BIN  prints the release WASM (raw, gzip) and binary sizes
  bench.py log   FILE      counts the warnings and errors in a server log, by message

`run` reads the environment run.sh sets: BENCH_BASE, BENCH_METRICS, BENCH_PID,
BENCH_CLIENT_ID, BENCH_CLIENT_SECRET, BENCH_USERNAME, BENCH_USERS, BENCH_PASSWORD,
BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONNECTIONS ("16 64"). Exit status 1 when a page render
stalled. Python 3 standard library only; the load comes from wrk (bench/lua/) and
bench/flow.py, each printing one "BENCH {json}" line.
"""

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
WRK_TIMEOUT = "10s"
TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1
NAN = float("nan")

env = os.environ.get
# The accounts password-grant runs sign in as, one per run (see stuck_sign_in); the last one
# is reused if they run out. Every account has the password $BENCH_PASSWORD.
USERS = env("BENCH_USERS", "").split() or [env("BENCH_USERNAME")]


def fresh_account():
    return USERS.pop(0) if len(USERS) > 1 else USERS[0]


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def form(**fields):
    return urllib.parse.urlencode(fields)


def credentials():
    return {"client_id": env("BENCH_CLIENT_ID"), "client_secret": env("BENCH_CLIENT_SECRET")}


def django_credentials():
    """The imported django-oauth-toolkit client with a Django-hashed secret (run.sh), if any."""
    return {"client_id": env("BENCH_DJANGO_CLIENT_ID"), "client_secret": env("BENCH_DJANGO_CLIENT_SECRET")}


def password_grant_body(username):
    return form(grant_type="password", username=username, password=env("BENCH_PASSWORD"), scope="openid profile",
                **credentials())


def http(method, path, body=None, headers=None, timeout=30):
    req = urllib.request.Request(env("BENCH_BASE") + path, data=body and body.encode(), method=method,
                                 headers=headers or {})
    if body:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.read().decode()


# --- The server process: CPU time and memory, from /proc. -------------------------------------

def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()  # from field 3 (state) of proc(5) on


def cpu_seconds(pid):
    """utime + stime of every thread of `pid` so far (fields 14 and 15 of proc(5))."""
    fields = proc_stat(pid)
    return (int(fields[11]) + int(fields[12])) / TICKS


def alive(pid):
    """Whether `pid` runs (a zombie does not)."""
    try:
        return proc_stat(pid)[0] != "Z"
    except OSError:
        return False


def memory_kib(pid, key):
    """VmRSS or VmHWM of `pid`, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class RssPeak(threading.Thread):
    """Samples the server's VmRSS every 100 ms until stopped; `peak` is the largest, in KiB."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.halt = pid, memory_kib(pid, "VmRSS"), threading.Event()

    def run(self):
        while not self.halt.wait(0.1):
            self.peak = max(self.peak, memory_kib(self.pid, "VmRSS"))

    def stop(self):
        self.halt.set()
        self.join()
        return max(self.peak, memory_kib(self.pid, "VmRSS"))


def metric(name):
    """A counter from the metrics listener, or None."""
    try:
        with urllib.request.urlopen(env("BENCH_METRICS"), timeout=10) as resp:
            for line in resp.read().decode().splitlines():
                if line.startswith(name + " ") or line.startswith(name + "{"):
                    return int(float(line.split()[-1]))
    except OSError:
        pass
    return None


# --- Load generators. ---------------------------------------------------------------------------

class NotStarted:
    """A run whose preparation failed: it counts as one error."""

    def __init__(self, why):
        self.why = why


def start(cmd, extra_env=None):
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, **(extra_env or {})))


def wrk(script, path, conns, seconds, args, extra_env=None):
    return start(["wrk", f"-t{min(2, conns)}", f"-c{conns}", f"-d{seconds}s", "--timeout", WRK_TIMEOUT,
                  "-s", os.path.join(HERE, "lua", script), env("BENCH_BASE") + path, "--", *args], extra_env)


def finish(proc, what, seconds, conns):
    """Waits (bounded) for a load generator; its result, with `errors` summed for wrk: answers
    that were not 2xx, malformed ones, socket errors (connect, read, write, timeout), and
    connections that never got an answer in the whole run (wrk counts a request that is still
    unanswered when the run ends as nothing at all, so a run of `conns` connections that
    completes fewer requests than that has left some waiting for at least `seconds`)."""
    if isinstance(proc, NotStarted):
        log(f"{what}: run not started: {proc.why}")
        return {"requests": 0, "rps": 0.0, "errors": 1, "failed": proc.why}
    try:
        out, err = proc.communicate(timeout=seconds + 240)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    line = next((l for l in out.splitlines() if l.startswith("BENCH ")), None)
    if proc.returncode != 0 or line is None:
        sys.stderr.write(err)
        raise SystemExit(f"{what}: the load generator failed (status {proc.returncode})")
    r = json.loads(line[len("BENCH "):])
    if "errors" not in r:
        r["unanswered"] = max(0, conns - r["requests"])
        r["errors"] = r["bad_status"] + r["malformed"] + r["socket_errors"] + r["unanswered"]
    return r


def refresh_tokens(count, work):
    """A file of `count` unused refresh tokens, one per line (bench/flow.py tokens), issued to
    the main account or, if its sign-in fails, to a fresh one; NotStarted if both fail."""
    for username in [env("BENCH_USERNAME"), fresh_account()]:
        done = subprocess.run([sys.executable, os.path.join(HERE, "flow.py"), "tokens", "--count", str(count),
                               "--username", username], stdout=subprocess.PIPE, text=True, timeout=300)
        if done.returncode == 0:
            path = os.path.join(work, "refresh-tokens")
            with open(path, "w") as f:
                f.write(done.stdout)
            return path
        log(f"refresh tokens: the sign-in as {username} failed (above)")
    return NotStarted("no refresh tokens: the sign-ins that issue them failed")


class Endpoint:
    """One kind of row: `check` is what every good answer's body contains (bench/lua/check.lua)."""

    def __init__(self, name, kind, path="", method="GET", check="", body="-", headers=()):
        self.name, self.kind, self.path, self.user = name, kind, path, None
        self.args = [method, check, body, *headers]

    def launch(self, conns, seconds, work):
        """Starts its load; returns the process (or NotStarted)."""
        if self.kind == "check":
            return wrk("check.lua", self.path, conns, seconds, self.args)
        if self.kind == "password":
            self.user = fresh_account()
            return wrk("check.lua", self.path, conns, seconds, ["POST", '"access_token":"',
                                                                password_grant_body(self.user)])
        if self.kind == "refresh":
            tokens = refresh_tokens(2 * conns + 8, work)  # twice the connections: no queue runs dry
            if isinstance(tokens, NotStarted):
                return tokens
            c = credentials()
            args = [urllib.parse.quote(c["client_id"], safe=""), urllib.parse.quote(c["client_secret"], safe="")]
            return wrk("refresh.lua", self.path, conns, seconds, args,
                       {"BENCH_REFRESH_TOKENS": tokens, "BENCH_THREADS": str(min(2, conns))})
        return start([sys.executable, os.path.join(HERE, "flow.py"), "load", "--workers", str(conns),
                      "--seconds", str(seconds)])


def endpoints(access_token):
    """The table's rows, in the order each round runs them."""
    token = '"access_token":"'
    return [
        Endpoint("GET /healthz", "check", "/healthz", check='"status":"ok"'),
        Endpoint("client_credentials", "check", "/o/token/", "POST", token,
                 form(grant_type="client_credentials", **credentials())),
        Endpoint("introspection", "check", "/o/introspect/", "POST", '"active":true',
                 form(token=access_token, **credentials())),
        Endpoint("userinfo", "check", "/o/userinfo/", check='"sub":"',
                 headers=[f"Authorization: Bearer {access_token}"]),
        Endpoint("refresh rotation", "refresh", "/o/token/"),
        Endpoint("password grant", "password", "/o/token/"),
        # A complete render has the sign-in form with its CSRF field; a stalled one has not.
        Endpoint("GET /o/login/ (SSR)", "check", "/o/login/", check='name="csrf" value="',
                 headers=["Accept: text/html"]),
        Endpoint("code flow (flows/s)", "flow"),
    ] + ([
        # Its first use (the warm-up) verified the PBKDF2 hash DOT stored and replaced it with
        # the SHA-256 record: from then on it costs what a native client costs.
        Endpoint(IMPORTED_CC, "check", "/o/token/", "POST", token,
                 form(grant_type="client_credentials", **django_credentials())),
    ] if env("BENCH_DJANGO_CLIENT_ID") else [])


IMPORTED_CC = "client_credentials, imported DOT client (after first use)"


def stuck_sign_in(username):
    """Whether `username` still cannot sign in a moment after a password-grant run. wrk cuts off
    the requests in flight when its time is up, and a password grant cut off while it held a
    sign-in throttle reservation has been seen to leave it pending: once the account's budget
    is all pending, each later sign-in waits and fails. So every password-grant run signs in as
    a fresh account, and this probe says whether the run left it locked."""
    time.sleep(0.5)
    try:
        return '"access_token"' not in http("POST", "/o/token/", password_grant_body(username), timeout=3)
    except OSError:
        return True


# --- The run. -----------------------------------------------------------------------------------

def run(label):
    with tempfile.TemporaryDirectory(prefix="yaoshi-bench-driver.") as work:
        return run_in(label, work)


def run_in(label, work):
    pid, rounds, seconds = int(env("BENCH_PID")), int(env("BENCH_ROUNDS", "3")), int(env("BENCH_SECONDS", "10"))
    conn_counts = [int(c) for c in env("BENCH_CONNECTIONS", "16 64").split()]

    # Warm-up, then the idle footprint; then one password sign-in (argon2's memory), whose
    # access token (scope openid profile) the introspection and userinfo rows present.
    for _ in range(3):
        http("GET", "/healthz")
        http("POST", "/o/token/", form(grant_type="client_credentials", **credentials()))
        if env("BENCH_DJANGO_CLIENT_ID"):
            http("POST", "/o/token/", form(grant_type="client_credentials", **django_credentials()))
        http("GET", "/o/login/", headers={"Accept": "text/html"})
    time.sleep(1)
    idle = memory_kib(pid, "VmRSS")
    access_token = json.loads(http("POST", "/o/token/", password_grant_body(env("BENCH_USERNAME"))))["access_token"]
    time.sleep(1)
    idle_signed = memory_kib(pid, "VmRSS")
    eps = endpoints(access_token)
    cc_ep, pw_ep = eps[1], eps[5]
    probes = []  # (password-grant run, whether its account could no longer sign in after it)

    def measure(loads, conns, secs=seconds):
        """Runs `loads` side by side at `conns` connections each, with the server's CPU time
        (per request over all of them) and its largest RSS meanwhile."""
        procs = [(ep.launch(conns, secs, work), ep) for ep in loads]
        cpu0, peak = cpu_seconds(pid), RssPeak(pid)
        peak.start()
        res = [finish(p, ep.name, secs, conns) for p, ep in procs]
        cpu, rss = cpu_seconds(pid) - cpu0, peak.stop()
        if not alive(pid):
            raise SystemExit(f"the server exited during {', '.join(ep.name for ep in loads)}")
        requests = sum(r["requests"] for r in res)
        for r in res:
            r["cpu_ms"], r["rss_kib"] = (cpu * 1000 / requests if requests else NAN), rss
        for p, ep in procs:
            if ep.kind == "password" and not isinstance(p, NotStarted):
                beside = " beside client_credentials" if len(loads) > 1 else ""
                probes.append((f"{ep.name} at {conns}{beside}", stuck_sign_in(ep.user)))
        return res

    results = {}  # (row, connections) -> [one result per round]
    sequential = {"client_credentials": [], "password grant": []}
    for r in range(1, rounds + 1):
        # For the argon2 ceiling: sequential client_credentials and password grants.
        log(f"{label}: round {r}/{rounds}, 1 connection: client_credentials, password grant")
        for ep in (cc_ep, pw_ep):
            sequential[ep.name].append(measure([ep], 1, max(3, math.ceil(seconds / 2)))[0])
        for c in conn_counts:
            for ep in eps:
                log(f"{label}: round {r}/{rounds}, {c} connections: {ep.name}")
                results.setdefault((ep.name, c), []).append(measure([ep], c)[0])
        # client_credentials while password grants keep every hashing worker busy.
        c = conn_counts[0]
        log(f"{label}: round {r}/{rounds}, {c}+{c} connections: client_credentials beside password grants")
        cc, pw = measure([cc_ep, pw_ep], c)
        results.setdefault(("client_credentials, beside password grants", c), []).append(cc)
        results.setdefault(("password grant, beside client_credentials", c), []).append(pw)

    stalls = metric("yaoshi_page_render_stalls_total")
    print(report(label, results, conn_counts, sequential, idle, idle_signed, memory_kib(pid, "VmHWM"), stalls,
                 probes))
    return 0 if stalls == 0 else 1


# --- The report. --------------------------------------------------------------------------------

def median(xs):
    xs = [x for x in xs if not math.isnan(x)]
    return statistics.median(xs) if xs else NAN


def targets(label):
    """Per row: (what it should reach, whether the row's medians reach it)."""
    cc = 0.4 if label == "postgres" else 0.5
    return {
        "client_credentials": (f"≥ {cc}× healthz; p99 ≤ 20 ms at 64",
                               lambda r: r["ratio"] >= cc and (r["conns"] != 64 or r["p99"] <= 20)),
        IMPORTED_CC: (f"≥ {cc}× healthz (DOT: about 2 req/s)", lambda r: r["ratio"] >= cc),
        "introspection": ("≥ 0.7× healthz", lambda r: r["ratio"] >= 0.7),
        "userinfo": ("≥ 0.7× healthz", lambda r: r["ratio"] >= 0.7),
        "GET /o/login/ (SSR)": ("≥ 0.5× healthz", lambda r: r["ratio"] >= 0.5),
        "password grant": ("≥ 0.85× argon2 ceiling", lambda r: r["ceiling"] >= 0.85),
        "client_credentials, beside password grants": ("p99 ≤ 50 ms", lambda r: r["p99"] <= 50),
    }


def met(ok):
    return "met" if ok else "**missed**"


def report(label, results, conn_counts, sequential, idle, idle_signed, hwm, stalls, probes):
    seq = {name: {k: median(x.get(k, NAN) for x in runs) for k in ("p50_ms", "cpu_ms")}
           for name, runs in sequential.items()}
    # One verification's time: the server CPU time a password grant costs beyond a
    # client_credentials request, sequentially; the latency difference is the cross-check.
    verify_cpu = seq["password grant"]["cpu_ms"] - seq["client_credentials"]["cpu_ms"]
    verify_ms = seq["password grant"]["p50_ms"] - seq["client_credentials"]["p50_ms"]
    ceiling = CORES * 1000 / verify_cpu if verify_cpu > 0 else NAN
    goals = targets(label)
    lines = [f"### {label}", "",
             "| endpoint | conns | req/s (median) | runs (min–max) | × healthz | × argon2 ceiling | p50 ms | p99 ms "
             "| errors / requests | server CPU ms/req | RSS MiB | target | met |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    load_peak = 0
    order = list(results)
    for name, c in sorted(results, key=lambda k: (k[1], order.index(k))):
        runs = results[(name, c)]
        ran = [x for x in runs if "failed" not in x]
        rps = [x["rps"] for x in runs]
        base = statistics.median(x["rps"] for x in results[("GET /healthz", c)])
        argon = name.startswith(("password grant", "code flow"))
        beside = "beside" in name
        row = {"conns": c, "rps": statistics.median(rps), "p50": median(x["p50_ms"] for x in ran),
               "p99": median(x["p99_ms"] for x in ran)}
        row["ratio"] = row["rps"] / base if base else 0
        row["ceiling"] = row["rps"] / ceiling if argon else NAN
        errors, requests = sum(x["errors"] for x in runs), sum(x["requests"] for x in runs)
        rss = max((x["rss_kib"] for x in ran), default=0) / 1024
        if c == max(conn_counts):
            load_peak = max(load_peak, rss)
        goal, reached = goals.get(name, ("", None))
        verdict = [] if reached is None else [met(reached(row))]
        if errors:
            verdict.append("**errors**")
        cpu = f"{median(x['cpu_ms'] for x in ran):.2f}" + (" (both)" if beside else "")
        not_started = f" ({len(runs) - len(ran)} not started)" if len(ran) < len(runs) else ""
        cells = [name, f"{c}+{c}" if beside else str(c), f"{row['rps']:,.0f}", f"{min(rps):,.0f}–{max(rps):,.0f}",
                 f"{row['ratio']:.2f}", f"{row['ceiling']:.2f}" if argon else "", f"{row['p50']:.1f}",
                 f"{row['p99']:.1f}", f"{errors:,} / {requests:,}{not_started}", cpu, f"{rss:.0f}", goal,
                 ", ".join(verdict)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += error_lines(results)
    stuck = [run for run, locked in probes if locked]
    per_run = lambda name, k: ", ".join(f"{x[k]:.1f}" for x in sequential[name] if k in x)
    lines += [
        "",
        f"- argon2 ceiling: one verification ≈ **{verify_cpu:.1f} ms** of server CPU = the median CPU ms of a "
        f"sequential password grant ({per_run('password grant', 'cpu_ms')}) − of a sequential client_credentials "
        f"request ({per_run('client_credentials', 'cpu_ms')}); {CORES} cores ÷ {verify_cpu:.1f} ms = "
        f"**{ceiling:.1f} verifications/s** (the hashing pool has one worker per core). Cross-check, the same "
        f"difference of p50 latencies: {verify_ms:.1f} ms ({per_run('password grant', 'p50_ms')} − "
        f"{per_run('client_credentials', 'p50_ms')} ms)",
        f"- idle RSS: **{idle / 1024:.1f} MiB** after start-up and a warm-up (target ≤ 30 MiB: {met(idle <= 30 * 1024)}); "
        f"{idle_signed / 1024:.1f} MiB after one password sign-in",
        f"- RSS under {max(conn_counts)}-connection load: **{load_peak:.0f} MiB** at most (target ≤ 120 MiB: "
        f"{met(load_peak <= 120)}); the whole run's peak (VmHWM): {hwm / 1024:.0f} MiB",
        f"- page renders stalled: **{stalls if stalls is not None else 'unknown'}** (must be 0)",
        f"- accounts left unable to sign in by a password-grant run (see bench/README.md): **{len(stuck)}** of "
        f"{len(probes)} (should be 0)" + (f": {', '.join(stuck)}" if stuck else ""),
        "",
    ]
    return "\n".join(lines)


def error_lines(results):
    """What the errors of each row with errors were."""
    lines = []
    for (name, c), runs in results.items():
        kinds = {}
        for x in runs:
            for kind, n in [("not 2xx", x.get("bad_status", 0)), ("malformed", x.get("malformed", 0)),
                            ("not started", int("failed" in x)),
                            ("connections unanswered all run", x.get("unanswered", 0))] \
                    + [(f"socket {k}", n) for k, n in x.get("socket", {}).items()] \
                    + [(f"at step {step}", n) for step, n in x.get("error_steps", {}).items()]:
                kinds[kind] = kinds.get(kind, 0) + n
        kinds = {k: n for k, n in kinds.items() if n}
        if kinds:
            lines.append(f"- errors of {name} at {c}: " + ", ".join(f"{n:,} {k}" for k, n in kinds.items()))
    return [""] + lines if lines else []


def sizes(site, binary):
    wasm = os.path.getsize(os.path.join(site, "pkg", "yaoshi.wasm"))
    gz = os.path.getsize(os.path.join(site, "pkg", "yaoshi.wasm.gz"))
    return "\n".join([
        "### sizes", "",
        f"- release WASM: {wasm / 1024:,.0f} KiB raw, **{gz / 1024:,.0f} KiB gzip** (target ≤ 250 KiB gzip: "
        f"{met(gz <= 250 * 1024)})",
        f"- release binary: {os.path.getsize(binary) / 1024 / 1024:,.1f} MiB", ""])


def log_summary(path):
    """The server log's warnings and errors, counted by message (and path and status, for the
    requests it answered with a server error)."""
    counts = {}
    with open(path, errors="replace") as f:
        for line in f:
            parts = line.split(None, 2)
            if len(parts) < 3 or parts[1] not in ("WARN", "ERROR"):
                continue
            text = parts[2].strip()
            fields = dict(p.split("=", 1) for p in text.split() if "=" in p and not p.startswith("="))
            words = text.split(" ")
            message = " ".join(words[:next((i for i, w in enumerate(words) if "=" in w), len(words))])
            where = " ".join(f"{k}={fields[k]}" for k in ("path", "status") if k in fields)
            key = f"{parts[1]} {message}" + (f" ({where})" if where else "")
            counts[key] = counts.get(key, 0) + 1
    if not counts:
        return "- server log: no warnings or errors\n"
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:10]
    return "\n".join([f"- server log: {sum(counts.values())} warnings and errors, most frequent:"]
                     + [f"  - {n}× `{key[:160]}`" for key, n in top]) + "\n"


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "run":
        return run(sys.argv[2])
    if len(sys.argv) == 3 and sys.argv[1] == "log":
        print(log_summary(sys.argv[2]))
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "sizes":
        print(sizes(sys.argv[2], sys.argv[3]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
