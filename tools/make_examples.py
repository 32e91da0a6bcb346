"""Synthesizes the dry example clips in examples/ (origin: made here, no recordings).

Every clip is 44.1 kHz mono 16-bit FLAC, synthesized from fixed seeds, so the
same numpy and libsndfile give the same bytes:

drums-and-bass.flac: 6 s: a kick/snare/hat groove and a plucked bass line
whose level moves by about 20 dB from bar to bar, so a compressor's action is
easy to see and hear (the module-level `rng`, seed 2026).

guitar-di.flac: 5 s: a clean DI electric guitar: Karplus-Strong strings with a
pick attack, pick- and pickup-position combs and a pickup/cable resonance;
strummed G, C, D and Em chords (down- and softer upstrokes) and then a single
note line in E minor pentatonic with loud and quiet notes. Peaks at -6 dBFS;
made to show an overdrive's drive and tone (own Generator, seed 20261).

bass-di.flac: 5 s: a DI bass line between E1 and D2 (41-73 Hz fundamentals,
and E2 octave pops): soft fingered notes peaking at -12 to -17 dBFS, ghost
notes below them, and thumb slaps and popped notes with fret buzz 10-15 dB
louder (peaks at -1 dBFS), made to show a limiter (own Generator, seed 20262).

vocal.flac: 5 s: vocal-like source-filter synthesis: a Rosenberg glottal pulse
with vibrato, jitter and pitch glides, breath noise, through a cascade of five
time-varying formant resonators moving between vowels; consonant-like noise
bursts (s, sh, t, k, h) and nasal/liquid dips; three sung phrases with pauses
and breaths, the middle one about 14 dB quieter than the first and the last,
made to show vocal leveling by a compressor (own Generator, seed 20263).

Regenerate all four and print each clip's size, peak, DC and RMS per second
(from any folder; they are written to the repository's examples/, or to the
folder given as the only argument):

    pip install numpy soundfile
    python3 tools/make_examples.py [OUTPUT_FOLDER]

drums-and-bass.flac is made first, from the module-level generator, and the
other clips have their own generators, so adding or changing one of them
leaves the others' bytes as they were.
"""
import os
import sys

import numpy as np
import soundfile as sf

RATE = 44100
rng = np.random.default_rng(2026)
OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "examples")


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


def drums_and_bass(folder):
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
    path = os.path.join(folder, "drums-and-bass.flac")
    sf.write(path, out.astype(np.float32), RATE, subtype="PCM_16")
    return path


# ---------------------------------------------------------------------------
# Shared helpers of the newer clips (deterministic, no global random state).

def midi_hz(note):
    return 440.0 * 2 ** ((note - 69) / 12)


def db(x):
    return 10 ** (x / 20)


def iir(b, a, x):
    """Direct-form filter with constant coefficients (a[0] == 1), as scipy's lfilter."""
    b = list(b) + [0.0] * (3 - len(b))
    a = list(a) + [0.0] * (3 - len(a))
    b0, b1, b2 = b[:3]
    a1, a2 = a[1:3]
    out = []
    x1 = x2 = y1 = y2 = 0.0
    for v in x.tolist():
        y = b0 * v + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
        out.append(y)
        x2, x1, y2, y1 = x1, v, y1, y
    return np.array(out)


def resonator(freq, bandwidth, peak_gain=True):
    """Two-pole resonator; unity gain at the peak (or at DC when peak_gain is False)."""
    r = np.exp(-np.pi * bandwidth / RATE)
    w = 2 * np.pi * freq / RATE
    a = [1.0, -2 * r * np.cos(w), r * r]
    if peak_gain:
        g = (1 - r) * np.sqrt(1 - 2 * r * np.cos(2 * w) + r * r)
    else:
        g = 1 + a[1] + a[2]
    return [g], a


def lowpass(freq, q=0.707):
    """RBJ biquad low-pass."""
    w = 2 * np.pi * freq / RATE
    alpha = np.sin(w) / (2 * q)
    c = np.cos(w)
    a0 = 1 + alpha
    return [(1 - c) / 2 / a0, (1 - c) / a0, (1 - c) / 2 / a0], [1.0, -2 * c / a0, (1 - alpha) / a0]


def one_pole(x, coeff):
    """One-pole low-pass y += coeff * (x - y) (coeff 1: no filtering)."""
    return iir([coeff], [1.0, coeff - 1.0], x)


