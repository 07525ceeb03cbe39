# Shared pieces of the benchmark scripts (sourced, not run): tools, a free port, starting and
# stopping the release server, signing in with curl. The caller sets WORK, BASE, BIN and, for
# sign_in, JAR, EMAIL and PASSWORD.

need_tools() { # need_tools SCRIPT TOOL…: exit 2 naming the first missing tool
  local who=$1 tool
  shift
  for tool in "$@"; do
    if ! command -v "${tool}" >/dev/null 2>&1; then
      echo "${who}: ${tool} is missing." >&2
      [[ "${tool}" == wrk ]] && echo "  Install it with: apt-get install -y wrk   (Debian package)" >&2
      exit 2
    fi
  done
}

free_port() { # a port nothing listens on now (BENCH_PORT wins)
  echo "${BENCH_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
}

stop_pid() { # stop_pid PID: end one process this script started, and reap it
  if [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null; then
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}

start_server() { # `forgekeys serve` in the background (SERVER_PID), until /healthz answers
  "${BIN}" serve >>"${WORK}/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 200); do
    curl -fsS "${BASE}/healthz" >/dev/null 2>&1 && break
    kill -0 "${SERVER_PID}" 2>/dev/null || { echo "the server exited" >&2; exit 1; }
    sleep 0.05
  done
  curl -fsS "${BASE}/healthz" >/dev/null
}
stop_server() { stop_pid "${SERVER_PID}"; SERVER_PID=""; }

sign_in_jar() { # sign EMAIL in through the login form; the session cookie ends up in JAR
  rm -f "${JAR}"
  local pre
  pre="$(curl -fsS -c "${JAR}" -b "${JAR}" "${BASE}/login" | sed -nE 's/.*name="csrf_token" value="([^"]+)".*/\1/p' | head -n1)"
  curl -sS -o /dev/null -c "${JAR}" -b "${JAR}" -H "Origin: ${BASE}" \
    --data-urlencode "csrf_token=${pre}" --data-urlencode "email=${EMAIL}" \
    --data-urlencode "password=${PASSWORD}" -w '%{http_code}' "${BASE}/login" | grep -q 303 \
    || { echo "sign-in failed" >&2; exit 1; }
}
