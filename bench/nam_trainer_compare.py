"""Neural Amp Modeler's trainer and fxtrain side by side on the same pair of
recordings, for the same minutes of wall time, one after the other.

Both train the same WaveNet preset (NAM's standard by default) on the same
data: fxtrain runs first and aligns the pair (latency removed, polarity
flipped if it finds them so); NAM then trains on the pair as fxtrain aligned
it, with fxtrain's split (the last 15 % validates, the 15 % before it is the
test, the rest trains). NAM runs its own trainer (nam.train.full: PyTorch
Lightning, Adam lr 0.004, exponential decay 0.993 per epoch, MSE, batch 16 x
8192, best validation ESR kept); fxtrain runs `fxtrain train --arch`. Both
models are then scored the same way, by NAM's PyTorch WaveNet over the whole
input (fxtrain's .nam stated in NAM 0.13's layer schema), on the test span:
ESR, and ESR after pre-emphasis (1 - 0.85 z^-1).

    python bench/nam_trainer_compare.py INPUT.wav TARGET.wav --minutes 10 [--arch nam-standard] [--threads 2]

NAM from PyPI (neural-amp-modeler, torch, pytorch-lightning) is optional:
without it the script says so and exits."""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    import numpy as np
    import soundfile as sf
    import torch
    import nam
    from nam.models._from_nam import init_from_nam
    from nam.train import full as nam_full
except ImportError:
    print("nam: skipped (torch, soundfile, pytorch-lightning or neural-amp-modeler is not installed)")
    sys.exit(0)

sys.path.insert(0, os.path.dirname(__file__))
from nam_preset import SHAPES, as_nam_013, config  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
VALIDATION_FRACTION = TEST_FRACTION = 0.15  # DataSplitPlan's

p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("input")
p.add_argument("target")
p.add_argument("--minutes", type=float, default=10)
p.add_argument("--arch", default="nam-standard", choices=sorted(SHAPES))
p.add_argument("--threads", type=int, default=2)
p.add_argument("--batch", type=int, default=16)
p.add_argument("--chunk", type=int, default=8192)
p.add_argument("--work", help="folder for both runs' files (default: a temporary folder)")
p.add_argument("--fxtrain-args", default="", help="extra fxtrain train arguments, e.g. '--lr 0.002 --loss esr-pre'")
a = p.parse_args()

work = Path(a.work or tempfile.mkdtemp(prefix="nam-compare-")).resolve()
work.mkdir(parents=True, exist_ok=True)
x, rate = sf.read(a.input, dtype="float32")
y, target_rate = sf.read(a.target, dtype="float32")
if x.ndim > 1 or y.ndim > 1 or rate != target_rate:
    sys.exit("input and target must be mono files at one sample rate")