def dc_block(x, corner=10.0):
    r = 1 - 2 * np.pi * corner / RATE
    return iir([1.0, -1.0], [1.0, -r], x)


def karplus_strong(freq, n, excitation, t60, damping):
    """A plucked string: a delay loop of length RATE/freq samples (fractional,
    by linear interpolation) with a 3-tap linear-phase loss filter
    [damping, 1 - 2 damping, damping] (0: bright, 0.25: dark) and a loop gain
    for a decay of 60 dB in t60 seconds at low frequencies. `excitation` is
    fed in from the first sample."""
    loop = RATE / freq
    m = int(np.floor(loop - 1))
    f = loop - 1 - m
    c = damping
    taps = np.array([(1 - f) * c, (1 - f) * (1 - 2 * c) + f * c, (1 - f) * c + f * (1 - 2 * c), f * c])
    gain = 10 ** (-3 / (t60 * freq))
    taps *= gain
    pad = m + 3
    y = np.zeros(pad + n)
    x = np.zeros(n)
    k = min(n, len(excitation))
    x[:k] = excitation[:k]
    for s in range(0, n, m):
        e = min(n, s + m)
        i, j = pad + s, pad + e
        y[i:j] = x[s:e] + (taps[0] * y[i - m:j - m] + taps[1] * y[i - m - 1:j - m - 1]
                           + taps[2] * y[i - m - 2:j - m - 2] + taps[3] * y[i - m - 3:j - m - 3])
    return y[pad:]


def comb(x, delay, amount):
    """x[n] - amount * x[n - delay]: the notches of a pluck or pickup position."""
    delay = max(1, int(round(delay)))
    out = x.copy()
    out[delay:] -= amount * x[:-delay]
    return out


def place(out, start_seconds, sound):
    start = int(round(start_seconds * RATE))
    end = min(len(out), start + len(sound))
    if end > start:
        out[start:end] += sound[:end - start]


def finish(x, peak_dbfs):
    x = dc_block(x)
    fade = int(0.01 * RATE)
    x[-fade:] *= np.linspace(1, 0, fade)
    return x * db(peak_dbfs) / np.max(np.abs(x))


def write(folder, name, x):
    path = os.path.join(folder, name)
    sf.write(path, x.astype(np.float32), RATE, subtype="PCM_16")
    return path


# ---------------------------------------------------------------------------
# guitar-di.flac

def guitar_note(gen, note, velocity, length, damp_after=None):
    """One string of a clean electric guitar, velocity 0..1, `length` seconds
    in all; muted by the fretting hand `damp_after` seconds in."""
    freq = midi_hz(note)
    n = int(length * RATE)
    period = RATE / freq
    # Pick excitation: noise darkened for soft picking, with the notches of a
    # pick about 1/7 of the string from the bridge.
    noise = gen.uniform(-1, 1, int(period) + 1)
    noise = one_pole(noise, 0.25 + 0.6 * velocity)
    noise = comb(noise - noise.mean(), period * gen.uniform(0.12, 0.17), 0.9)
    noise /= np.max(np.abs(noise)) + 1e-12
    t60 = float(np.interp(note, [40, 76], [5.0, 2.5]))
    string = karplus_strong(freq, n, noise, t60, 0.14 - 0.06 * velocity)
    # Bridge-pickup position comb.
    string = comb(string, period * 0.11, 0.6)
    string /= np.max(np.abs(string[:int(0.05 * RATE)])) + 1e-12
    # The pick's scrape: a few milliseconds of bright noise.
    k = int(0.004 * RATE)
    click = np.diff(gen.standard_normal(k + 1)) * np.exp(-np.arange(k) / (0.0008 * RATE))
    string[:k] += 0.12 * velocity * click
    if damp_after is not None and damp_after < length:
        d = int(damp_after * RATE)
        string[d:] *= np.exp(-np.arange(n - d) / (0.025 * RATE))
    return velocity * string


def strum(gen, out, start, notes, velocity, down, until):
    """Strums `notes` (low to high, None for an unplayed string), muted at `until`."""
    played = [m for m in notes if m is not None]
    if not down:
        played = played[::-1][:4]
    spread = 0.009 + 0.012 * (1 - velocity)
    for i, note in enumerate(played):
        onset = start + i * spread * gen.uniform(0.8, 1.2)
        v = velocity * gen.uniform(0.8, 1.0) * (0.8 if not down else 1.0)
        length = until - onset + 0.2
        place(out, onset, guitar_note(gen, note, v, length, damp_after=until - onset))


