#!/usr/bin/env python3
"""The benchmark's driver (bench/run.sh starts the server and calls this; see bench/README.md).

  bench.py run   BACKEND   measures the server at $BENCH_BASE (process $BENCH_PID) and prints
                           its markdown table, the argon2 ceiling, RSS and stalled renders
  bench.py sizes SITE BIN  prints the release WASM (raw, gzip) and binary sizes

`run` reads the environment run.sh sets: BENCH_BASE, BENCH_METRICS, BENCH_PID,
BENCH_CLIENT_ID, BENCH_CLIENT_SECRET, BENCH_USERNAME, BENCH_PASSWORD, BENCH_ROUNDS,
BENCH_SECONDS, BENCH_CONNECTIONS ("16 64"). Exit status 1 when a page render stalled.
Python 3 standard library only; the load comes from wrk (bench/lua/) and bench/flow.py.
"""

import json
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
LUA = os.path.join(HERE, "lua")
WRK_TIMEOUT = "10s"
TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1
MIB = 1024 * 1024

env = os.environ.get
# Accounts for the password-grant runs, one each (see stuck_sign_in), all with $BENCH_PASSWORD.
USERS = env("BENCH_USERS", "").split() or [env("BENCH_USERNAME")]


# --- The server process: CPU time and memory, from /proc. -------------------------------------

def cpu_seconds(pid):
    """utime + stime of every thread of `pid` so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # fields 14 and 15 of proc(5)


def alive(pid):
    """Whether `pid` runs (a zombie does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
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
        self.peak = max(self.peak, memory_kib(self.pid, "VmRSS"))
        return self.peak


# --- Load generators: each prints one "BENCH {json}" line. ------------------------------------

def parse_bench(proc_out, what):
    for line in proc_out.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[6:])
    raise RuntimeError(f"{what} printed no result")


def wrk_cmd(script, path, conns, seconds, args):
    threads = min(2, conns)
    return ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--timeout", WRK_TIMEOUT,
            "-s", os.path.join(LUA, script), env("BENCH_BASE") + path, "--", *args]


class NotStarted:
    """A run that could not start (its preparation failed): counted as one error."""

    def __init__(self, why):
        self.why = why


def finish(proc, what, seconds):
    """Waits for a load generator (bounded) and returns its result with `errors` summed."""
    if isinstance(proc, NotStarted):
        print(f"[bench] {what}: run not started: {proc.why}", file=sys.stderr, flush=True)
        return {"requests": 0, "rps": 0.0, "errors": 1, "failed": proc.why}
    try:
        out, err = proc.communicate(timeout=seconds + 240)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    if proc.returncode != 0:
        sys.stderr.write(err)
        raise RuntimeError(f"{what} failed with status {proc.returncode}")
    r = parse_bench(out, what)
    if "errors" not in r:  # wrk: answers that were not 2xx, malformed ones, socket errors
        r["errors"] = r["bad_status"] + r["malformed"] + r["socket_errors"]
    return r


def start(cmd, extra_env=None):
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, **(extra_env or {})))


class Endpoint:
    """One row kind: how to load it. `check` is the marker every good answer contains."""

    def __init__(self, name, kind, path="", method="GET", check="", body="-", headers=()):
        self.name, self.kind, self.path = name, kind, path
        self.args = [method, check, body, *headers]

    def launch(self, conns, seconds, work):
        """Starts the load; returns the process."""
        if self.kind == "password":
            # A fresh account each run: see stuck_sign_in().
            self.user = USERS.pop(0) if len(USERS) > 1 else USERS[0]
            return start(wrk_cmd("check.lua", self.path, conns, seconds, [
                "POST", '"access_token":"', password_grant_body(self.user)]))
        if self.kind == "check":
            return start(wrk_cmd("check.lua", self.path, conns, seconds, self.args))
        if self.kind == "refresh":
            # Twice the connections, so that no thread's queue runs dry.
            tokens = refresh_tokens(2 * conns + 8, work)
            if isinstance(tokens, NotStarted):
                return tokens
            return start(wrk_cmd("refresh.lua", self.path, conns, seconds, [quote(env("BENCH_CLIENT_ID")),
                                                                            quote(env("BENCH_CLIENT_SECRET"))]),
                         {"BENCH_REFRESH_TOKENS": tokens, "BENCH_THREADS": str(min(2, conns))})
        return start([sys.executable, os.path.join(HERE, "flow.py"), "load", "--workers", str(conns),
                      "--seconds", str(seconds)])