def fxtrain():
    data = work / "fxtrain-data"
    data.mkdir(exist_ok=True)
    # fxtrain reads manifest paths relative to the manifest's folder.
    manifest = {"sample_rate": rate, "pairs": [{"input": os.path.relpath(Path(a.input).resolve(), data),
                                               "target": os.path.relpath(Path(a.target).resolve(), data), "knobs": {}}]}
    (data / "manifest.json").write_text(json.dumps(manifest))
    out = work / "fxtrain.nam"
    subprocess.run(["swift", "build", "-c", "release", "--product", "fxtrain"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    command = [str(ROOT / ".build/release/fxtrain"), "train", str(data), "--arch", a.arch, "--out", str(out),
               "--minutes", str(a.minutes), "--batch", str(a.batch), "--chunk", str(a.chunk),
               "--threads", str(a.threads), "--val-every", "50", "--overwrite"] + a.fxtrain_args.split()
    print("fxtrain:", " ".join(command), flush=True)
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"fxtrain failed: {result.stderr.strip()}")
    steps = re.search(r"at step (\d+)", result.stdout)
    lag = re.search(r"target lags the input by (\d+) samples", result.stdout)
    inverted = "polarity is inverted" in result.stdout
    with open(out) as fp:
        model = init_from_nam(as_nam_013(json.load(fp)))
    return model, int(steps.group(1)) if steps else None, int(lag.group(1)) if lag else 0, inverted


def nam_trainer():
    out = work / "nam"
    out.mkdir(exist_ok=True)
    torch.set_num_threads(a.threads)
    data_config = {
        "train": {"start_samples": 0, "stop_samples": train_end, "ny": a.chunk},
        "validation": {"start_samples": n - validation, "stop_samples": n, "ny": None,
                       "require_input_pre_silence": None},
        "common": {"x_path": str(work / "aligned-input.wav"), "y_path": str(work / "aligned-target.wav"), "delay": 0,
                   "allow_unequal_lengths": True},
    }
    model_config = {"net": {"name": "WaveNet", "config": config(a.arch)}, "loss": {"val_loss": "esr"},
                    "optimizer": {"lr": 0.004}, "lr_scheduler": {"class": "ExponentialLR", "kwargs": {"gamma": 0.993}}}
    seconds = int(a.minutes * 60)
    learning_config = {
        "train_dataloader": {"batch_size": a.batch, "shuffle": True, "pin_memory": False, "drop_last": True,
                             "num_workers": 0},
        "val_dataloader": {},
        "trainer": {"accelerator": "cpu", "max_time": {"seconds": seconds}, "max_epochs": -1,
                    "enable_progress_bar": False, "logger": False},
    }
    print(f"NAM {nam.__version__}: nam.train.full.main, {a.arch}, {seconds} s", flush=True)
    nam_full.main(data_config, model_config, learning_config, out, no_show=True, make_plots=False)
    exported = sorted(out.rglob("*.nam"), key=os.path.getmtime)[-1]
    with open(exported) as fp:
        model = init_from_nam(json.load(fp))
    best = sorted(out.rglob("*.ckpt"), key=os.path.getmtime)
    steps = [int(m.group(1)) for c in best for m in [re.search(r"step=(\d+)", c.name)] if m]
    return model, max(steps) if steps else None


def scores(model, gain=1.0):
    model.eval()
    with torch.no_grad():
        prediction = model(torch.tensor(x[None, :n]), pad_start=True).numpy()[0] / gain
    span = slice(train_end, train_end + test)
    p, t = prediction[span].astype(np.float64), y[:n][span].astype(np.float64)

    def esr(p, t):
        return float(np.sum((p - t) ** 2) / max(np.sum(t ** 2), 1e-30))

    def pre(v):
        return v[1:] - 0.85 * v[:-1]

    return esr(p, t), esr(pre(p), pre(t))


fxtrain_model, fxtrain_steps, lag, inverted = fxtrain()
# The pair as fxtrain trained on it: the target `lag` samples earlier, flipped if inverted.
n = min(len(x), len(y) - lag)
x, y = x[:n], (-1 if inverted else 1) * y[lag:lag + n]
# NAM's trainer refuses a target that reaches full scale ("Output clipped"): it
# gets the target scaled below it, and its model's output is scaled back to score.
nam_gain = min(1.0, 0.99 / max(float(np.max(np.abs(y))), 1e-30))
sf.write(work / "aligned-input.wav", x, rate, subtype="FLOAT")
sf.write(work / "aligned-target.wav", nam_gain * y, rate, subtype="FLOAT")
validation, test = int(n * VALIDATION_FRACTION), int(n * TEST_FRACTION)
train_end = n - validation - test
print(f"pair as aligned by fxtrain (lag {lag}, {'inverted' if inverted else 'not inverted'}): {n} samples at {rate} Hz; "
      f"train [0, {train_end}), test [{train_end}, {train_end + test}), validation [{n - validation}, {n})")
nam_model, nam_steps = nam_trainer()
rows = [("NAM " + nam.__version__, nam_steps, *scores(nam_model, nam_gain)),
        ("fxtrain", fxtrain_steps, *scores(fxtrain_model))]

print(f"\n{a.arch}, {a.minutes:g} min each, batch {a.batch} x {a.chunk}, {a.threads} threads; test span scored by NAM's PyTorch model")
print(f"{'trainer':<12} {'steps':>7} {'test ESR':>10} {'ESR pre-emph':>13}")
for name, steps, esr, esr_pre in rows:
    print(f"{name:<12} {'?' if steps is None else steps:>7} {esr:>10.4f} {esr_pre:>13.4f}")
print(f"files: {work}")
