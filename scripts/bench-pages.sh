#!/usr/bin/env bash
# Page benchmark (issue 10; a benchmark, not a test). In one run, against a release build of
# `forgekeys serve` on a throw-away SQLite database:
#   1. seeds an organization with SMALL (100) tokens and ~1.3 services per token
#      (examples/seed_inventory.rs: the app's migrations, key file, sealing and row types);
#   2. measures with wrk, signed in: a static asset (the layout's versioned app.css), the token
#      list (/orgs/bench/settings/git-tokens), one token page and the services list; then times
#      CREATES token creations;
#   3. grows the organization to LARGE (10,000) tokens, restarts the server (so its peak memory
#      belongs to this phase), measures the same four URLs again while sampling the server's
#      VmRSS, and times CREATES creations again;
#   4. prints req/s and p99 of each, the ratios list@LARGE/list@SMALL and list@LARGE/static,
#      the create rates and the peak memory.
# Targets (issue 10): list@10,000 >= 0.8x list@100 and >= 0.10x the static asset; creating a token
# costs the same at 10,000 tokens as at 100; VmRSS under the list load at 10,000 < 120 MB.
#
# Token creation is timed through the real form: CREATES sequential `POST …/settings/git-tokens`
# (one keep-alive connection, session cookie and CSRF token like a browser) with the GitHub API
# pointed at scripts/fake_slow_provider.py answering at once (--delay-ms 0). Each create is the
# whole production path: sign-in and membership, attention count, name check, provider test
# (one loopback call to the fake, a constant cost at both sizes), sealing, insert, audit entry,
# 303. Creations count towards the size: the first batch runs at SMALL..SMALL+CREATES tokens, and
# the organization is then grown so that the second phase measures at exactly LARGE tokens and
# creates at LARGE..LARGE+CREATES.
#
# Needs: wrk (Debian: `apt-get install -y wrk`), curl, python3, cargo. The server logs at `warn`
# (no request log), and the scheduler is off (FORGEKEYS_RECHECK_INTERVAL=0).
#
# Usage: scripts/bench-pages.sh
#   SMALL=100 LARGE=10000   organization sizes
#   DURATION=10s            wrk duration of each measurement (8 of them)
#   THREADS=2 CONNS=32      wrk -t / -c
#   CREATES=100             token creations timed at each size
#   WARMUP=3                sequential requests to each URL before it is measured
#   SKIP_BUILD=1            use the existing target/release binaries
#   BENCH_PORT=…            listen port (default: a free one)
# Default run: about 2.5 minutes plus the build.
set -euo pipefail

SMALL="${SMALL:-100}"
LARGE="${LARGE:-10000}"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-32}"
CREATES="${CREATES:-100}"
WARMUP="${WARMUP:-3}"
ORG="bench"
EMAIL="bench@example.test"
PASSWORD="bench-password-$(date +%s)"

# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
need_tools bench-pages wrk curl python3
if (( LARGE < SMALL + CREATES )); then
  echo "bench-pages: LARGE (${LARGE}) must be at least SMALL + CREATES ($((SMALL + CREATES)))" >&2
  exit 2
fi

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/fk-bench-pages.XXXXXX)"
PORT="$(free_port)"
BASE="http://127.0.0.1:${PORT}"
SERVER_PID=""
FAKE_PID=""
SAMPLER_PID=""

export DATABASE_URL="sqlite://${WORK}/forgekeys.db"
export FORGEKEYS_KEY_FILE="${WORK}/forgekeys.key"
export FORGEKEYS_BIND="127.0.0.1:${PORT}"
export FORGEKEYS_RECHECK_INTERVAL=0   # no background re-tests during the measurement
export RUST_LOG=warn

