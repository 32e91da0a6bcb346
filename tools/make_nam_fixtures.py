"""Makes the Neural Amp Modeler parity fixtures with the reference implementation.

Writes, under Tests/NeuralFXModelFilesTests/Fixtures/nam/:
  <name>.nam                .nam files (version 0.5.4 JSON) with random weights, one per case below
  reference.safetensors     `input` (float32 test signal) and `<name>` = the reference output for it

and, when ../shared/data/nam/ exists beside the repository (or under
$NEURALFX_SHARED_DATA, for a checkout elsewhere),
Tests/NeuralFXRealDataTests/Fixtures/nam-real-reference.safetensors with the
reference output of the three real captures for a test signal (the captures
themselves are never copied).

Reference: the `neural-amp-modeler` package (0.13.0). It no longer reads 0.5.x
WaveNet configs directly, so `reference_model` translates one into the
package's current form (the same network: head rechannel of kernel 1,
layer 1x1 active, gated = PairMultiply(activation, Sigmoid)) and imports the
flat weights with the package's own `import_weights`. Output conventions:
WaveNet and Linear use the package's zero padding of the start (the silence
state); the LSTM runs from its stored state over half a second of zeros first
(NeuralAmpModelerCore's prewarm) and only the samples after that are kept.

Run from the repository root: python3 tools/make_nam_fixtures.py
"""
import json
import os
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import save_file

from nam.models.linear import Linear
from nam.models.recurrent import LSTM
from nam.models.wavenet import WaveNet

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests/NeuralFXModelFilesTests/Fixtures/nam"
REAL_OUT = ROOT / "Tests/NeuralFXRealDataTests/Fixtures"
SHARED = Path(os.environ.get("NEURALFX_SHARED_DATA", ROOT.parent / "shared/data")) / "nam"
RATE = 48000
SAMPLES = 4096


def layer(input_size, channels, head_size, dilations, activation="Tanh", gated=False, head_bias=False, kernel=3):
    return {"input_size": input_size, "condition_size": 1, "head_size": head_size, "channels": channels,
            "kernel_size": kernel, "dilations": dilations, "activation": activation, "gated": gated,
            "head_bias": head_bias}


LONG = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
SHORT = [1, 2, 4, 8, 16, 32, 64]
TAIL = [128, 256, 512, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512]


def preset(c1, h1, c2, d1, d2):
    return {"layers": [layer(1, c1, h1, d1), layer(c1, c2, 1, d2, head_bias=True)], "head": None, "head_scale": 0.02}


WAVENETS = {
    # The trainer's presets (neural-amp-modeler's core.py), unchanged.
    "wavenet-standard": preset(16, 8, 8, LONG, LONG),
    "wavenet-lite": preset(12, 6, 6, SHORT, TAIL),
    "wavenet-feather": preset(8, 4, 4, SHORT, TAIL),
    "wavenet-nano": preset(4, 2, 2, SHORT, TAIL),
    # Gated layers, other activations, three arrays, 20 channels (two vectors).
    "wavenet-gated": {"layers": [layer(1, 6, 5, [1, 3, 9], gated=True),
                                 layer(6, 5, 20, [2, 5], activation="ReLU", gated=True, head_bias=True),
                                 layer(5, 20, 1, [1, 7], activation="Sigmoid", kernel=2, head_bias=True)],
                      "head": None, "head_scale": 0.3},
    "wavenet-nongated-head": {"layers": [layer(1, 8, 4, [1, 2, 4, 8], activation="Hardtanh"),
                                         layer(8, 4, 3, [16, 32], activation="SiLU", head_bias=True)],
                              "head": {"in_channels": 3, "channels": 5, "activation": "Tanh", "num_layers": 2,
                                       "out_channels": 1},
                              "head_scale": 0.5},
    "wavenet-gated-head": {"layers": [layer(1, 3, 2, [1, 2, 4, 8, 16], activation="LeakyReLU", gated=True),
                                      layer(3, 2, 2, [3, 9], activation="Hardswish", gated=True, head_bias=True)],
                           "head": {"in_channels": 2, "channels": 4, "activation": "ReLU", "num_layers": 1,
                                    "out_channels": 1},
                           "head_scale": 0.7},
}
LSTMS = {"lstm": {"input_size": 1, "hidden_size": 8, "num_layers": 2}}
LINEARS = {"linear": {"receptive_field": 32, "bias": True}}


def wavenet_weight_count(config):
    n = 0
    for la in config["layers"]:
        c, cm = la["channels"], la["channels"] * (2 if la["gated"] else 1)
        per = cm * c * la["kernel_size"] + cm + cm * la["condition_size"] + c * c + c
        n += la["input_size"] * c + len(la["dilations"]) * per + la["head_size"] * c
        n += la["head_size"] if la["head_bias"] else 0
    if config["head"] is not None:
        h, cin = config["head"], config["layers"][-1]["head_size"]
        for i in range(h["num_layers"]):
            cout = h["out_channels"] if i == h["num_layers"] - 1 else h["channels"]
            n += cin * cout + cout
            cin = h["channels"]
    return n + 1


