#!/usr/bin/env python3
"""The admin user search at scale (bench/README.md, "User search"): fills a migrated SQLite
database with generated users, then times `GET /api/v1/users?search=` on the running server
with an admin client's token, one request at a time, for needles the index answers and for
a two-character needle, which has no trigram and reads the whole table (the baseline).

  search.py fill DB N          insert N generated users straight into the users table
  search.py run BASE TOKEN R   R timed requests per needle; prints a markdown table

Only loopback; every request has a timeout.
"""
import json
import random
import sqlite3
import statistics
import string
import sys
import time
import urllib.parse
import urllib.request

FAMILY = ["wang", "li", "zhang", "liu", "chen", "yang", "zhao", "huang", "smith", "garcia", "müller", "kim"]


def fill(db_path, n):
    """N users, as registration would leave them: a username, a claimed (verified) email, a
    display name, some with a phone number. The FTS index is kept by the triggers."""
    random.seed(20261202)
    db = sqlite3.connect(db_path)
    now = int(time.time())
    rows = []
    for i in range(n):
        family = random.choice(FAMILY)
        given = "".join(random.choice(string.ascii_lowercase) for _ in range(6))
        username = f"{given}.{family}{i}"
        email = f"{username}@{random.choice(['example.com', 'mail.example.org', 'corp.example'])}"
        phone = f"+86138{i:08d}" if i % 3 == 0 else None
        rows.append((username, username, email, email, email, f"{given.title()} {family.title()}", now, now, phone))
    db.executemany(
        "INSERT INTO users (username, username_normalized, email, email_claim, email_normalized, display_name,"
        " created_at, updated_at, phone_number, phone_verified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
        rows,
    )
    db.commit()
    count = db.execute("SELECT COUNT(*) FROM users").fetchone()[0]
    print(json.dumps({"users": count, "sample": rows[n // 2][0]}))


def timed(base, token, needle):
    url = f"{base}/api/v1/users?" + urllib.parse.urlencode({"search": needle, "limit": 50})
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    start = time.perf_counter()
    with urllib.request.urlopen(req, timeout=30) as resp:
        body = json.loads(resp.read())
    return (time.perf_counter() - start) * 1000, len(body["users"])


def run(base, token, rounds, sample):
    needles = [
        ("one user (part of a username)", sample.split(".")[0][:5]),
        ("common (a family name)", "zhang"),
        ("in every row (a domain)", "example"),
        ("no user", "qqxjz"),
        ("display name, any case", "ZHAO"),
        ("phone digits", "13800001"),
        ("two characters no user has: no trigram, reads every row (baseline)", "~~"),
    ]
    for _, needle in needles:  # warm up
        timed(base, token, needle)
    print("| needle | matches (page of 50) | median ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    medians = {}
    for label, needle in needles:
        times = []
        found = 0
        for _ in range(rounds):
            ms, found = timed(base, token, needle)
            times.append(ms)
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        medians[label] = statistics.median(times)
        print(f"| {label}: `{needle}` | {found} | {medians[label]:.2f} | {p95:.2f} | {times[-1]:.2f} |")
    indexed = [v for k, v in medians.items() if "baseline" not in k]
    baseline = medians[needles[-1][0]]
    print(f"\nslowest indexed median {max(indexed):.2f} ms; table read {baseline:.2f} ms "
          f"({baseline / max(indexed):.0f}x the slowest indexed search)")


if __name__ == "__main__":
    if sys.argv[1] == "fill":
        fill(sys.argv[2], int(sys.argv[3]))
    else:
        run(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
