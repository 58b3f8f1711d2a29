#!/usr/bin/env bash
# Runs every test: unit and integration tests (SQLite and a throwaway PostgreSQL), CLI tests,
# then the Playwright tests against the release binary copied alone into an empty directory
# (it carries its site). Installs what is missing first. Everything is built once, in the
# release profile: the tests, the binary and the benchmark share one set of dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
started=$SECONDS
mark=$SECONDS
took() { echo "[test] $1 ($((SECONDS - mark))s; $((SECONDS - started))s in all)" >&2; mark=$SECONDS; }

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
bash .ci/tools.sh test
export PATH="$HOME/.cargo/bin:${YAOSHI_TOOLS_DIR:-$HOME/.cache/yaoshi-tools}/node_modules/.bin:$PATH"
target="$CARGO_TARGET_DIR"
# Chromium and PostgreSQL download and unpack while the builds below use the CPU.
bash .ci/tools.sh system >"${TMPDIR:-/tmp}/yaoshi-system-tools.log" 2>&1 &
system_tools=$!
took "tools ready"

source .ci/postgres.sh
source .ci/mailbox.sh
server_pid=""
upstream_pid=""
passkey_pid=""
work="$(mktemp -d /tmp/yaoshi-test.XXXXXX)"
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "$upstream_pid" ] && kill "$upstream_pid" 2>/dev/null || true
  [ -n "$passkey_pid" ] && kill "$passkey_pid" 2>/dev/null || true
  kill ${balance_pids[*]:-} 2>/dev/null || true
  stop_postgres
  stop_mailbox
  stop_fake_sms
  stop_fake_wechat
  rm -rf "$work"
}
trap cleanup EXIT

# Style first: it fails in seconds. Formatting, then clippy with warnings as errors (in the
# release profile, which shares build scripts and proc macros with the build below).
cargo fmt --check
took "cargo fmt --check"

# The site next: the server build embeds it.
bash .ci/site.sh
took "site built"

cargo clippy --release --all-targets --features ssr --quiet -- -D warnings
took "cargo clippy"

if ! wait "$system_tools"; then
  cat "${TMPDIR:-/tmp}/yaoshi-system-tools.log" >&2
  exit 1
fi
took "Chromium, PostgreSQL, nginx, aiosmtpd and Django ready"
start_postgres
# A real django-oauth-toolkit database (users, applications, live tokens from DOT's own token
# endpoint) for the import test, tests/integration/django_import.rs: one on SQLite, one with
# Django on the test PostgreSQL.
django_py="${YAOSHI_TOOLS_DIR:-$HOME/.cache/yaoshi-tools}/py/bin/python"
timeout 300 "$django_py" -W ignore tests/django/build_fixture.py "$work/django" >&2
export YAOSHI_TEST_DJANGO="$work/django"
"$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres django_dot
timeout 300 "$django_py" -W ignore tests/django/build_fixture.py "$work/django-postgres" \
  "postgres://postgres@127.0.0.1:$PG_PORT/django_dot" >&2
export YAOSHI_TEST_DJANGO_POSTGRES="$work/django-postgres"
took "Django databases built"
# Where outgoing mail and SMS go: a real SMTP server, and a fake Tencent SMS endpoint (which the
# browser tests' server is configured with).
start_mailbox
start_fake_sms

echo "[test] cargo test --release (unit, integration on sqlite + postgres, CLI)" >&2
cargo test --release --features ssr --no-fail-fast -- --skip limits::slow_loris 2>&1
# The slow-loris check holds 500 connections open in the test process: it runs alone, so that
# the rest of the suite's load and sockets do not close them before it has measured.
cargo test --release --features ssr --test integration limits::slow_loris 2>&1
took "cargo test"

# The binary alone, in a directory with nothing beside it: what an operator deploys.
mkdir -p "$work/deploy"
cp "$target/release/yaoshi" "$work/deploy/yaoshi"
unset LEPTOS_SITE_ROOT
cd "$work/deploy"

# Fixtures for the browser tests, made with the CLI as an operator would.
export DATABASE_URL="sqlite://$work/e2e.db"
yaoshi="$work/deploy/yaoshi"
for u in alice bob carol dave erin frank grace heidi ivan judy mallory oscar peggy quinn trent victor wendy xavier yvonne; do
  echo "e2e-password-$u" | "$yaoshi" user create "$u" --email "$u@example.com" --email-verified --password-stdin >/dev/null
done
echo "e2e-password-root" | "$yaoshi" user create root --admin --password-stdin >/dev/null
"$yaoshi" client create --name "Single Page App" --public --client-id spa \
  --redirect-uri http://127.0.0.1:8000/spa --grant authorization_code --grant refresh_token >/dev/null
# end2end/tests/cors.spec.ts serves this app from both ports; only 8001 is an allowed origin.
"$yaoshi" client create --name "CORS SPA" --public --client-id cors-spa --redirect-uri http://127.0.0.1:8001/cb \
  --redirect-uri http://127.0.0.1:8002/cb --allowed-origin http://127.0.0.1:8001 --grant authorization_code >/dev/null
