"""Writes models/la2a.safetensors as a hand-set placeholder until a trained
compressor replaces it: uTCN-300-C whose blocks pass the signal through their
residual paths (so the model is a gentle tanh saturation with a 4-sample delay
and faint knob-dependent coloration). Its metadata says it is not trained.

    python3 tools/make_placeholder_model.py
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
from microtcn_reference import MicroTCN, full_config  # noqa: E402

KNOBS = [
    {"name": "mode", "label": "Compress/Limit", "unit": "", "input": 0, "positions": ["compress", "limit"],
     "default": "compress", "input_values": [0.0, 1.0]},
    {"name": "peak", "label": "Peak Reduction", "unit": "", "input": 1, "min": 0.0, "max": 1.0,
     "default": 0.5, "input_range": [0.0, 1.0]},
]


def main():
    cfg = full_config(kernel_size=13)
    model = MicroTCN(cfg).eval()
    g = torch.Generator().manual_seed(300)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if t.dtype != torch.float32:
                continue
            if name.endswith("conv1.weight"):
                t.copy_(torch.randn(t.shape, generator=g) * 0.002)
            elif name.endswith("running_mean"):
                t.zero_()
            elif name.endswith("running_var") or name.endswith("res.weight"):
                t.fill_(1.0)
            elif name.endswith("relu.weight"):
                t.fill_(0.25)
            elif "adaptor.weight" in name:
                t.copy_(torch.randn(t.shape, generator=g) * 0.01)
            elif "adaptor.bias" in name:
                half = t.shape[0] // 2
                t[:half] = 1.0
                t[half:] = 0.0
            elif name.startswith("gen."):
                t.copy_(torch.randn(t.shape, generator=g) * 0.3)
            elif name == "output.weight":
                t.fill_(1.0 / t.shape[1])
            elif name == "output.bias":
                t.zero_()
    metadata = {
        "architecture": "micro-tcn",
        "config": json.dumps(cfg, sort_keys=True),
        "sample_rate": "44100",
        "knobs": json.dumps(KNOBS),
        "name": "la2a",
        "description": "LA-2A-style optical compressor (PLACEHOLDER: hand-set, untrained weights)",
        "provenance": json.dumps({
            "trained_on": "nothing: hand-set placeholder weights, a gentle tanh saturation; "
                          "a model trained on the optical-compressor reference device replaces it",
            "made_by": "tools/make_placeholder_model.py"}),
    }
    os.makedirs("models", exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, "models/la2a.safetensors", metadata=metadata)


if __name__ == "__main__":
    main()
