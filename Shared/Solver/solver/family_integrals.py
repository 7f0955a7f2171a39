"""Indefinite and definite integrals (manualintegrate's steps, SymPy's integrate)."""
import re
import sys

import numpy as np
import sympy as sp
from sympy.integrals.manualintegrate import integral_steps

from .base import Timeout, Unsupported
from .curves import curve_data, evaluate, graph_spec, y_window
from .helpers import find_bounds, finite_real, math_part, one_var, scrub, with_reading
from .printing import expr_str, plain, tex, tex_approx, tex_raw, with_approx
from .scene import result, scene
from . import checks
from .text import parse, parse_const


def first_rule(step):
    while type(step).__name__ == "AlternativeRule" and step.alternatives:
        step = step.alternatives[0]
    return step


ELEMENTARY = (sp.sin, sp.cos, sp.tan, sp.cot, sp.sec, sp.csc, sp.asin, sp.acos, sp.atan, sp.sinh, sp.cosh,
              sp.tanh, sp.asinh, sp.acosh, sp.atanh, sp.exp, sp.log, sp.Abs)


def antiderivative(f, x):
    """(F, the manualintegrate step tree or None); one integral_steps call, it is the slow part."""
    if f.has(sp.Abs):
        raise Unsupported("I can't integrate absolute values offline. An AI provider can.")
    steps = F = None
    try:
        steps = integral_steps(f, x)
        F = steps.eval()
    except Timeout:
        raise
    except Exception:
        F = None
    finally:  # as manualintegrate() does, so the worker's memory stays flat
        cache = getattr(sys.modules.get("sympy.integrals.manualintegrate"), "_parts_u_cache", None)
        if cache is not None:
            cache.clear()
    if F is None or F.has(sp.Integral):
        F = sp.integrate(f, x)
    special = [n for n in sp.preorder_traversal(F) if not isinstance(
        n, ELEMENTARY + (sp.Add, sp.Mul, sp.Pow, sp.Symbol, sp.Number, sp.NumberSymbol, type(sp.I)))]
    if special:
        raise Unsupported("That function has no antiderivative in elementary terms, so I can't show one offline.")
    return F, steps


def int_steps(f, x, F, tree):
    X = tex(x)
    dx = r"\,d%s" % X
    steps = []
    st = first_rule(tree) if tree is not None else None
    name = type(st).__name__ if st is not None else ""
    if name == "ConstantTimesRule":
        steps.append(["Constant multiple", r"\int %s%s = %s\int %s%s" % (tex(f), dx, tex(st.constant), tex(st.other), dx)])
        st = first_rule(st.substep)
        name = type(st).__name__
    if name == "AddRule":
        terms = f.as_ordered_terms()
        if len(terms) <= 5:
            steps.append(["Sum rule", " + ".join(r"\int %s%s" % (tex(t), dx) for t in terms)])
    elif name == "PowerRule":
        steps.append(["Power rule", r"\int %s^{n}%s = \frac{%s^{n+1}}{n+1} + C" % (X, dx, X)])
    elif name == "URule":
        u = st.u_var
        steps.append(["Substitution", r"%s = %s,\quad d%s = %s%s" % (tex(u), tex(st.u_func), tex(u),
                                                                    tex(sp.diff(st.u_func, x)), dx)])
        try:
            steps.append(["", r"\int %s\,d%s" % (tex(st.substep.integrand), tex(u))])
        except Exception:
            pass
    elif name in ("PartsRule", "CyclicPartsRule"):
        pr = st if name == "PartsRule" else st.parts_rules[0]
        steps.append(["By parts", r"\int u\,dv = uv - \int v\,du"])
        steps.append(["", r"u = %s,\quad dv = %s%s" % (tex(pr.u), tex(pr.dv), dx)])
        steps.append(["", r"du = %s%s,\quad v = %s" % (tex(sp.diff(pr.u, x)), dx, tex(sp.integrate(pr.dv, x)))])
    elif name == "ReciprocalRule":
        steps.append(["Log rule", r"\int \frac{1}{%s}%s = \ln\left|%s\right| + C" % (X, dx, X)])
    elif name == "ExpRule":
        steps.append(["Exponential rule", r"\int e^{%s}%s = e^{%s} + C" % (X, dx, X)])
    else:
        steps.append(["Standard integral", r"\int %s%s = %s + C" % (tex(f), dx, tex(F))])
    return steps