def quote(s):
    return urllib.parse.quote(s, safe="")


def form(**fields):
    return urllib.parse.urlencode(fields)


def refresh_tokens(count, work):
    """A file of `count` fresh refresh tokens, one per line (bench/flow.py tokens), issued to the
    main account, or if its sign-in fails, to a fresh one; NotStarted if that fails too."""
    for username in [env("BENCH_USERNAME"), USERS.pop(0) if len(USERS) > 1 else USERS[0]]:
        cmd = [sys.executable, os.path.join(HERE, "flow.py"), "tokens", "--count", str(count), "--username", username]
        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=300)
        if done.returncode == 0:
            break
        print(f"[bench] refresh tokens: signing in as {username} failed (above)", file=sys.stderr, flush=True)
    else:
        return NotStarted("no refresh tokens: the sign-ins that issue them failed")
    path = os.path.join(work, "refresh-tokens")
    with open(path, "w") as f:
        f.write(done.stdout)
    return path


def measure(pid, procs_and_names, seconds):
    """Runs already-started load generators to their end, with the server's CPU and RSS."""
    cpu0, peak = cpu_seconds(pid), RssPeak(pid)
    peak.start()
    results = [finish(p, name, seconds) for p, name in procs_and_names]
    cpu1, rss = cpu_seconds(pid), peak.stop()
    requests = sum(r["requests"] for r in results)
    for r in results:
        r["cpu_ms"] = (cpu1 - cpu0) * 1000 / requests if requests else float("nan")
        r["rss_kib"] = rss
    return results


def http(method, path, body=None, headers=None):
    req = urllib.request.Request(env("BENCH_BASE") + path, data=body and body.encode(), method=method,
                                 headers=headers or {})
    if body:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.read().decode()


# --- The run. -----------------------------------------------------------------------------------

def endpoints(access_token):
    cid, secret = env("BENCH_CLIENT_ID"), env("BENCH_CLIENT_SECRET")
    creds = {"client_id": cid, "client_secret": secret}
    token = '"access_token":"'
    return [
        Endpoint("GET /healthz", "check", "/healthz", check='"status":"ok"'),
        Endpoint("client_credentials", "check", "/o/token/", "POST", token,
                 form(grant_type="client_credentials", **creds)),
        Endpoint("introspection", "check", "/o/introspect/", "POST", '"active":true',
                 form(token=access_token, **creds)),
        Endpoint("userinfo", "check", "/o/userinfo/", check='"sub":"',
                 headers=[f"Authorization: Bearer {access_token}"]),
        Endpoint("refresh rotation", "refresh", "/o/token/"),
        Endpoint("password grant", "password", "/o/token/"),
        # A complete render: the sign-in form with its CSRF field (a stalled render has none).
        Endpoint("GET /o/login/ (SSR)", "check", "/o/login/", check='name="csrf" value="',
                 headers=["Accept: text/html"]),
        Endpoint("code flow (flows/s)", "flow"),
    ]


def password_grant_body(username):
    return form(grant_type="password", username=username, password=env("BENCH_PASSWORD"),
                scope="openid profile", client_id=env("BENCH_CLIENT_ID"), client_secret=env("BENCH_CLIENT_SECRET"))


def stuck_sign_in(username):
    """Whether `username` still cannot sign in a moment after a run. wrk cuts off the requests
    in flight when its time is up; a password grant cut off while it held a sign-in throttle
    reservation has been seen to leave it pending, and once the per-account-and-address budget
    is all pending, every later sign-in waits and fails. Each password run therefore signs in
    as a fresh account, and this probe tells whether the one it used was left locked."""
    time.sleep(0.5)
    req = urllib.request.Request(env("BENCH_BASE") + "/o/token/", data=password_grant_body(username).encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=3) as resp:
            return '"access_token"' not in resp.read().decode()
    except OSError:
        return True