# end2end/tests/device.spec.ts plays this device (RFC 8628).
"$yaoshi" client create --name "Living Room TV" --public --client-id tv-device --grant device_code \
  --grant refresh_token >/dev/null
echo "logout-rp-secret" | "$yaoshi" client create --name "Logout RP" --client-id logout-rp --trusted --secret-stdin \
  --redirect-uri http://127.0.0.1:8000/rp --post-logout-redirect-uri http://127.0.0.1:8000/logged-out >/dev/null
"$yaoshi" client create --name "Trusted Console" --client-id trusted --trusted \
  --redirect-uri http://127.0.0.1:8000/trusted --grant authorization_code >/dev/null

# Six distinct ports the kernel says are free now (a fixed offset from a random port may be
# taken: the ephemeral range of outgoing connections covers it): this server, the upstream
# provider, the balancer with its two instances, and the passkey server.
read -r port up_port lb_port instance_a instance_b pk_port < <(python3 -c '
import socket
held = [socket.socket() for _ in range(6)]
for s in held: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in held))')
base="http://127.0.0.1:$port"

# A second Yaoshi, with its own database, is the upstream OpenID Connect provider people may
# sign in with. It listens on 127.0.0.2, another host to the browser, so that the two servers'
# cookies stay apart (cookies ignore ports). Its client `e2e-rp` skips consent.
upstream="http://127.0.0.2:$up_port"
up_db="sqlite://$work/upstream.db"
for u in uma vera walt; do
  echo "e2e-upstream-$u" | "$yaoshi" --database-url "$up_db" user create "$u" --email "$u@example.com" --email-verified --password-stdin >/dev/null
done
echo "e2e-upstream-client-secret" | "$yaoshi" --database-url "$up_db" client create --name "Yaoshi under test" \
  --client-id e2e-rp --secret-stdin --trusted --redirect-uri "$base/o/login/callback/upstream" \
  --grant authorization_code >/dev/null
"$yaoshi" --database-url "$up_db" --issuer "$upstream" \
  serve --bind "127.0.0.2:$up_port" >"$work/upstream.log" 2>&1 &
upstream_pid=$!

# A fake WeChat (.ci/fake_wechat.py) for WeChat website login.
start_fake_wechat

# The server under test names it as a provider, next to one that is never reachable; and the
# fake WeChat, next to QQ, which is never reachable either (its button is only looked at).
cat >"$work/yaoshi.toml" <<TOML
[[providers]]
id = "upstream"
name = "Upstream Yaoshi"
kind = "oidc"
issuer = "$upstream"
client_id = "e2e-rp"
client_secret = "e2e-upstream-client-secret"

[[providers]]
id = "offline"
name = "Offline Provider"
kind = "oidc"
issuer = "http://127.0.0.1:9"
client_id = "nobody"
client_secret = "nothing"

[[providers]]
id = "wechat"
preset = "wechat"
client_id = "$YAOSHI_TEST_WECHAT_APPID"
client_secret = "$YAOSHI_TEST_WECHAT_SECRET"
authorization_endpoint = "$YAOSHI_TEST_WECHAT_URL/connect/qrconnect"
token_endpoint = "$YAOSHI_TEST_WECHAT_URL/sns/oauth2/access_token"
userinfo_endpoint = "$YAOSHI_TEST_WECHAT_URL/sns/userinfo"

[[providers]]
id = "qq"
preset = "qq"
client_id = "101000000"
client_secret = "nothing"
authorization_endpoint = "http://127.0.0.1:9/oauth2.0/authorize"
api_base = "http://127.0.0.1:9"