def with_abs_log(f, F, x):
    """∫1/u is ln|u|; SymPy writes ln(u)."""
    if not f.has(sp.log) and F.has(sp.log):
        return F.replace(sp.log, lambda a: sp.log(sp.Abs(a)))
    return F


def int_var(text):
    m = re.search(r"\bd([a-z])\s*$", text) or re.search(r"\bwith respect to ([a-z])\b", text) or \
        re.search(r"\bd([a-z])\b", text)
    return sp.Symbol(m.group(1)) if m else None


INT_NOISE = (r"\b(integrate|integral|integration|indefinite|antiderivative|anti-derivative|antidifferentiate|"
             r"primitive|of|find|function|a function|expression|with respect to [a-z]|wrt [a-z]|"
             r"evaluate|compute|the)\b")


def solve_integral(text):
    hint = int_var(text)
    body = re.sub(r"\bd[a-z]\s*$", " ", text)
    body = scrub(body, r"\bd[a-z]\b(?=\s*$)", INT_NOISE, r"\b[a-z]\([a-z]\)\s*=", r"^\s*y\s*=")
    body = math_part(re.sub(r"\s+d[a-z]\s*$", "", body))
    f, ft = parse(body, "function")
    x = one_var([f], hint)
    F, tree = antiderivative(f, x)
    F = with_abs_log(f, F, x)
    X = tex(x)
    title = r"\int %s\,d%s" % (tex_raw(ft), X)
    steps = int_steps(f, x, F, tree)
    alatex = r"\int %s\,d%s = %s + C" % (tex(f), X, tex(F))
    answer = "F(%s) = %s + C" % (x, plain(F))
    code = scene(title, steps, alatex, check=checks.differentiate_back(F, f, x))
    return with_reading(result("integral", answer, alatex, code, expr_str(f)), f=f, var=x)