def reference_model(nam):
    """The reference implementation's model for a 0.5.x .nam dictionary."""
    config, rate = nam["config"], nam.get("sample_rate")
    arch = nam["architecture"]
    if arch == "WaveNet":
        arrays = []
        for la in config["layers"]:
            activation = la["activation"]
            if la["gated"]:
                activation = {"name": "PairMultiply", "primary": activation, "secondary": "Sigmoid"}
            arrays.append({"input_size": la["input_size"], "condition_size": la["condition_size"],
                           "channels": la["channels"], "kernel_size": la["kernel_size"],
                           "dilations": la["dilations"], "activation": activation,
                           "head": {"out_channels": la["head_size"], "kernel_size": 1, "bias": la["head_bias"]}})
        head = config["head"]
        if head is not None:
            head = {"channels": head["channels"], "activation": head["activation"],
                    "out_channels": head["out_channels"], "kernel_sizes": [1] * head["num_layers"]}
        model = WaveNet.init_from_config({"layers_configs": arrays, "head": head,
                                          "head_scale": config["head_scale"], "sample_rate": rate})
        model.import_weights(torch.tensor(nam["weights"], dtype=torch.float32))
    elif arch == "LSTM":
        model = LSTM(hidden_size=config["hidden_size"], num_layers=config["num_layers"],
                     input_size=config["input_size"], sample_rate=rate)
        model.import_weights(np.array(nam["weights"], dtype=np.float32))
    elif arch == "Linear":
        model = Linear(receptive_field=config["receptive_field"], bias=config["bias"], sample_rate=rate)
        model.import_weights(nam["weights"])
    else:
        raise ValueError(arch)
    return model.eval()


def reference_output(nam, x):
    model = reference_model(nam)
    rate = nam.get("sample_rate") or 48000
    with torch.no_grad():
        if nam["architecture"] == "LSTM":
            prewarm = int(0.5 * rate)
            padded = np.concatenate([np.zeros(prewarm, np.float32), x])
            return model(torch.from_numpy(padded), pad_start=True).numpy()[prewarm:].astype(np.float32)
        return model(torch.from_numpy(x), pad_start=True).numpy().astype(np.float32)


def test_signal(seed, n):
    """A plucked-string-like signal: decaying partials, a second note, a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE
    x = np.zeros(n)
    for f0, start, amp in [(110.0, 0, 0.5), (164.8, n // 2, 0.4)]:
        env = np.where(t >= start / RATE, np.exp(-(t - start / RATE) * 6.0), 0.0)
        for k in range(1, 6):
            x += amp / k * env * np.sin(2 * np.pi * f0 * k * (t - start / RATE) + rng.uniform(0, 2 * np.pi))
    x += 0.01 * rng.standard_normal(n)
    return x.astype(np.float32)


def short(values):
    """Four significant digits: exact in float32 after parsing, and a small file."""
    return [float("%.4g" % v) for v in values]


def random_weights(rng, count, scale):
    return short(rng.uniform(-scale, scale, count))


def metadata(name):
    return {"date": {"year": 2026, "month": 11, "day": 29, "hour": 12, "minute": 0, "second": 0},
            "loudness": -17.5, "gain": 0.5, "name": name, "modeled_by": "tools/make_nam_fixtures.py",
            "gear_type": "amp", "gear_make": "Random", "gear_model": name, "tone_type": "crunch",
            "input_level_dbu": 12.0, "output_level_dbu": 6.0,
            "training": {"validation_esr": 0.0123}}


def nam_file(name, architecture, config, weights):
    return {"version": "0.5.4", "metadata": metadata(name), "architecture": architecture, "config": config,
            "weights": weights, "sample_rate": RATE}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261129)
    x = test_signal(1, SAMPLES)
    tensors = {"input": x}
    files = {}
    for name, config in WAVENETS.items():
        w = random_weights(rng, wavenet_weight_count(config), 0.35)
        w[-1] = config["head_scale"] if config["head_scale"] != 0.02 else 0.25
        config = dict(config, head_scale=w[-1])
        files[name] = nam_file(name, "WaveNet", config, w)
    for name, config in LSTMS.items():
        h, layers = config["hidden_size"], config["num_layers"]
        n = sum(4 * h * ((1 if l == 0 else h) + h) + 6 * h for l in range(layers)) + h + 1
        files[name] = nam_file(name, "LSTM", config, random_weights(rng, n, 0.5))
    for name, config in LINEARS.items():
        n = config["receptive_field"] + (1 if config["bias"] else 0)
        files[name] = nam_file(name, "Linear", config, random_weights(rng, n, 0.3))
    for name, nam in files.items():
        with open(OUT / f"{name}.nam", "w") as f:
            json.dump(nam, f, separators=(",", ":"))
        y = reference_output(nam, x)
        print(f"{name}: {len(nam['weights'])} weights, output rms {np.sqrt(np.mean(y ** 2)):.4f}")
        tensors[name] = y
    save_file(tensors, str(OUT / "reference.safetensors"))

    if SHARED.is_dir():
        REAL_OUT.mkdir(parents=True, exist_ok=True)
        xr = test_signal(2, SAMPLES)
        real = {"input": xr}
        for name in ["wavenet", "lstm", "wavenet_a1_standard"]:
            with open(SHARED / f"{name}.nam") as f:
                nam = json.load(f)
            real[name] = reference_output(nam, xr)
            print(f"real {name}: output rms {np.sqrt(np.mean(real[name] ** 2)):.4f}")
        save_file(real, str(REAL_OUT / "nam-real-reference.safetensors"))


if __name__ == "__main__":
    main()
