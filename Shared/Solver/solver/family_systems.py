"""Two linear equations in two unknowns."""
import re

import numpy as np
import sympy as sp

from .base import Unsupported
from .curves import graph_spec
from .helpers import math_part, mathy, scrub
from .printing import expr_str, paren, tex, tex_raw, with_approx
from .helpers import with_reading
from .scene import result, scene
from . import checks
from .text import parse_equation


def solve_system(text):
    body = scrub(text, r"\b(solve|the system|system of equations|system of|simultaneous equations|"
                       r"simultaneously|simultaneous|linear system|system|equations|for [a-z] and [a-z]|"
                       r"find [a-z] and [a-z]|[a-z] and [a-z] if|where|given|such that)\b")
    parts = [p for p in re.split(r"\band\b|[;,\n]|\bwith\b", body) if p.strip()]
    parts = [math_part(p, need_eq="=" in p) for p in parts]
    parts = [p for p in parts if "=" in p or mathy(p)]
    eqs = [p for p in parts if "=" in p]
    if len(eqs) != 2 or len(parts) != 2:
        raise Unsupported("Give exactly two equations, e.g. \"2x + y = 7 and x - y = 2\".")
    parsed = [parse_equation(p) for p in eqs]
    syms = set()
    for l, r, _, _ in parsed:
        syms |= l.free_symbols | r.free_symbols
    if len(syms) != 2:
        raise Unsupported("A system needs two unknowns (like x and y); I found %d." % len(syms))
    x, y = sorted(syms, key=str)
    rows = []
    for l, r, _, _ in parsed:
        p = sp.expand(l - r)
        if not p.is_polynomial(x, y) or sp.Poly(p, x, y).total_degree() > 1:
            raise Unsupported("I solve systems of linear equations offline; one of these is not linear.")
        a1 = p.coeff(x)
        b1 = p.coeff(y)
        c1 = -p.subs({x: 0, y: 0})
        if not all(v.is_Rational for v in (a1, b1, c1)):
            raise Unsupported("I couldn't read the coefficients of that system as numbers.")
        rows.append((a1, b1, c1))
    (a1, b1, c1), (a2, b2, c2) = rows
    det = a1 * b2 - a2 * b1
    if det == 0:
        if a1 * c2 - a2 * c1 == 0 and b1 * c2 - b2 * c1 == 0:
            raise Unsupported("Those two equations describe the same line, so there are infinitely many solutions.")
        raise Unsupported("Those two lines are parallel, so the system has no solution.")
    ys_ = (a1 * c2 - a2 * c1) / det
    xs_ = (c1 * b2 - c2 * b1) / det
    title = r"\begin{cases} %s = %s \\ %s = %s \end{cases}" % (
        tex_raw(parsed[0][2]), tex_raw(parsed[0][3]), tex_raw(parsed[1][2]), tex_raw(parsed[1][3]))
    std = [tex(a * x + b * y) + " = " + tex(c) for a, b, c in rows]
    steps = []
    given = [tex(l) + " = " + tex(r) for l, r, _, _ in parsed]
    if std != given:
        steps.append(["Standard form", r"\begin{cases} %s \\ %s \end{cases}" % tuple(std)])
    single = [i for i, (a, b, c) in enumerate(rows) if a == 0 or b == 0]
    if single:  # one equation has one unknown: solve it, substitute into the other
        i = single[0]
        j = 1 - i
        a, b, c = rows[i]
        v1, s1, v2, s2 = (y, ys_, x, xs_) if a == 0 else (x, xs_, y, ys_)
        coef = b if a == 0 else a
        if coef != 1:
            steps.append(["From (%d)" % (i + 1), "%s = %s" % (tex(coef * v1), tex(c))])
        steps.append(["" if coef != 1 else "From (%d)" % (i + 1), "%s = %s" % (tex(v1), tex(s1))])
        a2_, b2_, c2_ = rows[j]
        steps.append(["Substitute into (%d)" % (j + 1),
                      "%s = %s" % (tex(sp.expand((a2_ * x + b2_ * y).subs(v1, s1))), tex(c2_))])
        steps.append(["", "%s = %s" % (tex(v2), tex(s2))])
    else:
        k, m = sp.expand(a2 * b1 - a1 * b2), sp.expand(a2 * c1 - a1 * c2)
        how = (r"Eliminate $%s$: $%s\cdot(1) - %s\cdot(2)$" % (tex(x), paren(a2), paren(a1)))
        steps.append([how, "%s = %s" % (tex(k * y), tex(m))])
        steps.append(["", "%s = %s" % (tex(y), tex(ys_))])
        steps.append(["Substitute back", "%s = %s" % (tex(a1 * x + b1 * ys_), tex(c1))])
        steps.append(["", "%s = %s" % (tex(x), tex(xs_))])
    answer = "%s = %s, %s = %s" % (x, with_approx(xs_), y, with_approx(ys_))
    alatex = r"%s = %s,\quad %s = %s" % (tex(x), tex(xs_), tex(y), tex(ys_))
    fx, fy = float(xs_), float(ys_)
    lo, hi = fx - 5, fx + 5
    curves, legend = [], []
    xs = np.linspace(lo, hi, 41)
    for i, (a, b, c) in enumerate(rows):
        if b != 0:
            curves.append((i, xs, (float(c) - float(a) * xs) / float(b)))
        else:
            xv = float(c / a)
            yy = np.linspace(fy - 60, fy + 60, 41)
            curves.append((i, np.full_like(yy, xv), yy))
        legend.append((i, std[i]))
    g = graph_spec(curves, (lo, hi), (fy - 4, fy + 4), legend=legend,
                   dots=[(fx, fy, "(%s, %s)" % (tex(xs_), tex(ys_)))])
    code = scene(title, steps, alatex, graph=g, check=checks.system(rows, [xs_, ys_]))
    expression = "; ".join("%s = %s" % (expr_str(l), expr_str(r)) for l, r, _, _ in parsed)
    return with_reading(result("system", answer, alatex, code, expression), equations=[l - r for l, r, _, _ in parsed])