def solve_definite(text):
    m = find_bounds(text)
    lo_s, hi_s = m.lo, m.hi
    rest = text[:m.start] + " " + text[m.end:]
    hint = int_var(rest) or (sp.Symbol(m.var) if m.var else None)
    rest = re.sub(r"\bd[a-z]\s*$", " ", rest.strip())
    body = scrub(rest, INT_NOISE, r"\b(area under|area between|area|under|between|the curve|curve|definite|region|"
                       r"bounded by|and the x-axis|x-axis)\b", r"\b[a-z]\([a-z]\)\s*=", r"(?:^|(?<=\s))y\s*=(?!=)")
    body = math_part(re.sub(r"\s+d[a-z]\s*$", "", body))
    a = parse_const(lo_s)
    b = parse_const(hi_s)
    f, ft = parse(body, "function")
    x = one_var([f], hint)
    if not (a.is_real or a in (sp.oo, -sp.oo)) or not (b.is_real or b in (sp.oo, -sp.oo)):
        raise Unsupported("The bounds must be real numbers.")
    if m.var and sp.Symbol(m.var) != x:
        raise Unsupported("The bounds are for %s but the function is in %s. Write them like \"from %s = 1 to %s = 3\"."
                          % (m.var, x, x, x))
    area = re.search(r"\barea\b", text) is not None
    if area:
        a, b = area_bounds(f, x, a, b)
    F, _ = antiderivative(f, x)
    infinite = a.is_infinite or b.is_infinite
    tol = None
    if not infinite:
        fa, fb = float(a), float(b)
        xs = np.linspace(fa, fb, 801)
        ys = evaluate(f, x, xs)
        inner = ys[1:-1]
        if not np.all(np.isfinite(inner)) or np.max(np.abs(inner)) > 1e8:
            raise Unsupported("The function is undefined or blows up between those bounds, so this is an "
                              "improper integral I can't evaluate offline.")
        Fb, Fa = F.subs(x, b), F.subs(x, a)
        value = sp.simplify(Fb - Fa)
        # a numeric cross-check catches antiderivatives that jump inside [a, b]
        ends_ok = bool(np.isfinite(ys[0]) and np.isfinite(ys[-1]))
        ys = ys.copy()
        ys[0] = ys[0] if np.isfinite(ys[0]) else ys[1]
        ys[-1] = ys[-1] if np.isfinite(ys[-1]) else ys[-2]
        numeric = float(np.sum((ys[1:] + ys[:-1]) * np.diff(xs)) / 2)
        tol = (1e-3 if ends_ok else 5e-2) * max(1.0, abs(numeric))
    else:
        Fb = sp.limit(F, x, b) if b.is_infinite else F.subs(x, b)
        Fa = sp.limit(F, x, a) if a.is_infinite else F.subs(x, a)
        value = sp.simplify(Fb - Fa)
        numeric = None
    if not finite_real(value):
        raise Unsupported("That integral diverges (it has no finite value).")
    if numeric is not None and abs(float(value) - numeric) > tol:
        raise Unsupported("The function is not continuous between those bounds, so I can't evaluate it offline.")
    X = tex(x)
    title = r"\int_{%s}^{%s} %s\,d%s" % (tex(a), tex(b), tex_raw(ft), X)
    steps = [["Antiderivative", r"F(%s) = %s" % (X, tex(F))],
             ["Evaluate", r"\Big[%s\Big]_{%s}^{%s} = F(%s) - F(%s)" % (tex(F), tex(a), tex(b), tex(b), tex(a))],
             ["", r"= \left(%s\right) - \left(%s\right)" % (tex(Fb), tex(Fa))]]
    steps.append(["", "= " + tex_approx(value)])
    alatex = r"\int_{%s}^{%s} %s\,d%s = %s" % (tex(a), tex(b), tex(f), X, tex_approx(value))
    answer = "= " + with_approx(value)
    g = None
    if f.free_symbols <= {x}:
        if infinite and a.is_infinite and b.is_infinite:
            lo, hi = -6.0, 6.0
        elif infinite:  # show the first stretch of the infinite tail
            lo = float(a) if a.is_finite else float(b) - 8
            hi = float(b) if b.is_finite else float(a) + 8
        else:
            lo, hi = float(a), float(b)
        pad = max(1.0, 0.25 * (hi - lo)) if not infinite else 0.5
        xs, ys = curve_data(f, x, lo - (pad if a.is_finite else 0), hi + (pad if b.is_finite else 0))
        axs = np.linspace(lo, hi, 81)
        ays = evaluate(f, x, axs)
        yr = y_window([ys, ays], include=[0.0])
        g = graph_spec([(0, xs, ys)], (xs[0], xs[-1]), yr, legend=[(0, "y = " + tex(f))], area=(axs, ays))
    code = scene(title, steps, alatex, graph=g, check=checks.numeric_integral(f, x, a, b, value))
    out = result("definite_integral", answer, alatex, code,
                 "%s; %s from %s to %s" % (expr_str(f), x, expr_str(a), expr_str(b)))
    return with_reading(out, f=f, var=x, a=a, b=b)


def area_bounds(f, x, a, b):
    """An area is between two x values, in either order, and equals the integral only where the
    curve is above the axis; a curve below or crossing it is refused (area or signed value?)."""
    if a.is_finite and b.is_finite and a > b:
        a, b = b, a
    if not (a.is_finite and b.is_finite):
        return a, b
    ys = evaluate(f, x, np.linspace(float(a), float(b), 401))
    ys = ys[np.isfinite(ys)]
    scale = max(1e-12, float(np.max(np.abs(ys)))) if ys.size else 1.0
    if ys.size and np.min(ys) < -1e-9 * scale:
        where = "crosses the x-axis" if np.max(ys) > 1e-9 * scale else "is below the x-axis"
        raise Unsupported("The curve %s between those bounds, so its area is not the integral. For the signed "
                          "value ask \"integrate ... from %s to %s\"; for the area, split it where the curve "
                          "meets the axis." % (where, plain(a), plain(b)))
    return a, b
