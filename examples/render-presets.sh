#!/usr/bin/env bash
# Renders every preset in presets/ through fxrender, each on a clip that suits
# it, into out/presets/<preset>.wav:
#   la2a presets       examples/vocal.flac, or bass-di.flac when the preset's
#                      name mentions bass, drums-and-bass.flac when it
#                      mentions drum
#   overdrive presets  examples/guitar-di.flac
#   any other model    examples/guitar-di.flac (amp and pedal captures)
# A preset whose model cannot be found (e.g. models/overdrive.safetensors not
# trained yet) is skipped with a message. Runs from anywhere; builds fxrender
# (swift build -c release) only when .build/release/fxrender is missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN=.build/release
if [ ! -x "$BIN/fxrender" ]; then
    echo "building fxrender (swift build -c release --product fxrender)"
    swift build -c release --product fxrender
fi

OUT=out/presets
mkdir -p "$OUT"

shopt -s nullglob
presets=(presets/*.json)
if [ ${#presets[@]} -eq 0 ]; then
    echo "no presets in presets/" >&2
    exit 1
fi

rendered=0
skipped=0
for preset in "${presets[@]}"; do
    name=$(basename "$preset" .json)
    model=$(sed -n 's/.*"model"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$preset" | head -n 1)
    if [ -z "$model" ]; then
        echo "skipping $name: no \"model\" in $preset" >&2
        skipped=$((skipped + 1))
        continue
    fi
    lower=$(printf '%s' "$name" | tr '[:upper:]' '[:lower:]')
    case "$model" in
        la2a*)
            case "$lower" in
                *bass*) clip=examples/bass-di.flac ;;
                *drum*) clip=examples/drums-and-bass.flac ;;
                *) clip=examples/vocal.flac ;;
            esac
            ;;
        *)
            clip=examples/guitar-di.flac
            ;;
    esac
    if ! problem=$("$BIN/fxrender" --model "$model" --info 2>&1 >/dev/null); then
        echo "skipping $name: model '$model' not available: ${problem#fxrender: error: }" >&2
        skipped=$((skipped + 1))
        continue
    fi
    echo "$name ($model): $clip -> $OUT/$name.wav"
    "$BIN/fxrender" "$clip" "$OUT/$name.wav" --preset "$preset" --force
    rendered=$((rendered + 1))
done

echo "wrote $rendered file(s) to $OUT/, skipped $skipped preset(s)"
