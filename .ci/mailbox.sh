#!/usr/bin/env bash
# Sourced by test.sh: the test doubles of outside services, each on a free loopback port.
#   start_mailbox: a real SMTP server (aiosmtpd, `.ci/smtp_mailbox.py`, installed by `.ci/tools.sh
#     system`) storing every message in a Maildir; exports YAOSHI_TEST_SMTP (127.0.0.1:PORT),
#     YAOSHI_TEST_MAILDIR, and the one AUTH user it accepts, YAOSHI_TEST_SMTP_USER and
#     YAOSHI_TEST_SMTP_PASSWORD (mail without AUTH is accepted too).
#   start_fake_sms: a fake Tencent Cloud SMS endpoint (`.ci/fake_sms.py`) that checks the TC3
#     signature and writes each code it is sent to DIR/<E.164 number>; exports
#     YAOSHI_TEST_SMS_URL, YAOSHI_TEST_SMS_DIR and the credentials it accepts,
#     YAOSHI_TEST_SMS_SECRET_ID and YAOSHI_TEST_SMS_SECRET_KEY.
#   start_fake_wechat: a fake WeChat website login (`.ci/fake_wechat.py`: the QR page, the token
#     and user-info API) with one application whose callback domain is 127.0.0.1; exports
#     YAOSHI_TEST_WECHAT_URL and the application's YAOSHI_TEST_WECHAT_APPID and
#     YAOSHI_TEST_WECHAT_SECRET.
# stop_mailbox, stop_fake_sms and stop_fake_wechat end them and remove their directories.
MAILBOX_PY="${YAOSHI_TOOLS_DIR:-$HOME/.cache/yaoshi-tools}/py/bin/python"
MAILBOX_CI="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Waits up to 10 s for 127.0.0.1:$1 to accept connections while process $2 lives.
wait_port() {
  local i
  for i in $(seq 1 100); do
    kill -0 "$2" 2>/dev/null || return 1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

start_mailbox() {
  [ -x "$MAILBOX_PY" ] || { echo "aiosmtpd is not installed: run .ci/tools.sh system" >&2; return 1; }
  MAILBOX_DIR="$(mktemp -d /tmp/yaoshi-mailbox.XXXXXX)"
  local port; port="$(free_port)"
  "$MAILBOX_PY" "$MAILBOX_CI/smtp_mailbox.py" --port "$port" --maildir "$MAILBOX_DIR/maildir" \
    --user yaoshi-test --password mailbox-test-password >"$MAILBOX_DIR/log" 2>&1 &
  MAILBOX_PID=$!
  if ! wait_port "$port" "$MAILBOX_PID"; then
    echo "[test] the mailbox did not start:" >&2; cat "$MAILBOX_DIR/log" >&2; return 1
  fi
  export YAOSHI_TEST_SMTP="127.0.0.1:$port" YAOSHI_TEST_MAILDIR="$MAILBOX_DIR/maildir"
  export YAOSHI_TEST_SMTP_USER=yaoshi-test YAOSHI_TEST_SMTP_PASSWORD=mailbox-test-password
  echo "[test] mailbox (aiosmtpd) on $YAOSHI_TEST_SMTP, Maildir $YAOSHI_TEST_MAILDIR" >&2
}

stop_mailbox() {
  [ -n "${MAILBOX_PID:-}" ] || return 0
  kill "$MAILBOX_PID" 2>/dev/null || true
  wait "$MAILBOX_PID" 2>/dev/null || true
  rm -rf "$MAILBOX_DIR"
  MAILBOX_PID=""
  echo "[test] mailbox stopped" >&2
}

start_fake_sms() {
  FAKE_SMS_DIR="$(mktemp -d /tmp/yaoshi-sms.XXXXXX)"
  mkdir -p "$FAKE_SMS_DIR/codes"
  local port; port="$(free_port)"
  export YAOSHI_TEST_SMS_SECRET_ID=AKIDyaoshitest YAOSHI_TEST_SMS_SECRET_KEY=fake-sms-test-key
  python3 "$MAILBOX_CI/fake_sms.py" --port "$port" --dir "$FAKE_SMS_DIR/codes" \
    --secret-id "$YAOSHI_TEST_SMS_SECRET_ID" --secret-key "$YAOSHI_TEST_SMS_SECRET_KEY" >"$FAKE_SMS_DIR/log" 2>&1 &
  FAKE_SMS_PID=$!
  if ! wait_port "$port" "$FAKE_SMS_PID"; then
    echo "[test] the fake SMS endpoint did not start:" >&2; cat "$FAKE_SMS_DIR/log" >&2; return 1
  fi
  export YAOSHI_TEST_SMS_URL="http://127.0.0.1:$port/" YAOSHI_TEST_SMS_DIR="$FAKE_SMS_DIR/codes"
  echo "[test] fake Tencent SMS on $YAOSHI_TEST_SMS_URL, codes in $YAOSHI_TEST_SMS_DIR" >&2
}

stop_fake_sms() {
  [ -n "${FAKE_SMS_PID:-}" ] || return 0
  kill "$FAKE_SMS_PID" 2>/dev/null || true
  wait "$FAKE_SMS_PID" 2>/dev/null || true
  rm -rf "$FAKE_SMS_DIR"
  FAKE_SMS_PID=""
  echo "[test] fake SMS stopped" >&2
}

start_fake_wechat() {
  FAKE_WECHAT_DIR="$(mktemp -d /tmp/yaoshi-wechat.XXXXXX)"
  local port; port="$(free_port)"
  export YAOSHI_TEST_WECHAT_APPID=wxe2e7e57000000001 YAOSHI_TEST_WECHAT_SECRET=fake-wechat-app-secret
  python3 "$MAILBOX_CI/fake_wechat.py" --port "$port" \
    --app "$YAOSHI_TEST_WECHAT_APPID" "$YAOSHI_TEST_WECHAT_SECRET" 127.0.0.1 >"$FAKE_WECHAT_DIR/log" 2>&1 &
  FAKE_WECHAT_PID=$!
  if ! wait_port "$port" "$FAKE_WECHAT_PID"; then
    echo "[test] the fake WeChat did not start:" >&2; cat "$FAKE_WECHAT_DIR/log" >&2; return 1
  fi
  export YAOSHI_TEST_WECHAT_URL="http://127.0.0.1:$port"
  echo "[test] fake WeChat on $YAOSHI_TEST_WECHAT_URL" >&2
}

stop_fake_wechat() {
  [ -n "${FAKE_WECHAT_PID:-}" ] || return 0
  kill "$FAKE_WECHAT_PID" 2>/dev/null || true
  wait "$FAKE_WECHAT_PID" 2>/dev/null || true
  rm -rf "$FAKE_WECHAT_DIR"
  FAKE_WECHAT_PID=""
  echo "[test] fake WeChat stopped" >&2
}
