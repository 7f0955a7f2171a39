"""Derivatives, with the rule used named in the steps."""
import math
import re

import sympy as sp

from .base import Unsupported
from .curves import curve_data, finite_extent, graph_spec, y_window
from .helpers import math_part, one_var, scrub, shortest
from .printing import expr_str, fresh_symbol, plain, tex, tex_raw
from .helpers import with_reading
from .scene import result, scene
from . import checks
from .text import parse


def d_rule(f, x):
    if not f.has(x):
        return "constant"
    if f.is_Add:
        return "sum"
    if f.is_Mul:
        c, rest = f.as_independent(x, as_Add=False)
        num, den = sp.fraction(rest)
        if den.has(x) and num.has(x):
            return "quotient"
        factors = rest.args if rest.is_Mul else (rest,)
        if sum(1 for q in factors if q.has(x)) >= 2:
            return "product"
        if c != 1:
            return "constant multiple"
        return d_rule(rest, x)
    if f.is_Pow:
        b, e = f.args
        if b == x and not e.has(x):
            return "power"
        if not e.has(x):
            return "chain"
        if not b.has(x):
            return "chain" if e != x else "exponential"
        return "logarithmic"
    if isinstance(f, sp.Function) and f.args:
        return "chain" if f.args[0] != x else "standard"
    if f == x:
        return "power"
    return "standard"


RULE_NAME = {"power": "Power rule", "product": "Product rule", "quotient": "Quotient rule",
             "chain": "Chain rule", "sum": "Sum rule", "constant": "Constant rule",
             "constant multiple": "Constant multiple rule", "exponential": "Exponential rule",
             "standard": "Standard derivative", "logarithmic": "Logarithmic differentiation"}


def rules_used(f, x, depth=0):
    r = d_rule(f, x)
    out = [r]
    if depth > 3:
        return out
    kids = []
    if r == "sum":
        kids = list(f.args)
    elif r in ("product", "constant multiple"):
        kids = [q for q in sp.Mul.make_args(f) if q.has(x)]
    elif r == "quotient":
        kids = list(sp.fraction(f))
    elif r == "chain":
        if f.is_Pow:
            b, e = f.args
            kids = [b] if b.has(x) else [e]
            if b.has(x):
                out.append("power")
        else:
            kids = [f.args[0]]
    for k in kids:
        for q in rules_used(k, x, depth + 1):
            if q not in out and q not in ("constant", "standard", "constant multiple", "sum"):
                out.append(q)
    return out


