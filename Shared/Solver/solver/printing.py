"""Answer text and LaTeX: SymPy's str in the documented answer format, decimals."""
import re

import sympy as sp
from sympy.printing.str import StrPrinter


class Plain(StrPrinter):
    def _print_Exp1(self, e):
        return "e"

    def _print_Pi(self, e):
        return "π"

    def _print_ImaginaryUnit(self, e):
        return "i"

    def _print_Infinity(self, e):
        return "∞"

    def _print_NegativeInfinity(self, e):
        return "-∞"

    def _print_Abs(self, e):
        return "|%s|" % self._print(e.args[0])

    def _print_log(self, e):
        return "ln(%s)" % self._print(e.args[0])

    def _print_exp(self, e):
        a = e.args[0]
        s = self._print(a)
        return "e^" + s if (a.is_Symbol or (a.is_Integer and a >= 0)) else "e^(%s)" % s


def plain(e):
    s = Plain(dict(order=None)).doprint(e).replace("**", "^").replace("sqrt(", "√(")
    return re.sub(r"(?<![\w.^)/])(\d+)\*(?=[a-zπ√(|])", r"\1", s)


def expr_str(e):
    """The normalised expression field: SymPy's str with ^."""
    return sp.sstr(e).replace("**", "^")


def tex(e):
    return sp.latex(e, ln_notation=True)


def tex_raw(e):
    return sp.latex(e, order="none", ln_notation=True)


def decimal(v, places=4):
    f = float(sp.re(sp.N(v, 20)))
    if abs(f) >= 1e7:
        return "%.6g" % f
    s = ("%." + str(places) + "f") % f
    s = s.rstrip("0").rstrip(".") if "." in s else s
    return "0" if s in ("-0", "") else s


def with_approx(v, places=4):
    """Exact plain text, plus ≈ decimal when the value is not rational."""
    v = sp.nsimplify(v) if isinstance(v, sp.Float) else v
    if v.is_Rational or not v.is_real:
        return plain(v)
    return "%s ≈ %s" % (plain(v), decimal(v, places))


def tex_approx(v, places=4):
    if v.is_Rational or not v.is_real:
        return tex(v)
    return r"%s \approx %s" % (tex(v), decimal(v, places))


def fresh_symbol(used, prefer="uwvst"):
    for c in prefer:
        if sp.Symbol(c) not in used:
            return sp.Symbol(c)
    return sp.Dummy("u")


def paren(v):
    return r"\left(%s\right)" % tex(v) if v < 0 else tex(v)
