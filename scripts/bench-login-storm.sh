#!/usr/bin/env bash
# Login-storm benchmark (issue 11; a benchmark, not a test). Against a release build of
# `forgekeys serve` on a throw-away SQLite database with one organization of 100 tokens:
#   1. quiet: the signed-in token list (/orgs/bench/settings/git-tokens) under wrk, its p99, and
#      the server's VmRSS;
#   2. for each storm size (16 and 48 clients), on a freshly started server (so VmHWM belongs
#      to that storm): STORM clients post `POST /login` as fast as they can for DURATION — wrong
#      passwords for the real account and unknown e-mails, alternately, each request from another
#      client address (`X-Forwarded-For` from a trusted proxy: a distributed attack, the case a
#      per-IP throttle does not stop) — while a signed-in client measures the token list at the
#      same time; the server's VmRSS is sampled every 100 ms.
#   3. prints the quiet figures beside each storm's: list p99, peak VmRSS (sampled) and VmHWM,
#      and how the storm's posts were answered (401 refused, 429 throttled or busy, other).
# Targets (issue 11): peak RSS under 200 MB; list p99 during a storm within 3x of quiet.
#
# Needs: wrk (Debian: `apt-get install -y wrk`), curl, python3, cargo.
#
# Usage: scripts/bench-login-storm.sh
#   DURATION=15s          wrk duration of each measurement
#   LIST_CONNS=4          connections of the signed-in list client
#   STORMS="16 48"        storm sizes (wrk connections posting /login)
#   BIN=…  SEED=…         binaries to measure (default: target/release; e.g. a copy of main's)
#   SKIP_BUILD=1          do not build (implied when BIN is given)
#   BENCH_PORT=…          listen port (default: a free one)
set -euo pipefail

DURATION="${DURATION:-15s}"
LIST_CONNS="${LIST_CONNS:-4}"
STORMS="${STORMS:-16 48}"
ORG="bench"
EMAIL="bench@example.test"
PASSWORD="bench-password-$(date +%s)"

# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
need_tools bench-login-storm wrk curl python3

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/fk-bench-storm.XXXXXX)"
PORT="$(free_port)"
BASE="http://127.0.0.1:${PORT}"
SERVER_PID=""
SAMPLER_PID=""

export DATABASE_URL="sqlite://${WORK}/forgekeys.db"
export FORGEKEYS_KEY_FILE="${WORK}/forgekeys.key"
export FORGEKEYS_BIND="127.0.0.1:${PORT}"
export FORGEKEYS_RECHECK_INTERVAL=0
# The storm's requests carry X-Forwarded-For: believed from loopback, as behind a reverse proxy.
export FORGEKEYS_TRUSTED_PROXIES=127.0.0.1/32
export RUST_LOG=warn

cleanup() {
  local code=$?
  stop_pid "${SAMPLER_PID}"
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
if [[ -z "${BIN:-}" && "${SKIP_BUILD:-0}" != 1 ]]; then
  echo "== building (release)"
  cargo build --release --quiet --bin forgekeys --example seed_inventory
fi
BIN="${BIN:-${TARGET}/release/forgekeys}"
SEED="${SEED:-${TARGET}/release/examples/seed_inventory}"
[[ -x "${BIN}" && -x "${SEED}" ]] || { echo "missing ${BIN} or ${SEED}" >&2; exit 2; }

mem_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/${SERVER_PID}/status"; }
mb() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1024 }'; }
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.1f", n }'
}

JAR="${WORK}/cookies"
sign_in() { # sets COOKIE (the list client's session)
  sign_in_jar
  COOKIE="fk_session=$(awk '$6 == "fk_session" { v = $7 } END { print v }' "${JAR}")"
  [[ "${COOKIE}" != "fk_session=" ]] || { echo "no session cookie after sign-in" >&2; exit 1; }
}

# The storm client: the pre-session CSRF pair from one GET /login, then posts of form bodies.
storm_lua() { # storm_lua PRE CSRF > file
  cat <<LUA
local pre, csrf, email = "$1", "$2", "${EMAIL}"
local n = 0
c401, c429, cother = 0, 0, 0
local threads = {}
function setup(thread)
  thread:set("id", math.random(1, 1000000))
  table.insert(threads, thread)
end
function request()
  n = n + 1
  local who
  if n % 2 == 0 then who = email else who = "nobody-" .. id .. "-" .. n .. "@example.test" end
  local ip = string.format("10.%d.%d.%d", (id + n) % 250 + 1, math.floor(n / 250) % 250, n % 250 + 1)
  local body = "csrf_token=" .. csrf .. "&email=" .. who .. "&password=wrong-guess-" .. n
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Origin"] = "${BASE}",
    ["Cookie"] = "fk_pre=" .. pre,
    ["X-Forwarded-For"] = ip,
  }
  return wrk.format("POST", "/login", headers, body)
end
function response(status, headers, body)
  if status == 401 then c401 = c401 + 1 elseif status == 429 then c429 = c429 + 1 else cother = cother + 1 end
end
function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do a = a + t:get("c401"); b = b + t:get("c429"); c = c + t:get("cother") end
  io.write(string.format("answers: 401=%d 429=%d other=%d\n", a, b, c))
end
LUA
}

