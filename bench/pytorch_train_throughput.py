"""Training throughput of the PyTorch micro-tcn (tools/microtcn_reference.py)
on the CPU: forward, L1 loss, backward and an Adam step on random data,
the same shape fxtrain's `throughput` command measures."""
import argparse
import os
import sys
import time

try:
    import torch
except ImportError:
    print("pytorch: skipped (torch is not installed)")
    sys.exit(0)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from microtcn_reference import MicroTCN, full_config, receptive_field  # noqa: E402

ARCHS = {
    "utcn-100-c": dict(nblocks=4, kernel_size=5, dilation_growth=10),
    "utcn-300-c": dict(nblocks=4, kernel_size=13, dilation_growth=10),
    "utcn-1000-c": dict(nblocks=5, kernel_size=5, dilation_growth=10),
    "tcn-324": dict(nblocks=10, kernel_size=15, dilation_growth=2),
}

p = argparse.ArgumentParser()
p.add_argument("--arch", default="utcn-300-c")
p.add_argument("--nparams", type=int, default=2)
p.add_argument("--batch", type=int, default=8)
p.add_argument("--chunk", type=int, default=8192, help="output samples per chunk")
p.add_argument("--steps", type=int, default=5)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()

torch.manual_seed(1)
torch.set_num_threads(a.threads)
cfg = full_config(nparams=a.nparams, **ARCHS[a.arch])
model = MicroTCN(cfg).train()
opt = torch.optim.Adam(model.parameters(), lr=1e-4)
length = a.chunk + receptive_field(cfg) - 1
x = torch.rand(a.batch, 1, length) - 0.5
knobs = torch.rand(a.batch, 1, a.nparams)
target = torch.zeros(a.batch, 1, a.chunk)


def step():
    opt.zero_grad()
    y = model(x, knobs)
    loss = torch.nn.functional.l1_loss(y, target)
    loss.backward()
    opt.step()


step()
start = time.perf_counter()
for _ in range(a.steps):
    step()
seconds = time.perf_counter() - start
print(f"pytorch {torch.__version__} {a.arch} batch {a.batch} chunk {a.chunk} threads {a.threads}: "
      f"{a.steps * a.batch * a.chunk / seconds:.0f} samples/s ({seconds / a.steps:.3f} s/step)")
