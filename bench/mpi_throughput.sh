#!/bin/sh
# fxtrain train's samples per second on one machine as 1 rank x 1 thread,
# 2 ranks x 1 thread (mpirun) and 1 rank x 2 threads: the median of the live
# status line's 2-second windows, first window left out. Renders a 3-minute
# LA-2A dataset into /tmp the first time.
#   bench/mpi_throughput.sh [ARCH] [BATCH] [CHUNK] [MINUTES]
set -e
cd "$(dirname "$0")/.."
ARCH=${1:-utcn-300-c} BATCH=${2:-8} CHUNK=${3:-8192} MINUTES=${4:-1}
BIN=.build/release/fxtrain DATA=/tmp/neuralfx-mpi-bench-la2a OUT=$(mktemp -d)
swift build -c release --product fxtrain >/dev/null
[ -d "$DATA" ] || "$BIN" dataset --device la2a --minutes 3 --out "$DATA" >/dev/null
ARGS="train $DATA --arch $ARCH --batch $BATCH --chunk $CHUNK --minutes $MINUTES --val-every 1000000 --max-latency 0"
median() { tr '\r' '\n' < "$1" | sed -n 's/.*  \([0-9][0-9]*\) samples\/s.*/\1/p' | awk '$1 > 0' | tail -n +2 | sort -n |
           awk '{ v[NR] = $1 } END { if (NR == 0) print "none"; else print v[int((NR + 1) / 2)] }'; }
report() {
    s=$(median "$OUT/$1.err")
    echo "$1: $s samples/s, $(echo "$s" | awk -v n=$((BATCH * CHUNK)) '{ printf "%.3f", n / $1 }') s/step ($ARCH, batch $BATCH x $CHUNK)"
}
"$BIN" $ARGS --threads 1 --out "$OUT/1x1.safetensors" >/dev/null 2>"$OUT/1x1.err"; report 1x1
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -q --oversubscribe -np 2 \
    "$BIN" $ARGS --threads 1 --out "$OUT/2x1.safetensors" >/dev/null 2>"$OUT/2x1.err"; report 2x1
"$BIN" $ARGS --threads 2 --out "$OUT/1x2.safetensors" >/dev/null 2>"$OUT/1x2.err"; report 1x2
rm -rf "$OUT"