def solve_derivative(text):
    hint = None
    for pat in (r"d/d([a-z])", r"with respect to ([a-z])\b", r"\bw\.?r\.?t\.? ([a-z])\b",
                r"\b[a-z]'\(([a-z])\)", r"\bd[a-z]/d([a-z])"):
        m = re.search(pat, text)
        if m:
            hint = sp.Symbol(m.group(1))
            break
    body = scrub(text, r"\(\s*d/d[a-z]\s*\)", r"d/d[a-z]", r"\bd[a-z]/d[a-z]\b", r"\bwith respect to [a-z]\b",
                 r"\bw\.?r\.?t\.? [a-z]\b", r"\b[a-z]'(\([a-z]\))?", r"\b[a-z]\([a-z]\)\s*=", r"^\s*y\s*=",
                 r"\b(if|given|where|when|for|differentiate|derivative|derive|differentiation|diff|of|first|"
                 r"a function|function|expression|take|use|using|rule|product|quotient|chain|power)\b")
    body = math_part(re.sub(r"^\s*y\s*=", " ", body))
    if "=" in body:
        raise Unsupported("Write the function to differentiate, e.g. \"differentiate x^3 sin(x)\" or "
                          "\"find f'(x) if f(x) = e^(2x)\".")
    f, ft = parse(body, "function")
    x = one_var([f], hint)
    d = sp.diff(f, x)
    dd = shortest(d, sp.factor(d) if sp.count_ops(d) < 40 else d, sp.factor_terms(d), sp.together(d))
    rule = d_rule(f, x)
    used = rules_used(f, x)
    X = tex(x)
    dx = r"\frac{d}{d%s}" % X
    title = r"%s\left[%s\right]" % (dx, tex_raw(ft))
    steps = []
    names = [RULE_NAME[r] for r in used if r in RULE_NAME]
    work = f
    if rule == "constant multiple":
        c, work = f.as_independent(x, as_Add=False)
        steps.append(["Constant multiple", r"%s\left[%s\right] = %s\,%s\left[%s\right]" % (
            dx, tex(f), tex(c), dx, tex(work))])
        rule = d_rule(work, x)
    else:
        c = sp.Integer(1)
    # the derivative being built: f'(x) itself, or d/dx[g] after a constant came out
    lhs = "f'(%s)" % X if c == 1 else r"%s\left[%s\right]" % (dx, tex(work))
    u = fresh_symbol(f.free_symbols)
    if rule == "product":
        fac = [q for q in sp.Mul.make_args(work) if q.has(x)]
        uf = work.as_independent(x, as_Add=False)[0] * fac[0]  # a constant rides with u
        vf = sp.Mul(*fac[1:])
        du, dv = sp.diff(uf, x), sp.diff(vf, x)
        steps.append(["Product rule", r"(uv)' = u'v + uv'"])
        steps.append(["", r"u = %s,\quad v = %s" % (tex(uf), tex(vf))])
        steps.append(["", r"u' = %s,\quad v' = %s" % (tex(du), tex(dv))])
        second = uf * dv
        sign = " - " if second.could_extract_minus_sign() else " + "
        steps.append(["", r"%s = %s%s%s" % (lhs, tex(du * vf), sign, tex(-second if sign == " - " else second))])
    elif rule == "quotient":
        num, den = sp.fraction(work)
        du, dv = sp.diff(num, x), sp.diff(den, x)
        steps.append(["Quotient rule", r"\left(\frac{u}{v}\right)' = \frac{u'v - uv'}{v^2}"])
        steps.append(["", r"u = %s,\quad v = %s" % (tex(num), tex(den))])
        steps.append(["", r"u' = %s,\quad v' = %s" % (tex(du), tex(dv))])
        steps.append(["", r"%s = \frac{%s - %s}{%s}" % (
            lhs, r"\left(%s\right)\left(%s\right)" % (tex(du), tex(den)),
            r"\left(%s\right)\left(%s\right)" % (tex(num), tex(dv)), tex(den ** 2))])
    elif rule == "chain":
        if work.is_Pow and work.args[0].has(x):
            inner, outer = work.args[0], u ** work.args[1]
        elif work.is_Pow:
            inner, outer = work.args[1], work.args[0] ** u
        else:
            inner, outer = work.args[0], work.func(u)
        steps.append(["Chain rule", r"\frac{dy}{d%s} = \frac{dy}{d%s}\cdot\frac{d%s}{d%s}" % (X, tex(u), tex(u), X)])
        steps.append(["", r"%s = %s,\quad y = %s" % (tex(u), tex(inner), tex(outer))])
        dout, din = sp.diff(outer, u), sp.diff(inner, x)
        steps.append(["", r"\frac{dy}{d%s} = %s,\quad \frac{d%s}{d%s} = %s" % (
            tex(u), tex(dout), tex(u), X, tex(din))])
        steps.append(["", r"%s = %s \cdot %s" % (
            lhs, r"\left(%s\right)" % tex(dout.subs(u, inner)), r"\left(%s\right)" % tex(din))])
    elif rule == "sum":
        terms = work.as_ordered_terms()
        if len(terms) <= 5:
            steps.append(["Sum rule", " + ".join(r"%s\left[%s\right]" % (dx, tex(t)) for t in terms)])
            parts = [sp.diff(t, x) for t in terms]
            line = tex(parts[0])
            for q in parts[1:]:
                line += (" - " + tex(-q)) if q.could_extract_minus_sign() else (" + " + tex(q))
            steps.append(["", "= " + line])
        else:
            steps.append(["Sum rule", r"\text{term by term}"])
    elif rule == "power":
        steps.append(["Power rule", r"%s\,%s^{n} = n\,%s^{n-1}" % (dx, X, X)])
    elif rule == "logarithmic":
        steps.append(["Logarithmic differentiation", r"\ln y = %s" % tex(sp.expand_log(sp.log(work), force=True))])
    elif rule == "constant":
        steps.append(["Constant rule", r"%s\left[c\right] = 0" % dx])
    else:
        steps.append(["Standard derivative", r"%s\left[%s\right] = %s" % (dx, tex(work), tex(sp.diff(work, x)))])
    answer = "f'(%s) = %s" % (x, plain(dd))
    alatex = "f'(%s) = %s" % (X, tex(dd))
    g = None
    if f.free_symbols <= {x}:
        lo, hi = -4.0, 4.0
        if f.has(sp.sin, sp.cos, sp.tan):
            lo, hi = -2 * math.pi, 2 * math.pi
        xs, ys = curve_data(f, x, lo, hi)
        lo2, hi2 = finite_extent(xs, ys)
        if lo2 > lo:
            lo, hi = max(lo2, 0.0), max(hi, 5.0)
            xs, ys = curve_data(f, x, lo + 1e-3, hi)
        _, dys = curve_data(dd, x, xs[0], xs[-1])
        yr = y_window([ys, dys], include=[0.0])
        g = graph_spec([(0, xs, ys), (1, xs, dys)], (xs[0], xs[-1]), yr,
                       legend=[(0, "f(%s)" % X), (1, "f'(%s)" % X)])
    if len(names) > 1:
        steps.insert(0, ["Rules used", r"\text{%s}" % ", ".join(names[:3]).lower()])
    code = scene(title, steps, alatex, graph=g, check=checks.numeric_derivative(f, x, dd) if f.free_symbols <= {x} else [])
    return with_reading(result("derivative", answer, alatex, code, expr_str(f)), f=f, var=x)
