#!/usr/bin/env python3
"""Fake GitHub REST API for scripts/bench-tokens-check.sh. Not a test.

Answers every token on loopback after --delay-ms: `GET /user` as a classic token with every
required scope and no expiry header (never expires), `GET /user/orgs` with `[]`,
`GET /user/repos` with one repository, and Git's smart-HTTP discovery
(`GET /{owner}/{repo}.git/info/refs?service=git-upload-pack`, HTTP Basic) with a one-branch
ref advertisement, so that a token test runs its clone check (FORGEKEYS_GITHUB_GIT_URL points
here too). Writes its port to --port-file once listening. On SIGTERM/SIGINT prints to stderr how many requests it
answered and the peak number of requests it held at once (to check the per-host limit).
"""

import argparse
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USER = json.dumps({"login": "octocat", "id": 1, "name": "monalisa octocat", "type": "User"}).encode()
REPOS = json.dumps([{"full_name": "octocat/hello-world", "private": False, "visibility": "public",
                     "owner": {"login": "octocat", "type": "User"}}]).encode()


def pkt(line):
    return b"%04x" % (len(line) + 4) + line


ADVERTISEMENT = (pkt(b"# service=git-upload-pack\n") + b"0000"
                 + pkt(b"7fd1a60b01f91b314f59955a4e4d4e80d8edf11d HEAD\0side-band-64k\n")
                 + pkt(b"7fd1a60b01f91b314f59955a4e4d4e80d8edf11d refs/heads/main\n") + b"0000")

lock = threading.Lock()
stats = {"requests": 0, "active": 0, "peak": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a keep-alive client's delayed ACK
    # would hold the body back ~40 ms and measure the fake instead of Forgekeys.
    disable_nagle_algorithm = True
    delay = 0.1

    def do_GET(self):  # noqa: N802 (http.server naming)
        with lock:
            stats["requests"] += 1
            stats["active"] += 1
            stats["peak"] = max(stats["peak"], stats["active"])
        try:
            time.sleep(self.delay)
            path = self.path.split("?", 1)[0]
            if path.endswith(".git/info/refs"):
                if self.headers.get("Authorization", "").startswith("Basic "):
                    self.answer(200, ADVERTISEMENT, {}, "application/x-git-upload-pack-advertisement")
                else:
                    self.answer(401, b"", {"www-authenticate": 'Basic realm="GitHub"'})
            elif not self.headers.get("Authorization", "").startswith("Bearer "):
                self.answer(401, b'{"message":"Bad credentials"}', {})
            elif path == "/user":
                self.answer(200, USER, {"x-oauth-scopes": "admin:repo_hook, read:org, repo"})
            elif path == "/user/orgs":
                self.answer(200, b"[]", {"x-oauth-scopes": "admin:repo_hook, read:org, repo"})
            elif path == "/user/repos":
                self.answer(200, REPOS, {"x-oauth-scopes": "admin:repo_hook, read:org, repo"})
            else:
                self.answer(404, b'{"message":"Not Found"}', {})
        finally:
            with lock:
                stats["active"] -= 1

    def answer(self, status, body, headers, content_type="application/json; charset=utf-8"):
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the default backlog of 5 drops connections under load


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--delay-ms", type=int, default=100)
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    Handler.delay = args.delay_ms / 1000.0
    server = Server(("127.0.0.1", 0), Handler)

    def stop(*_):
        with lock:
            print(f"fake: {stats['requests']} request(s), peak {stats['peak']} at once", file=sys.stderr, flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os

    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
