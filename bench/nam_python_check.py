"""Checks a .nam file fxtrain wrote against Neural Amp Modeler's own Python
package: loads it with NAM's loader, runs NAM's PyTorch WaveNet or LSTM over an
input file and prints the largest difference from what NeuralFX's engine
rendered from the same file (`fxrender INPUT RENDERED --model MODEL.nam
--subtype float`).
    python bench/nam_python_check.py MODEL.nam INPUT.wav RENDERED.wav"""
import json
import os
import sys

try:
    import numpy as np
    import soundfile as sf
    import torch
    import nam
    from nam.models._from_nam import init_from_nam
except ImportError:
    print("nam: skipped (torch, soundfile or neural-amp-modeler is not installed)")
    sys.exit(0)

sys.path.insert(0, os.path.dirname(__file__))
from nam_preset import as_nam_013  # noqa: E402

model_path, input_path, rendered_path = sys.argv[1:4]
with open(model_path) as fp:
    model = init_from_nam(as_nam_013(json.load(fp))).eval()
x, rate = sf.read(input_path, dtype="float32")
rendered, _ = sf.read(rendered_path, dtype="float32")
with torch.no_grad():
    y = model(torch.tensor(x[None, :])).numpy()[0]
n = min(len(y), len(rendered))
difference = float(np.max(np.abs(y[:n] - rendered[:n])))
peak = float(np.max(np.abs(rendered[:n])))
print(f"NAM {nam.__version__} loaded {model_path}: {sum(p.numel() for p in model.parameters())} parameters, "
      f"receptive field {model.receptive_field}, {model.sample_rate} Hz; over {n} samples the largest difference from "
      f"NeuralFX's render is {difference:.3g} (output peak {peak:.3g})")
