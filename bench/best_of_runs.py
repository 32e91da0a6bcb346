"""fxbench several times, and per row the run with the lowest median.

On a shared or virtual machine a core's speed can change for minutes at a
time (see docs/performance.md: on the development VMs load-heavy code slows
by up to 1.7x while fxbench's register-only FMA peak does not move). One run
then says more about the neighbours than about the code. This runs fxbench
RUNS times with the same arguments and prints, per model and block size, the
run with the lowest median real-time factor next to the worst run's median,
as a Markdown table. Standard library only.

    swift build -c release --product fxbench
    python3 bench/best_of_runs.py                          # 5 runs of all named configurations
    python3 bench/best_of_runs.py --runs 3 -- --model models/la2a.safetensors --blocks 64
    python3 bench/best_of_runs.py --save-json best.json    # then: bench/pytorch_compare.py --json best.json
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_fxbench(binary, arguments):
    result = subprocess.run([binary, "--json"] + arguments, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("error: fxbench failed: " + (result.stderr.strip().splitlines() or ["(no message)"])[0])
    return json.loads(result.stdout)


def rows_of(report):
    for model in report["models"]:
        cells = list(model["streaming"])
        if model.get("offline"):
            cells.append(dict(model["offline"], blockSize="whole"))
        for cell in cells:
            yield (model["name"], cell["blockSize"]), {
                "median": cell["realTimeFactor"]["median"],
                "minimum": cell["realTimeFactor"]["minimum"],
                "cpu": cell["cpuRealTimeFactor"]["median"],
                "percent": 100 * cell["fractionOfPeak"],
                "state": cell["stateBytes"] / 1024,
                "peak": cell["peakGFLOPs"],
            }


def best_report(reports):
    """The first report's layout, every cell taken from the run with its lowest median."""
    merged = json.loads(json.dumps(reports[0]))
    for m, model in enumerate(merged["models"]):
        def cells(report):
            return report["models"][m]["streaming"]
        for c in range(len(model["streaming"])):
            model["streaming"][c] = min((cells(r)[c] for r in reports), key=lambda x: x["realTimeFactor"]["median"])
        if model.get("offline"):
            model["offline"] = min((r["models"][m]["offline"] for r in reports),
                                   key=lambda x: x["realTimeFactor"]["median"])
    merged["machine"]["peakGFLOPs"] = max(r["machine"]["peakGFLOPs"] for r in reports)
    merged["bestOfRuns"] = len(reports)
    return merged


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fxbench runs (default 5)")
    parser.add_argument("--fxbench", default=os.path.join(ROOT, ".build/release/fxbench"),
                        help="the fxbench binary (default: this checkout's release build)")
    parser.add_argument("--save-json", help="also write the best-run rows in fxbench's JSON layout to this new file")
    parser.add_argument("arguments", nargs="*", help="passed to fxbench (after --)")
    options = parser.parse_args()
    if options.runs < 1:
        sys.exit("error: --runs must be at least 1")
    if not os.access(options.fxbench, os.X_OK):
        sys.exit(f"error: {options.fxbench} not found; run: swift build -c release --product fxbench")
    if options.save_json and os.path.exists(options.save_json):
        sys.exit(f"error: {options.save_json} exists; choose a new file")
    arguments = options.arguments or ["--repetitions", "5", "--seconds", "0.5"]

    runs = {}
    peaks = []
    reports = []
    for _ in range(options.runs):
        report = run_fxbench(options.fxbench, arguments)
        reports.append(report)
        peaks.append(report["machine"]["peakGFLOPs"])
        for key, row in rows_of(report):
            runs.setdefault(key, []).append(row)
    if options.save_json:
        with open(options.save_json, "x") as f:
            json.dump(best_report(reports), f, indent=2)

    print(f"{options.runs} runs of fxbench {' '.join(arguments)}; FMA peak per run: "
          + ", ".join(f"{p:.1f}" for p in peaks) + " GFLOP/s")
    print()
    print("| model | block | RTF median (best run) | RTF min | RTF cpu | peak beside it | % of that peak "
          "| RTF median (worst run) | state KiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (name, block), rows in runs.items():
        best = min(rows, key=lambda r: r["median"])
        worst = max(rows, key=lambda r: r["median"])
        print(f"| {name} | {block} | {best['median']:.4f} | {best['minimum']:.4f} | {best['cpu']:.4f} "
              f"| {best['peak']:.1f} | {best['percent']:.1f} | {worst['median']:.4f} | {best['state']:.0f} |")


if __name__ == "__main__":
    main()