def run(backend):
    pid, rounds, seconds = int(env("BENCH_PID")), int(env("BENCH_ROUNDS", "3")), int(env("BENCH_SECONDS", "10"))
    conn_counts = [int(c) for c in env("BENCH_CONNECTIONS", "16 64").split()]
    work = tempfile.mkdtemp(prefix="yaoshi-bench-driver.")
    log = lambda msg: print(f"[bench] {backend}: {msg}", file=sys.stderr, flush=True)

    # Warm-up, then the idle footprint; one password sign-in afterwards (argon2's memory).
    cc_body = form(grant_type="client_credentials", client_id=env("BENCH_CLIENT_ID"),
                   client_secret=env("BENCH_CLIENT_SECRET"))
    for _ in range(3):
        http("GET", "/healthz")
        http("POST", "/o/token/", cc_body)
        http("GET", "/o/login/", headers={"Accept": "text/html"})
    time.sleep(1)
    idle = memory_kib(pid, "VmRSS")
    access_token = json.loads(http("POST", "/o/token/", password_grant_body(env("BENCH_USERNAME"))))["access_token"]
    time.sleep(1)
    idle_signed = memory_kib(pid, "VmRSS")
    eps = endpoints(access_token)

    probes = []  # (password-grant run, whether its account could no longer sign in after it)

    def one(loads, conns):
        """Measures `loads` (endpoints run side by side) at `conns` connections each."""
        res = measure(pid, [(ep.launch(conns, seconds, work), ep.name) for ep in loads], seconds)
        if not alive(pid):
            raise SystemExit(f"the server exited during {', '.join(ep.name for ep in loads)}")
        for ep in loads:
            if ep.kind == "password":
                probes.append((f"{ep.name} at {conns}", stuck_sign_in(ep.user)))
        return res

    # The argon2 ceiling: one verification is the median latency of sequential password grants
    # minus that of sequential client_credentials (the same request path without argon2).
    log("argon2 ceiling (1 connection)")
    cc_ep, pw_ep = eps[1], eps[5]
    seq = {ep.name: one([ep], 1)[0] for ep in (cc_ep, pw_ep)}
    verify_ms = seq[pw_ep.name]["p50_ms"] - seq[cc_ep.name]["p50_ms"]
    ceiling = CORES * 1000 / verify_ms if verify_ms > 0 else float("nan")

    results = {}  # (row name, connections) -> [one result per round]
    for r in range(1, rounds + 1):
        for c in conn_counts:
            for ep in eps:
                log(f"round {r}/{rounds}, {c} connections: {ep.name}")
                results.setdefault((ep.name, c), []).append(one([ep], c)[0])
        # client_credentials while password grants keep every hashing worker busy.
        c = conn_counts[0]
        log(f"round {r}/{rounds}: client_credentials beside password grants, {c}+{c} connections")
        cc, pw = one([cc_ep, pw_ep], c)
        results.setdefault(("client_credentials, beside password grants", c), []).append(cc)
        results.setdefault(("password grant, beside client_credentials", c), []).append(pw)

    stalls = metric("yaoshi_page_render_stalls_total")
    hwm = memory_kib(pid, "VmHWM")
    print(report(backend, results, conn_counts, verify_ms, ceiling, seq, idle, idle_signed, hwm, stalls, probes))
    return 0 if stalls == 0 else 1


def metric(name):
    try:
        with urllib.request.urlopen(env("BENCH_METRICS"), timeout=10) as resp:
            for line in resp.read().decode().splitlines():
                if line.startswith(name + " ") or line.startswith(name + "{"):
                    return int(float(line.split()[-1]))
    except OSError:
        pass
    return None


# --- The report. --------------------------------------------------------------------------------

def targets(backend):
    """Per row name: (description, check(row) -> bool). Rows are dicts of the medians."""
    cc_ratio = 0.4 if backend == "postgres" else 0.5
    return {
        "client_credentials": (f"≥ {cc_ratio:.1f}× healthz; p99 ≤ 20 ms at 64",
                               lambda r: r["ratio"] >= cc_ratio and (r["conns"] != 64 or r["p99"] <= 20)),
        "introspection": ("≥ 0.7× healthz", lambda r: r["ratio"] >= 0.7),
        "userinfo": ("≥ 0.7× healthz", lambda r: r["ratio"] >= 0.7),
        "GET /o/login/ (SSR)": ("≥ 0.5× healthz", lambda r: r["ratio"] >= 0.5),
        "password grant": ("≥ 0.85× argon2 ceiling", lambda r: r["ceiling"] >= 0.85),
        "client_credentials, beside password grants": ("p99 ≤ 50 ms", lambda r: r["p99"] <= 50),
    }