cleanup() {
  local code=$?
  stop_pid "${SAMPLER_PID}"
  stop_pid "${SERVER_PID}"
  stop_pid "${FAKE_PID}"
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

# The fake GitHub the create form's token test calls (answers at once, every scope granted).
python3 scripts/fake_slow_provider.py --delay-ms 0 --port-file "${WORK}/fake.port" 2>"${WORK}/fake.log" &
FAKE_PID=$!
for _ in $(seq 100); do [[ -s "${WORK}/fake.port" ]] && break; sleep 0.05; done
[[ -s "${WORK}/fake.port" ]] || { echo "the fake provider did not start" >&2; cat "${WORK}/fake.log" >&2; exit 1; }
export FORGEKEYS_GITHUB_API_URL="http://127.0.0.1:$(cat "${WORK}/fake.port")"
# The clone check of the token test goes to the same fake (it answers Git discovery too).
export FORGEKEYS_GITHUB_GIT_URL="${FORGEKEYS_GITHUB_API_URL}"


JAR="${WORK}/cookies"
sign_in() { # sets COOKIE (for wrk) and CSRF (the session's token, for the create form)
  sign_in_jar
  COOKIE="fk_session=$(awk '$6 == "fk_session" { v = $7 } END { print v }' "${JAR}")"
  [[ "${COOKIE}" != "fk_session=" ]] || { echo "no session cookie after sign-in" >&2; exit 1; }
  CSRF="$(curl -fsS -H "Cookie: ${COOKIE}" "${BASE}/orgs/${ORG}/settings/git-tokens/new" \
    | sed -nE 's/.*name="csrf_token" value="([^"]+)".*/\1/p' | head -n1)"
  [[ -n "${CSRF}" ]] || { echo "no CSRF token on the add form" >&2; exit 1; }
}

seed() { # seed START COUNT
  printf '%s\n' "${PASSWORD}" | "${SEED}" --start "$1" --count "$2" --org "${ORG}" --email "${EMAIL}"
}

mem_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/${SERVER_PID}/status"; }

# When wrk stops, the requests it abandoned keep the server busy (seconds at 10,000 tokens).
# Wait, at most 60 s, until the server uses under 3 clock ticks of CPU in 200 ms.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/${SERVER_PID}/stat"; }
drain() {
  local a b
  for _ in $(seq 300); do
    a="$(cpu_ticks)"; sleep 0.2; b="$(cpu_ticks)"
    (( b - a < 3 )) && return 0
  done
  echo "   (the server is still busy 60 s after the measurement)" >&2
}

# wrk prints latencies as 812.00us, 1.23ms, 1.90s or 1.02m: in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.1f", n }'
}

# measure KEY LABEL PATH CHECK: a few warm-up requests (which must answer 200 and contain CHECK),
# then wrk; records "KEY<TAB>LABEL<TAB>req/s<TAB>p99 ms<TAB>requests<TAB>errors<TAB>VmHWM kB" in
# results.tsv (VmHWM: the server's peak memory since it started, read once the load is over).
measure() {
  local key="$1" label="$2" path="$3" check="$4" out="${WORK}/wrk-$1.txt"
  for _ in $(seq 1 "${WARMUP}"); do
    curl -fsS -o "${WORK}/body" -H "Cookie: ${COOKIE}" "${BASE}${path}" \
      || { echo "GET ${path} failed" >&2; exit 1; }
  done
  grep -qF -- "${check}" "${WORK}/body" || { echo "GET ${path} lacks “${check}”" >&2; exit 1; }
  echo "   ${label}: wrk -t${THREADS} -c${CONNS} -d${DURATION} ${path}"
  wrk -t"${THREADS}" -c"${CONNS}" -d"${DURATION}" --timeout 60s --latency \
    -H "Cookie: ${COOKIE}" "${BASE}${path}" >"${out}"
  local rps p99 reqs errs
  rps="$(awk '/^Requests\/sec:/ { print $2 }' "${out}")"
  p99="$(to_ms "$(awk '$1 == "99%" { print $2 }' "${out}")")"
  reqs="$(awk '/requests in/ { print $1 }' "${out}")"
  # Non-2xx answers and socket errors (timeouts included) both make a figure meaningless.
  errs="$(awk '/Non-2xx or 3xx responses:/ { n += $NF } /Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' "${out}")"
  if (( errs > 0 )); then
    echo "   ${label}: ${errs} error(s):" $(grep -E 'Non-2xx|Socket errors' "${out}") >&2
    grep -vE '^\s*$' "${WORK}/server.log" | tail -n 3 | sed 's/^/   server: /' >&2 || true
  fi
  drain
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${key}" "${label}" "${rps}" "${p99}" "${reqs}" "${errs}" \
    "$(mem_kb VmHWM)" >>"${WORK}/results.tsv"
}

# creates KEY: CREATES sequential create-form posts on one keep-alive connection; records
# "KEY<TAB>creates/s<TAB>median ms<TAB>p99 ms" in creates.tsv.
creates() {
  python3 - "$1" "${PORT}" "${BASE}" "/orgs/${ORG}/settings/git-tokens" "${COOKIE}" "${CSRF}" "${CREATES}" \
    >>"${WORK}/creates.tsv" <<'PY'
import http.client, sys, time, urllib.parse
key, port, base, path, cookie, csrf, n = sys.argv[1:8]
conn = http.client.HTTPConnection("127.0.0.1", int(port))
headers = {"Cookie": cookie, "Origin": base, "Content-Type": "application/x-www-form-urlencoded"}
times = []
for i in range(int(n)):
    body = urllib.parse.urlencode({
        "csrf_token": csrf, "provider": "github", "hosting": "cloud",
        "name": f"bench-create-{key}-{i:05}", "token": f"ghp_create{key}{i:05}{int(time.time())}",
    })
    t0 = time.perf_counter()
    conn.request("POST", path, body=body, headers=headers)
    r = conn.getresponse()
    r.read()
    times.append(time.perf_counter() - t0)
    if r.status != 303:
        sys.exit(f"create {i} answered {r.status}, expected 303 (saved)")
times.sort()
total = sum(times)
print(f"{key}\t{len(times) / total:.1f}\t{times[len(times) // 2] * 1000:.1f}\t{times[min(len(times) - 1, int(len(times) * 0.99))] * 1000:.1f}")
PY
}

: >"${WORK}/results.tsv"
: >"${WORK}/creates.tsv"
LIST="/orgs/${ORG}/settings/git-tokens"
SERVICES="/orgs/${ORG}/services"

echo "== seeding ${SMALL} tokens into a fresh SQLite database"
seed 0 "${SMALL}"
echo "== starting the server on ${BASE}"
start_server
sign_in
# The versioned stylesheet URL the layout links to, and one token that services use.
ASSET="$(curl -fsS -H "Cookie: ${COOKIE}" "${BASE}${LIST}" | sed -nE 's#.*<link rel="stylesheet" href="(/static/app\.css[^"]*)".*#\1#p' | head -n1)"
[[ -n "${ASSET}" ]] || { echo "no stylesheet link in the layout" >&2; exit 1; }
TOKEN_ID="$(curl -fsS -H "Cookie: ${COOKIE}" "${BASE}${LIST}?q=bench-token-00001" \
  | grep -oE "${LIST}/[0-9a-f]{8}-[0-9a-f-]{27}" | head -n1 | sed 's#.*/##')"
[[ -n "${TOKEN_ID}" ]] || { echo "bench-token-00001 not found in the list" >&2; exit 1; }
TOKEN="${LIST}/${TOKEN_ID}"

echo "== measuring at ${SMALL} tokens"
measure static-s "static asset" "${ASSET}" "{"
measure list-s "token list" "${LIST}" "bench-"
measure token-s "token page" "${TOKEN}" "bench-token-00001"
measure services-s "services list" "${SERVICES}" "svc-"
echo "   ${CREATES} sequential creates from ${SMALL} tokens"
creates s

GROW=$((LARGE - SMALL - CREATES))
echo "== growing the organization to ${LARGE} tokens (+${GROW}), restarting the server"
stop_server
seed "${SMALL}" "${GROW}"
start_server
sign_in
RSS_IDLE="$(mem_kb VmRSS)"

echo "== measuring at ${LARGE} tokens"
measure static-l "static asset" "${ASSET}" "{"
# Sample the server's VmRSS every 100 ms while the list is under load.
( while kill -0 "${SERVER_PID}" 2>/dev/null; do mem_kb VmRSS; sleep 0.1; done ) >"${WORK}/rss.txt" 2>/dev/null &
SAMPLER_PID=$!
measure list-l "token list" "${LIST}" "bench-"
stop_pid "${SAMPLER_PID}"; SAMPLER_PID=""
HWM_LIST="$(mem_kb VmHWM)"
RSS_PEAK="$(sort -n "${WORK}/rss.txt" | tail -n1)"
measure token-l "token page" "${TOKEN}" "bench-token-00001"
measure services-l "services list" "${SERVICES}" "svc-"
echo "   ${CREATES} sequential creates from ${LARGE} tokens"
creates l
HWM_END="$(mem_kb VmHWM)"
stop_pid "${FAKE_PID}"; FAKE_PID=""   # it prints how many token-test calls it answered

# ---------------------------------------------------------------------------------------------
field() { awk -F'\t' -v k="$1" -v c="$2" '$1 == k { print $c }' "${WORK}/results.tsv"; }
cfield() { awk -F'\t' -v k="$1" -v c="$2" '$1 == k { print $c }' "${WORK}/creates.tsv"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.4f", a / b; else print "n/a" }'; }
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v + 0 >= t + 0) ? "ok" : "MISSED" }'; }
mb() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1024 }'; }

echo
echo "== results: SQLite, release build, wrk -t${THREADS} -c${CONNS} -d${DURATION} ($(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-15s %7s %11s %11s %9s %7s %10s\n' "page" "tokens" "req/s" "p99" "requests" "errors" "VmHWM"
for size in s l; do
  n="${SMALL}"; [[ "${size}" == l ]] && n="${LARGE}"
  for page in static list token services; do
    k="${page}-${size}"
    printf '%-15s %7s %11.1f %8.1f ms %9s %7s %7s MB\n' "$(field "${k}" 2)" "${n}" "$(field "${k}" 3)" \
      "$(field "${k}" 4)" "$(field "${k}" 5)" "$(field "${k}" 6)" "$(mb "$(field "${k}" 7)")"
  done
done
echo "(VmHWM: the server's peak memory since it started, after each measurement; it restarts at ${LARGE})"
echo
R_LIST="$(ratio "$(field list-l 3)" "$(field list-s 3)")"
R_STATIC="$(ratio "$(field list-l 3)" "$(field static-l 3)")"
R_CREATE="$(ratio "$(cfield l 2)" "$(cfield s 2)")"
line() { printf '%-34s %s\n' "$1" "$2"; }
line "list@${LARGE} / list@${SMALL}" "${R_LIST}  (target >= 0.8: $(verdict "${R_LIST}" 0.8))"
line "list@${LARGE} / static asset" "${R_STATIC}  (target >= 0.10: $(verdict "${R_STATIC}" 0.10); static measured at ${LARGE})"
line "create from ${SMALL} tokens" "$(cfield s 2)/s  (median $(cfield s 3) ms, p99 $(cfield s 4) ms; ${CREATES} sequential posts)"
line "create from ${LARGE} tokens" "$(cfield l 2)/s  (median $(cfield l 3) ms, p99 $(cfield l 4) ms)"
line "create rate ${LARGE} / ${SMALL}" "${R_CREATE}  (target: the same cost, ~1.0)"
line "memory at ${LARGE} tokens" "VmRSS idle after sign-in $(mb "${RSS_IDLE}") MB"
line "" "peak VmRSS sampled under the list load $(mb "${RSS_PEAK}") MB (target < 120 MB)"
line "" "VmHWM after the list load $(mb "${HWM_LIST}") MB; after every measurement $(mb "${HWM_END}") MB"
line "fake GitHub (token tests)" "$(sed -n 's/^fake: //p' "${WORK}/fake.log")"
ERRS="$(awk -F'\t' '{ n += $6 } END { print n + 0 }' "${WORK}/results.tsv")"
if (( ERRS > 0 )); then
  echo "WARNING: ${ERRS} non-2xx answers or socket errors during the measurements; see the errors column" >&2
fi
