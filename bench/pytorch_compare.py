"""NeuralFX beside PyTorch on the same micro-tcn networks, one CPU thread.

PyTorch runs tools/microtcn_reference.py (micro-tcn's architecture, written
independently) two ways:
  - offline: the whole signal in one forward pass;
  - streaming as micro-tcn's plugin does it: every block, run the network over
    the last (receptive field - 1 + block) input samples and keep the last
    `block` outputs.
NeuralFX's figures come from `fxbench --json` (run here, or read from a file).
Real-time factor = processing time / audio time; the ratio is PyTorch / NeuralFX.

    swift build -c release --product fxbench
    python3 bench/pytorch_compare.py                 # all named configurations
    python3 bench/pytorch_compare.py --configs utcn-300-c --blocks 64 512
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The named configurations, as MicroTCNConfig.named defines them.
CONFIGS = {
    "utcn-100-c": dict(nblocks=4, kernel_size=5, dilation_growth=10),
    "utcn-300-c": dict(nblocks=4, kernel_size=13, dilation_growth=10),
    "utcn-1000-c": dict(nblocks=5, kernel_size=5, dilation_growth=10),
    "tcn-324": dict(nblocks=10, kernel_size=15, dilation_growth=2),
}
SAMPLE_RATE = 44100


def neuralfx_figures(args):
    if args.json:
        with open(args.json) as f:
            return json.load(f)
    command = [args.fxbench, "--json", "--seconds", str(args.seconds), "--repetitions", str(args.repetitions),
               "--blocks", *map(str, args.blocks)]
    for name in args.configs:
        command += ["--config", name]
    print("running:", " ".join(command), file=sys.stderr)
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def timed(fn, repetitions):
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def pytorch_figures(name, blocks, seconds, budget, repetitions):
    import torch
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    from microtcn_reference import MicroTCN, full_config, randomize, receptive_field

    cfg = full_config(**CONFIGS[name])
    model = MicroTCN(cfg).eval()
    randomize(model, torch.Generator().manual_seed(1))
    p = torch.full((1, 1, cfg["nparams"]), 0.5)
    n = int(seconds * SAMPLE_RATE)
    x = (torch.rand(1, 1, n, generator=torch.Generator().manual_seed(2)) - 0.5) * 0.6
    rf = receptive_field(cfg)
    out = {}
    with torch.inference_mode():
        model.stream_equivalent(x[..., :4096], p)  # warm-up
        out["offline"] = timed(lambda: model.stream_equivalent(x, p), repetitions) / seconds
        history = torch.nn.functional.pad(x, (rf - 1, 0))
        for block in blocks:
            # Stop after `budget` seconds of wall time: small blocks are very slow here.
            start, done = time.perf_counter(), 0
            while done + block <= n and (time.perf_counter() - start < budget or done == 0):
                window = history[..., done:done + rf - 1 + block]
                model(window, p)
                done += block
            out[block] = (time.perf_counter() - start) / (done / SAMPLE_RATE)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--blocks", nargs="+", type=int, default=[1, 16, 64, 128, 512, 4096])
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds of audio per run")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--budget", type=float, default=3.0,
                        help="wall-clock seconds PyTorch may spend streaming one block size")
    parser.add_argument("--fxbench", default=os.path.join(ROOT, ".build", "release", "fxbench"))
    parser.add_argument("--json", help="read NeuralFX figures from this `fxbench --json` output instead")
    args = parser.parse_args()
    if any(b < 1 for b in args.blocks):
        parser.error("block sizes must be positive")
    try:
        import torch
    except ImportError:
        print("torch is not installed: nothing to compare (pip install torch)", file=sys.stderr)
        return 1
    torch.set_num_threads(1)
    if not args.json and not os.path.exists(args.fxbench):
        print(f"{args.fxbench} not found: build it with `swift build -c release --product fxbench`", file=sys.stderr)
        return 1

    ours = {m["name"]: m for m in neuralfx_figures(args)["models"]}
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} thread; real-time factor (lower is faster)")
    print(f"{'model':<12} {'block':>6} {'NeuralFX':>10} {'PyTorch':>10} {'PyTorch/NeuralFX':>17}")
    for name in args.configs:
        if name not in ours:
            print(f"{name}: not in the NeuralFX figures", file=sys.stderr)
            continue
        theirs = pytorch_figures(name, args.blocks, args.seconds, args.budget, args.repetitions)
        cells = {c["blockSize"]: c["realTimeFactor"]["median"] for c in ours[name]["streaming"]}
        rows = [(str(b), cells.get(b), theirs[b]) for b in args.blocks]
        if ours[name].get("offline"):
            rows.append(("whole", ours[name]["offline"]["realTimeFactor"]["median"], theirs["offline"]))
        for label, a, b in rows:
            if a is None:
                continue
            print(f"{name:<12} {label:>6} {a:>10.4f} {b:>10.4f} {b / a:>16.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
