#!/usr/bin/env bash
# Build-credentials benchmark (issue 14; a benchmark, not a test): how long
# `GET /api/v1/services/{id}/git-credentials` takes at 100 concurrent builds. In one run,
# against a release build of `forgekeys serve` on a throw-away SQLite database:
#   1. seeds an organization with one token and its services (examples/seed_inventory.rs: the
#      app's migrations, key file and sealing), signs in and makes a service key through the
#      service page's form (as an Owner would);
#   2. runs wrk -t2 -c100 -d10s --latency with `Authorization: Bearer fks_…` against the
#      service's git-credentials route;
#   3. prints p50 / p99 and req/s, and checks that every answer was a 200.
# Each answer is the whole production path: key lookup by hash, the service and its token, the
# remote check, decrypting the token (XChaCha20-Poly1305), and one write transaction (the key's
# last use, the token's "last used by a service", the `credentials.release` audit record).
#
# FORGEKEYS_API_RATE_LIMIT is set to 0 (no limit) here: the default 600 a minute per key would
# answer 429 after the first burst, and this measures the route, not the limiter.
#
# Needs: wrk (Debian: `apt-get install -y wrk`), curl, python3, cargo. The server logs at `warn`
# and the scheduler is off (FORGEKEYS_RECHECK_INTERVAL=0).
#
# Usage: scripts/bench-git-credentials.sh
#   DURATION=10s THREADS=2 CONNS=100   wrk settings
#   SKIP_BUILD=1                       use the existing target/release binaries
#   BENCH_PORT=…                       listen port (default: a free one)
set -euo pipefail

DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-100}"
ORG="bench"
EMAIL="bench@example.test"
PASSWORD="bench-password-$(date +%s)"

# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
need_tools bench-git-credentials wrk curl python3

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/fk-bench-creds.XXXXXX)"
PORT="$(free_port)"
BASE="http://127.0.0.1:${PORT}"
SERVER_PID=""

export DATABASE_URL="sqlite://${WORK}/forgekeys.db"
export FORGEKEYS_KEY_FILE="${WORK}/forgekeys.key"
export FORGEKEYS_BIND="127.0.0.1:${PORT}"
export FORGEKEYS_RECHECK_INTERVAL=0
export FORGEKEYS_API_RATE_LIMIT=0
export RUST_LOG=warn

cleanup() {
  local code=$?
  stop_pid "${SERVER_PID}"
  if (( code != 0 )) && [[ -s "${WORK}/server.log" ]]; then
    echo "-- last lines of the server log:" >&2
    tail -n 20 "${WORK}/server.log" >&2
  fi
  rm -rf "${WORK}"
}
trap cleanup EXIT

cd "${ROOT}"
TARGET="${CARGO_TARGET_DIR:-${ROOT}/target}"
BIN="${TARGET}/release/forgekeys"
SEED="${TARGET}/release/examples/seed_inventory"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  echo "== building (release)"
  cargo build --release --quiet --bin forgekeys --example seed_inventory
fi
[[ -x "${BIN}" && -x "${SEED}" ]] || { echo "missing ${BIN} or ${SEED}: build without SKIP_BUILD=1" >&2; exit 2; }

echo "== seeding one token and its services into a fresh SQLite database"
printf '%s\n' "${PASSWORD}" | "${SEED}" --start 1 --count 1 --org "${ORG}" --email "${EMAIL}" >/dev/null

start_server

JAR="${WORK}/cookies"
sign_in_jar

SERVICE="$(curl -fsS -b "${JAR}" "${BASE}/orgs/${ORG}/services" | sed -nE 's/.*data-service-id="([^"]+)".*/\1/p' | head -n1)"
[[ -n "${SERVICE}" ]] || { echo "no service in the seeded organization" >&2; exit 1; }
CSRF="$(curl -fsS -b "${JAR}" "${BASE}/orgs/${ORG}/services/${SERVICE}" | sed -nE 's/.*name="csrf_token" value="([^"]+)".*/\1/p' | head -n1)"
KEY="$(curl -fsS -b "${JAR}" -H "Origin: ${BASE}" --data-urlencode "csrf_token=${CSRF}" \
  --data-urlencode "name=bench" --data-urlencode "expires_in_days=1" \
  "${BASE}/orgs/${ORG}/services/${SERVICE}/keys" | sed -nE 's/.*value="(fks_[0-9a-f]{64})".*/\1/p' | head -n1)"
[[ -n "${KEY}" ]] || { echo "no service key was made" >&2; exit 1; }

URL="${BASE}/api/v1/services/${SERVICE}/git-credentials"
for _ in 1 2 3; do
  curl -fsS -o "${WORK}/body" -H "Authorization: Bearer ${KEY}" "${URL}" \
    || { echo "GET git-credentials failed" >&2; exit 1; }
done
grep -q '"password"' "${WORK}/body" || { echo "the answer has no password" >&2; exit 1; }

echo "== wrk -t${THREADS} -c${CONNS} -d${DURATION} --latency -H 'Authorization: Bearer fks_…' ${BASE}/api/v1/services/<id>/git-credentials"
wrk -t"${THREADS}" -c"${CONNS}" -d"${DURATION}" --timeout 30s --latency \
  -H "Authorization: Bearer ${KEY}" "${URL}" >"${WORK}/wrk.txt"

# wrk prints latencies as 812.00us, 1.23ms, 1.90s: in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.1f", n }'
}
p50="$(to_ms "$(awk '$1 == "50%" { print $2 }' "${WORK}/wrk.txt")")"
p99="$(to_ms "$(awk '$1 == "99%" { print $2 }' "${WORK}/wrk.txt")")"
rps="$(awk '/^Requests\/sec:/ { print $2 }' "${WORK}/wrk.txt")"
reqs="$(awk '/requests in/ { print $1 }' "${WORK}/wrk.txt")"
errs="$(awk '/Non-2xx or 3xx responses:/ { n += $NF } /Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' "${WORK}/wrk.txt")"

echo
printf '%-34s %s\n' "git-credentials p50" "${p50} ms"
printf '%-34s %s\n' "git-credentials p99" "${p99} ms"
printf '%-34s %s\n' "requests/s" "${rps}"
printf '%-34s %s\n' "requests (errors)" "${reqs} (${errs})"
echo "(${CONNS} connections, ${THREADS} threads, ${DURATION}; SQLite; FORGEKEYS_API_RATE_LIMIT=0)"
if (( errs > 0 )); then
  echo "bench-git-credentials: ${errs} answer(s) were not 200:" $(grep -E 'Non-2xx|Socket errors' "${WORK}/wrk.txt") >&2
  exit 1
fi
