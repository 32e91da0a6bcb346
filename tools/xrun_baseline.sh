#!/bin/bash
# How often this machine xruns at a small JACK period, with and without fxhost:
# for RUNS rounds, SECONDS seconds each on a private `jackd -d dummy` server at
# PERIOD frames: the server alone, JACK's own trivial jack_simple_client, and
# fxhost with the bundled compressor. Counts the server's late wake-ups
# ("JackTimedDriver::Process XRun") and the clients it found not finished.
#
#   tools/xrun_baseline.sh [RUNS=3] [SECONDS=30] [PERIOD=64]
set -u
cd "$(dirname "$0")/.."
RUNS=${1:-3} SECONDS_=${2:-30} PERIOD=${3:-64}
FXHOST=.build/release/fxhost
[ -x $FXHOST ] || swift build -c release --product fxhost
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

round() {
    local what=$1 name=nfx-xrun-$$-$RANDOM
    jackd -n "$name" -d dummy -r 48000 -p "$PERIOD" > "$LOG" 2>&1 &
    local server=$!
    sleep 2
    case $what in
    server) sleep "$SECONDS_" ;;
    jack_simple_client) JACK_DEFAULT_SERVER=$name timeout "$SECONDS_" jack_simple_client > /dev/null 2>&1 ;;
    fxhost) timeout $((SECONDS_ + 10)) $FXHOST --jack --server "$name" --no-ui --no-midi --duration "$SECONDS_" < /dev/null > /dev/null 2>&1 ;;
    esac
    kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
    printf '%-20s %4d late wake-ups  %4d clients not finished\n' "$what" \
        "$(grep -c 'Process XRun' "$LOG")" "$(grep -c 'was not finished' "$LOG")"
}

echo "$RUNS rounds of $SECONDS_ s at period $PERIOD (48 kHz), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$RUNS"); do
    for what in server jack_simple_client fxhost; do round $what; done
done
