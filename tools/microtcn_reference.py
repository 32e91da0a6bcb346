"""An independent PyTorch implementation of micro-tcn's TCNModel.

Written from the paper (Steinmetz & Reiss 2021) and the published module
layout, with the same parameter names, so a state_dict from either loads into
the other. Used to make parity fixtures and by the converter and benchmarks.
Supports the block activations NeuralFX adds for experiments.
"""
import math
import torch
import torch.nn.functional as F


def block_dilation(cfg, n):
    return cfg["dilation_growth"] ** (n % cfg["stack_size"])


def receptive_field(cfg):
    return 1 + sum((cfg["kernel_size"] - 1) * block_dilation(cfg, n) for n in range(cfg["nblocks"]))


class Snake(torch.nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.alpha = torch.nn.Parameter(torch.ones(channels))

    def forward(self, x):
        a = self.alpha[None, :, None]
        return x + torch.sin(a * x) ** 2 / a


class Gated(torch.nn.Module):
    def forward(self, x):
        half = x.shape[1] // 2
        return torch.tanh(x[:, :half]) * torch.sigmoid(x[:, half:])


def make_activation(kind, channels):
    return {
        "prelu": lambda: torch.nn.PReLU(channels),
        "relu": torch.nn.ReLU,
        "tanh": torch.nn.Tanh,
        "sigmoid": torch.nn.Sigmoid,
        "silu": torch.nn.SiLU,
        "gelu": torch.nn.GELU,
        "snake": lambda: Snake(channels),
        "gated": Gated,
        "identity": torch.nn.Identity,
    }[kind]()


class Modulation(torch.nn.Module):
    """BatchNorm without affine, then a scale and shift from the conditioning embedding."""

    def __init__(self, channels, embedding=32):
        super().__init__()
        self.bn = torch.nn.BatchNorm1d(channels, affine=False)
        self.adaptor = torch.nn.Linear(embedding, 2 * channels)

    def forward(self, x, embedding):
        gamma, beta = self.adaptor(embedding).chunk(2, dim=-1)
        return self.bn(x) * gamma.transpose(1, 2) + beta.transpose(1, 2)


class Block(torch.nn.Module):
    def __init__(self, cin, cout, cfg, dilation):
        super().__init__()
        act = cfg.get("activation", "prelu")
        conv_out = cout * (2 if act == "gated" else 1)
        groups = conv_out if cfg.get("grouped", False) and cin % conv_out == 0 else 1
        self.grouped = cfg.get("grouped", False)
        self.conditional = cfg["nparams"] > 0
        self.conv1 = torch.nn.Conv1d(cin, conv_out, cfg["kernel_size"], dilation=dilation, groups=groups, bias=False)
        if self.grouped:
            self.conv1b = torch.nn.Conv1d(conv_out, conv_out, 1)
        if self.conditional:
            self.film = Modulation(conv_out)
        else:
            self.bn = torch.nn.BatchNorm1d(conv_out)
        if act == "prelu":
            self.relu = torch.nn.PReLU(cout)
        elif act == "snake":
            self.act = Snake(cout)
        else:
            self.nonlinearity = make_activation(act, cout)
        self.activation = act
        self.res = torch.nn.Conv1d(cin, cout, 1, groups=cin, bias=False)

    def forward(self, x, embedding, envelopes=None):
        y = self.conv1(x)
        if envelopes is not None:
            y = y + envelopes(x, y.shape[-1])
        if self.grouped:
            y = self.conv1b(y)
        y = self.film(y, embedding) if self.conditional else self.bn(y)
        if self.activation == "prelu":
            y = self.relu(y)
        elif self.activation == "snake":
            y = self.act(y)
        else:
            y = self.nonlinearity(y)
        r = self.res(x)
        # The residual is cropped to end one sample before the input does.
        length = y.shape[-1]
        end = r.shape[-1] - 1
        return y + r[..., end - length:end]


class Envelopes(torch.nn.Module):
    """NeuralFX's envelope side-chain (config envelope_channels = K > 0;
    EnvelopeSideChain in the Swift core): K one-pole envelopes of the input
    power with decay exp(-exp(-log_tau)), whose log levels, scaled to about
    -1 (silence) ... 0 (full scale), a 1x1 convolution adds to block 0's
    conv1 output. The state starts at 0 (silence) at the input's first sample."""

    def __init__(self, channels, conv_out):
        super().__init__()
        self.log_tau = torch.nn.Parameter(torch.zeros(channels))
        self.proj = torch.nn.Conv1d(channels, conv_out, 1, bias=False)

    def forward(self, x, frames):
        rate = torch.exp(-self.log_tau)
        decay, gain = torch.exp(-rate), -torch.expm1(-rate)
        power = x[:, 0] ** 2
        level = torch.zeros(x.shape[0], self.log_tau.shape[0], dtype=x.dtype)
        levels = []
        for t in range(power.shape[-1]):
            level = decay * level + gain * power[:, t:t + 1]
            levels.append(level)
        features = torch.log(torch.stack(levels, -1) + 1e-6) / math.log(1e6)
        return self.proj(features[..., -frames:])


class KnobMap(torch.nn.Module):
    """A linear map from the knobs to the gain computer's parameters
    (`weight` [count, nparams] only with knobs, `bias` [count]; count 8, or
    13 with the optical cell)."""

    def __init__(self, nparams, count=8):
        super().__init__()
        if nparams > 0:
            self.weight = torch.nn.Parameter(torch.zeros(count, nparams))
        self.bias = torch.nn.Parameter(torch.zeros(count))

    def forward(self, p):
        return self.bias if p is None else self.bias + p.reshape(p.shape[0], -1) @ self.weight.T


class GainComputer(torch.nn.Module):
    """NeuralFX's gain computer (config gain_computer = true; GainComputer in
    the Swift core): a compressor side-chain whose gain multiplies the
    network's output. Raw parameters (knob map output), in this order:
    detector, attack, fast and slow release as the log of a time constant in
    samples; threshold in units of 20 dB; slope and slow share as logits;
    knee width as log(width / 10 dB). Per sample: e = a e + (1 - a) x^2,
    L = 10 log10(e + 1e-9), r = slope * knee(L - threshold), a fast and a
    slow part of r each follow it with the attack coefficient while rising
    and their own release while falling; gain = 10^(-(fast + slow) / 20).
    The state starts at 0 at the input's first sample. With feedback (config
    gain_feedback = true) the detector hears x times the previous sample's
    gain, and the slope is exp of its parameter (the ratio less one).

    With the optical cell (config gain_cell = true) five more parameters
    follow: the detector's release (log samples; DETECTOR is then its
    attack), the slow release's growth tau1 (log samples), the heaviness
    scale as log(H / 10 dB), the memory's charge and decay (log samples).
    The detector follows peaks, e += k (|x| - e) with the attack while
    |x| > e and the release otherwise, and L = 10 log10(e^2 + 1e-9); the
    slow part releases with 1 - exp(-1 / (exp(SLOW) + tau1 m)), m the memory
    before this sample; after the two parts the memory moves towards
    min((fast + slow) / H, 1) with the charge while below it, the decay
    otherwise."""

    DETECTOR, THRESHOLD, SLOPE, KNEE, ATTACK, FAST, SLOW, SHARE = range(8)
    DETECTOR_RELEASE, GROWTH, SCALE, CHARGE, DECAY = range(8, 13)

    def __init__(self, nparams, feedback=False, cell=False):
        super().__init__()
        self.count = 13 if cell else 8
        self.knob = KnobMap(nparams, self.count)
        self.feedback = feedback
        self.cell = cell

    @staticmethod
    def coefficients(log_tau):
        rate = torch.exp(-log_tau)
        return torch.exp(-rate), -torch.expm1(-rate)

    @staticmethod
    def knee(over, width):
        half = width / 2
        inside = (over + half) ** 2 / (2 * width)
        return torch.where(over <= -half, torch.zeros_like(over), torch.where(over >= half, over, inside))

    def forward(self, x, p=None):
        raw = self.knob(p).expand(x.shape[0], self.count)
        decay, gain = self.coefficients(raw[:, self.DETECTOR])
        attack = self.coefficients(raw[:, self.ATTACK])[1]
        fast_release = self.coefficients(raw[:, self.FAST])[1]
        slow_release = self.coefficients(raw[:, self.SLOW])[1]
        threshold = 20 * raw[:, self.THRESHOLD]
        slope = torch.exp(raw[:, self.SLOPE]) if self.feedback else torch.sigmoid(raw[:, self.SLOPE])
        width = 10 * torch.exp(raw[:, self.KNEE])
        share = torch.sigmoid(raw[:, self.SHARE])
        if self.cell:
            detector_release = self.coefficients(raw[:, self.DETECTOR_RELEASE])[1]
            tau0, tau1 = torch.exp(raw[:, self.SLOW]), torch.exp(raw[:, self.GROWTH])
            scale = 10 * torch.exp(raw[:, self.SCALE])
            charge = self.coefficients(raw[:, self.CHARGE])[1]
            discharge = self.coefficients(raw[:, self.DECAY])[1]
        e = torch.zeros(x.shape[0], dtype=x.dtype)
        fast = torch.zeros_like(e)
        slow = torch.zeros_like(e)
        memory = torch.zeros_like(e)
        previous = torch.ones_like(e)
        gains = []
        for t in range(x.shape[-1]):
            heard = x[:, 0, t] * previous if self.feedback else x[:, 0, t]
            if self.cell:
                peak = heard.abs()
                e = e + torch.where(peak > e, gain, detector_release) * (peak - e)
                level = 10 * torch.log10(e ** 2 + 1e-9)
                slow_release = -torch.expm1(-1 / (tau0 + tau1 * memory))
            else:
                e = decay * e + gain * heard ** 2
                level = 10 * torch.log10(e + 1e-9)
            r = slope * self.knee(level - threshold, width)
            fast_target, slow_target = (1 - share) * r, share * r
            fast = fast + torch.where(fast_target > fast, attack, fast_release) * (fast_target - fast)
            slow = slow + torch.where(slow_target > slow, attack, slow_release) * (slow_target - slow)
            if self.cell:
                heaviness = torch.clamp((fast + slow) / scale, max=1)
                memory = memory + torch.where(heaviness > memory, charge, discharge) * (heaviness - memory)
            gains.append(torch.pow(10.0, -(fast + slow) / 20))
            previous = gains[-1]
        return torch.stack(gains, -1)[:, None, :]


class MicroTCN(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        if cfg["nparams"] > 0:
            self.gen = torch.nn.Sequential(
                torch.nn.Linear(cfg["nparams"], 16), torch.nn.ReLU(),
                torch.nn.Linear(16, 32), torch.nn.ReLU(),
                torch.nn.Linear(32, 32), torch.nn.ReLU())
        self.blocks = torch.nn.ModuleList()
        cout = cfg.get("ninputs", 1)
        for n in range(cfg["nblocks"]):
            cin = cout
            cout = cin * cfg["channel_growth"] if cfg.get("channel_growth", 1) > 1 else cfg["channel_width"]
            self.blocks.append(Block(cin, cout, cfg, block_dilation(cfg, n)))
        self.output = torch.nn.Conv1d(cout, 1, 1)
        if cfg.get("envelope_channels", 0) > 0:
            self.env = Envelopes(cfg["envelope_channels"], self.blocks[0].conv1.out_channels)
        if cfg.get("gain_computer", False):
            self.gain = GainComputer(cfg["nparams"], cfg.get("gain_feedback", False), cfg.get("gain_cell", False))

    def forward(self, x, p=None):
        embedding = self.gen(p) if self.cfg["nparams"] > 0 else None
        signal = x
        for n, block in enumerate(self.blocks):
            x = block(x, embedding, self.env if n == 0 and hasattr(self, "env") else None)
        y = torch.tanh(self.output(x))
        if hasattr(self, "gain"):
            y = y * self.gain(signal, p)[..., -y.shape[-1]:]
        return y

    def stream_equivalent(self, x, p=None):
        """Output aligned with the input: what a causal streaming engine that
        starts from silence produces (the input is left-padded with zeros)."""
        pad = receptive_field(self.cfg) - 1
        return self.forward(F.pad(x, (pad, 0)), p)


def full_config(**overrides):
    cfg = dict(nparams=2, ninputs=1, noutputs=1, nblocks=4, kernel_size=5, dilation_growth=10,
               channel_growth=1, channel_width=32, stack_size=10, grouped=False, causal=True,
               skip_connections=False, activation="prelu")
    cfg.update(overrides)
    return cfg


def randomize(model, generator):
    """Non-trivial values everywhere, including BatchNorm statistics, so a
    parity test exercises every parameter."""
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if t.dtype != torch.float32:
                continue
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=generator) * 1.5 + 0.25)
            elif name.endswith("running_mean"):
                t.copy_(torch.randn(t.shape, generator=generator) * 0.1)
            elif name.endswith("relu.weight"):
                t.copy_(torch.rand(t.shape, generator=generator) * 0.5)
            elif name.endswith("act.alpha"):
                t.copy_(torch.rand(t.shape, generator=generator) * 1.5 + 0.5)
            else:
                fan_in = max(1, t[0].numel()) if t.dim() > 1 else 4
                t.copy_(torch.randn(t.shape, generator=generator) / math.sqrt(fan_in))
