#!/usr/bin/env bash
# Load test of the running server on loopback with wrk (Debian package `wrk`).
# Usage: scripts/bench-http.sh [DATABASE_URL]   (default: a fresh SQLite file)
# Builds the release binary, starts it on a free port with the demo content, and measures
# a few read paths for 10 s each with 2 threads and 32 connections. Bounded in time; only
# 127.0.0.1 is ever targeted.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wecare-target}"
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk"; exit 1; }
cargo build --release --quiet
dir="$(mktemp -d)"
db="${1:-sqlite://$dir/bench.db}"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
WECARE_LOG=warn "$CARGO_TARGET_DIR/release/wecare" --database-url "$db" serve --demo --bind "127.0.0.1:$port" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
for path in /healthz / /peer-support /api/v1/pages /events /api/v1/events /events/feed.ics; do
  echo "== GET $path"
  wrk -t2 -c32 -d10s --latency "http://127.0.0.1:$port$path" | grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors" || true
done
