#!/bin/sh
# fxtrain train's samples per second on one machine as 1 rank x 1 thread,
# 2 ranks x 1 thread (mpirun) and 1 rank x 2 threads. Each run's figure is
# the steps between its first and last validation (every 5 steps, on 0.1 s
# of audio, so they cost little) over the training seconds between them,
# from the CSV log. The three configurations alternate, ROUNDS times, so a
# change in the machine's load falls on all three alike; per configuration
# the best, median and worst runs are printed, and each run's figure with
# the 1-minute load average at its start (uptime). On a shared machine the
# best run says most about the code (see bench/best_of_runs.py). Renders a
# 3-minute LA-2A dataset into /tmp the first time.
#   bench/mpi_throughput.sh [ARCH] [BATCH] [CHUNK] [MINUTES] [ROUNDS]
set -e
cd "$(dirname "$0")/.."
ARCH=${1:-utcn-300-c} BATCH=${2:-8} CHUNK=${3:-8192} MINUTES=${4:-0.5} ROUNDS=${5:-3}
BIN=.build/release/fxtrain DATA=/tmp/neuralfx-mpi-bench-la2a OUT=$(mktemp -d)
swift build -c release --product fxtrain >/dev/null
[ -d "$DATA" ] || "$BIN" dataset --device la2a --minutes 3 --out "$DATA" >/dev/null
ARGS="train $DATA --arch $ARCH --batch $BATCH --chunk $CHUNK --minutes $MINUTES --val-every 5 --eval-seconds 0.1 --max-latency 0"
# samples/s from the log: (last step - first step) x batch x chunk / (last seconds - first seconds)
rate() { awk -F, -v n=$((BATCH * CHUNK)) 'NR == 2 { s0 = $1; t0 = $3 } NR > 2 { s = $1; t = $3 }
                                             END { if (t > t0) printf "%d\n", (s - s0) * n / (t - t0); else print 0 }' "$OUT/m-log.csv"; }
load() { cut -d' ' -f1 /proc/loadavg; }
for round in $(seq "$ROUNDS"); do
    l=$(load); "$BIN" $ARGS --threads 1 --out "$OUT/m.safetensors" --overwrite >/dev/null 2>"$OUT/err"
    r=$(rate); echo "$r" >>"$OUT/1x1"; echo "round $round 1x1: $r samples/s (load $l)"
    l=$(load); OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -q --oversubscribe -np 2 \
        "$BIN" $ARGS --threads 1 --out "$OUT/m.safetensors" --overwrite >/dev/null 2>"$OUT/err"
    r=$(rate); echo "$r" >>"$OUT/2x1"; echo "round $round 2x1: $r samples/s (load $l)"
    l=$(load); "$BIN" $ARGS --threads 2 --out "$OUT/m.safetensors" --overwrite >/dev/null 2>"$OUT/err"
    r=$(rate); echo "$r" >>"$OUT/1x2"; echo "round $round 1x2: $r samples/s (load $l)"
done
for c in 1x1 2x1 1x2; do
    sort -n "$OUT/$c" | awk -v c="$c" -v n=$((BATCH * CHUNK)) -v a="$ARCH" -v b="$BATCH" -v k="$CHUNK" '
        { v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
                             printf "%s: best %d samples/s (%.3f s/step), median %d (%.3f s/step), worst %d; %s, batch %d x %d, %d runs\n",
                                    c, v[NR], n / v[NR], m, n / m, v[1], a, b, k, NR }'
done
rm -rf "$OUT"
