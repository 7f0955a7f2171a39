"""Plotting y = f(x), with intercepts and asymptotes."""
import math
import re

import numpy as np
import sympy as sp

from .base import Unsupported
from .curves import curve_data, finite_extent, graph_spec, y_window
from .helpers import find_bounds, finite_real, math_part, one_var, scrub
from .printing import expr_str, plain, tex, tex_raw, with_approx
from .helpers import with_reading
from .scene import result, scene
from . import checks
from .text import parse, parse_const


def solve_plot(text):
    text = re.sub(r"\bfor [a-z] (?=in|from|between)", " ", text)
    rng = find_bounds(text)
    rest = text
    lo = hi = None
    if rng:
        lo, hi = float(parse_const(rng.lo)), float(parse_const(rng.hi))
        if not (math.isfinite(lo) and math.isfinite(hi)) or hi - lo <= 0 or hi - lo > 1000:
            raise Unsupported("Give a plotting range like \"from -3 to 3\".")
        rest = text[:rng.start] + " " + text[rng.end:]
    body = scrub(rest, r"\b(plot|graph|sketch|draw|of|function|a function|the function|curve|the curve|"
                       r"for|on|over|interval|x in|please|line)\b", r"\b[a-z]\([a-z]\)\s*=", r"^\s*y\s*=")
    body = math_part(re.sub(r"^\s*y\s*=", " ", body))
    if "=" in body:
        raise Unsupported("I can plot functions written as y = f(x), e.g. \"plot y = x^2 - 4\".")
    f, ft = parse(body, "function")
    x = one_var([f])
    X = tex(x)
    if lo is None:
        lo, hi = -5.0, 5.0
        if f.has(sp.sin, sp.cos, sp.tan):
            lo, hi = -2 * math.pi, 2 * math.pi
        elif f.is_polynomial(x) and sp.degree(f, x) >= 1:
            cs = [float(c) for c in sp.Poly(f, x).all_coeffs()]
            pts = [r.real for r in np.roots(cs) if abs(r.imag) < 1e-9] if len(cs) > 1 else []
            if len(cs) > 2:
                pts += [r.real for r in np.roots(np.polyder(cs)) if abs(r.imag) < 1e-9]
            if pts:
                lo, hi = min(min(pts) - 2, -1.0), max(max(pts) + 2, 1.0)
                if hi - lo < 8:
                    mid = (hi + lo) / 2
                    lo, hi = mid - 4, mid + 4
        xs, ys = curve_data(f, x, lo, hi, n=241)
        a, b = finite_extent(xs, ys)
        if a > lo + 0.5 or b < hi - 0.5:
            lo, hi = (max(a, lo), max(b, 5.0)) if a >= 0 else (lo, hi)
    xs, ys = curve_data(f, x, lo, hi, n=241)
    finite_extent(xs, ys)
    notes = []
    steps = []
    dots = []
    rts = []
    if f.is_polynomial(x) and 1 <= sp.degree(f, x) <= 2 and all(c.is_Rational for c in sp.Poly(f, x).all_coeffs()):
        p = sp.Poly(f, x)
        cs = p.all_coeffs()
        if len(cs) == 3:
            a2, b2, c2 = cs
            disc = b2 ** 2 - 4 * a2 * c2
            rts = [] if disc < 0 else sorted({sp.expand((-b2 - sp.sqrt(disc)) / (2 * a2)),
                                               sp.expand((-b2 + sp.sqrt(disc)) / (2 * a2))}, key=float)
            vx = -b2 / (2 * a2)
            steps.append(["Vertex", r"\left(%s,\ %s\right)" % (tex(vx), tex(f.subs(x, vx)))])
        else:
            rts = [-cs[1] / cs[0]]
        if rts:
            notes.append("x-intercepts: " + ", ".join(with_approx(r) for r in rts))
            steps.append(["$%s$-intercepts" % X, r",\ ".join(tex(r) for r in rts)])
            dots += [(float(r), 0.0, "") for r in rts]
    try:
        y0 = f.subs(x, 0)
    except Exception:
        y0 = sp.nan
    if finite_real(y0) and lo <= 0 <= hi:
        notes.append("y-intercept: " + with_approx(y0))
        steps.append(["$y$-intercept", r"\left(0,\ %s\right)" % tex(y0)])
        dots.append((0.0, float(y0), ""))
    num, den = sp.fraction(sp.together(f))
    if den.has(x) and den.is_polynomial(x) and sp.degree(den, x) <= 2:
        poles = [r for r in sp.roots(sp.Poly(den, x)).keys() if r.is_real and num.subs(x, r) != 0]
        if poles:
            steps.append(["Vertical asymptote", r",\ ".join("%s = %s" % (X, tex(r)) for r in sorted(poles, key=float))])
    yr = y_window([ys], include=[0.0] + ([float(y0)] if finite_real(y0) else []))
    g = graph_spec([(0, xs, ys)], (lo, hi), yr, legend=[(0, "y = " + tex(f))], dots=dots)
    title = r"y = %s" % tex_raw(ft)
    alatex = r"y = %s" % tex(f)
    answer = "; ".join(["y = " + plain(f)] + notes)
    code = scene(title, steps, alatex, graph=g, check=checks.substitute(x, rts, f, sp.Integer(0)) if rts else [])
    return with_reading(result("plot", answer, alatex, code, expr_str(f)), f=f)
