"""Fits the rational tanh approximation used by Sources/NeuralFXCore/NAM/FastTanh.swift.

tanh(x) ~ x * P(x^2) / Q(x^2), P and Q of degree 4 in x^2, Q(0) = 1, on [0, 9]
(|x| > 9 is clamped). Iteratively reweighted linear least squares: the
linearized residual x P - t Q is weighted by 1/|Q| (Sanathanan-Koerner) and by
the current error (Lawson) to approach the minimax fit. Prints the
coefficients and the float32 error over [-12, 12].
"""
import numpy as np

X = 9.0
NP, NQ = 5, 5


def fit():
    x = np.linspace(0, X, 40001)
    s, t = x * x, np.tanh(x)
    w, best = np.ones_like(x), None
    for it in range(80):
        a = np.stack([x * s**k for k in range(NP)] + [-t * s**k for k in range(1, NQ)], 1)
        c, *_ = np.linalg.lstsq(a * w[:, None], t * w, rcond=None)
        p, q = c[:NP], np.concatenate([[1], c[NP:]])
        qs = np.polyval(q[::-1], s)
        err = x * np.polyval(p[::-1], s) / qs - t
        m = np.abs(err).max()
        if best is None or m < best[0]:
            best = (m, p.copy(), q.copy())
        w = 1 / np.abs(qs)
        if it > 5:
            w = w * np.sqrt(np.abs(err) / m + 1e-2)
    return best


def float32_error(p, q):
    x = np.linspace(-12, 12, 2000001).astype(np.float32)
    xc = np.clip(x, -X, X)
    s = xc * xc
    num = np.zeros_like(s)
    for v in p[::-1]:
        num = num * s + np.float32(v)
    den = np.zeros_like(s)
    for v in q[::-1]:
        den = den * s + np.float32(v)
    y = xc * num / den
    return np.abs(y.astype(np.float64) - np.tanh(x.astype(np.float64))).max()


if __name__ == "__main__":
    m, p, q = fit()
    print("p =", [float(v) for v in p])
    print("q =", [float(v) for v in q])
    print("max abs error: double %.3g, float32 %.3g" % (m, float32_error(p, q)))