def guitar_di(folder):
    gen = np.random.default_rng(20261)
    seconds = 5.0
    out = np.zeros(int(seconds * RATE))
    # Standard tuning E2 A2 D3 G3 B3 E4 is 40 45 50 55 59 64.
    chords = {
        "G": [43, 47, 50, 55, 59, 67],
        "C": [None, 48, 52, 55, 60, 64],
        "D": [None, None, 50, 57, 62, 66],
        "Em": [40, 47, 52, 55, 59, 64],
    }
    # (time, chord, velocity, downstroke)
    strums = [(0.05, "G", 1.0, True), (0.45, "G", 0.4, False), (0.65, "G", 0.7, True),
              (0.95, "C", 0.9, True), (1.35, "C", 0.35, False), (1.55, "C", 0.6, True),
              (1.85, "D", 0.85, True), (2.25, "D", 0.4, False), (2.45, "Em", 1.0, True)]
    ends = [s[0] for s in strums[1:]] + [3.1]
    for (start, chord, velocity, down), until in zip(strums, ends):
        strum(gen, out, start, chords[chord], velocity, down, until - 0.01)
    # Single-note line, E minor pentatonic; single notes sit a little below the chords.
    line = [(3.10, 64, 0.8), (3.30, 67, 0.45), (3.50, 69, 0.6), (3.70, 71, 1.0),
            (3.90, 69, 0.35), (4.05, 67, 0.5), (4.25, 64, 0.85)]
    for i, (start, note, velocity) in enumerate(line):
        until = line[i + 1][0] if i + 1 < len(line) else seconds
        v = 2.3 * velocity
        place(out, start, guitar_note(gen, note, v, until - start + 0.15, damp_after=until - start))
    # Pickup resonance with the cable's capacitance, then a gentle roll-off.
    b, a = lowpass(4200, q=1.4)
    out = iir(b, a, out)
    return write(folder, "guitar-di.flac", finish(out, -6))


# ---------------------------------------------------------------------------
# bass-di.flac

def bass_note(gen, note, velocity, length, style):
    """One bass note: style 'finger', 'ghost' (muted), 'slap' (thumb) or 'pop';
    its peak is `velocity`."""
    freq = midi_hz(note)
    n = int((length + 0.08) * RATE)
    period = RATE / freq
    bright = {"finger": 0.05, "ghost": 0.08, "slap": 0.5, "pop": 0.7}[style]
    noise = gen.uniform(-1, 1, int(period) + 1)
    noise = one_pole(noise, bright)
    position = {"finger": 0.25, "ghost": 0.25, "slap": 0.1, "pop": 0.08}[style]
    noise = comb(noise - noise.mean(), period * position, 0.9)
    noise /= np.max(np.abs(noise)) + 1e-12
    damping = {"finger": 0.22, "ghost": 0.24, "slap": 0.1, "pop": 0.07}[style]
    string = karplus_strong(freq, n, noise, 4.5, damping)
    string /= np.max(np.abs(string[:int(0.06 * RATE)])) + 1e-12
    if style in ("slap", "pop"):
        # The string hits the frets: an asymmetric clip of the first tens of
        # milliseconds, and a bright click.
        k = int(0.04 * RATE)
        head = string[:k]
        buzz = np.where(head > 0.55, 0.55 + 0.3 * (head - 0.55), head)
        fade = np.linspace(1, 0, k)
        string[:k] = fade * buzz + (1 - fade) * head
        c = int(0.006 * RATE)
        click = np.diff(gen.standard_normal(c + 1)) * np.exp(-np.arange(c) / (0.001 * RATE))
        string[:c] += 0.35 * click
    # A passive bass's pickups and cable: a soft roll-off above a few kHz.
    b, a = lowpass(3500, q=0.9)
    string = iir(b, a, string)
    string /= np.max(np.abs(string[:int(0.06 * RATE)])) + 1e-12
    if style == "ghost":
        string *= np.exp(-np.arange(n) / (0.012 * RATE))
    else:
        d = int(length * RATE)
        string[d:] *= np.exp(-np.arange(n - d) / (0.01 * RATE))
    return velocity * string


