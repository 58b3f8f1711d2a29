#!/usr/bin/env bash
# Installs, idempotently, every tool the build and the tests need on a fresh Debian machine
# that has only rustup, Node/npm and apt. Each step is skipped when its tool is already there.
# Usage: .ci/tools.sh [base|wasm-bindgen|build|system|test|dev]
#   base:         the wasm32 target, binaryen's wasm-opt and Debian's libssl-dev (seconds)
#   wasm-bindgen: wasm-bindgen-cli at the pinned version (a few minutes to compile, once;
#                 `.ci/site.sh` runs this while the WASM compiles)
#   build:        base and wasm-bindgen: everything `.ci/site.sh` needs
#   system:       Debian's Chromium, PostgreSQL and nginx, and aiosmtpd, Django,
#                 django-oauth-toolkit and openapi-python-client from PyPI in a venv
#                 (`.ci/test.sh` runs this while it compiles)
#   test:         base, rustfmt and clippy
#   dev:          build and cargo-leptos, for `cargo leptos watch` (about 25 minutes, once)
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132
AIOSMTPD_VERSION=1.4.6
# The Django site whose database the import test reads (tests/django/), and the hashers'
# libraries Django needs for argon2 and bcrypt.
DJANGO_VERSION=5.2.19
DOT_VERSION=3.4.1
ARGON2_CFFI_VERSION=25.1.0
BCRYPT_VERSION=5.0.0
PSYCOPG_VERSION=3.3.9
# The generator the admin API's OpenAPI document is checked with (tests/openapi_client/): it
# brings httpx, attrs and ruff, which the client it writes uses.
OPENAPI_PYTHON_CLIENT_VERSION=0.29.1
TOOLS_DIR="${YAOSHI_TOOLS_DIR:-$HOME/.cache/yaoshi-tools}"
export PATH="$HOME/.cargo/bin:$TOOLS_DIR/node_modules/.bin:$PATH"
mode="${1:-build}"

log() { printf '[tools] %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# Whether this run's mode is one of the arguments.
has() { case " $* " in *" $mode "*) return 0 ;; esac; return 1; }

if has base build test dev; then
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! [ -x "$TOOLS_DIR/node_modules/.bin/wasm-opt" ]; then
    log "installing binaryen@$BINARYEN_VERSION (wasm-opt) into $TOOLS_DIR"
    mkdir -p "$TOOLS_DIR"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR" "binaryen@$BINARYEN_VERSION"
  fi
  # The passkeys' WebAuthn library (webauthn-rs) links OpenSSL, found through pkg-config:
  # needed before any build of the server.
  if ! pkg-config --exists openssl 2>/dev/null; then
    log "installing Debian's libssl-dev and pkg-config"
    apt_install libssl-dev pkg-config
  fi
fi

if has test; then
  for component in rustfmt clippy; do
    if ! rustup component list --installed | grep -q "^$component"; then
      log "adding the $component component"
      rustup component add "$component"
    fi
  done
fi

if has wasm-bindgen build dev && ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # A build tool, run for a second per build: compiled for compile speed, not its own speed.
  CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback CARGO_PROFILE_RELEASE_LTO=false \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force --quiet
fi

if has dev && ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 25 minutes the first time)"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION" --features no_downloads
fi

if has system; then
  if ! [ -x /usr/bin/chromium ]; then
    log "installing Debian's chromium"
    apt_install chromium
  fi
  # The Chinese pages' screenshots (end2end/tests/polish.spec.ts) show boxes without a CJK font.
  if ! ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1; then
    log "installing Debian's fonts-noto-cjk"
    apt_install fonts-noto-cjk
  fi
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    log "installing Debian's postgresql"
    apt_install postgresql
  fi
  # The reverse proxy of the trusted-proxies test, which starts its own on loopback: the
  # package's service is kept from starting (it would listen on every address).
  if ! [ -x /usr/sbin/nginx ]; then
    log "installing Debian's nginx (its service not started)"
    policy=""
    if ! [ -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
      as_root chmod +x /usr/sbin/policy-rc.d
      policy=1
    fi
    apt_install nginx-light 2>/dev/null || apt_install nginx
    if [ -n "$policy" ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
  fi
  # The SMTP server the mail tests deliver to (`.ci/mailbox.sh`), in a venv of its own.
  py="$TOOLS_DIR/py"
  if ! "$py/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
    log "installing aiosmtpd $AIOSMTPD_VERSION into $py"
    rm -rf "$py"
    if ! python3 -m venv "$py" 2>/dev/null; then
      rm -rf "$py"
      apt_install python3-venv
      python3 -m venv "$py"
    fi
    "$py/bin/python" -m pip install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
  fi
  # Django and django-oauth-toolkit (and psycopg for Django on PostgreSQL), in the same venv:
  # `.ci/test.sh` builds DOT databases with them for the import test (tests/django/).
  if ! "$py/bin/python" -c "import django, oauth2_provider, argon2, bcrypt, psycopg, sys
sys.exit(django.get_version() != '$DJANGO_VERSION')" 2>/dev/null; then
    log "installing Django $DJANGO_VERSION and django-oauth-toolkit $DOT_VERSION into $py"
    "$py/bin/python" -m pip install --quiet --disable-pip-version-check "django==$DJANGO_VERSION" \
      "django-oauth-toolkit==$DOT_VERSION" "argon2-cffi==$ARGON2_CFFI_VERSION" "bcrypt==$BCRYPT_VERSION" \
      "psycopg[binary]==$PSYCOPG_VERSION"
  fi
  # openapi-python-client, in the same venv: the admin API test generates a client with it
  # from the served document and drives the API through that client.
  if ! "$py/bin/python" -c "import httpx, attrs, importlib.metadata as m, sys
sys.exit(m.version('openapi-python-client') != '$OPENAPI_PYTHON_CLIENT_VERSION')" 2>/dev/null; then
    log "installing openapi-python-client $OPENAPI_PYTHON_CLIENT_VERSION into $py"
    "$py/bin/python" -m pip install --quiet --disable-pip-version-check \
      "openapi-python-client==$OPENAPI_PYTHON_CLIENT_VERSION"
  fi
fi
