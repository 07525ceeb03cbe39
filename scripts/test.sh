#!/usr/bin/env bash
# Runs every test of Forgekeys:
#   1. formatting and lints (cargo fmt --check, cargo clippy -D warnings)
#   2. unit tests (lib and binary)
#   3. the integration suite against a real SQLite file per test, then the same test binary
#      again with the clock 1 day and 400 days ahead (libfaketime): the suite holds on any date
#   4. the same suite against a real PostgreSQL 15 server: a throwaway cluster started here
#   5. the browser tests in headless Chromium (chromedriver), required to run
# Needs: the Rust toolchain, PostgreSQL 15 server binaries, chromium + chromium-driver,
# poppler-utils, java, faketime and the npm packages of package.json (.ci/run installs them all).
set -euo pipefail
cd "$(dirname "$0")/.."
# Tools the tests would otherwise skip without (node and `npm ci`'s oidc-provider for the SSO
# tests of the integration suite, Chromium for the browser tests) are required here.
export FORGEKEYS_E2E_REQUIRED=1

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
LOG=$(mktemp /tmp/forgekeys-test-log.XXXXXX)
PGDIR=""

cleanup() {
  if [ -n "$PGDIR" ] && [ -d "$PGDIR/data" ]; then
    $RUNAS "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PGDIR"
  fi
}
trap cleanup EXIT

if [ "$(id -u)" = 0 ]; then RUNAS="runuser -u postgres --"; else RUNAS=""; fi

start_postgres() {
  if [ ! -x "$PGBIN/initdb" ]; then
    echo "PostgreSQL server binaries not found in $PGBIN (set PGBIN, or apt-get install postgresql-15)" >&2
    exit 1
  fi
  PGDIR=$(mktemp -d /tmp/forgekeys-pg.XXXXXX)
  chmod 755 "$PGDIR"
  [ "$(id -u)" = 0 ] && chown postgres "$PGDIR"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  $RUNAS "$PGBIN/initdb" -D "$PGDIR/data" -U forgekeys --auth=trust -E UTF8 --locale=C >/dev/null
  $RUNAS "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
    -o "-p $port -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=300" start >/dev/null
  export TEST_POSTGRES_URL="postgres://forgekeys@127.0.0.1:$port/postgres"
  echo "==> PostgreSQL 15 throwaway cluster on 127.0.0.1:$port"
}

step() { echo; echo "==> $*"; }

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings

step "unit tests"
cargo test --lib --bins 2>&1 | tee -a "$LOG"

step "integration tests on SQLite"
env -u TEST_POSTGRES_URL cargo test --test it 2>&1 | tee -a "$LOG"

# The binary just built, run directly (cargo itself under a moved clock would see every file
# as modified and rebuild).
IT_BIN=$(cargo test --test it --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "it" and m.get("executable"):
        print(m["executable"])')
if ! command -v faketime >/dev/null 2>&1; then
  echo "faketime not found (apt-get install faketime)" >&2
  exit 1
fi
for ahead in +1d +400d; do
  step "integration tests on SQLite with the clock $ahead (faketime)"
  env -u TEST_POSTGRES_URL faketime -f "$ahead" "$IT_BIN" 2>&1 | tee -a "$LOG"
done

start_postgres
step "integration tests on PostgreSQL"
cargo test --test it 2>&1 | tee -a "$LOG"

step "browser tests (headless Chromium)"
FORGEKEYS_E2E_REQUIRED=1 cargo test --test e2e 2>&1 | tee -a "$LOG"

passed=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' "$LOG" | awk '{s+=$4} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$LOG" | awk '{s+=$1} END {print s+0}')
rm -f "$LOG"
echo
echo "summary: $passed passed, $failed failed"