# Mail through real SMTP to the mailbox, SMS to the fake Tencent endpoint (.ci/mailbox.sh).
[mail]
transport = "smtp"
from = "Yaoshi <no-reply@yaoshi.test>"
smtp_host = "${YAOSHI_TEST_SMTP%:*}"
smtp_port = ${YAOSHI_TEST_SMTP##*:}
smtp_security = "none"
smtp_username = "$YAOSHI_TEST_SMTP_USER"
smtp_password = "$YAOSHI_TEST_SMTP_PASSWORD"

[sms]
transport = "tencent"
access_key_id = "$YAOSHI_TEST_SMS_SECRET_ID"
access_key_secret = "$YAOSHI_TEST_SMS_SECRET_KEY"
sign_name = "钥匙"
template = "1234567"
sdk_app_id = "1400000000"
region = "ap-guangzhou"
endpoint = "$YAOSHI_TEST_SMS_URL"

# The proof-of-work CAPTCHA on the forms that send codes, cheap here (the browser solves it).
[captcha]
kind = "pow"
pow_bits = 12
TOML
"$yaoshi" --config "$work/yaoshi.toml" --issuer "$base" \
  serve --demo --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!

# Passkeys (end2end/tests/passkey.spec.ts) need a host name as the WebAuthn relying party:
# browsers refuse an IP address. A server of its own, with its own database and fixtures,
# whose issuer is http://localhost:PORT (a secure context to Chromium, like 127.0.0.1).
passkey_url="http://localhost:$pk_port"
pk_db="sqlite://$work/passkey.db"
echo "e2e-password-penny" | "$yaoshi" --database-url "$pk_db" user create penny --email penny@example.com \
  --email-verified --password-stdin >/dev/null
echo "passkey-rp-secret" | "$yaoshi" --database-url "$pk_db" client create --name "Passkey RP" --client-id passkey-rp \
  --trusted --secret-stdin --redirect-uri http://127.0.0.1:8000/rp --grant authorization_code >/dev/null
"$yaoshi" --database-url "$pk_db" --issuer "$passkey_url" \
  serve --bind "127.0.0.1:$pk_port" >"$work/passkey.log" 2>&1 &
passkey_pid=$!

echo "[test] Playwright against $base (upstream provider $upstream, WeChat $YAOSHI_TEST_WECHAT_URL, passkeys at $passkey_url)" >&2
cd "$root/end2end"
[ -d node_modules/@playwright/test ] && [ -d node_modules/@axe-core/playwright ] || npm ci --no-audit --no-fund --silent
if ! YAOSHI_BASE_URL="$base" YAOSHI_UPSTREAM_URL="$upstream" YAOSHI_WECHAT_URL="$YAOSHI_TEST_WECHAT_URL" \
  YAOSHI_PASSKEY_URL="$passkey_url" npx playwright test; then
  echo "[test] server log:" >&2; tail -n 50 "$work/server.log" >&2
  echo "[test] upstream log:" >&2; tail -n 20 "$work/upstream.log" >&2
  echo "[test] fake WeChat log:" >&2; tail -n 20 "$FAKE_WECHAT_DIR/log" >&2
  echo "[test] passkey server log:" >&2; tail -n 20 "$work/passkey.log" >&2
  exit 1
fi
took "Playwright"

# --- Several instances: two on one PostgreSQL database behind nginx, round robin ------------
# end2end/tests/balance.spec.ts runs the browser flow through the balancer and checks that each
# step was answered by the other instance. A fresh database; fixtures made with the CLI.
"$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres yaoshi_balance
balance_db="postgres://postgres@127.0.0.1:$PG_PORT/yaoshi_balance"
echo "e2e-password-nina" | "$yaoshi" --database-url "$balance_db" user create nina --email nina@example.com --email-verified \
  --password-stdin >/dev/null
"$yaoshi" --database-url "$balance_db" client create --name "Balanced App" --public --client-id lb-spa \
  --redirect-uri http://127.0.0.1:8000/lb --grant authorization_code --grant refresh_token >/dev/null
lb="http://127.0.0.1:$lb_port"
instances=""
balance_pids=()
for p in "$instance_a" "$instance_b"; do
  "$yaoshi" --database-url "$balance_db" --issuer "$lb" --trusted-proxies 127.0.0.1 \
    serve --bind "127.0.0.1:$p" >"$work/instance-$p.log" 2>&1 &
  balance_pids+=($!)
  instances="$instances 127.0.0.1:$p"
done
# One worker, so requests alternate strictly; max_fails=0 keeps an instance that is still
# starting in the rotation. The site's files have a balancer of their own: only the flow's
# requests take turns on `yaoshi`. `Host` keeps the port for the forms' same-origin check.
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<NGINX
$([ "$(id -u)" = 0 ] && echo "user root;")
worker_processes 1;
error_log $work/nginx/error.log;
pid $work/nginx/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  upstream yaoshi {$(for i in $instances; do printf ' server %s max_fails=0;' "$i"; done) }
  upstream site {$(for i in $instances; do printf ' server %s max_fails=0;' "$i"; done) }
  proxy_set_header Host \$http_host;
  proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
  proxy_set_header X-Forwarded-Proto \$scheme;
  server {
    listen ${lb#http://};
    add_header X-Upstream \$upstream_addr always;
    location / { proxy_pass http://yaoshi; }
    location /pkg/ { proxy_pass http://site; }
    location = /favicon.svg { proxy_pass http://site; }
    location = /local-time.js { proxy_pass http://site; }
    location = /captcha.js { proxy_pass http://site; }
    location = /passkey.js { proxy_pass http://site; }
  }
}
NGINX
/usr/sbin/nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' 2>"$work/nginx/stderr.log" &
balance_pids+=($!)
echo "[test] Playwright through nginx at $lb to$instances" >&2
if ! YAOSHI_BASE_URL="$lb" YAOSHI_INSTANCES="${instances# }" npx playwright test tests/balance.spec.ts; then
  for f in "$work"/instance-*.log "$work/nginx/error.log"; do echo "[test] $f:" >&2; tail -n 30 "$f" >&2; done
  exit 1
fi
took "Playwright through nginx to two instances"