def bass_di(folder):
    gen = np.random.default_rng(20262)
    seconds = 5.0
    six = 60 / 100 / 4  # sixteenths at 100 BPM
    out = np.zeros(int(seconds * RATE))
    E1, G1, A1, B1, D2, E2 = 28, 31, 33, 35, 38, 40
    # (sixteenth, length in sixteenths, note, style, velocity)
    events = [
        (0, 2, E1, "slap", 1.0), (2, 1, E1, "finger", 0.22), (3, 1, E1, "ghost", 0.14),
        (4, 2, E2, "pop", 1.0), (6, 1, G1, "finger", 0.2), (7, 1, A1, "finger", 0.24),
        (8, 3, A1, "finger", 0.27), (11, 1, A1, "ghost", 0.12), (12, 2, B1, "finger", 0.2),
        (14, 2, D2, "finger", 0.25),
        (16, 2, E1, "slap", 0.9), (18, 1, E1, "ghost", 0.13), (19, 1, E1, "finger", 0.21),
        (20, 2, G1, "finger", 0.22), (22, 2, A1, "finger", 0.26), (24, 2, D2, "pop", 0.85),
        (26, 1, B1, "finger", 0.2), (27, 1, A1, "ghost", 0.12), (28, 1, E2, "pop", 0.95),
        (29, 4, E1, "slap", 0.8),
    ]
    for start, length, note, style, velocity in events:
        t = start * six
        dur = min(length * six, seconds - t)
        place(out, t, bass_note(gen, note, velocity, dur, style))
    return write(folder, "bass-di.flac", finish(out, -1))


# ---------------------------------------------------------------------------
# vocal.flac

# Formants F1-F3 in Hz (adult male averages) and the voicing level (dB) of a
# few vowels and voiced consonants.
VOWELS = {
    "a": (730, 1090, 2440, 0), "e": (530, 1840, 2480, 0), "i": (270, 2290, 3010, -2),
    "o": (570, 840, 2410, 0), "u": (300, 870, 2240, -3),
    "m": (250, 1100, 2200, -14), "n": (250, 1500, 2500, -14), "l": (360, 1300, 2700, -8),
}
# Unvoiced consonants: (centre Hz, bandwidth Hz, seconds, RMS in dB re. the
# vowel's); h is breath noise through the vowel's formants.
FRICATIVES = {"s": (6500, 3000, 0.11, -12), "sh": (3000, 1600, 0.12, -12),
              "t": (4200, 3000, 0.018, -8), "k": (2000, 1500, 0.025, -8), "h": (None, None, 0.09, -16)}


def formant_cascade(x, f1, f2, f3, bandwidths=(80, 90, 120), fixed=((3400, 200), (4300, 250))):
    """Cascade of two-pole resonators with unity DC gain; F1-F3 change every sample."""
    coeffs = []
    for track, bw in zip((f1, f2, f3), bandwidths):
        r = np.exp(-np.pi * bw / RATE)
        a1 = (-2 * r * np.cos(2 * np.pi * track / RATE)).tolist()
        coeffs.append((a1, r * r))
    y = x
    for freq, bw in fixed:
        b, a = resonator(freq, bw, peak_gain=False)
        y = iir(b, a, y)
    for a1s, a2 in coeffs:
        out = []
        y1 = y2 = 0.0
        for v, a1 in zip(y.tolist(), a1s):
            o = (1 + a1 + a2) * v - a1 * y1 - a2 * y2
            out.append(o)
            y2, y1 = y1, o
        y = np.array(out)
    return y


def rosenberg(phase, opening=0.38, closing=0.16):
    """Glottal flow and its derivative (per unit phase) over one period."""
    flow = np.zeros_like(phase)
    slope = np.zeros_like(phase)
    o = phase < opening
    flow[o] = 0.5 * (1 - np.cos(np.pi * phase[o] / opening))
    slope[o] = 0.5 * np.pi / opening * np.sin(np.pi * phase[o] / opening)
    c = (phase >= opening) & (phase < opening + closing)
    u = (phase[c] - opening) / closing
    flow[c] = np.cos(0.5 * np.pi * u)
    slope[c] = -0.5 * np.pi / closing * np.sin(0.5 * np.pi * u)
    return flow, slope


