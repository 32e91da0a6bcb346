"""Converts a micro-tcn checkpoint (PyTorch Lightning .ckpt or a bare state_dict .pt)
into a NeuralFX model file (safetensors with micro-tcn tensor names, unchanged).

    pip install torch safetensors
    python3 tools/microtcn_to_safetensors.py uTCN-300-C.ckpt models/my-la2a.safetensors \
        [--hparams hparams.yaml] [--sample-rate 44100] [--knobs la2a|none] [--name NAME]

The tensors keep micro-tcn's state_dict names, so NeuralFX loads them as they
are; the hyperparameters (from the checkpoint, or from --hparams) go into the
file's metadata with the knob map. With --knobs la2a (the default for nparams = 2)
the conditioning follows micro-tcn's SignalTrain loader: input 0 is the
compress/limit switch (0 or 1), input 1 is Peak Reduction / 100.
"""
import argparse
import json
import os
import sys

import torch
from safetensors.torch import save_file

CONFIG_KEYS = ["nparams", "ninputs", "noutputs", "nblocks", "kernel_size", "dilation_growth", "channel_growth",
               "channel_width", "stack_size", "grouped", "causal", "skip_connections"]

LA2A_KNOBS = [
    {"name": "mode", "label": "Compress/Limit", "unit": "", "input": 0, "positions": ["compress", "limit"],
     "default": "compress", "input_values": [0.0, 1.0]},
    {"name": "peak", "label": "Peak Reduction", "unit": "", "input": 1, "min": 0.0, "max": 1.0,
     "default": 0.5, "input_range": [0.0, 1.0]},
]


def read_hparams(path):
    values = {}
    with open(path) as f:
        for line in f:
            if ":" in line and not line.startswith(" "):
                key, value = line.split(":", 1)
                values[key.strip()] = value.strip()
    out = {}
    for key in CONFIG_KEYS:
        if key in values:
            v = values[key]
            out[key] = v.lower() == "true" if v.lower() in ("true", "false") else int(v)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("output")
    p.add_argument("--hparams", help="hparams.yaml when the checkpoint carries none")
    p.add_argument("--sample-rate", type=int, default=44100)
    p.add_argument("--knobs", choices=["la2a", "none"], default=None)
    p.add_argument("--name")
    args = p.parse_args()

    if os.path.exists(args.output):
        sys.exit(f"error: {args.output} exists; refusing to overwrite it")
    blob = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    state = blob.get("state_dict", blob) if isinstance(blob, dict) else None
    if not isinstance(state, dict):
        sys.exit("error: the checkpoint holds no state_dict")
    hparams = dict(blob.get("hyper_parameters", {})) if "state_dict" in blob else {}
    if args.hparams:
        hparams.update(read_hparams(args.hparams))
    config = {k: hparams[k] for k in CONFIG_KEYS if k in hparams}
    if "nparams" not in config:
        sys.exit("error: no hyperparameters found; pass --hparams hparams.yaml")
    if not config.get("causal", False):
        print("warning: this is a non-causal micro-tcn; NeuralFX streams causal models only and will refuse it",
              file=sys.stderr)
    knobs = args.knobs or ("la2a" if config["nparams"] == 2 else "none")
    tensors = {k: v.detach().contiguous() for k, v in state.items() if isinstance(v, torch.Tensor)}
    metadata = {
        "architecture": "micro-tcn",
        "config": json.dumps(config, sort_keys=True),
        "sample_rate": str(args.sample_rate),
        "knobs": json.dumps(LA2A_KNOBS if knobs == "la2a" else []),
        "name": args.name or os.path.splitext(os.path.basename(args.output))[0],
        "provenance": json.dumps({"converted_from": os.path.basename(args.checkpoint),
                                  "converter": "tools/microtcn_to_safetensors.py"}),
    }
    save_file(tensors, args.output, metadata=metadata)
    print(f"wrote {args.output}: {len(tensors)} tensors, config {config}")


if __name__ == "__main__":
    main()
