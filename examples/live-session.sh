#!/usr/bin/env bash
# Plays live audio through fxhost over JACK with a preset:
#   examples/live-session.sh [PRESET] [FXHOST OPTIONS...]
# PRESET is a preset name or file (default: la2a-gentle); further arguments go
# to fxhost (e.g. --midi-map cc7=peak). When no JACK server is running, a
# dummy one (jackd -d dummy -r 48000 -p 256, no sound card) is started for the
# session and stopped when it ends. Runs from anywhere; builds fxhost
# (swift build -c release) only when .build/release/fxhost is missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN=.build/release
if [ ! -x "$BIN/fxhost" ]; then
    echo "building fxhost (swift build -c release --product fxhost)"
    swift build -c release --product fxhost
fi

preset=${1:-la2a-gentle}
shift || true

jack_running() { JACK_NO_START_SERVER=1 jack_lsp >/dev/null 2>&1; }

if ! jack_running; then
    mkdir -p out
    log=out/live-session-jackd.log
    echo "no JACK server running: starting jackd -d dummy -r 48000 -p 256 (log: $log)"
    jackd -d dummy -r 48000 -p 256 >"$log" 2>&1 &
    jackd_pid=$!
    trap 'kill "$jackd_pid" 2>/dev/null || true; wait "$jackd_pid" 2>/dev/null || true' EXIT
    for _ in $(seq 50); do
        jack_running && break
        if ! kill -0 "$jackd_pid" 2>/dev/null; then
            echo "jackd exited at start-up:" >&2
            cat "$log" >&2
            exit 1
        fi
        sleep 0.1
    done
    jack_running || { echo "jackd did not come up within 5 s" >&2; exit 1; }
fi

echo "fxhost --jack --preset $preset $*"
"$BIN/fxhost" --jack --preset "$preset" "$@"