def wander(gen, n, seconds):
    """Slowly wandering noise, unit standard deviation, changing over `seconds`."""
    x = smooth(gen.standard_normal(n), seconds)
    return x / np.std(x)


def smooth(x, seconds):
    """Centred triangular moving average about `seconds` wide (two box filters)."""
    k = max(1, int(seconds * RATE / 2))
    for _ in range(2):
        padded = np.concatenate([np.full(k, x[0]), x, np.full(k, x[-1])])
        sums = np.cumsum(np.concatenate([[0.0], padded]))
        box = (sums[k:] - sums[:-k]) / k
        start = k - (k - 1) // 2
        x = box[start:start + len(x)]
    return x


def vocal(folder):
    gen = np.random.default_rng(20263)
    seconds = 5.0
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    # Phrases: (level dB, syllables); a syllable is (start s, length s,
    # consonant or None, vowel at the start, vowel at the end, MIDI note at
    # the start, at the end, dB).
    phrases = [
        (0.0, [(0.12, 0.27, "s", "a", "a", 57, 57, 0), (0.40, 0.23, "l", "e", "e", 59, 59, -1),
               (0.64, 0.29, "t", "i", "i", 60, 62, 0), (0.95, 0.52, "m", "o", "a", 62, 57, 1)]),
        (-13.0, [(1.80, 0.24, "h", "a", "a", 55, 55, 0), (2.06, 0.22, "k", "u", "u", 57, 57, -1),
                 (2.30, 0.21, "n", "e", "i", 59, 59, -1), (2.53, 0.46, "s", "a", "o", 57, 55, 0)]),
        (-1.0, [(3.30, 0.24, "t", "a", "a", 62, 62, 0), (3.56, 0.23, "l", "e", "e", 64, 64, -1),
                (3.81, 1.04, "sh", "a", "o", 62, 64, 1)]),
    ]
    # Breaths between the phrases: (start s, length s, RMS dB).
    breaths = [(1.52, 0.2, -32.0), (3.04, 0.2, -30.0)]

    pitch_keys, formant_keys = [], []
    voice = np.zeros(n)
    vibrato_depth = np.zeros(n)
    aspiration = np.zeros(n)
    fricative = np.zeros(n)
    # (first sample, end sample, RMS): the output is scaled to these levels
    # region by region, since the formant filters' gain depends on the vowel.
    regions = []
    for phrase_db, syllables in phrases:
        for start, length, consonant, v0, v1, m0, m1, syl_db in syllables:
            level = db(phrase_db + syl_db)
            voiced_consonant = consonant in ("m", "n", "l")
            c_len = 0.0
            if consonant in FRICATIVES:
                centre, bw, c_len, c_db = FRICATIVES[consonant]
                k = int(c_len * RATE)
                i = int(start * RATE)
                burst = gen.standard_normal(k)
                shape = np.sin(np.pi * np.linspace(0, 1, k)) ** (0.5 if c_len > 0.05 else 2)
                if consonant in ("t", "k"):
                    shape = np.exp(-np.arange(k) / (0.3 * k))
                if centre is None:
                    aspiration[i:i + k] += shape
                    regions.append((i, i + k, level * db(c_db)))
                    formant_keys.append((start, VOWELS[v0][:3]))
                else:
                    b, a = resonator(centre, bw)
                    burst = iir(b, a, np.diff(burst, prepend=0.0))
                    burst /= np.sqrt(np.mean(burst ** 2)) + 1e-12
                    fricative[i:i + k] += level * db(c_db) * shape * burst
            v_start = start + c_len
            v_end = start + length
            v_len = v_end - v_start
            i0, i1 = int(v_start * RATE), int(v_end * RATE)
            env = np.ones(i1 - i0)
            att, rel = int(0.03 * RATE), int(0.06 * RATE)
            env[:att] = np.sin(0.5 * np.pi * np.linspace(0, 1, att)) ** 2
            env[-rel:] *= np.cos(0.5 * np.pi * np.linspace(0, 1, rel)) ** 2
            # A slight swell through the syllable.
            env *= np.linspace(0.9, 1.05, i1 - i0)
            if voiced_consonant:
                d = int(0.06 * RATE)
                env[:d] *= np.linspace(db(VOWELS[consonant][3]), 1, d)
                formant_keys.append((v_start, VOWELS[consonant][:3]))
                formant_keys.append((v_start + 0.05, VOWELS[consonant][:3]))
            voice[i0:i1] = np.maximum(voice[i0:i1], env)
            regions.append((i0, i1, level))
            formant_keys.append((v_start + (0.09 if voiced_consonant else 0.02), VOWELS[v0][:3]))
            formant_keys.append((v_start + 0.35 * v_len, VOWELS[v0][:3]))
            formant_keys.append((v_start + 0.8 * v_len, VOWELS[v1][:3]))
            pitch_keys.append((v_start, m0 - 0.4))  # scoop into the note
            pitch_keys.append((v_start + 0.05, m0))
            pitch_keys.append((v_start + 0.3 * v_len, m0))
            pitch_keys.append((v_start + 0.6 * v_len, m1))
            vib_on = v_start + 0.18
            if v_end > vib_on:
                j0 = int(vib_on * RATE)
                ramp = np.clip((t[j0:i1] - vib_on) / 0.3, 0, 1)
                vibrato_depth[j0:i1] = 0.45 * ramp
    for start, length, b_db in breaths:
        k = int(length * RATE)
        i = int(start * RATE)
        aspiration[i:i + k] += np.sin(np.pi * np.linspace(0, 1, k)) ** 2
        regions.append((i, i + k, db(b_db)))
        formant_keys.append((start + 0.5 * length, (600, 1200, 2500)))

    pk = np.array(pitch_keys)
    midi = smooth(np.interp(t, pk[:, 0], pk[:, 1]), 0.05)
    rate = 5.4 + 0.25 * wander(gen, n, 0.4)
    vibrato = vibrato_depth * np.sin(2 * np.pi * np.cumsum(rate) / RATE)
    jitter = 0.06 * wander(gen, n, 0.05)
    f0 = midi_hz(midi + vibrato + jitter)
    phase = np.cumsum(f0 / RATE) % 1.0
    flow, slope = rosenberg(phase)
    shimmer = 1 + 0.04 * wander(gen, n, 0.03)
    voice_smooth = smooth(voice, 0.01)
    source = slope * f0 / 220 * voice_smooth * shimmer
    # Breathiness: noise that rises with the glottal flow, always a little.
    breath = dc_block(np.diff(gen.standard_normal(n + 1)), 300)
    source += 0.5 * breath * (voice_smooth * (0.15 + 0.6 * flow) + aspiration)
    fk = sorted(formant_keys)
    times = np.array([k[0] for k in fk])
    tracks = [smooth(np.interp(t, times, np.array([k[1][j] for k in fk], float)), 0.03) for j in range(3)]
    out = formant_cascade(source, *tracks)
    # The cascade falls steeply above F5; some of the source through a wide
    # high resonance puts back some air.
    b, a = resonator(5000, 6000)
    out += 0.6 * iir(b, a, source)
    # Each region at its level, the gain changing in the gaps between them.
    gain = np.zeros(n)
    for i0, i1, rms in sorted(regions):
        gain[i0:] = rms / (np.sqrt(np.mean(out[i0:i1] ** 2)) + 1e-12)
    gain[:sorted(regions)[0][0]] = gain[sorted(regions)[0][0]]
    out = out * smooth(gain, 0.01) + fricative
    return write(folder, "vocal.flac", finish(out, -3))


# ---------------------------------------------------------------------------

def report(path):
    x, rate = sf.read(path, dtype="float64")
    size = os.path.getsize(path)
    peak = np.max(np.abs(x))
    full_scale = int(np.sum(np.abs(x) >= 32767 / 32768))
    per_second = [x[i:i + rate] for i in range(0, len(x), rate)]
    rms = " ".join(f"{20 * np.log10(np.sqrt(np.mean(s ** 2)) + 1e-12):6.1f}" for s in per_second)
    print(f"{os.path.relpath(path)}: {len(x) / rate:.2f} s, {size / 1000:.1f} kB, "
          f"peak {20 * np.log10(peak):.1f} dBFS, full-scale samples {full_scale}, DC {np.mean(x):+.1e}")
    print(f"    RMS per second (dBFS): {rms}")


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else OUTPUT
    os.makedirs(folder, exist_ok=True)
    for make in (drums_and_bass, guitar_di, bass_di, vocal):
        report(make(folder))


if __name__ == "__main__":
    main()
