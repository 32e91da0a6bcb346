"""Makes the micro-tcn parity fixtures in Tests/NeuralFXModelFilesTests/Fixtures/microtcn.

For each configuration: a model file (safetensors with NeuralFX metadata and
micro-tcn tensor names, plus BatchNorm's num_batches_tracked as PyTorch saves
it) and an io file with the input, the knob conditioning and the reference
output of tools/microtcn_reference.py. Run from the repository root:

    pip install torch safetensors
    python3 tools/make_microtcn_fixtures.py
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
from microtcn_reference import MicroTCN, full_config, randomize, receptive_field  # noqa: E402

OUT = os.path.join("Tests", "NeuralFXModelFilesTests", "Fixtures", "microtcn")

CASES = {
    "utcn-100-c": full_config(),
    "small-gelu": full_config(nblocks=3, kernel_size=3, dilation_growth=4, channel_width=8, activation="gelu"),
    "small-snake": full_config(nblocks=3, kernel_size=3, dilation_growth=3, channel_width=8, activation="snake"),
    "small-gated": full_config(nblocks=2, kernel_size=4, dilation_growth=5, channel_width=6, activation="gated"),
    "small-tanh": full_config(nblocks=2, kernel_size=3, dilation_growth=2, channel_width=8, activation="tanh", nparams=3),
    "small-silu": full_config(nblocks=2, kernel_size=3, dilation_growth=2, channel_width=8, activation="silu"),
    "small-relu-unconditioned": full_config(nblocks=3, kernel_size=3, dilation_growth=2, channel_width=8,
                                            activation="relu", nparams=0),
    "small-grouped": full_config(nblocks=3, kernel_size=3, dilation_growth=2, channel_width=8, grouped=True),
    "small-growth": full_config(nblocks=3, kernel_size=3, dilation_growth=2, channel_growth=2, channel_width=8),
}

KNOBS = [
    {"name": "mode", "label": "Mode", "unit": "", "input": 0, "positions": ["compress", "limit"],
     "default": "compress", "input_values": [0.0, 1.0]},
    {"name": "peak", "label": "Peak Reduction", "unit": "", "input": 1, "min": 0.0, "max": 1.0,
     "default": 0.5, "input_range": [0.0, 1.0]},
    {"name": "extra", "label": "Extra", "unit": "dB", "input": 2, "min": -12.0, "max": 12.0,
     "default": 0.0, "input_range": [0.0, 1.0]},
]


def signal(n, generator):
    t = torch.arange(n, dtype=torch.float32) / 44100.0
    envelope = (torch.sin(2 * torch.pi * 3.0 * t) > 0).float() * 0.7 + 0.1
    tone = torch.sin(2 * torch.pi * 220.0 * t) * envelope
    noise = torch.randn(n, generator=generator) * 0.05
    return (tone + noise).clamp(-1, 1)


def main():
    os.makedirs(OUT, exist_ok=True)
    for index, (name, cfg) in enumerate(CASES.items()):
        generator = torch.Generator().manual_seed(1234 + index)
        model = MicroTCN(cfg).eval()
        randomize(model, generator)
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        knobs = KNOBS[:cfg["nparams"]]
        metadata = {
            "architecture": "micro-tcn",
            "config": json.dumps(cfg, sort_keys=True),
            "sample_rate": "44100",
            "knobs": json.dumps(knobs),
            "name": name,
            "provenance": json.dumps({"trained_on": "nothing: random weights for a parity fixture",
                                      "made_by": "tools/make_microtcn_fixtures.py"}),
        }
        save_file(state, os.path.join(OUT, f"{name}.safetensors"), metadata=metadata)

        n = 1500 + receptive_field(cfg) // 3
        x = signal(n, generator)[None, None, :]
        cond = torch.rand(1, 1, cfg["nparams"], generator=generator) if cfg["nparams"] > 0 else None
        with torch.no_grad():
            y = model.stream_equivalent(x, cond)
        io = {"input": x.flatten().contiguous(), "output": y.flatten().contiguous()}
        if cond is not None:
            io["conditioning"] = cond.flatten().contiguous()
        save_file(io, os.path.join(OUT, f"{name}-io.safetensors"))
        print(f"{name}: receptive field {receptive_field(cfg)}, {n} samples")
    converted_checkpoint(generator)
    gain_computer()
    gain_computer(feedback=True)
    gain_computer(feedback=True, cell=True)


def gain_computer(feedback=False, cell=False):
    """A micro-tcn with the gain computer (GainComputer in the Swift core),
    its time constants short enough that 12,000 samples of the on-off tone
    cross attack and both releases, and its threshold under the quiet parts;
    with feedback, the same with the detector hearing the gained signal;
    with the optical cell, a memory that charges and fades within the
    signal too."""
    name = "small-gain-cell" if cell else "small-gain-fb" if feedback else "small-gain"
    n = 12000
    extra = {"gain_feedback": True} if feedback else {}
    if cell:
        extra["gain_cell"] = True
    cfg = full_config(nblocks=2, kernel_size=3, dilation_growth=2, channel_width=8, gain_computer=True, **extra)
    generator = torch.Generator().manual_seed(4321)
    model = MicroTCN(cfg).eval()
    randomize(model, generator)
    with torch.no_grad():
        bias = [math.log(50), -1.5, 0.5, -0.5, math.log(100), math.log(500), math.log(3000), 0.2]
        if cell:
            # Peak detector 5 up / 200 down, slow release 3,000 samples
            # growing by up to 6,000; heaviness over 10 dB; memory charging
            # over 1,500 and fading over 4,000 samples.
            bias[0] = math.log(5)
            bias += [math.log(200), math.log(6000), 0.0, math.log(1500), math.log(4000)]
        model.gain.knob.bias.copy_(torch.tensor(bias))
        model.gain.knob.weight.copy_(torch.randn(len(bias), cfg["nparams"], generator=generator) * 0.3)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    metadata = {
        "architecture": "micro-tcn",
        "config": json.dumps(cfg, sort_keys=True),
        "sample_rate": "44100",
        "knobs": json.dumps(KNOBS[:cfg["nparams"]]),
        "name": name,
        "provenance": json.dumps({"trained_on": "nothing: random weights for a parity fixture",
                                  "made_by": "tools/make_microtcn_fixtures.py"}),
    }
    save_file(state, os.path.join(OUT, f"{name}.safetensors"), metadata=metadata)
    x = signal(n, generator)[None, None, :]
    cond = torch.rand(1, 1, cfg["nparams"], generator=generator)
    with torch.no_grad():
        y = model.stream_equivalent(x, cond)
    save_file({"input": x.flatten().contiguous(), "output": y.flatten().contiguous(),
               "conditioning": cond.flatten().contiguous()}, os.path.join(OUT, f"{name}-io.safetensors"))
    print(f"{name}: {n} samples")


def converted_checkpoint(generator):
    """A Lightning-style checkpoint (state_dict + hyper_parameters, as micro-tcn
    saves them) run through tools/microtcn_to_safetensors.py, so the parity
    test covers the converter too."""
    cfg = full_config(nblocks=3, kernel_size=7, dilation_growth=6, channel_width=12)
    model = MicroTCN(cfg).eval()
    randomize(model, generator)
    hparams = {k: v for k, v in cfg.items() if k != "activation"}
    hparams.update(lr=3e-4, sample_rate=44100, train_loss="l1+stft")
    target = os.path.join(OUT, "converted-checkpoint.safetensors")
    if os.path.exists(target):
        os.remove(target)
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = os.path.join(tmp, "uTCN-small.ckpt")
        torch.save({"epoch": 7, "state_dict": model.state_dict(), "hyper_parameters": hparams}, ckpt)
        subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "microtcn_to_safetensors.py"),
                        ckpt, target, "--name", "converted-checkpoint"], check=True)
    n = 1600
    x = signal(n, generator)[None, None, :]
    cond = torch.tensor([[[1.0, 0.35]]])
    with torch.no_grad():
        y = model.stream_equivalent(x, cond)
    save_file({"input": x.flatten().contiguous(), "output": y.flatten().contiguous(),
               "conditioning": cond.flatten().contiguous()},
              os.path.join(OUT, "converted-checkpoint-io.safetensors"))


if __name__ == "__main__":
    main()
