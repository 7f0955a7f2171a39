"""The check a lesson's last scene shows under the answer: the answer put back into the
problem (substitution), undone (differentiate, multiply out), or computed another way
(numerically, term by term, by row reduction). Rows of [words, latex]; a check that does
not come out is left out, never shown as passing."""
import math

import sympy as sp

from .printing import decimal, tex

OK = r"\ \checkmark"


def substitute(x, values, lhs, rhs):
    """Each value put back into lhs = rhs."""
    rows = []
    for v in values[:2]:
        left, right = sp.simplify(lhs.subs(x, v)), sp.simplify(rhs.subs(x, v))
        if sp.simplify(left - right) == 0:
            shown = lhs.subs(x, sp.UnevaluatedExpr(v))
            rows.append(["With $%s = %s$" % (tex(x), tex(v)), r"%s = %s%s" % (sp.latex(shown), tex(right), OK)])
    return rows


def system(rows_abc, values):
    """Each equation a*x + b*y = c with the solution put in."""
    out = []
    for i, (a, b, c) in enumerate(rows_abc[:2]):
        got = a * values[0] + b * values[1]
        if sp.simplify(got - c) == 0:
            out.append(["Equation %d" % (i + 1), r"%s = %s%s" % (tex(got), tex(c), OK)])
    return out


def numeric_derivative(f, x, d):
    """A central difference beside the derivative, at the first point where both are finite."""
    for x0 in (1, 2, sp.Rational(1, 2), 3, -1):
        try:
            h = 1e-5
            fd = (float(f.subs(x, x0 + h)) - float(f.subs(x, x0 - h))) / (2 * h)
            exact = float(d.subs(x, x0))
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if not (math.isfinite(fd) and math.isfinite(exact)):
            continue
        if abs(fd - exact) <= 1e-4 * max(1.0, abs(exact)):
            X = tex(x)
            return [["Numerically at $%s = %s$" % (X, tex(x0)), r"\frac{f(%s + h) - f(%s - h)}{2h} \approx %s" % (
                tex(x0), tex(x0), decimal(sp.Float(fd), 4))],
                    ["", r"f'(%s) = %s" % (tex(x0), decimal(sp.Float(exact), 4)) + OK]]
        return []
    return []


def differentiate_back(F, f, x):
    if sp.simplify(sp.diff(F, x) - f) == 0:
        return [["Differentiate back", r"\frac{d}{d%s}\left(%s\right) = %s%s" % (tex(x), tex(F), tex(f), OK)]]
    return []


def numeric_integral(f, x, a, b, value):
    try:
        n = sp.Integral(f, (x, a, b)).evalf(15)
        v = complex(value)
    except (TypeError, ValueError):
        return []
    if not n.is_number or not n.is_finite or abs(complex(n) - v) > 1e-6 * max(1.0, abs(v)):
        return []
    return [["Numerical integration", r"\approx %s%s" % (decimal(sp.Float(complex(n).real), 4), OK)]]


def near(f, x, a, limit, direction=None):
    """The function's value close to the point (or far out, for a limit at infinity)."""
    if a in (sp.oo, -sp.oo):
        points = [sp.Integer(1000) * (1 if a == sp.oo else -1), sp.Integer(10) ** 6 * (1 if a == sp.oo else -1)]
    elif direction in ("+", "-"):
        sign = 1 if direction == "+" else -1
        points = [a + sign * sp.Rational(1, 100), a + sign * sp.Rational(1, 10000)]
    else:
        points = [a + sp.Rational(1, 1000), a - sp.Rational(1, 1000)]
    rows = []
    for p in points:
        try:
            v = float(f.evalf(15, subs={x: p}))
        except (TypeError, ValueError, ZeroDivisionError):
            return []
        if not math.isfinite(v):
            return []
        rows.append(["Close to it" if not rows else "", r"f(%s) \approx %s" % (tex(p), decimal(sp.Float(v), 4))])
    if limit.is_finite and all(abs(float(f.evalf(15, subs={x: p})) - float(limit)) < 0.05 * max(1.0, abs(float(limit))) for p in points):
        rows[-1][1] += OK
        return rows
    if limit.is_infinite:
        return rows
    return []


def multiply_back(factored, given):
    e = sp.expand(factored)
    if sp.expand(e - given) == 0:
        return [["Multiply back", r"%s = %s%s" % (tex(factored), tex(e), OK)]]
    return []


def at_a_point(given, result):
    """Both forms at a point where both are defined."""
    syms = sorted(given.free_symbols | result.free_symbols, key=str)
    if not syms:
        return []
    for v in (2, 3, 5, sp.Rational(1, 2)):
        try:
            g, r = given.subs({s: v for s in syms}), result.subs({s: v for s in syms})
            if not (g.is_finite and r.is_finite) or sp.simplify(g - r) != 0:
                continue
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        where = r",\ ".join("%s = %s" % (tex(s), tex(v)) for s in syms[:2])
        return [["With $%s$" % where, r"%s = %s%s" % (tex(sp.simplify(g)), tex(sp.simplify(r)), OK)]]
    return []


def pythagoras(a, b, c):
    if sp.simplify(a ** 2 + b ** 2 - c ** 2) != 0:
        return []
    return [["The sides fit", r"%s^2 + %s^2 = %s = %s^2%s" % (wrap(a), wrap(b), tex(sp.simplify(c ** 2)), wrap(c), OK)]]


def wrap(v):
    t = tex(v)
    return t if v.is_Integer or v.is_Symbol else r"\left(%s\right)" % t


def term_by_term(terms, total):
    """A series summed term by term (only for a few thousand terms)."""
    if len(terms) > 5000:
        return []
    s = sum(terms, sp.Integer(0))
    if sp.simplify(s - total) != 0:
        return []
    return [["Adding the terms one by one", r"= %s%s" % (tex(s), OK)]]


def partial_sums(a1, r, total):
    s, term = sp.Integer(0), a1
    for _ in range(40):
        s += term
        term *= r
    if abs(float(s - total)) > 1e-6 * max(1.0, abs(float(total))):
        return []
    return [["The first 40 terms add up to", r"\approx %s%s" % (decimal(s, 6), OK)]]


def determinant(rows, value):
    d = sp.Matrix(rows).det(method="bareiss")
    if sp.simplify(d - value) != 0:
        return []
    return [["By row reduction", r"\det = %s%s" % (tex(d), OK)]]


def decimal_check(value):
    return [["As a decimal", r"\approx %s" % decimal(value, 4)]]


def circle(r, area, circumference):
    """The answer divided back by the radius gives π."""
    rows = []
    if area is not None and sp.simplify(area / r ** 2 - sp.pi) == 0:
        rows.append(["Divide back", r"\frac{A}{r^2} = \frac{%s}{%s} = \pi%s" % (tex(area), tex(r ** 2), OK)])
    if circumference is not None and sp.simplify(circumference / (2 * r) - sp.pi) == 0:
        rows.append(["" if rows else "Divide back", r"\frac{C}{2r} = \frac{%s}{%s} = \pi%s" % (tex(circumference), tex(2 * r), OK)])
    return rows
