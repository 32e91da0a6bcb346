#!/usr/bin/env bash
# Trains a small LA-2A model end to end and listens to it on the vocal clip:
#   1. fxtrain dataset: 4 minutes of dry material through the la2a reference
#      device into out/train-example/dataset (kept and reused when it exists)
#   2. fxtrain train: a utcn-100-c model for MINUTES minutes of training
#      (default 3) into out/train-example/la2a-small.safetensors
#   3. fxrender: examples/vocal.flac through it at peak=0.5 into
#      out/train-example/vocal.wav
# Training keeps the CPU busy (2 threads) for MINUTES minutes. Runs from
# anywhere; builds fxtrain and fxrender (swift build -c release) only when they
# are missing from .build/release.
#   MINUTES=10 examples/train-small-model.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN=.build/release
for tool in fxtrain fxrender; do
    if [ ! -x "$BIN/$tool" ]; then
        echo "building $tool (swift build -c release --product $tool)"
        swift build -c release --product "$tool"
    fi
done

DIR=out/train-example
DATASET=$DIR/dataset
MODEL=$DIR/la2a-small.safetensors
RENDER=$DIR/vocal.wav
mkdir -p "$DIR"

if [ -f "$DATASET/manifest.json" ]; then
    echo "using the existing dataset in $DATASET (delete it to render a new one)"
else
    if [ -d "$DATASET" ] && [ -n "$(ls -A "$DATASET")" ]; then
        echo "$DATASET exists but holds no manifest.json (an interrupted render?): delete it and run again" >&2
        exit 1
    fi
    echo "rendering a 4-minute la2a dataset into $DATASET"
    "$BIN/fxtrain" dataset --device la2a --minutes 4 --out "$DATASET"
fi

echo "training utcn-100-c for ${MINUTES:-3} minutes into $MODEL"
"$BIN/fxtrain" train "$DATASET" --arch utcn-100-c --minutes "${MINUTES:-3}" --out "$MODEL" --overwrite

echo "rendering examples/vocal.flac through it into $RENDER"
"$BIN/fxrender" examples/vocal.flac "$RENDER" --model "$MODEL" --knob peak=0.5 --force

echo "wrote $DATASET/, $MODEL (with its log, loss curve and test plot beside it) and $RENDER"
