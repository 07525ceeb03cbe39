#!/usr/bin/env bash
# Benchmark (not a test): `forgekeys tokens check` over N stored tokens against a fake GitHub on
# loopback that answers every request after DELAY_MS. Prints the wall time and the token count.
# Target (issue 3): 1,000 tokens × 100 ms in under 5 s on the 2-core CI machine. Since issue 9 a
# classic token's test is three sequential requests (`/user`, `/user/repos` for the repository
# the clone check runs on, and Git's `info/refs`), so at the default `--per-host 32` this takes
# about 1,000 / 32 × 0.3 s ≈ 10 s.
#
#   scripts/bench-tokens-check.sh                 # N=1000 DELAY_MS=100
#   N=200 DELAY_MS=250 scripts/bench-tokens-check.sh -- --per-host 8   # extra args go to `tokens check`
#
# Seeding runs the app's own code (examples/seed_tokens.rs: migrations, key file, encryption,
# tokens::create) into a throw-away SQLite database; nothing outside a temp dir is touched.
set -euo pipefail

N="${N:-1000}"
DELAY_MS="${DELAY_MS:-100}"
TARGET_S="${TARGET_S:-5}"
[[ "${1:-}" == "--" ]] && shift
cd "$(dirname "$0")/.."

cargo build --release --quiet --bin forgekeys --example seed_tokens
target_dir="${CARGO_TARGET_DIR:-target}"
bin="$target_dir/release/forgekeys"
seed="$target_dir/release/examples/seed_tokens"

tmp="$(mktemp -d)"
fake_pid=""
cleanup() {
    if [[ -n "$fake_pid" ]]; then
        kill "$fake_pid" 2>/dev/null || true
        wait "$fake_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

python3 scripts/fake_slow_provider.py --delay-ms "$DELAY_MS" --port-file "$tmp/port" 2>"$tmp/fake.log" &
fake_pid=$!
for _ in $(seq 100); do [[ -s "$tmp/port" ]] && break; sleep 0.05; done
[[ -s "$tmp/port" ]] || { echo "fake provider did not start" >&2; cat "$tmp/fake.log" >&2; exit 2; }

export DATABASE_URL="sqlite://$tmp/bench.db"
export FORGEKEYS_KEY_FILE="$tmp/bench.key"
export FORGEKEYS_GITHUB_API_URL="http://127.0.0.1:$(cat "$tmp/port")"
# The clone check of each test goes to the same fake (Git's smart HTTP).
export FORGEKEYS_GITHUB_GIT_URL="$FORGEKEYS_GITHUB_API_URL"
export FORGEKEYS_RECHECK_INTERVAL=0
export RUST_LOG=warn

"$seed" --count "$N"

echo "running: forgekeys tokens check $* (fake GitHub answers after ${DELAY_MS} ms)"
TIMEFORMAT="time: real %3R s, user %3U s, sys %3S s"
start=$(date +%s.%N)
set +e
time "$bin" tokens check "$@" >"$tmp/out.txt"
code=$?
set -e
end=$(date +%s.%N)

kill "$fake_pid" && wait "$fake_pid" 2>/dev/null || true
fake_pid=""
wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
summary=$(tail -n 1 "$tmp/out.txt")
checked=$(grep -c ' github ' "$tmp/out.txt" || true)
valid=$(grep -c ' valid ' "$tmp/out.txt" || true)
echo "$summary (exit code $code)"
cat "$tmp/fake.log"
echo "tokens: $checked listed, $valid valid"
echo "wall time: ${wall} s for $N tokens × ${DELAY_MS} ms (target < ${TARGET_S} s)"
if [[ "$checked" -ne "$N" || "$valid" -ne "$N" ]]; then
    echo "FAIL: expected $N valid tokens" >&2
    exit 1
fi
if awk -v w="$wall" -v t="$TARGET_S" 'BEGIN { exit !(w < t) }'; then
    echo "OK: under ${TARGET_S} s"
else
    echo "SLOWER than ${TARGET_S} s" >&2
    exit 1
fi
