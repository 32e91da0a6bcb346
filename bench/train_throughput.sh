#!/bin/sh
# Training throughput (samples/s through forward, backward and Adam) of
# fxtrain and of PyTorch's CPU micro-tcn (or, for nam-*, Neural Amp Modeler's
# PyTorch WaveNet) for the same architecture, batch and chunk length, in one
# run. PyTorch or NAM is skipped with a message if missing.
#   bench/train_throughput.sh [ARCH] [BATCH] [CHUNK] [STEPS] [THREADS]
set -e
cd "$(dirname "$0")/.."
ARCH=${1:-utcn-300-c} BATCH=${2:-8} CHUNK=${3:-8192} STEPS=${4:-5} THREADS=${5:-2}
swift build -c release --product fxtrain >/dev/null
.build/release/fxtrain throughput --arch "$ARCH" --batch "$BATCH" --chunk "$CHUNK" --steps "$STEPS" --threads "$THREADS"
if command -v python3 >/dev/null; then
    case "$ARCH" in
    nam-*) SCRIPT=bench/nam_train_throughput.py ;;
    *) SCRIPT=bench/pytorch_train_throughput.py ;;
    esac
    python3 "$SCRIPT" --arch "$ARCH" --batch "$BATCH" --chunk "$CHUNK" --steps "$STEPS" --threads "$THREADS"
else
    echo "pytorch: skipped (python3 is not installed)"
fi
