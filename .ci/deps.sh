#!/usr/bin/env bash
# Brings up what the tests need on a Debian machine, or says what to install.
# With CI=true a missing dependency is an error, never a skip.
set -uo pipefail

say() { printf 'deps: %s\n' "$*" >&2; }
missing=0

# PostgreSQL: the URL the tests use, started if installed but stopped.
PGURL="${KEYWARD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
if command -v pg_isready >/dev/null && pg_isready -q -d "$PGURL"; then
  :
elif command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  say "starting the local PostgreSQL cluster"
  for v in /etc/postgresql/*; do pg_ctlcluster --skip-systemctl-redirect "$(basename "$v")" main start || true; done
  for _ in $(seq 1 30); do pg_isready -q -d "$PGURL" && break; sleep 1; done
  pg_isready -q -d "$PGURL" || { say "PostgreSQL did not come up at $PGURL"; missing=1; }
else
  say "PostgreSQL is not installed: apt-get install -y postgresql (trust auth for 127.0.0.1, a database named test),"
  say "or point KEYWARD_TEST_POSTGRES_URL at a server"
  missing=1
fi
if [ "$missing" = 0 ] && command -v psql >/dev/null; then
  # The default URL names database "test"; create it when the server lacks it.
  if ! psql -q -d "$PGURL" -c 'select 1' >/dev/null 2>&1; then
    psql -q -d 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' -c 'create database test' >/dev/null 2>&1 || true
  fi
fi

# Chromium for the browser tests (login and consent pages, console).
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian's chromium for the browser tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 ||
      { say "apt-get install chromium failed"; missing=1; }
  else
    say "chromium is not installed: sudo apt-get install -y chromium (browser tests need it)"
    missing=1
  fi
fi

# promtool (Debian's prometheus package) checks the /metrics scrape in TestE2EMetrics.
if ! command -v promtool >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian's prometheus for promtool (the metrics test)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus) >/dev/null 2>&1 ||
      { say "apt-get install prometheus failed"; missing=1; }
  else
    say "promtool is not installed: sudo apt-get install -y prometheus (the metrics test needs it)"
    missing=1
  fi
fi

# curl and jq: the README's quick start uses them, and TestREADMEShellBlocks runs it.
for tool in curl jq; do
  if ! command -v "$tool" >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing $tool for the README test"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$tool") >/dev/null 2>&1 ||
        { say "apt-get install $tool failed"; missing=1; }
    else
      say "$tool is not installed: sudo apt-get install -y $tool (the README test needs it)"
      missing=1
    fi
  fi
done

if [ "$missing" = 1 ] && [ "${CI:-}" = true ]; then
  say "missing dependencies (CI=true: failing instead of skipping)"
  exit 1
fi
exit 0
