#!/usr/bin/env bash
# Inventory benchmark (issue 5): seeds 10,000 tokens (and ~13,000 services using them) into a
# fresh database, starts a release build of `forgekeys serve`, signs in, and prints
#   - the server time of the inventory page, the CSV export and the JSON export, read from the
#     app's own request log (`%D` ms: from request received to response body written), plus the
#     client's total time and the response size;
#   - the server's memory: VmRSS before and after, and VmHWM (peak) from /proc/<pid>/status.
# Targets: under 300 ms per request and under 50 MB extra memory.
#
# Usage: scripts/bench-inventory.sh [COUNT] [RUNS]     (defaults 10000 and 5)
#        DATABASE_URL=postgres://… scripts/bench-inventory.sh   (a fresh, empty PostgreSQL database)
set -euo pipefail

COUNT="${1:-10000}"
RUNS="${2:-5}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/fk-bench-inventory.XXXXXX)"
PORT="${BENCH_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
BASE="http://127.0.0.1:${PORT}"
EMAIL="bench@example.test"
PASSWORD="bench-password-$(date +%s)"
ORG="bench"
SERVER_PID=""

export DATABASE_URL="${DATABASE_URL:-sqlite://${WORK}/forgekeys.db}"
export FORGEKEYS_KEY_FILE="${WORK}/forgekeys.key"
export FORGEKEYS_BIND="127.0.0.1:${PORT}"
export FORGEKEYS_RECHECK_INTERVAL=0   # no background re-tests during the measurement
export RUST_LOG="warn,forgekeys::http=info"

cleanup() {
  if [[ -n "${SERVER_PID}" ]] && kill -0 "${SERVER_PID}" 2>/dev/null; then
    kill "${SERVER_PID}" && wait "${SERVER_PID}" 2>/dev/null || true
  fi
  rm -rf "${WORK}"
}
trap cleanup EXIT

cd "${ROOT}"
echo "== building (release)"
cargo build --release --quiet --bin forgekeys --example seed_inventory
BIN="${CARGO_TARGET_DIR:-${ROOT}/target}/release/forgekeys"
SEED="${CARGO_TARGET_DIR:-${ROOT}/target}/release/examples/seed_inventory"

echo "== seeding ${COUNT} tokens ($(echo "${DATABASE_URL}" | sed -E 's#//[^@/]*@#//***@#'))"
printf '%s\n' "${PASSWORD}" | "${SEED}" --count "${COUNT}" --org "${ORG}" --email "${EMAIL}"

echo "== starting the server on ${BASE}"
"${BIN}" serve >"${WORK}/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  curl -fsS "${BASE}/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "${BASE}/healthz" >/dev/null

mem() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/${SERVER_PID}/status"; }

# Sign in like a browser: the login form sets the pre-session cookie and carries the CSRF token.
JAR="${WORK}/cookies"
CSRF="$(curl -fsS -c "${JAR}" -b "${JAR}" "${BASE}/login" | sed -nE 's/.*name="csrf_token" value="([^"]+)".*/\1/p' | head -n1)"
curl -sS -o /dev/null -c "${JAR}" -b "${JAR}" -H "Origin: ${BASE}" \
  --data-urlencode "csrf_token=${CSRF}" --data-urlencode "email=${EMAIL}" \
  --data-urlencode "password=${PASSWORD}" -w '%{http_code}' "${BASE}/login" | grep -q 303 \
  || { echo "sign-in failed"; exit 1; }

PATH_INV="/orgs/${ORG}/settings/git-tokens/inventory"
RSS_IDLE="$(mem VmRSS)"
# One warm-up of each (connection pool, page cache), then measure.
for q in "" "?format=csv" "?format=json"; do
  curl -fsS -o /dev/null -b "${JAR}" "${BASE}${PATH_INV}${q}"
done
RSS_BEFORE="$(mem VmRSS)"
HWM_BEFORE="$(mem VmHWM)"
: >"${WORK}/client.tsv"
for _ in $(seq 1 "${RUNS}"); do
  for q in "" "?format=csv" "?format=json"; do
    curl -fsS -o "${WORK}/body" -b "${JAR}" -w "${q:-?format=html}\t%{http_code}\t%{time_total}\t%{size_download}\n" \
      "${BASE}${PATH_INV}${q}" >>"${WORK}/client.tsv"
  done
done
RSS_AFTER="$(mem VmRSS)"
HWM_AFTER="$(mem VmHWM)"
grep -q "bench-token-00001" "${WORK}/body" || { echo "the export lacks the seeded tokens"; exit 1; }
if grep -q "ghp_bench" "${WORK}/body"; then echo "SECRET LEAKED into the export"; exit 1; fi

echo
echo "== results: ${COUNT} tokens, ${RUNS} runs each (server time from the request log, %D)"
printf '%-14s %10s %10s %10s %12s %10s\n' "request" "server min" "server med" "server max" "client med" "size"
for fmt in html csv json; do
  if [[ "${fmt}" == html ]]; then pat="inventory 200 "; else pat="inventory?format=${fmt} 200 "; fi
  # Log lines look like: `... GET /orgs/bench/settings/git-tokens/inventory?format=csv 200 123.456789ms`;
  # skip the warm-up (first) line of each.
  grep -F "${pat}" "${WORK}/server.log" | tail -n "${RUNS}" | sed -E 's/.* ([0-9.]+)ms.*/\1/' | sort -n >"${WORK}/s.txt"
  awk -v f="?format=${fmt}" -F'\t' '$1 == f { print $3 * 1000 }' "${WORK}/client.tsv" | sort -n >"${WORK}/c.txt"
  size="$(awk -v f="?format=${fmt}" -F'\t' '$1 == f { s = $4 } END { print s }' "${WORK}/client.tsv")"
  med() { awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "n/a" }' "$1"; }
  printf '%-14s %8.1fms %8.1fms %8.1fms %10.1fms %9.1fMB\n' "${fmt}" \
    "$(head -n1 "${WORK}/s.txt")" "$(med "${WORK}/s.txt")" "$(tail -n1 "${WORK}/s.txt")" \
    "$(med "${WORK}/c.txt")" "$(awk -v s="${size}" 'BEGIN { print s / 1048576 }')"
done
echo
mb() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1024 }'; }
echo "server memory (/proc/${SERVER_PID}/status):"
echo "  VmRSS idle, signed in, before any inventory request: $(mb "${RSS_IDLE}") MB"
echo "  VmRSS after the warm-up: $(mb "${RSS_BEFORE}") MB; after the $((RUNS * 3)) measured requests: $(mb "${RSS_AFTER}") MB"
echo "  VmHWM (peak) after the warm-up: $(mb "${HWM_BEFORE}") MB; at the end: $(mb "${HWM_AFTER}") MB"
echo "  extra memory: peak - idle = $(mb "$((HWM_AFTER - RSS_IDLE))") MB; retained (RSS end - idle) = $(mb "$((RSS_AFTER - RSS_IDLE))") MB"
