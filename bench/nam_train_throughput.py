"""Training throughput of Neural Amp Modeler's PyTorch WaveNet or LSTM (NAM
from PyPI) on the CPU: forward, MSE, backward and an Adam step on random
data, the shape `fxtrain throughput --arch nam-*` measures (unpadded chunks
of `chunk + receptive field - 1` input samples, as NAM's trainer feeds them;
for the LSTM, its burn-in before each chunk, with no loss taken there)."""
import argparse
import os
import sys
import time

try:
    import torch
    import nam
except ImportError:
    print("nam: skipped (torch or neural-amp-modeler is not installed)")
    sys.exit(0)

sys.path.insert(0, os.path.dirname(__file__))
from nam_preset import ARCHITECTURES, burn_in, make_model  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--arch", default="nam-standard", choices=ARCHITECTURES)
p.add_argument("--batch", type=int, default=16)
p.add_argument("--chunk", type=int, default=8192, help="output samples per chunk")
p.add_argument("--steps", type=int, default=5)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()

torch.manual_seed(1)
torch.set_num_threads(a.threads)
model = make_model(a.arch).train()
opt = torch.optim.Adam(model.parameters(), lr=8e-3 if a.arch == "nam-lstm" else 4e-3)
x = torch.rand(a.batch, a.chunk + model.receptive_field - 1 + burn_in(a.arch)) - 0.5
target = torch.zeros(a.batch, a.chunk)


def step():
    opt.zero_grad()
    y = model(x, pad_start=False)[:, -a.chunk:]
    loss = torch.nn.functional.mse_loss(y, target)
    loss.backward()
    opt.step()


step()
start = time.perf_counter()
for _ in range(a.steps):
    step()
seconds = time.perf_counter() - start
print(f"NAM {nam.__version__} (pytorch {torch.__version__}) {a.arch} batch {a.batch} chunk {a.chunk} threads {a.threads}: "
      f"{a.steps * a.batch * a.chunk / seconds:.0f} samples/s ({seconds / a.steps:.3f} s/step)")
