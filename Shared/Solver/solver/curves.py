"""Sampling functions with numpy into the graph data the scene template draws."""
import math

import numpy as np
import sympy as sp

from .base import Unsupported


def nice_step(span, target=8):
    raw = max(span, 1e-9) / target
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * mag >= raw:
            return m * mag
    return 10 * mag


def axis_range(lo, hi, target=8):
    """[lo, hi, step] on tick multiples, always containing 0 (the axes cross there)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    step = nice_step(hi - lo, target)
    lo = math.floor(lo / step - 1e-9) * step
    hi = math.ceil(hi / step + 1e-9) * step
    out = [round(lo, 6), round(hi, 6), round(step, 6)]
    return [int(v) if float(v).is_integer() else v for v in out]


def evaluate(e, var, xs):
    f = sp.lambdify(var, e, modules="numpy")
    with np.errstate(all="ignore"):
        ys = f(xs)
        ys = np.array(np.broadcast_to(np.asarray(ys), xs.shape))
        if np.iscomplexobj(ys):
            ys = np.where(np.abs(ys.imag) < 1e-9, ys.real, np.nan)
        ys = np.asarray(ys, dtype=float)
    ys[~np.isfinite(ys)] = np.nan
    return ys


def y_window(arrays, include=(), pad=0.15):
    vals = np.concatenate([a[np.isfinite(a)] for a in arrays] + [np.array(list(include), float)])
    if vals.size == 0:
        return -5.0, 5.0
    lo, hi = np.percentile(vals, 5), np.percentile(vals, 95)
    full_lo, full_hi = vals.min(), vals.max()
    # keep the full range unless a few points run off (poles like 1/x, tan x)
    if full_hi - full_lo <= 3 * max(hi - lo, 1e-9):
        lo, hi = full_lo, full_hi
    else:
        lo, hi = np.percentile(vals, 10), np.percentile(vals, 90)
        lo, hi = lo - 0.4 * (hi - lo), hi + 0.4 * (hi - lo)
    for v in include:
        lo, hi = min(lo, v), max(hi, v)
    span = max(hi - lo, 1.0)
    return float(lo - pad * span), float(hi + pad * span)


def segments(xs, ys, ylo, yhi):
    """Split a sampled curve where it leaves the window or jumps (a pole); clip at the edges."""
    span = yhi - ylo
    segs, cur = [], []
    px = py = None
    for x, y in zip(xs, ys):
        x, y = float(x), float(y)
        ok = math.isfinite(y)
        inside = ok and ylo <= y <= yhi
        pok = py is not None and math.isfinite(py)
        if inside:
            if cur and abs(y - cur[-1][1]) > 0.5 * span:
                segs.append(cur)
                cur = []
            if not cur and pok and not (ylo <= py <= yhi) and abs(py - y) < 1.5 * span:
                edge = yhi if py > yhi else ylo
                t = (edge - y) / (py - y)
                cur.append((x + (px - x) * t, edge))
            cur.append((x, y))
        elif cur:
            lx, ly = cur[-1]
            if ok and abs(y - ly) < 1.5 * span:
                edge = yhi if y > yhi else ylo
                t = (edge - ly) / (y - ly)
                cur.append((lx + (x - lx) * t, edge))
            segs.append(cur)
            cur = []
        px, py = x, y
    if cur:
        segs.append(cur)
    return [[[round(p[0], 4) for p in s], [round(p[1], 4) for p in s]] for s in segs if len(s) >= 2]


def curve_data(e, var, lo, hi, n=161):
    xs = np.linspace(lo, hi, n)
    return xs, evaluate(e, var, xs)


def finite_extent(xs, ys):
    ok = np.where(np.isfinite(ys))[0]
    if ok.size < 2:
        raise Unsupported("That function has no real values I can draw.")
    return xs[ok[0]], xs[ok[-1]]


def graph_spec(curves, xr, yr, legend=(), dots=(), area=None, hole=None, hline=None):
    """curves: [(color, xs, ys)] raw samples; everything else in graph coordinates."""
    xrng = axis_range(*xr)
    yrng = axis_range(*yr, target=6)
    out = []
    for color, xs, ys in curves:
        for sx, sy in segments(xs, ys, yrng[0], yrng[1]):
            out.append([color, sx, sy])
    if not out:
        raise Unsupported("That function has no real values I can draw.")
    spec = {"x": xrng, "y": yrng, "curves": out, "legend": [[c, t] for c, t in legend],
            "dots": [[round(float(a), 4), round(float(b), 4), t] for a, b, t in dots
                     if yrng[0] <= b <= yrng[1] and xrng[0] <= a <= xrng[1]]}
    if area is not None:
        axs, ays = area
        ays = np.clip(np.nan_to_num(ays, nan=0.0), yrng[0], yrng[1])
        spec["area"] = [[round(float(v), 4) for v in axs], [round(float(v), 4) for v in ays]]
    if hole is not None and yrng[0] <= hole[1] <= yrng[1]:
        spec["hole"] = [round(float(hole[0]), 4), round(float(hole[1]), 4)]
    if hline is not None and yrng[0] <= hline <= yrng[1]:
        spec["hline"] = round(float(hline), 4)
    return spec
