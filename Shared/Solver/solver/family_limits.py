"""Limits, two- and one-sided, at a point or at infinity."""
import re

import numpy as np
import sympy as sp

from .base import Timeout, Unsupported
from .curves import curve_data, graph_spec, y_window
from .helpers import finite_real, math_part, scrub
from .printing import expr_str, plain, tex, tex_approx, tex_raw, with_approx
from .helpers import with_reading
from .scene import result, scene
from . import checks
from .text import parse, parse_const


def solve_limit(text):
    pats = [r"\blim(?:it)?\s*_?\s*\(?\{?\s*([a-z])\s*->\s*([^\s}),]+?)\s*\}?\)?(?=\s|$|\()",
            r"\bas\s+([a-z])\s*(?:->|approaches|goes to|tends to|tends towards|heads to|gets close to)\s*(\S+)",
            r"\b([a-z])\s*(?:->|approaches|goes to|tends to)\s*(\S+)",
            r"\b(?:at|when|where)\s+([a-z])\s*=\s*(\S+)"]
    m = None
    for p in pats:
        m = re.search(p, text)
        if m:
            break
    if not m:
        raise Unsupported("Say where the variable goes, e.g. \"limit of sin(x)/x as x approaches 0\" or "
                          "\"lim x->oo (1+1/x)^x\".")
    x = sp.Symbol(m.group(1))
    point_s = m.group(2).strip(",;")
    direction = None
    if re.search(r"from the (left|below)|\bleft\b", text):
        direction = "-"
    elif re.search(r"from the (right|above)|\bright\b", text):
        direction = "+"
    pm = re.match(r"^(.*\d|.*oo|.*pi|.*e)([+-])$", point_s)
    if pm and pm.group(1):
        point_s, direction = pm.group(1), pm.group(2)
    rest = text[:m.start()] + " " + text[m.end():]
    body = scrub(rest, r"\blim(?:it)?\b", r"\b(of|from the left|from the right|from below|from above|"
                       r"one-sided|left|right|sided|as|function)\b")
    body = math_part(body)
    a = parse_const(point_s)
    f, ft = parse(body, "function")
    if f.free_symbols - {x}:
        raise Unsupported("The function has letters other than %s." % x)
    X = tex(x)
    try:
        if a.is_infinite or direction:
            L = sp.limit(f, x, a, direction or "+")
        else:
            L = sp.limit(f, x, a, "+-")
    except Timeout:
        raise
    except (ValueError, NotImplementedError):
        L = None
    if L is None or L == sp.zoo or L.has(sp.AccumBounds) or L is sp.nan or not (L.is_real or L.is_infinite):
        if not a.is_infinite and direction is None:
            lp, lm = sp.limit(f, x, a, "+"), sp.limit(f, x, a, "-")
            if lp != lm:
                raise Unsupported("That limit does not exist: from the left it is %s, from the right %s." % (
                    plain(lm), plain(lp)))
        raise Unsupported("That limit does not exist (the function oscillates or is undefined there).")
    arrow = "%s^{%s}" % (tex(a), direction) if direction else tex(a)
    title = r"\lim_{%s \to %s} %s" % (X, arrow, tex_raw(ft))
    steps = []
    if not a.is_infinite:
        try:
            direct = f.subs(x, a)
        except Exception:
            direct = sp.nan
        if finite_real(direct) and not direct.has(sp.nan, sp.zoo) and sp.simplify(direct - L) == 0:
            steps.append(["Substitute $%s = %s$" % (X, tex(a)), tex(direct)])
        else:
            num, den = sp.fraction(sp.together(f))
            n0, d0 = num.subs(x, a), den.subs(x, a)
            if n0 == 0 and d0 == 0:
                steps.append(["Substitute $%s = %s$" % (X, tex(a)), r"\frac{0}{0}\ \text{(indeterminate)}"])
                c = sp.cancel(f)
                if c != f and finite_real(c.subs(x, a)):
                    steps.append(["Factor", r"\frac{%s}{%s}" % (tex(sp.factor(num)), tex(sp.factor(den)))])
                    steps.append(["Cancel", r"\lim_{%s \to %s} \left(%s\right)" % (X, arrow, tex(c))])
                    steps.append(["Substitute", tex(c.subs(x, a))])
                else:
                    dn, dd = sp.diff(num, x), sp.diff(den, x)
                    steps.append(["L'H\\^opital's rule", r"\lim_{%s \to %s} \frac{%s}{%s}" % (X, arrow, tex(dn), tex(dd))])
            elif d0 == 0:
                steps.append(["Substitute $%s = %s$" % (X, tex(a)), r"\frac{%s}{0}" % tex(n0)])
    else:
        num, den = sp.fraction(sp.together(f))
        if num.is_polynomial(x) and den.is_polynomial(x) and den.has(x):
            pn, pd = sp.Poly(num, x), sp.Poly(den, x)
            ln, ld = pn.LT(), pd.LT()
            lead_n = ln[1] * x ** ln[0][0]
            lead_d = ld[1] * x ** ld[0][0]
            steps.append(["Leading terms", r"\lim_{%s \to %s} \frac{%s}{%s}" % (X, arrow, tex(lead_n), tex(lead_d))])
        elif L == sp.E:
            steps.append(["Known limit", r"\lim_{n \to \infty}\left(1 + \frac{1}{n}\right)^{n} = e"])
    alatex = r"\lim_{%s \to %s} %s = %s" % (X, arrow, tex(f), tex_approx(L))
    answer = "= " + with_approx(L)
    g = None
    if L.is_infinite and not a.is_infinite:
        fa = float(a)
        xs, ys = curve_data(f, x, fa - 4, fa + 4, n=160)
        g = graph_spec([(0, xs, ys)], (fa - 4, fa + 4), y_window([ys], include=[0.0]), legend=[(0, "y = " + tex(f))])
    elif L.is_finite:
        if a.is_infinite:
            poles = [0.0]
            num_, den_ = sp.fraction(sp.together(f))
            if den_.is_polynomial(x) and den_.has(x) and sp.degree(den_, x) <= 8:
                cs = [float(c) for c in sp.Poly(den_, x).all_coeffs()]
                poles += [abs(r.real) for r in np.roots(cs) if abs(r.imag) < 1e-9]
            start = max(poles) + (0.5 if max(poles) > 0 else 0)
            lo, hi = (start, start + 20.0) if a == sp.oo else (-start - 20.0, -start)
            xs, ys = curve_data(f, x, lo + (0.05 if a == sp.oo else 0), hi - (0.05 if a != sp.oo else 0))
            yr = y_window([ys], include=[0.0, float(L)])
            g = graph_spec([(0, xs, ys)], (lo, hi), yr, legend=[(0, "y = " + tex(f))], hline=float(L))
        else:
            fa = float(a)
            xs, ys = curve_data(f, x, fa - 4, fa + 4, n=160)
            yr = y_window([ys], include=[0.0, float(L)])
            direct = f.subs(x, a)
            hole = (fa, float(L)) if not finite_real(direct) else None
            dots = [] if hole else [(fa, float(L), "")]
            g = graph_spec([(0, xs, ys)], (fa - 4, fa + 4), yr, legend=[(0, "y = " + tex(f))],
                           hole=hole, dots=dots)
    code = scene(title, steps, alatex, graph=g, check=checks.near(f, x, a, L, direction))
    out = result("limit", answer, alatex, code, "%s; %s -> %s" % (expr_str(f), x, expr_str(a)))
    return with_reading(out, f=f, var=x, point=a, side=direction)