def report(backend, results, conn_counts, verify_ms, ceiling, seq, idle, idle_signed, hwm, stalls, probes):
    goals = targets(backend)
    lines = [f"### {backend}", "",
             "| endpoint | conns | req/s (median) | runs (min–max) | × healthz | × argon2 ceiling | p50 ms | p99 ms "
             "| errors / requests | server CPU ms/req | RSS MiB | target | met |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    load_peak = 0
    index = list(results)
    for name, c in sorted(results, key=lambda k: (k[1], index.index(k))):
        runs = results[(name, c)]
        ok = [x for x in runs if "failed" not in x] or [{"p50_ms": float("nan"), "p99_ms": float("nan"),
                                                         "cpu_ms": float("nan"), "rss_kib": 0}]
        rps = [x["rps"] for x in runs]
        med = statistics.median(rps)
        base = statistics.median(x["rps"] for x in results[("GET /healthz", c)])
        argon = name.startswith("password grant") or name.startswith("code flow")
        beside = "beside" in name
        row = {"conns": c, "ratio": med / base if base else 0, "ceiling": med / ceiling if argon else 0,
               "p50": statistics.median(x["p50_ms"] for x in ok),
               "p99": statistics.median(x["p99_ms"] for x in ok)}
        errors, requests = sum(x["errors"] for x in runs), sum(x["requests"] for x in runs)
        not_started = len(runs) - len([x for x in runs if "failed" not in x])
        cpu = statistics.median(x["cpu_ms"] for x in ok)
        rss = max(x["rss_kib"] for x in ok) / 1024
        if c == 64:
            load_peak = max(load_peak, rss)
        goal, check = goals.get(name, ("", None))
        verdict = [] if check is None else ["met" if check(row) else "**missed**"]
        if errors:
            verdict.append("**errors**")
        cells = [
            name, f"{c}+{c}" if beside else str(c), f"{med:,.0f}", f"{min(rps):,.0f}–{max(rps):,.0f}",
            f"{row['ratio']:.2f}", f"{row['ceiling']:.2f}" if argon else "",
            f"{row['p50']:.1f}", f"{row['p99']:.1f}", f"{errors:,} / {requests:,}" + (f" ({not_started} runs not started)" if not_started else ""),
            f"{cpu:.2f} (both)" if beside else f"{cpu:.2f}", f"{rss:.0f}", goal, ", ".join(verdict),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    pw, cc = seq["password grant"], seq["client_credentials"]
    stuck = [label for label, locked in probes if locked]
    lines += [
        "",
        f"- argon2 ceiling: one verification ≈ {verify_ms:.1f} ms (sequential password grant p50 "
        f"{pw['p50_ms']:.1f} ms − client_credentials p50 {cc['p50_ms']:.1f} ms, 1 connection); "
        f"{CORES} cores ÷ that = **{ceiling:.1f} verifications/s** (hashing pool: {CORES} workers, one per core)",
        f"- idle RSS: **{idle / 1024:.1f} MiB** after start-up and warm-up (target ≤ 30 MiB: "
        f"{'met' if idle / 1024 <= 30 else '**missed**'}); {idle_signed / 1024:.1f} MiB after one password sign-in",
        f"- RSS under 64-connection load: **{load_peak:.0f} MiB** at most (target ≤ 120 MiB: "
        f"{'met' if load_peak <= 120 else '**missed**'}); peak over the whole run (VmHWM) {hwm / 1024:.0f} MiB",
        f"- page renders stalled: **{stalls if stalls is not None else 'unknown'}** (must be 0)",
        f"- accounts that could not sign in after a password-grant run (throttle reservations left pending "
        f"by requests cut off at the end): **{len(stuck)}** of {len(probes)} (must be 0)"
        + (f": {', '.join(stuck)}" if stuck else ""),
        "",
    ]
    return "\n".join(lines)


def sizes(site, binary):
    wasm = os.path.getsize(os.path.join(site, "pkg", "yaoshi.wasm"))
    gz = os.path.getsize(os.path.join(site, "pkg", "yaoshi.wasm.gz"))
    return "\n".join([
        "### sizes", "",
        f"- release WASM: {wasm / 1024:,.0f} KiB raw, **{gz / 1024:,.0f} KiB gzip** (target ≤ 250 KiB gzip: "
        f"{'met' if gz <= 250 * 1024 else '**missed**'})",
        f"- release binary: {os.path.getsize(binary) / MIB:,.1f} MiB", ""])


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "run":
        return run(sys.argv[2])
    if len(sys.argv) == 4 and sys.argv[1] == "sizes":
        print(sizes(sys.argv[2], sys.argv[3]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
