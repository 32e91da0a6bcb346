"""Synthesizes the dry example clips in examples/ (origin: made here, no recordings).

drums-and-bass.flac: 6 s, 44.1 kHz mono: a kick/snare/hat groove and a plucked
bass line whose level moves by about 20 dB from bar to bar, so a compressor's
action is easy to see and hear.

    pip install numpy soundfile
    python3 tools/make_examples.py
"""
import numpy as np
import soundfile as sf

RATE = 44100
rng = np.random.default_rng(2026)


def kick(n):
    t = np.arange(n) / RATE
    freq = 45 + 90 * np.exp(-t * 30)
    return np.sin(2 * np.pi * np.cumsum(freq) / RATE) * np.exp(-t * 9)


def snare(n):
    t = np.arange(n) / RATE
    body = np.sin(2 * np.pi * 190 * t) * np.exp(-t * 25)
    return 0.6 * body + 0.7 * rng.standard_normal(n) * np.exp(-t * 18)


def hat(n):
    t = np.arange(n) / RATE
    noise = np.diff(rng.standard_normal(n + 1))
    return 0.25 * noise * np.exp(-t * 60)


def pluck(freq, n):
    period = int(RATE / freq)
    buf = rng.uniform(-1, 1, period)
    out = np.empty(n)
    for i in range(n):
        out[i] = buf[i % period]
        buf[i % period] = 0.996 * 0.5 * (buf[i % period] + buf[(i + 1) % period])
    return out


def main():
    seconds, bpm = 6, 110
    total = seconds * RATE
    beat = int(RATE * 60 / bpm)
    out = np.zeros(total + RATE)
    notes = [41.2, 41.2, 49.0, 55.0, 41.2, 61.7, 55.0, 49.0]
    for b in range(int(total / beat) * 2):
        start = b * beat // 2
        bar_level = 10 ** ((-14 + 10 * np.sin(b / 3.0)) / 20)
        if b % 4 == 0:
            out[start:start + RATE // 2] += bar_level * kick(RATE // 2)
        if b % 4 == 2:
            out[start:start + RATE // 3] += 0.8 * bar_level * snare(RATE // 3)
        out[start:start + RATE // 8] += 0.5 * bar_level * hat(RATE // 8)
        if b % 2 == 0:
            n = beat
            out[start:start + n] += 0.7 * bar_level * pluck(notes[(b // 2) % len(notes)], n)
    out = out[:total]
    out *= 10 ** (-3 / 20) / np.max(np.abs(out))
    sf.write("examples/drums-and-bass.flac", out.astype(np.float32), RATE, subtype="PCM_16")


if __name__ == "__main__":
    main()
