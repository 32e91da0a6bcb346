"""NAM's WaveNet presets as NAM 0.13's Python package builds them, for the
bench scripts: the same layers fxtrain's `--arch nam-*` trains
(Sources/NeuralFXTraining/WaveNetPresets.swift), stated in NAM 0.13's layer
schema (a `head` object per array instead of 0.5.x's head_size/head_bias);
and NAM's LSTM recipe (its nam_full_configs/models/lstm.json), what
`--arch nam-lstm` trains (Sources/NeuralFXTraining/LSTMConfig.swift)."""

OCTAVES = [1 << i for i in range(10)]
SHORT = OCTAVES[:7]
LONG = [128, 256, 512] + SHORT + [128, 256, 512]
SHAPES = {
    "nam-standard": (16, 8, OCTAVES, OCTAVES),
    "nam-lite": (12, 6, SHORT, LONG),
    "nam-feather": (8, 4, SHORT, LONG),
    "nam-nano": (4, 2, SHORT, LONG),
}
HEAD_SCALE = 0.02
LSTM = {"num_layers": 3, "hidden_size": 18, "train_burn_in": 8192, "train_truncate": None}
ARCHITECTURES = sorted(SHAPES) + ["nam-lstm"]


def layer(input_size, channels, head_size, dilations, head_bias):
    return {"input_size": input_size, "condition_size": 1, "channels": channels, "kernel_size": 3,
            "dilations": dilations, "activation": "Tanh", "gated": False,
            "head": {"out_channels": head_size, "kernel_size": 1, "bias": head_bias}}


def config(arch):
    first, second, d1, d2 = SHAPES[arch]
    return {"layers_configs": [layer(1, first, second, d1, False), layer(first, second, 1, d2, True)],
            "head": None, "head_scale": HEAD_SCALE}


def as_nam_013(nam_file):
    """A 0.5.x .nam dictionary's layers restated in NAM 0.13's schema (NAM
    0.13's loader refuses every 0.5.x WaveNet, NAM's own files included; it
    reads an LSTM as written)."""
    if nam_file["architecture"] != "WaveNet":
        return nam_file
    for layer_config in nam_file["config"]["layers"]:
        layer_config["head"] = {"out_channels": layer_config.pop("head_size"), "kernel_size": 1,
                                "bias": layer_config.pop("head_bias")}
    return nam_file


def burn_in(arch):
    """Input samples before each chunk that take no loss (the LSTM's)."""
    return LSTM["train_burn_in"] if arch == "nam-lstm" else 0


def make_model(arch):
    if arch == "nam-lstm":
        from nam.models.recurrent import LSTM as NAMLSTM
        return NAMLSTM(**LSTM)
    from nam.models.wavenet import WaveNet
    return WaveNet.init_from_config(config(arch))
