#!/bin/bash
# Reproduces models/cl1b.safetensors: micro-tcn uTCN-100-C trained on the
# Tube-Tech CL 1B recordings in ../shared/data/cl1b (not part of the
# project; see docs/models.md), two whole knob settings held out for test.
#
#   tools/train_cl1b.sh [MINUTES]        (default 25; writes under $WORK, default out/cl1b)
#
# The figures in docs/models.md come from this run (2026-12-02, one thread,
# about half of a 2-core VM shared with other builds).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=../shared/data/cl1b
[ -f $DATA/Input.wav ] || { echo "error: $DATA not found (the CL 1B recordings beside the project)"; exit 1; }
B=.build/release
W=${WORK:-out/cl1b}
MINUTES=${1:-25}
[ -x $B/fxtrain ] || swift build -c release --product fxtrain
mkdir -p "$W"
$B/fxtrain train $DATA --arch utcn-100-c --holdout 2 --loss mse --patience 10 --minutes "$MINUTES" \
    --threads 1 --eval-seconds 5 --val-every 50 --out "$W/cl1b.safetensors" --overwrite \
    --description "Tube-Tech CL 1B optical compressor (attack, release, ratio, threshold 0..1: attack 0.5-300 ms, release 0.05-10 s, ratio 2:1-10:1, threshold 0 to -40 dBu): micro-tcn uTCN-100-C trained by fxtrain for $MINUTES minutes on recordings of the real unit at 12 settings; tools/train_cl1b.sh reproduces it" \
    --data-source "Tube-Tech CL 1B recordings from github.com/RiccardoVib/CONDITIONED-MODELING-OF-OPTICAL-COMPRESSOR (Fully_Conditioned_Black_Box_Model_for_Compression/Audio_CL1B), by R. Simionato and S. Fasciani" \
    --data-license "LGPL-3.0" \
    --cite "R. Simionato and S. Fasciani, Deep Learning Conditioned Modeling of Optical Compression, Proc. DAFx 2022" \
    --cite "R. Simionato and S. Fasciani, Fully Conditioned and Low-Latency Black-Box Modeling of Analog Compression, Proc. DAFx 2023" \
    | tee "$W/cl1b.txt"
install -m 644 "$W/cl1b.safetensors" models/cl1b.safetensors
echo "wrote models/cl1b.safetensors"