# list_wrk OUT: the signed-in list client, for DURATION.
list_wrk() {
  wrk -t1 -c"${LIST_CONNS}" -d"${DURATION}" --timeout 60s --latency \
    -H "Cookie: ${COOKIE}" "${BASE}${LIST}" >"$1"
}
p99_of() { to_ms "$(awk '$1 == "99%" { print $2 }' "$1")"; }
errors_of() {
  awk '/Non-2xx or 3xx responses:/ { n += $NF } /Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' "$1"
}
sample_rss() { ( while kill -0 "${SERVER_PID}" 2>/dev/null; do mem_kb VmRSS; sleep 0.1; done ) >"$1" 2>/dev/null & SAMPLER_PID=$!; }

LIST="/orgs/${ORG}/settings/git-tokens"
echo "== seeding 100 tokens into a fresh SQLite database"
printf '%s\n' "${PASSWORD}" | "${SEED}" --start 0 --count 100 --org "${ORG}" --email "${EMAIL}" >/dev/null

echo "== quiet: the token list alone"
start_server
sign_in
curl -fsS -H "Cookie: ${COOKIE}" "${BASE}${LIST}" | grep -F "bench-" >/dev/null || { echo "the list lacks its tokens" >&2; exit 1; }
list_wrk "${WORK}/quiet.txt"
Q_P99="$(p99_of "${WORK}/quiet.txt")"
Q_RSS="$(mem_kb VmRSS)"
Q_HWM="$(mem_kb VmHWM)"
Q_ERR="$(errors_of "${WORK}/quiet.txt")"
stop_server

: >"${WORK}/storms.tsv"
for n in ${STORMS}; do
  echo "== storm: ${n} clients posting /login, the list measured at the same time"
  start_server   # the list client keeps its session (stored in the database) across restarts
  pre_jar="${WORK}/pre-${n}"
  csrf="$(curl -fsS -c "${pre_jar}" "${BASE}/login" | sed -nE 's/.*name="csrf_token" value="([^"]+)".*/\1/p' | head -n1)"
  pre="$(awk '$6 == "fk_pre" { v = $7 } END { print v }' "${pre_jar}")"
  storm_lua "${pre}" "${csrf}" >"${WORK}/storm.lua"
  sample_rss "${WORK}/rss-${n}.txt"
  wrk -t2 -c"${n}" -d"${DURATION}" --timeout 60s -s "${WORK}/storm.lua" "${BASE}/login" >"${WORK}/storm-${n}.txt" &
  storm_pid=$!
  sleep 1   # the storm is under way before the list is measured
  list_wrk "${WORK}/list-${n}.txt"
  wait "${storm_pid}" || true
  stop_pid "${SAMPLER_PID}"; SAMPLER_PID=""
  hwm="$(mem_kb VmHWM)"
  peak="$(sort -n "${WORK}/rss-${n}.txt" | tail -n1)"
  posts="$(awk '/requests in/ { print $1 }' "${WORK}/storm-${n}.txt")"
  answers="$(sed -n 's/^answers: //p' "${WORK}/storm-${n}.txt" | tr ' ' ',')"
  serr="$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "${WORK}/storm-${n}.txt")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${n}" "$(p99_of "${WORK}/list-${n}.txt")" "${peak}" "${hwm}" \
    "${posts:-0}" "${answers:-none}" "${serr:-0}" "$(errors_of "${WORK}/list-${n}.txt")" >>"${WORK}/storms.tsv"
  # One unknown e-mail and one wrong password right after the storm, as a user would see them.
  echo "   after the storm: unknown e-mail $(curl -s -o /dev/null -w '%{http_code}' -H "Origin: ${BASE}" -H "Cookie: fk_pre=${pre}" -H 'X-Forwarded-For: 192.0.2.7' --data "csrf_token=${csrf}&email=late@example.test&password=x" "${BASE}/login"), list $(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: ${COOKIE}" "${BASE}${LIST}")"
  stop_server
done

echo
echo "== results: SQLite, release build, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   binary: ${BIN}"
printf '%-22s %12s %14s %12s %10s  %s\n' "phase" "list p99" "peak VmRSS" "VmHWM" "posts" "storm answers"
printf '%-22s %9s ms %11s MB %9s MB %10s  %s\n' "quiet" "${Q_P99}" "$(mb "${Q_RSS}")" "$(mb "${Q_HWM}")" "-" "-"
while IFS=$'\t' read -r n p99 peak hwm posts answers serr lerr; do
  ratio="$(awk -v a="${p99}" -v b="${Q_P99}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
  printf '%-22s %9s ms %11s MB %9s MB %10s  %s\n' "storm ${n} clients" "${p99}" "$(mb "${peak}")" "$(mb "${hwm}")" "${posts}" "${answers}; socket errors ${serr}"
  verdict_rss="$(awk -v v="${hwm}" 'BEGIN { print (v / 1024 < 200) ? "ok" : "MISSED" }')"
  verdict_p99="$(awk -v r="${ratio}" 'BEGIN { print (r + 0 <= 3) ? "ok" : "MISSED" }')"
  echo "   ${n} clients: list p99 ${ratio}x quiet (target <= 3: ${verdict_p99}); peak RSS (VmHWM) $(mb "${hwm}") MB (target < 200: ${verdict_rss}); list errors ${lerr}"
done <"${WORK}/storms.tsv"
(( Q_ERR == 0 )) || echo "WARNING: ${Q_ERR} errors during the quiet list measurement" >&2
