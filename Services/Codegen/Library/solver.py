"""mathreel's offline solver: no network, no model.

Owns: recognising the supported problem families in plain English and notation,
checking the person's text (allow-list, length, names) before SymPy sees it, the
maths, the answer text, and the Manim CE scene source. The scene is a fixed
template plus data literals made only by SymPy or numpy (repr), so no text from
the person ever reaches it.

Protocol (run as `python -I -B solver.py`; one JSON object per line, ASCII-escaped):
  at start  -> {"ready": true}            (after SymPy is imported and warmed up)
  request   <- {"problem": "<text>", "context": "<previous problem or empty>"}
  solved    -> {"ok": true, "family": F, "answer": A, "answer_latex": L, "code": C,
                "scene": "Solution", "expression": E}
  not solved-> {"ok": false, "error": "unsupported_problem", "message": M}
  bad line  -> {"ok": false, "error": "bad_request", "message": M}  (not JSON, no
               "problem" string, or an empty line)
  Exactly one reply per request line, until EOF. A request is stopped after
  REQUEST_SECONDS. `context` is used only for follow-ups ("now plot it",
  "what about x^3?"). E is SymPy's str of what was solved, with ^ for powers.

Families: linear quadratic system derivative integral definite_integral limit plot
factor expand simplify fractions pythagoras circle arithmetic_series
geometric_series determinant.

Answer text. Expressions are SymPy's str with: ^ for powers, `*` kept except after
a leading number (3x^2*sin(x), 2e^(3x)), ln for the natural log, e^x / e^(...) for
exp, e, π, i, ∞, √(...) for square roots, |...| for abs; asin/acos/atan as SymPy
names them. " ≈ d" (4 decimal places unless said) follows an exact value that is
irrational. Parse one back with SymPy after replacing π->pi, √->sqrt, ∞->oo,
|a|->abs(a), ln->log, e->E, i->I, using implicit multiplication.
  linear             "x = 5"
  quadratic          "x = 2, x = 3" ascending; one entry for a double root;
                     "x = 1 - √(2) ≈ -0.4142, x = 1 + √(2) ≈ 2.4142";
                     complex roots "x = -1 - 2i, x = -1 + 2i"
  system             "x = 3, y = 1" (variables in alphabetical order)
  derivative         "f'(x) = x^3*cos(x) + 3x^2*sin(x)" (f'(t) for d/dt)
  integral           "F(x) = x^3/3 + C"; 1/u integrates to ln(|u|)
  definite_integral  "= 9", or "= π ≈ 3.1416" when irrational
  limit              "= 1", "= e ≈ 2.7183", "= ∞", "= -∞"
  plot               "y = x^2 - 4", then optional "; x-intercepts: -2, 2" and
                     "; y-intercept: -4"
  factor             the factored form "(x - 3)*(x + 3)" (the input itself when irreducible)
  expand, simplify   the resulting expression, e.g. "x^3 + 6x^2 + 12x + 8", "x + 1"
  fractions          "= 5/4 = 1.25" (terminating), "= 2/3 ≈ 0.6667", "= 3"
  pythagoras         the missing side: "5", "√(41) ≈ 6.4031"; "6.5" when the
                     question used decimals and the side is a terminating decimal
  circle             "A = 25π ≈ 78.54, C = 10π ≈ 31.42" (2 places; only what was
                     asked, both when unclear)
  arithmetic_series  "S_20 = 820"
  geometric_series   "S_8 = 6560", "S_∞ = 6"; "S_60 ≈ 5.999999" when the exact
                     fraction is huge
  determinant        "det = -2"
"""
import json
import math
import re
import signal
import sys
import unicodedata

import numpy as np
import sympy as sp
from sympy.integrals.manualintegrate import integral_steps
from sympy.parsing.sympy_parser import (convert_xor, implicit_multiplication_application,
                                        parse_expr, standard_transformations)
from sympy.printing.str import StrPrinter

MAX_PROBLEM = 1000   # whole message
MAX_EXPR = 300       # any one expression
REQUEST_SECONDS = 2.0  # hard stop for one request (sympy can take seconds on odd input)

EXAMPLES = ('"solve x^2 - 5x + 6 = 0", "differentiate x^3 sin(x)", '
            '"integrate x^2 from 0 to 3"')
HELP = ("I can't solve that one offline. Try phrasing it like " + EXAMPLES +
        ", or \"factor x^2 - 9\", \"1/2 + 3/4\", \"area of a circle with radius 5\". "
        "For anything else, configure an AI provider (set MATHREEL_PROVIDERS and its API key).")


class Unsupported(Exception):
    """A request we answer with ok=false; the message is for the person."""


class Timeout(BaseException):
    """BaseException so SymPy's own `except Exception` cannot swallow it."""


# ---------------------------------------------------------------- normalising

SUPERSCRIPT = {"⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6",
               "⁷": "7", "⁸": "8", "⁹": "9", "⁻": "-", "⁺": "+", "ⁿ": "n", "ˣ": "x"}
REPLACE = [("−", "-"), ("–", "-"), ("—", "-"), ("×", "*"), ("·", "*"), ("⋅", "*"), ("∙", "*"),
           ("÷", "/"), ("π", " pi "), ("∞", " oo "), ("→", "->"), ("⟶", "->"), ("⇒", "->"),
           ("’", "'"), ("‘", "'"), ("′", "'"), ("“", '"'), ("”", '"'), ("∫", " integral "),
           ("½", "(1/2)"), ("¼", "(1/4)"), ("¾", "(3/4)"), ("⅓", "(1/3)"), ("⅔", "(2/3)"),
           ("…", "..."), ("⁄", "/"), ("∕", "/"), ("\u00a0", " ")]


def normalise(text):
    """Unicode maths to ASCII notation, lower case, single spaces."""
    out = []
    i = 0
    while i < len(text):  # a run of superscripts becomes ^(...)
        if text[i] in SUPERSCRIPT:
            j = i
            while j < len(text) and text[j] in SUPERSCRIPT:
                j += 1
            out.append("^(" + "".join(SUPERSCRIPT[c] for c in text[i:j]) + ")")
            i = j
        else:
            out.append(text[i])
            i += 1
    s = "".join(out)
    for a, b in REPLACE:
        s = s.replace(a, b)
    s = unicodedata.normalize("NFKC", s).lower()
    s = re.sub(r"√\s*\(", "sqrt(", s)
    s = re.sub(r"√\s*(\d+(?:\.\d+)?|pi|[a-z])", r"sqrt(\1)", s)
    s = re.sub(r"\s+", " ", s).strip()
    s = re.sub(r"[?!]+$", "", s).strip()
    s = re.sub(r"(?<!\.)\.$", "", s).strip()  # a closing full stop, not "..."
    return s


# ---------------------------------------------------------- safe expressions

FUNCS = {"sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "cot": sp.cot, "sec": sp.sec, "csc": sp.csc,
         "asin": sp.asin, "acos": sp.acos, "atan": sp.atan, "arcsin": sp.asin, "arccos": sp.acos,
         "arctan": sp.atan, "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "ln": sp.log,
         "log": sp.log, "exp": sp.exp, "sqrt": sp.sqrt, "abs": sp.Abs}
CONSTS = {"pi": sp.pi, "e": sp.E, "oo": sp.oo, "inf": sp.oo, "infinity": sp.oo, "infty": sp.oo}
NAMES = set(FUNCS) | set(CONSTS)
FUNC_RE = "|".join(sorted(FUNCS, key=len, reverse=True))
# Short English words that would otherwise split into single-letter variables.
STOPWORDS = {"at", "an", "by", "as", "am", "us", "up", "so", "no", "my", "we", "be", "do", "go", "he",
             "if", "in", "is", "it", "me", "of", "on", "or", "to", "and", "the", "for", "are", "its",
             "not", "but", "you", "can", "how", "hi", "ok"}
LOCALS = {c: sp.Symbol(c) for c in "abcdfghijklmnopqrstuvwxyz"}
LOCALS.update(FUNCS)
LOCALS.update(CONSTS)
# What parse_expr's generated code may call; no builtins at all.
GLOBALS = {"Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational, "Symbol": sp.Symbol,
           "Add": sp.Add, "Mul": sp.Mul, "Pow": sp.Pow, "__builtins__": {}}
TRANSFORMS = standard_transformations + (implicit_multiplication_application, convert_xor)


def split_run(run):
    """Split a letter run into known names and single letters (xsinx -> x sin x)."""
    best = {0: (0, 0, [])}
    for i in range(1, len(run) + 1):
        for j in range(max(0, i - 8), i):
            piece = run[j:i]
            if j in best and (piece in NAMES or len(piece) == 1):
                singles, count, parts = best[j]
                cand = (singles + (len(piece) == 1), count + 1, parts + [piece])
                if i not in best or cand[:2] < best[i][:2]:
                    best[i] = cand
    if len(run) not in best:
        return None
    singles, count, parts = best[len(run)]
    return parts if singles <= 2 and count <= 4 else None


def prepare(s):
    """The allow-list: returns a string that parse_expr may see, or raises Unsupported."""
    s = s.strip().strip(",;:").strip()
    s = re.sub(r"\|([^|]+)\|", r"abs(\1)", s)
    if "[" in s or "]" in s:
        raise Unsupported("Use parentheses ( ) rather than brackets [ ] in a formula, e.g. d/dx (x^2 + 1).")
    if not s:
        raise Unsupported("I couldn't find a formula in that. Write it like " + EXAMPLES + ".")
    if len(s) > MAX_EXPR:
        raise Unsupported("That formula is too long for me (at most %d characters)." % MAX_EXPR)
    bad = sorted(set(c for c in s if not re.match(r"[0-9a-z\s+\-*/^().{}]", c)))
    if bad:
        shown = " ".join(c for c in bad[:6] if c.isprintable() and not c.isspace())
        raise Unsupported("I can't read the character(s) %s in a formula. Use digits, letters, "
                          "+ - * / ^ and parentheses, e.g. %s." % (shown or "given", EXAMPLES))
    s = s.replace("{", "(").replace("}", ")")
    if "//" in s or re.search(r"\.(?!\d)|(?<![\d\s(+\-*/^])\.", s):
        raise Unsupported("I couldn't read a number or operator in that formula.")
    if re.search(r"\d{13,}", s):
        raise Unsupported("One of the numbers is too large for me.")
    # exact decimals so answers stay exact: 2.5 -> (5/2)
    s = re.sub(r"\d*\.\d+", lambda m: "(%s)" % sp.Rational(m.group(0)), s)

    def word(m):
        run = m.group(0)
        if run in NAMES:
            return " %s " % run
        parts = None if run in STOPWORDS else split_run(run)
        if not parts:
            raise Unsupported("I don't know the word \"%s\" in a formula. Use single-letter variables "
                              "and sin cos tan ln log exp sqrt abs pi e, e.g. %s." % (run[:20], EXAMPLES))
        return " %s " % " ".join(parts)

    for m in re.finditer(r"([a-z]+)\d", s):
        if m.group(1) not in FUNCS:
            raise Unsupported("Write powers and products with ^ or *, e.g. x^2 or 2x.")
    s = re.sub(r"[a-z]+", word, s)
    s = re.sub(r"\s+", " ", s).strip()
    # sin^2(x) -> sin(x)^2 and sin^2 x -> sin(x)^2
    s = re.sub(r"\b(%s) ?\^ ?\(?(\d+)\)? ?\(([^()]*)\)" % FUNC_RE, r"\1(\3)^\2", s)
    atom = r"(?:\d+ ?)?(?:pi|[a-z])(?: ?\^ ?\d+)?|\d+"
    s = re.sub(r"\b(%s) ?\^ ?\(?(\d+)\)? (%s)" % (FUNC_RE, atom), r"\1(\3)^\2", s)
    # sin x cos x -> sin(x) cos(x): SymPy alone reads it as sin(x*cos(x))
    s = re.sub(r"\b(%s) (?!\()(%s)" % (FUNC_RE, atom), r"\1(\2)", s)
    # a single letter before "(" is a product, not a call: x(x+1)
    s = re.sub(r"(?<![a-z])([a-z]) ?\(", r"\1*(", s)
    depth = 0
    for c in s:
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth < 0 or depth > 12:
            break
    if depth != 0:
        raise Unsupported("The parentheses in that formula don't match.")
    return s


def guard(tree):
    """Refuse work that would explode before SymPy evaluates it (9^9^9, huge exponents)."""
    n = 0
    for node in sp.preorder_traversal(tree):
        n += 1
        if n > 400:
            raise Unsupported("That formula is too complicated for the offline solver.")
        if isinstance(node, sp.Pow) and not node.exp.free_symbols:
            try:
                v = abs(complex(node.exp.evalf(8)))
            except (TypeError, ValueError):
                continue
            if v > 200:
                raise Unsupported("An exponent in that formula is too large for me.")


def parse(s, what="formula"):
    """Text -> (evaluated expr, tidy unevaluated expr for display)."""
    src = prepare(s)
    try:
        raw = parse_expr(src, local_dict=LOCALS, global_dict=GLOBALS, transformations=TRANSFORMS,
                         evaluate=False)
        if not isinstance(raw, sp.Expr):
            raise ValueError
        guard(raw)
        e = parse_expr(src, local_dict=LOCALS, global_dict=GLOBALS, transformations=TRANSFORMS)
    except Unsupported:
        raise
    except Timeout:
        raise
    except Exception:
        raise Unsupported("I couldn't read that %s. Write it like %s." % (what, EXAMPLES))
    if not isinstance(e, sp.Expr) or e.has(sp.zoo, sp.nan):
        raise Unsupported("That %s divides by zero or is undefined." % what)
    return e, tidy(raw)


def parse_const(s):
    e, _ = parse(s, "number")
    if e.free_symbols:
        raise Unsupported("A bound or point must be a number (like 0, 3, pi/2 or infinity).")
    return e


def tidy(e):
    """Fold 1*a and 3*x*2 in an unevaluated tree so titles read as typed."""
    if not e.args:
        return e
    args = [tidy(a) for a in e.args]
    if isinstance(e, sp.Mul):
        c = sp.Integer(1)
        rest = []
        for a in args:
            if a.is_Number:
                c = c * a
            else:
                rest.append(a)
        if not rest:
            return c
        if c == 1:
            return rest[0] if len(rest) == 1 else sp.Mul(*rest, evaluate=False)
        return sp.Mul(c, *rest, evaluate=False)
    if isinstance(e, sp.Add):
        return sp.Add(*args, evaluate=False)
    if isinstance(e, sp.Pow):
        return sp.Pow(*args, evaluate=False)
    try:
        return e.func(*args)
    except Exception:
        return e


def parse_equation(s):
    parts = s.split("=")
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise Unsupported("Write one equation with a single '=', e.g. 3x + 5 = 20.")
    l, lt = parse(parts[0], "equation")
    r, rt = parse(parts[1], "equation")
    return l, r, lt, rt


# ------------------------------------------------------------------ printing

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


# ------------------------------------------------------------ sampling curves

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


# --------------------------------------------------------------- scene source

HEAD = r'''from manim import *
import numpy as np


class Solution(Scene):
    def construct(self):
        title_tex = {title}
        steps = {steps}
        answer_tex = {answer}
        wide = {wide}
        title = MathTex(title_tex)
        if title.height > 1.5:
            title.scale_to_fit_height(1.5)
        if title.width > 12.4:
            title.scale_to_fit_width(12.4)
        title.to_edge(UP, buff=0.3)
        self.play(Write(title), run_time=1.2)
        self.wait(0.3)
'''

GRAPH = r'''        g = {graph}
        ax = Axes(x_range=g["x"], y_range=g["y"], x_length=5.8, y_length=3.2 if wide else 4.0, tips=False,
                  axis_config={{"include_numbers": True, "font_size": 20, "stroke_width": 2}})
        ax.next_to(title, DOWN, buff=0.5).set_x(3.55)
        palette = [BLUE, GREEN, RED, ORANGE]
        curves = VGroup()
        for color, xs, ys in g["curves"]:
            curves.add(ax.plot_line_graph(x_values=xs, y_values=ys, line_color=palette[color],
                                          add_vertex_dots=False, stroke_width=4))
        self.play(Create(ax), run_time=1.0)
        extra = []
        if g["legend"]:
            parts = []
            for color, label in g["legend"]:
                parts += [label, r"\qquad"]
            legend = MathTex(*parts[:-1]).scale(0.6)
            for i, (color, label) in enumerate(g["legend"]):
                legend[2 * i].set_color(palette[color])
            legend.next_to(ax, DOWN, buff=0.25)
            if legend.width > 6.2:
                legend.scale_to_fit_width(6.2)
            extra.append(FadeIn(legend))
        if "hline" in g:
            extra.append(Create(DashedLine(ax.c2p(g["x"][0], g["hline"]), ax.c2p(g["x"][1], g["hline"]), color=GREY_B)))
        self.play(Create(curves), *extra, run_time=1.6)
        if "area" in g:
            xs, ys = g["area"]
            pts = [ax.c2p(xs[0], 0)] + [ax.c2p(a, b) for a, b in zip(xs, ys)] + [ax.c2p(xs[-1], 0)]
            region = Polygon(*pts, stroke_width=0, fill_color=BLUE, fill_opacity=0.45)
            self.play(FadeIn(region), run_time=0.8)
        marks = VGroup()
        for x, y, label in g["dots"]:
            dot = Dot(ax.c2p(x, y), color=YELLOW, radius=0.08)
            marks.add(dot)
            if label:
                tag = MathTex(label, color=YELLOW).scale(0.5).next_to(dot, UR, buff=0.08)
                if tag.get_right()[0] > 6.9:
                    tag.next_to(dot, UL, buff=0.08)
                marks.add(tag)
        if "hole" in g:
            marks.add(Circle(radius=0.09, color=YELLOW, stroke_width=3).set_fill(BLACK, 1).move_to(ax.c2p(*g["hole"])))
        side = True
'''

TRIANGLE = r'''        f = {figure}
        a, b = f["legs"]
        k = min(4.6 / a, 3.4 / b)
        p0 = np.array([0.0, 0.0, 0.0])
        p1 = np.array([a * k, 0.0, 0.0])
        p2 = np.array([0.0, b * k, 0.0])
        tri = Polygon(p0, p1, p2, color=BLUE, fill_opacity=0.15)
        s = min(0.3, 0.3 * a * k, 0.3 * b * k)
        corner = Square(side_length=s, color=WHITE, stroke_width=2).move_to(p0 + np.array([s / 2, s / 2, 0.0]))
        shape = VGroup(tri, corner)
        shape.next_to(title, DOWN, buff=0.9).set_x(3.6)
        q0, q1, q2 = tri.get_vertices()
        la = MathTex(f["labels"][0]).scale(0.7).next_to(Line(q0, q1), DOWN, buff=0.15)
        lb = MathTex(f["labels"][1]).scale(0.7).next_to(Line(q0, q2), LEFT, buff=0.15)
        lc = MathTex(f["labels"][2]).scale(0.7).move_to((q1 + q2) / 2 + np.array([0.5, 0.35, 0.0]))
        self.play(Create(tri), Create(corner), run_time=1.2)
        self.play(FadeIn(la), FadeIn(lb), FadeIn(lc), run_time=0.8)
        labels = [la, lb, lc]
        marks = VGroup()
        unknown = labels[f["unknown"]]
        solved = MathTex(f["solved"], color=YELLOW).scale(0.7).move_to(unknown)
        side = True
'''

CIRCLE = r'''        f = {figure}
        disk = Circle(radius=1.8, color=BLUE, fill_opacity=0.2)
        disk.next_to(title, DOWN, buff=0.8).set_x(3.6)
        centre = disk.get_center()
        if f["diameter"]:
            seg = Line(centre + LEFT * 1.8, centre + RIGHT * 1.8, color=YELLOW)
        else:
            seg = Line(centre, centre + RIGHT * 1.8, color=YELLOW)
        tag = MathTex(f["label"]).scale(0.7).next_to(seg, UP, buff=0.12)
        self.play(Create(disk), run_time=1.0)
        self.play(Create(seg), FadeIn(Dot(centre)), FadeIn(tag), run_time=0.8)
        marks = VGroup()
        side = True
'''

NOSIDE = r'''        marks = VGroup()
        side = False
'''

TAIL = r'''        panel_w = 6.3 if side else 12.4
        rows = VGroup()
        for words, line in steps:
            if words:
                # one LaTeX run per row: the label is the first part
                row = MathTex(r"\text{\footnotesize " + words + r"}\quad", line)
                row[0].set_color(GREY_B)
            else:
                row = MathTex(line)
            row.scale(0.8)
            if row.width > panel_w:
                row.scale_to_fit_width(panel_w)
            rows.add(row)
        answer = MathTex(answer_tex, color=YELLOW)
        if answer.width > (12.4 if wide else panel_w - 0.4):
            answer.scale_to_fit_width(12.4 if wide else panel_w - 0.4)
        box = SurroundingRectangle(answer, color=YELLOW, buff=0.18)
        if wide:  # a long answer gets the full width under the steps and the graph
            VGroup(answer, box).to_edge(DOWN, buff=0.3)
            block = rows.arrange(DOWN, buff=0.32)
            room = title.get_bottom()[1] - box.get_top()[1] - 0.7
        else:
            block = VGroup(*rows, VGroup(answer, box)).arrange(DOWN, buff=0.32)
            room = title.get_bottom()[1] + 3.85 - 0.35
        if block.height > room:
            block.scale_to_fit_height(room)
        grow = min(1.3, room / block.height, panel_w / block.width)
        if grow > 1.05:  # few short steps: use the space
            block.scale(grow)
        block.next_to(title, DOWN, buff=0.35)
        block.set_x(-3.45 if side else 0)
        spare = room - block.height
        if spare > 0.5 and not side:  # a short solution sits a little lower, not glued to the title
            block.shift(DOWN * min(spare * 0.3, 1.0))
        pace = 1.0 if len(rows) <= 5 else 0.8
        for row in rows:
            self.play(Write(row), run_time=pace)
            self.wait(0.5 * pace)
        self.play(Write(answer), run_time=1.0)
        finish = [Create(box)]
        if len(marks) > 0:
            finish.append(FadeIn(marks))
        self.play(*finish, run_time=0.8)
        self.wait(max(2.0, 9.0 - self.time))
'''

TRIANGLE_TAIL = r'''        self.play(Transform(unknown, solved), run_time=0.8)
        self.wait(0.5)
'''


def vis_len(s):
    """Roughly how many glyphs wide a LaTeX string renders (fractions count their wider part)."""
    s = re.sub(r"\\(left|right|quad|qquad|[,;:! ])", "", s)
    for _ in range(4):
        s = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", lambda m: max(m.group(1), m.group(2), key=len), s)
    s = re.sub(r"\\(text|mathrm|footnotesize)\b", "", s)
    s = re.sub(r"\\(sin|cos|tan|cot|sec|csc|ln|log|exp|lim|det)\b", r"\1", s)
    s = re.sub(r"\\[a-zA-Z]+", "x", s)
    return len(re.sub(r"[{}^_\s]", "", s))


def plain_data(obj):
    """Only str, int, bool and finite floats in lists/dicts: their repr() is a safe literal."""
    if isinstance(obj, (list, tuple)):
        return all(plain_data(v) for v in obj)
    if isinstance(obj, dict):
        return all(isinstance(k, str) and plain_data(v) for k, v in obj.items())
    if type(obj) is float:  # not numpy's: its repr is np.float64(...)
        return math.isfinite(obj)
    return obj is None or type(obj) in (str, int, bool)


def scene(title, steps, answer, graph=None, triangle=None, circle=None):
    """The scene source: a fixed template plus repr() data only."""
    if not plain_data([title, steps, answer, graph, triangle, circle]):
        raise Unsupported("I couldn't draw that one (a value is not a finite number).")
    steps = [[w, s] for w, s in steps if s]
    # a step too wide to read is left out (the boxed answer always stays)
    if len(steps) > 1:
        steps = [st for st in steps if vis_len(st[1]) + 0.6 * len(st[0]) <= 110] or steps[-1:]
    steps = steps[:7]
    widest = max([vis_len(s) + 0.6 * len(w) for w, s in steps] + [0])
    wide = graph is not None and vis_len(answer) * 1.25 > 40 and vis_len(answer) <= 80 and widest <= 40
    if widest > 40 or (vis_len(answer) * 1.25 > 40 and not wide):  # long lines need the width more than a picture
        graph = triangle = circle = None
    code = HEAD.format(title=repr(title), steps=repr(steps), answer=repr(answer), wide=repr(wide))
    if graph is not None:
        code += GRAPH.format(graph=repr(graph))
    elif triangle is not None:
        code += TRIANGLE.format(figure=repr(triangle))
    elif circle is not None:
        code += CIRCLE.format(figure=repr(circle))
    else:
        code += NOSIDE
    code += TAIL
    if triangle is not None:
        code += TRIANGLE_TAIL
    return code


def result(family, answer, answer_latex, code, expression):
    return {"ok": True, "family": family, "answer": answer, "answer_latex": answer_latex,
            "code": code, "scene": "Solution", "expression": expression}


# ------------------------------------------------------------------ helpers

COMMON = (r"\b(please|pls|kindly|can you|could you|would you|help me|i want to|i need to|"
          r"how do (?:i|you)|show me|tell me|find|compute|calculate|evaluate|determine|work out|"
          r"what is|what's|whats|give me|the|value of|result of|now|then|and then)\b")


def scrub(text, *patterns):
    for p in patterns + (COMMON,):
        text = re.sub(p, " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text.strip(" ,;:").strip()


def mathy(token):
    """Could this word be part of a formula (3x, sin(x), =, pi/2)?"""
    t = token.strip(",;:?!")
    if not t or not re.fullmatch(r"[0-9a-z+\-*/^().={}|]+", t):
        return False
    for run in re.findall(r"[a-z]+", t):
        if run in STOPWORDS or (run not in NAMES and not split_run(run)):
            return False
    return True


def math_part(body, need_eq=False):
    """The formula inside a sentence: the longest run of formula-like words."""
    words = body.split()
    if all(mathy(w) for w in words):
        return body
    runs, cur = [], []
    for w in words:
        if mathy(w):
            cur.append(w.strip(",;:?!"))
            if w[-1] in ",;:?!":  # "if 2x = 4, what is x": the comma ends the formula
                runs.append(cur)
                cur = []
        elif cur:
            runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    runs = [" ".join(r) for r in runs if not need_eq or any("=" in w for w in r)]
    runs = [r for r in runs if re.search(r"[\d=+\-*/^(]", r) or len(r) <= 3 and re.search(r"[a-z]", r)]
    return max(runs, key=len) if runs else body


def one_var(exprs, hint=None):
    syms = set()
    for e in exprs:
        syms |= e.free_symbols
    if hint is not None:
        return hint
    if not syms:
        return sp.Symbol("x")
    if len(syms) == 1:
        return next(iter(syms))
    if sp.Symbol("x") in syms:
        return sp.Symbol("x")
    raise Unsupported("I found several letters (%s); say which is the variable, e.g. "
                      "\"differentiate a x^2 with respect to x\"." % ", ".join(sorted(map(str, syms))))


def shortest(e, *cands):
    """Prefer SymPy's own form unless a rewrite is clearly simpler."""
    best, cost = e, sp.count_ops(e)
    for c in cands:
        try:
            cc = sp.count_ops(c)
        except Exception:
            continue
        if cc <= cost - 2:
            best, cost = c, cc
    return best


def finite_real(v):
    return v is not None and v.is_real is True and v.is_finite is True


NUM = r"-?\d+(?:\.\d+)?"
NUMF = r"-?\d+(?:\.\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?"


def rat(s):
    s = s.replace(" ", "")
    if "/" in s:
        a, b = s.split("/")
        if sp.Rational(b) == 0:
            raise Unsupported("One of the numbers divides by zero.")
        return sp.Rational(a) / sp.Rational(b)
    return sp.Rational(s)


# ----------------------------------------------------------- equations (1 var)

def solve_equation(text):
    hint = None
    m = re.search(r"\bfor ([a-z])\b", text)
    if m:
        hint = sp.Symbol(m.group(1))
    body = scrub(text, r"\bfor [a-z]\b", r"\b(solve|solving|roots? of|zeros? of|zeroes of|solutions? (?:of|to)|"
                       r"the equation|equation|quadratic|linear|values? of [a-z]|[a-z] if|where|such that|"
                       r"real|all|x-intercepts? of|using the quadratic formula|by factoring|by factorising|"
                       r"by factorizing|with the quadratic formula|quadratic formula)\b")
    body = math_part(body, need_eq="=" in body)
    if "=" not in body:
        body = body + " = 0"
    lhs, rhs, lt, rt = parse_equation(body)
    x = one_var([lhs, rhs], hint)
    others = (lhs.free_symbols | rhs.free_symbols) - {x}
    if others:
        raise Unsupported("The equation has other letters besides %s (%s). For two unknowns give two "
                          "equations, e.g. \"2x + y = 7 and x - y = 2\"." % (x, ", ".join(sorted(map(str, others)))))
    p = sp.expand(lhs - rhs)
    if not p.is_polynomial(x):
        raise Unsupported("I can solve linear and quadratic equations offline, and this one is neither. "
                          "An AI provider (MATHREEL_PROVIDERS) can handle it.")
    poly = sp.Poly(p, x)
    deg = poly.degree()
    title = "%s = %s" % (tex_raw(lt), tex_raw(rt))
    if deg <= 0:
        if p == 0:
            raise Unsupported("Every value of %s satisfies that equation (both sides are equal)." % x)
        raise Unsupported("That equation has no solution: it simplifies to %s = 0." % plain(p))
    if deg > 2:
        raise Unsupported("That is a degree-%d equation; offline I solve linear and quadratic ones. "
                          "An AI provider (MATHREEL_PROVIDERS) can handle it." % deg)
    if any(not c.is_number or not c.is_real for c in poly.all_coeffs()):
        raise Unsupported("I couldn't read the coefficients of that equation as real numbers.")
    expression = "%s = %s" % (expr_str(lhs), expr_str(rhs))
    if deg == 1:
        return linear(x, lhs, rhs, poly, title, expression)
    return quadratic(x, lhs, rhs, poly, title, expression)


def linear(x, lhs, rhs, poly, title, expression):
    a, b = poly.all_coeffs()
    steps = []
    el, er = sp.expand(lhs), sp.expand(rhs)
    if el != lhs or er != rhs:
        steps.append(["Expand", "%s = %s" % (tex(el), tex(er))])
    rhs_const = -b
    xl = tex(a * x)
    if not (el == a * x and er == rhs_const):
        steps.append(["Collect terms", "%s = %s" % (xl, tex(rhs_const))])
    sol = rhs_const / a
    if a != 1:
        steps.append(["Divide by $%s$" % tex(a), "%s = %s" % (tex(x), tex(sol))])
    answer = "%s = %s" % (x, with_approx(sol))
    alatex = "%s = %s" % (tex(x), tex_approx(sol))
    code = scene(title, steps, alatex)
    return result("linear", answer, alatex, code, expression)


def quadratic(x, lhs, rhs, poly, title, expression):
    a, b, c = poly.all_coeffs()
    p = poly.as_expr()
    steps = []
    if sp.expand(lhs) != lhs or rhs != 0:
        steps.append(["Standard form", "%s = 0" % tex(p)])
    disc = sp.expand(b ** 2 - 4 * a * c)
    roots = [sp.expand((-b - sp.sqrt(disc)) / (2 * a)), sp.expand((-b + sp.sqrt(disc)) / (2 * a))]
    rational = all(r.is_Rational for r in roots)
    if rational:
        f = sp.factor(p)
        steps.append(["Factor", "%s = 0" % tex(f)])
        _, factors = sp.factor_list(p)
        parts = [r"%s = 0" % tex(fc) for fc, _m in factors if fc.has(x)]
        if len(parts) > 1:
            steps.append(["Zero product", r" \quad\text{or}\quad ".join(parts)])
    else:
        steps.append(["Quadratic formula", r"%s = \frac{-b \pm \sqrt{b^2 - 4ac}}{2a}" % tex(x)])
        steps.append(["", r"a = %s,\ b = %s,\ c = %s" % (tex(a), tex(b), tex(c))])
        steps.append(["Discriminant", r"b^2 - 4ac = %s" % tex(disc)])
        steps.append(["", r"%s = \frac{%s \pm \sqrt{%s}}{%s}" % (tex(x), tex(-b), tex(disc), tex(2 * a))])
    uniq = []
    for r in roots:
        if not any(sp.expand(r - u) == 0 for u in uniq):
            uniq.append(r)
    if all(r.is_real for r in uniq):
        uniq.sort(key=lambda r: float(r))
    else:
        uniq.sort(key=lambda r: float(sp.im(r)))
    answer = ", ".join("%s = %s" % (x, with_approx(r)) for r in uniq)
    alatex = r" \quad\text{or}\quad ".join("%s = %s" % (tex(x), tex(r)) for r in uniq)
    if disc < 0:
        steps.append(["No real roots", r"\sqrt{%s} = %s" % (tex(disc), tex(sp.sqrt(disc)))])
    if not rational:  # x = p ± q, short enough to box beside the graph
        centre, half = -b / (2 * a), sp.sqrt(disc) / abs(2 * a)
        alatex = r"%s = %s \pm %s" % (tex(x), tex(centre), tex(half)) if centre != 0 else r"%s = \pm %s" % (tex(x), tex(half))
        if disc > 0:
            steps.append(["", r"%s \approx %s" % (tex(x), r",\ ".join(decimal(r) for r in uniq))])
    # the parabola, roots marked
    fa = [float(r) for r in uniq if r.is_real]
    vx = float(-b / (2 * a))
    lo = min(fa + [vx]) - 3
    hi = max(fa + [vx]) + 3
    if hi - lo < 6:
        lo, hi = vx - 3, vx + 3
    xs, ys = curve_data(p, x, lo, hi)
    vy = float(p.subs(x, -b / (2 * a)))
    yr = y_window([ys], include=[0.0, vy])
    dots = [(float(u), 0.0, tex(u) if u.is_Rational else decimal(u, 2)) for u in uniq if u.is_real]
    g = graph_spec([(0, xs, ys)], (lo, hi), yr, legend=[(0, "y = " + tex(p))], dots=dots)
    code = scene(title, steps, alatex, graph=g)
    return result("quadratic", answer, alatex, code, expression)


# ---------------------------------------------------------------- systems

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
    code = scene(title, steps, alatex, graph=g)
    expression = "; ".join("%s = %s" % (expr_str(l), expr_str(r)) for l, r, _, _ in parsed)
    return result("system", answer, alatex, code, expression)


# ---------------------------------------------------------------- derivatives

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
    code = scene(title, steps, alatex, graph=g)
    return result("derivative", answer, alatex, code, expr_str(f))


# ---------------------------------------------------------------- integrals

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
    code = scene(title, steps, alatex)
    return result("integral", answer, alatex, code, expr_str(f))


BOUNDS = [r"\bfrom\s+(\S+)\s+to\s+(\S+)", r"\bbetween\s+(\S+)\s+and\s+(\S+)",
          r"\b(?:on|over|in)\s+(?:the\s+interval\s+)?\[\s*([^,\]\s]+)\s*,\s*([^\]\s]+)\s*\]",
          r"integral\s*_\s*\{?\s*([^\s{}^]+?)\s*\}?\s*\^\s*\{?\s*([^\s{}]+?)\s*\}?(?=\s|\(|$)",
          r"\blower (?:limit|bound)\s+(\S+)\s+(?:and\s+)?upper (?:limit|bound)\s+(\S+)"]


def find_bounds(text):
    for pat in BOUNDS:
        m = re.search(pat, text)
        if m:
            return m
    return None


def solve_definite(text):
    m = find_bounds(text)
    lo_s, hi_s = m.group(1).strip(",;"), m.group(2).strip(",;")
    rest = text[:m.start()] + " " + text[m.end():]
    hint = int_var(rest)
    rest = re.sub(r"\bd[a-z]\s*$", " ", rest.strip())
    body = scrub(rest, INT_NOISE, r"\b(area under|area|under|the curve|curve|definite|region|bounded by|"
                       r"and the x-axis|x-axis)\b", r"\b[a-z]\([a-z]\)\s*=", r"^\s*y\s*=")
    body = math_part(re.sub(r"\s+d[a-z]\s*$", "", body))
    a = parse_const(lo_s)
    b = parse_const(hi_s)
    f, ft = parse(body, "function")
    x = one_var([f], hint)
    if not (a.is_real or a in (sp.oo, -sp.oo)) or not (b.is_real or b in (sp.oo, -sp.oo)):
        raise Unsupported("The bounds must be real numbers.")
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
    code = scene(title, steps, alatex, graph=g)
    return result("definite_integral", answer, alatex, code,
                  "%s; %s from %s to %s" % (expr_str(f), x, expr_str(a), expr_str(b)))


# ---------------------------------------------------------------- limits

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
    code = scene(title, steps, alatex, graph=g)
    return result("limit", answer, alatex, code, "%s; %s -> %s" % (expr_str(f), x, expr_str(a)))


# ---------------------------------------------------------------- plotting

def solve_plot(text):
    text = re.sub(r"\bfor [a-z] (?=in|from|between)", " ", text)
    rng = find_bounds(text)
    rest = text
    lo = hi = None
    if rng:
        lo, hi = float(parse_const(rng.group(1).strip(",;"))), float(parse_const(rng.group(2).strip(",;")))
        if not (math.isfinite(lo) and math.isfinite(hi)) or hi - lo <= 0 or hi - lo > 1000:
            raise Unsupported("Give a plotting range like \"from -3 to 3\".")
        rest = text[:rng.start()] + " " + text[rng.end():]
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
    code = scene(title, steps, alatex, graph=g)
    return result("plot", answer, alatex, code, expr_str(f))


# ---------------------------------------------------------------- algebra

ALG_NOISE = (r"\b(completely|fully|the expression|expression|the polynomial|polynomial|of|please|it|this|"
             r"as much as possible|over the rationals|into factors|as a product)\b")


def perfect_power(t, k, syms):
    t = -t if t.could_extract_minus_sign() else t
    r = sp.root(t, k)
    return r.is_Rational if t.is_number else r.is_polynomial(*syms) and not r.has(sp.Pow) or r.is_Symbol


def pattern_of(inner, syms):
    """Name the factoring pattern, to say why the factors are what they are."""
    if not inner.is_Add:
        return None
    if len(inner.args) == 2:
        a, b = inner.args
        if a.could_extract_minus_sign() != b.could_extract_minus_sign() and \
                all(perfect_power(t, 2, syms) for t in (a, b)):
            return "Difference of squares", r"a^2 - b^2 = (a - b)(a + b)"
        if all(perfect_power(t, 3, syms) for t in (a, b)):
            return "Sum or difference of cubes", r"a^3 \pm b^3 = (a \pm b)(a^2 \mp ab + b^2)"
    if len(inner.args) == 3 and len(syms) == 1 and sp.degree(inner, syms[0]) == 2:
        return "Trinomial", r"ax^2 + bx + c:\ \text{numbers with product } ac \text{ and sum } b"
    return None


def solve_factor(text):
    body = scrub(text, r"\b(factor|factorise|factorize|factorising|factorizing|factorization|factorisation|"
                       r"factorize|factor out)\b", ALG_NOISE)
    e, et = parse(math_part(body), "expression")
    syms = sorted(e.free_symbols, key=str)
    if not syms or len(syms) > 3 or not e.is_polynomial(*syms):
        raise Unsupported("I can factor polynomials like x^2 - 9 or x^3 - x offline.")
    if sp.Poly(e, *syms).total_degree() > 12:
        raise Unsupported("That polynomial's degree is too high for the offline solver.")
    f = sp.factor(e)
    steps = []
    ft = sp.factor_terms(e)
    if ft != e and ft != f:
        steps.append(["Common factor", tex(ft)])
    if f == e:
        steps.append(["", r"\text{no factors with rational coefficients}"])
    else:
        core = ft.as_independent(*syms, as_Add=False)[1] if ft.is_Mul else ft
        inner = ([q for q in sp.Mul.make_args(core) if q.is_Add] or [core])[-1]
        pattern = pattern_of(inner, syms)
        if pattern:
            steps.append(list(pattern))
        steps.append(["Factor", tex(f)])
    title = r"\text{Factor: } %s" % tex_raw(et)
    alatex = r"%s = %s" % (tex(e), tex(f))
    answer = plain(f)
    code = scene(title, steps, alatex)
    return result("factor", answer, alatex, code, expr_str(e))


def expand_size(e):
    """An upper bound on the number of terms expand() would make."""
    if e.is_Add:
        return sum(expand_size(a) for a in e.args)
    if e.is_Mul:
        n = 1
        for a in e.args:
            n *= expand_size(a)
        return n
    if e.is_Pow and e.exp.is_Integer and e.exp > 0:
        return expand_size(e.base) ** int(e.exp)
    return 1


def solve_expand(text):
    body = scrub(text, r"\b(expand|multiply out|multiply|distribute|expansion of|expand out|simplify by expanding|"
                       r"remove the brackets|remove the parentheses|remove parentheses|open the brackets)\b", ALG_NOISE)
    e, et = parse(math_part(body), "expression")
    if expand_size(et) > 400:
        raise Unsupported("That expansion would be too long to show.")
    r = sp.expand(e)
    steps = []
    work = et
    if work.is_Pow and work.exp.is_Integer and work.exp >= 2 and work.base.is_Add:
        n = int(work.exp)
        steps.append(["Write as a product", r"\left(%s\right)\left(%s\right)" % (tex(work.base), tex(sp.expand(work.base ** (n - 1))))])
        fac = [work.base, sp.expand(work.base ** (n - 1))]
    else:
        fac = list(sp.Mul.make_args(e))
    adds = [q for q in fac if q.is_Add]
    if len(fac) >= 2 and adds:
        first = fac[0] if fac[0].is_Add else adds[0]
        rest = sp.Mul(*[q for q in fac if q is not first], evaluate=False)
        terms = first.as_ordered_terms()
        if len(terms) <= 4:
            pieces = [r"%s\left(%s\right)" % (tex(t) if t != 1 else "", tex(rest)) for t in terms]
            line = pieces[0]
            for t, pc in zip(terms[1:], pieces[1:]):
                if t.could_extract_minus_sign():
                    line += " - " + r"%s\left(%s\right)" % (tex(-t) if -t != 1 else "", tex(rest))
                else:
                    line += " + " + pc
            steps.append(["Distribute", line])
        unc = sp.Add(*[sp.expand(t * rest) for t in terms], evaluate=False)
        if len(unc.args) <= 8 and len(terms) * len(sp.Add.make_args(sp.expand(rest))) <= 12:
            raw = [sp.expand(t * s) for t in terms for s in sp.expand(rest).as_ordered_terms()]
            line = tex(raw[0])
            for q in raw[1:]:
                line += (" - " + tex(-q)) if q.could_extract_minus_sign() else (" + " + tex(q))
            steps.append(["Multiply each term", line])
    steps.append(["Collect like terms", tex(r)])
    title = r"\text{Expand: } %s" % tex_raw(et)
    code = scene(title, steps, tex(r))
    return result("expand", plain(r), tex(r), code, expr_str(e))


def solve_simplify(text):
    body = scrub(text, r"\b(simplify|simplified|simplification|reduce|reduced|tidy up|in simplest form|"
                       r"simplest form|to lowest terms|lowest terms)\b", ALG_NOISE)
    e, et = parse(math_part(body), "expression")
    given = e
    syms = e.free_symbols
    steps = []
    cands = [e]
    num, den = sp.fraction(sp.together(e))
    if den.has(*syms) if syms else False:
        fn, fd = sp.factor(num), sp.factor(den)
        c = sp.cancel(e)
        if sp.fraction(c)[1] != den:  # a common factor cancelled: that is the simplification asked for
            steps.append(["Factor", r"\frac{%s}{%s}" % (tex(fn), tex(fd))])
            steps.append(["Cancel common factors", tex(c)])
            e = c
            cands = [c]
    if e.has(sp.sin, sp.cos, sp.tan, sp.cot, sp.sec, sp.csc):
        t = sp.trigsimp(e)
        cands.append(t)
        if t != e:
            steps.append(["Trig identities", r"\sin^2\theta + \cos^2\theta = 1"])
    cands.append(sp.simplify(e))
    best = min(cands, key=lambda q: (sp.count_ops(q), len(str(q))))
    if not steps or tex(best) != steps[-1][1]:
        steps.append(["Combine like terms" if best.is_polynomial(*syms) and not steps else "Simplify", tex(best)])
    title = r"\text{Simplify: } %s" % tex_raw(et)
    alatex = r"%s = %s" % (tex_raw(et), tex(best))
    code = scene(title, steps, alatex)
    return result("simplify", plain(best), tex(best), code, expr_str(given))


# ---------------------------------------------------------------- fractions

class Frac:
    """A number as written: p/q stays unreduced until an operation uses it."""

    def __init__(self, p, q=1):
        self.p, self.q = sp.Integer(p), sp.Integer(q)

    @property
    def value(self):
        return sp.Rational(self.p, self.q)

    def tex(self):
        if self.q == 1:
            return tex(self.p)
        neg = (self.p < 0)
        s = r"\frac{%s}{%s}" % (tex(abs(self.p)), tex(self.q))
        return "-" + s if neg else s


def frac_of(v):
    v = sp.Rational(v)
    return Frac(v.p, v.q)


def tokenize(s):
    toks = re.findall(r"\d+(?:\.\d+)?|\.\d+|[-+*/()]|\S", s)
    for t in toks:
        if not re.match(r"\d|\.\d|[-+*/()]$", t):
            raise Unsupported("I couldn't read that arithmetic.")
    return toks


def number(t):
    r = sp.Rational(t)
    return Frac(r.p, r.q) if "." in t else Frac(int(t), 1)


class Arith:
    """A tiny parser for + - * / and parentheses; a/b between two numbers is one fraction."""

    def __init__(self, s):
        self.toks = tokenize(s)
        self.i = 0

    def peek(self, k=0):
        return self.toks[self.i + k] if self.i + k < len(self.toks) else None

    def take(self):
        t = self.peek()
        self.i += 1
        return t

    def parse(self):
        node = self.expr(0)
        if self.peek() is not None:
            raise Unsupported("I couldn't read that arithmetic.")
        return node

    def expr(self, depth):
        if depth > 10:
            raise Unsupported("Too many parentheses.")
        node = self.term(depth)
        while self.peek() in ("+", "-"):
            node = [self.take(), node, self.term(depth)]
        return node

    def term(self, depth):
        node = self.unary(depth)
        while self.peek() in ("*", "/"):
            node = [self.take(), node, self.unary(depth)]
        return node

    def unary(self, depth):
        if self.peek() == "-":
            self.take()
            inner = self.unary(depth)
            if isinstance(inner, Frac):
                return Frac(-inner.p, inner.q)
            return ["*", Frac(-1), inner]
        if self.peek() == "+":
            self.take()
            return self.unary(depth)
        return self.atom(depth)

    def atom(self, depth):
        t = self.take()
        if t == "(":
            node = self.expr(depth + 1)
            if self.take() != ")":
                raise Unsupported("The parentheses don't match.")
            return ["()", node]
        if t is None or not re.match(r"\d|\.\d", t):
            raise Unsupported("I couldn't read that arithmetic.")
        n = number(t)
        nxt = self.peek()
        if "." not in t and nxt is not None and re.match(r"\d+$", nxt) and self.peek(1) == "/" \
                and self.peek(2) is not None and re.match(r"\d+$", self.peek(2)):
            self.take()  # a mixed number: 1 1/2
            self.take()
            q = int(self.take())
            if q == 0:
                raise Unsupported("That divides by zero.")
            return Frac(int(t) * q + int(nxt), q)
        if self.peek() == "/" and self.peek(1) is not None and re.match(r"\d+$", self.peek(1)) and "." not in t:
            self.take()
            d = int(self.take())
            if d == 0:
                raise Unsupported("That divides by zero.")
            n = Frac(n.p, d)
        return n


OPS = {"+": "+", "-": "-", "*": r"\times", "/": r"\div"}
PREC = {"+": 1, "-": 1, "*": 2, "/": 2}


def arith_tex(node, parent=0, right=False):
    if isinstance(node, Frac):
        s = node.tex()
        return r"\left(%s\right)" % s if (node.p < 0 and (parent or right)) else s
    if node[0] == "()":
        return r"\left(%s\right)" % arith_tex(node[1])
    op, a, b = node
    return "%s %s %s" % (arith_tex(a, PREC[op]), OPS[op], arith_tex(b, PREC[op], True))


def count_ops_arith(node):
    if isinstance(node, Frac):
        return 0
    if node[0] == "()":
        return count_ops_arith(node[1])
    return 1 + count_ops_arith(node[1]) + count_ops_arith(node[2])


def op_step(op, a, b):
    """One operation on two fractions: (label, latex of the working, result)."""
    A, B = a.value, b.value
    ta, tb = a.tex(), b.tex()
    tb_ = r"\left(%s\right)" % tb if b.p < 0 else tb
    if op in "+-":
        r = A + B if op == "+" else A - B
        if a.q == 1 and b.q == 1:
            return "Add" if op == "+" else "Subtract", "%s %s %s = %s" % (ta, op, tb_, tex(r)), r
        if a.q == b.q:
            line = r"%s %s %s = \frac{%s %s %s}{%s} = %s" % (ta, op, tb_, tex(a.p), op, tex(b.p) if b.p >= 0 else r"(%s)" % tex(b.p), tex(a.q), tex(r))
            return "Same denominator", line, r
        L = sp.ilcm(a.q, b.q)
        na, nb = a.p * (L // a.q), b.p * (L // b.q)
        line = r"%s %s %s = \frac{%s}{%s} %s \frac{%s}{%s} = %s" % (ta, op, tb_, tex(na), tex(L), op,
                                                                    tex(nb) if nb >= 0 else r"(%s)" % tex(nb), tex(L), tex(r))
        return "Common denominator %s" % L, line, r
    if op == "*":
        r = A * B
        line = r"%s \times %s = \frac{%s \times %s}{%s \times %s} = %s" % (ta, tb_, tex(a.p), tex(b.p), tex(a.q), tex(b.q), tex(r))
        if a.q == 1 and b.q == 1:
            line = r"%s \times %s = %s" % (ta, tb_, tex(r))
        return "Multiply", line, r
    if B == 0:
        raise Unsupported("That divides by zero.")
    r = A / B
    flip = Frac(b.q, b.p) if b.p > 0 else Frac(-b.q, -b.p)
    line = r"%s \div %s = %s \times %s = %s" % (ta, tb_, ta, flip.tex(), tex(r))
    return "Divide: flip and multiply", line, r


def reduce_once(node):
    """Evaluate the first operation whose operands are both numbers."""
    if isinstance(node, Frac):
        return node, None
    if node[0] == "()":
        inner, st = reduce_once(node[1])
        if isinstance(inner, Frac):
            return inner, st
        return ["()", inner], st
    op, a, b = node
    if isinstance(a, list):
        na, st = reduce_once(a)
        return [op, na, b], st
    if isinstance(b, list):
        nb, st = reduce_once(b)
        return [op, a, nb], st
    label, line, r = op_step(op, a, b)
    return frac_of(r), (label, line)


def solve_fractions(text):
    text = arith_words(text)
    body = scrub(text, r"\b(what|is|of|simplify|reduce|calculate|compute|evaluate|work out|solve|equals|equal)\b")
    body = body.rstrip("= ").strip()
    if len(body) > MAX_EXPR:
        raise Unsupported("That calculation is too long for me (at most %d characters)." % MAX_EXPR)
    if re.search(r"\d{13,}", body):
        raise Unsupported("One of the numbers is too large for me.")
    tree = Arith(body).parse()
    n = count_ops_arith(tree)
    if n > 6:
        raise Unsupported("That calculation has too many operations to show step by step (6 at most).")
    title = arith_tex(tree)
    steps = []
    node = tree
    while not isinstance(node, Frac):
        node, st = reduce_once(node)
        if st:
            steps.append([st[0], st[1]])
    v = node.value
    if isinstance(tree, Frac) and (tree.q != 1 and sp.gcd(tree.p, tree.q) != 1):
        g = sp.gcd(tree.p, tree.q)
        steps.append(["Divide top and bottom by %s" % g, r"%s = %s" % (tree.tex(), tex(v))])
    dec = decimal(v, 4)
    exact = plain(v)
    q = v.q
    while q % 2 == 0:
        q //= 2
    while q % 5 == 0:
        q //= 5
    if v.q == 1:
        answer, alatex = "= " + exact, "= " + tex(v)
    elif q == 1 and len(dec) <= 12:
        answer, alatex = "= %s = %s" % (exact, dec), "= %s = %s" % (tex(v), dec)
    else:
        answer, alatex = "= %s ≈ %s" % (exact, dec), r"= %s \approx %s" % (tex(v), dec)
    code = scene(title, steps, title + " " + alatex)
    return result("fractions", answer, title + " " + alatex, code, expr_str(sp.sympify(v)))


# ---------------------------------------------------------------- geometry

def numbers_in(text):
    return [sp.Rational(m) for m in re.findall(r"(?<![a-z_^])\d+(?:\.\d+)?", text)]


def root_line(name, square, root):
    """c = sqrt(25) = 5, c = sqrt(50) = 5 sqrt(2) ≈ 7.0711, c = sqrt(41) ≈ 6.4031."""
    line = r"%s = \sqrt{%s}" % (name, tex(square))
    if root.is_Rational or root != sp.sqrt(square, evaluate=False):
        line += " = " + tex(root)
    if not root.is_Rational:
        line += r" \approx " + decimal(root)
    return line


def side_text(v, decimals):
    """A side length for the answer: exact, or a terminating decimal when the question used decimals."""
    if decimals and v.is_Rational and v.q != 1:
        q = v.q
        for p_ in (2, 5):
            while q % p_ == 0:
                q //= p_
        if q == 1:
            return decimal(v, 10)
    return with_approx(v)


def solve_pythagoras(text):
    hm = re.search(r"hypotenuse\s*(?:is|of|=|:|length|of length|measures|measuring|equal to|is equal to|"
                   r"has length|with length)?\s*(\d+(?:\.\d+)?)", text) or \
        re.search(r"(\d+(?:\.\d+)?)\s*(?:cm|m|mm|in|ft|units?)?\s*(?:long\s*)?hypotenuse", text) or \
        re.search(r"\bc\s*=\s*(\d+(?:\.\d+)?)", text)
    nums = numbers_in(text)
    if any(n > 10 ** 6 for n in nums):
        raise Unsupported("Those lengths are too large for me.")
    if hm:
        c = sp.Rational(hm.group(1))
        others = list(nums)
        if c in others:
            others.remove(c)
        if len(others) != 1:
            raise Unsupported("Give the hypotenuse and one leg, e.g. \"hypotenuse 13 and one leg 5, find the other leg\".")
        a = others[0]
        if a <= 0 or c <= 0:
            raise Unsupported("Side lengths must be positive.")
        if a >= c:
            raise Unsupported("A leg must be shorter than the hypotenuse.")
        b2 = c ** 2 - a ** 2
        b = sp.sqrt(b2)
        title = r"\text{Right triangle: } c = %s,\ a = %s,\ b = \,?" % (tex(c), tex(a))
        steps = [["Pythagorean theorem", r"a^2 + b^2 = c^2"],
                 ["Substitute", r"%s^2 + b^2 = %s^2" % (tex(a), tex(c))],
                 ["", r"b^2 = %s - %s = %s" % (tex(c ** 2), tex(a ** 2), tex(b2))],
                 ["Square root", root_line("b", b2, b)]]
        alatex = r"b = %s" % tex_approx(b)
        fig = {"legs": [float(a), float(b)], "labels": [tex(a), "b = ?", "c = %s" % tex(c)], "unknown": 1,
               "solved": "b = %s" % (tex(b) if b.is_Rational else decimal(b, 2))}
        code = scene(title, steps, alatex, triangle=fig)
        return result("pythagoras", side_text(b, "." in text), alatex, code, "c = %s, a = %s" % (c, a))
    if len(nums) != 2:
        raise Unsupported("Give the two legs, e.g. \"a right triangle has legs 3 and 4, find the hypotenuse\".")
    a, b = nums
    if a <= 0 or b <= 0:
        raise Unsupported("Side lengths must be positive.")
    c2 = a ** 2 + b ** 2
    c = sp.sqrt(c2)
    title = r"\text{Right triangle: } a = %s,\ b = %s,\ c = \,?" % (tex(a), tex(b))
    steps = [["Pythagorean theorem", r"a^2 + b^2 = c^2"],
             ["Substitute", r"%s^2 + %s^2 = c^2" % (tex(a), tex(b))],
             ["", r"%s + %s = %s = c^2" % (tex(a ** 2), tex(b ** 2), tex(c2))],
             ["Square root", root_line("c", c2, c)]]
    alatex = r"c = %s" % tex_approx(c)
    fig = {"legs": [float(a), float(b)], "labels": [tex(a), tex(b), "c = ?"], "unknown": 2,
           "solved": "c = %s" % (tex(c) if c.is_Rational else decimal(c, 2))}
    code = scene(title, steps, alatex, triangle=fig)
    return result("pythagoras", side_text(c, "." in text), alatex, code, "a = %s, b = %s" % (a, b))


def solve_circle(text):
    rm = re.search(r"\bradius\s*(?:is|of|=|:|r\s*=|equal to|is equal to|of length|measuring)?\s*(\d+(?:\.\d+)?)", text) or \
        re.search(r"\br\s*=\s*(\d+(?:\.\d+)?)", text) or re.search(r"(\d+(?:\.\d+)?)\s*(?:cm|m|mm|in|ft|units?)?\s*radius", text)
    dm = re.search(r"\bdiameter\s*(?:is|of|=|:|d\s*=|equal to|is equal to|of length|measuring)?\s*(\d+(?:\.\d+)?)", text) or \
        re.search(r"\bd\s*=\s*(\d+(?:\.\d+)?)", text) or re.search(r"(\d+(?:\.\d+)?)\s*(?:cm|m|mm|in|ft|units?)?\s*diameter", text)
    nums = numbers_in(text)
    if rm:
        r, dia = sp.Rational(rm.group(1)), None
    elif dm:
        dia = sp.Rational(dm.group(1))
        r = dia / 2
    elif len(nums) == 1 and "radius" in text:
        r, dia = nums[0], None
    elif len(nums) == 1 and "diameter" in text:
        dia = nums[0]
        r = dia / 2
    else:
        raise Unsupported("Give the radius or diameter, e.g. \"area of a circle with radius 5\".")
    if r <= 0 or r > 10 ** 6:
        raise Unsupported("The radius must be a positive number (up to a million).")
    want_a = bool(re.search(r"\barea\b", text))
    want_c = bool(re.search(r"circumference|perimeter|\blength around\b", text))
    if not want_a and not want_c:
        want_a = want_c = True
    A, C = sp.pi * r ** 2, 2 * sp.pi * r
    steps = []
    if dia is not None:
        steps.append(["Radius", r"r = \frac{d}{2} = \frac{%s}{2} = %s" % (tex(dia), tex(r))])
    parts, lparts = [], []
    if want_a:
        steps.append(["Area", r"A = \pi r^2 = \pi \cdot %s^2 = %s \approx %s" % (
            tex(r) if r.q == 1 else r"\left(%s\right)" % tex(r), tex(A), decimal(A, 2))])
        parts.append("A = %s ≈ %s" % (plain(A), decimal(A, 2)))
        lparts.append(r"A = %s \approx %s" % (tex(A), decimal(A, 2)))
    if want_c:
        steps.append(["Circumference", r"C = 2\pi r = 2\pi \cdot %s = %s \approx %s" % (
            tex(r) if r.q == 1 else r"\left(%s\right)" % tex(r), tex(C), decimal(C, 2))])
        parts.append("C = %s ≈ %s" % (plain(C), decimal(C, 2)))
        lparts.append(r"C = %s \approx %s" % (tex(C), decimal(C, 2)))
    given = ("d = %s" % tex(dia)) if dia is not None else ("r = %s" % tex(r))
    title = r"\text{Circle: } %s" % given
    alatex = r",\quad ".join(lparts)
    code = scene(title, steps, alatex, circle={"diameter": dia is not None, "label": given})
    return result("circle", ", ".join(parts), alatex, code, "r = %s" % r)


# ---------------------------------------------------------------- series

def series_terms(text):
    m = re.search(r"((?:%s\s*[,+]\s*){1,}%s)\s*[,+]?\s*\.\.\.(?:\s*[,+]?\s*(%s))?" % (NUMF, NUMF, NUMF), text)
    if not m:  # "... of 1, 3, 9": three or more bare numbers
        m = re.search(r"(?<![=\w/.])((?:%s\s*,\s*){2,}%s)(?![\w=/.])()" % (NUMF, NUMF), text)
    if not m:
        return None, None, None
    terms = [rat(t) for t in re.split(r"\s*[,+]\s*", m.group(1)) if t.strip()]
    last = rat(m.group(2)) if m.group(2) else None
    return terms, last, m


def grab(pats, text, conv=rat):
    for p in pats:
        m = re.search(p, text)
        if m:
            return conv(m.group(1))
    return None


def solve_series(text):
    terms, last, m = series_terms(text)
    rest = text if m is None else text[:m.start()] + " " + text[m.end():]
    n = grab([r"\bfirst\s+(\d+)\s+terms?", r"\b(\d+)\s+terms", r"\bn\s*=\s*(\d+)", r"\bup to (?:the )?(\d+)(?:st|nd|rd|th) term", r"\bs_?\s*(\d+)\b"], rest, int)
    a1 = grab([r"\ba_?\s*1\s*=\s*(%s)" % NUMF, r"\bfirst term\s*(?:is|of|=|:|a\s*=)?\s*(%s)" % NUMF,
               r"\ba\s*=\s*(%s)" % NUMF, r"\bstarting (?:at|from|with)\s*(%s)" % NUMF], rest)
    d = grab([r"\bd\s*=\s*(%s)" % NUMF, r"\bdifference\s*(?:is|of|=|:|d\s*=)?\s*(%s)" % NUMF], rest)
    r = grab([r"\br\s*=\s*(%s)" % NUMF, r"\bratio\s*(?:is|of|=|:|r\s*=)?\s*(%s)" % NUMF], rest)
    infinite = bool(re.search(r"\binfinite|\binfinity\b|\boo\b|\bforever\b|\bsum to infinity\b|\bs_?oo\b", text))
    kind = "arithmetic" if re.search(r"arithmetic", text) else ("geometric" if re.search(r"geometric", text) else None)
    if terms is not None:
        if len(terms) < 2:
            raise Unsupported("Give at least two terms, e.g. \"3, 7, 11, ...\".")
        diffs = {terms[i + 1] - terms[i] for i in range(len(terms) - 1)}
        ratios = {terms[i + 1] / terms[i] for i in range(len(terms) - 1)} if all(t != 0 for t in terms) else set()
        if kind is None:
            if len(diffs) == 1 and (len(terms) > 2 or len(ratios) != 1 or d is not None):
                kind = "arithmetic"
            elif len(ratios) == 1:
                kind = "geometric"
        if kind == "arithmetic":
            if len(diffs) != 1:
                raise Unsupported("Those terms don't have a common difference, so it isn't an arithmetic series.")
            a1, d = terms[0], diffs.pop()
        elif kind == "geometric":
            if len(ratios) != 1:
                raise Unsupported("Those terms don't have a common ratio, so it isn't a geometric series.")
            a1, r = terms[0], ratios.pop()
        else:
            raise Unsupported("Those terms have neither a common difference nor a common ratio.")
    if kind is None:
        kind = "arithmetic" if d is not None else ("geometric" if r is not None else None)
    if kind is None or a1 is None:
        raise Unsupported("Give the first terms (\"sum of the first 20 terms of 3, 7, 11, ...\") or the first "
                          "term with the difference or ratio (\"arithmetic series a1=2, d=5, n=10\").")
    if kind == "arithmetic":
        if d is None:
            raise Unsupported("Give the common difference d, e.g. \"a1=2, d=5, n=10\".")
        if n is None and last is not None:
            k = (last - a1) / d if d != 0 else None
            if k is None or not k.is_integer or k < 0:
                raise Unsupported("The last term doesn't belong to that arithmetic sequence.")
            n = int(k) + 1
        if n is None:
            raise Unsupported("Say how many terms to add, e.g. \"the first 20 terms\".")
        if not 1 <= n <= 10 ** 6:
            raise Unsupported("The number of terms must be between 1 and a million.")
        an = a1 + (n - 1) * d
        S = sp.Rational(n, 2) * (2 * a1 + (n - 1) * d)
        title = r"\text{Arithmetic series: } a_1 = %s,\ d = %s,\ n = %s" % (tex(a1), tex(d), n)
        shown = [a1 + i * d for i in range(min(n, 4))]
        steps = [["Terms", ",\ ".join(tex(t) for t in shown) + (r",\ \ldots,\ %s" % tex(an) if n > 4 else "")],
                 ["Sum formula", r"S_n = \frac{n}{2}\left(2a_1 + (n-1)d\right)"],
                 ["Substitute", r"S_{%d} = \frac{%d}{2}\left(2 \cdot %s + %d \cdot %s\right)" % (
                     n, n, tex(a1) if a1 >= 0 else r"(%s)" % tex(a1), n - 1, tex(d) if d >= 0 else r"(%s)" % tex(d))],
                 ["", r"= %s \cdot %s" % (tex(sp.Rational(n, 2)), tex(2 * a1 + (n - 1) * d))],
                 ["", r"S_{%d} = %s" % (n, tex(S))]]
        alatex = r"S_{%d} = %s" % (n, tex(S))
        code = scene(title, steps, alatex)
        return result("arithmetic_series", "S_%d = %s" % (n, with_approx(S)), alatex, code,
                      "a1 = %s, d = %s, n = %d" % (a1, d, n))
    if r is None:
        raise Unsupported("Give the common ratio r, e.g. \"first term 3 ratio 1/2\".")
    if r == 0:
        raise Unsupported("A geometric series needs a ratio other than 0.")
    title_base = r"\text{Geometric series: } a_1 = %s,\ r = %s" % (tex(a1), tex(r))
    if n is None and (infinite or (terms is not None and last is None)):
        if abs(r) >= 1:
            raise Unsupported("That infinite geometric series diverges because |r| = %s is not less than 1." % plain(abs(r)))
        S = a1 / (1 - r)
        steps = [["Converges", r"|r| = %s < 1" % tex(abs(r))],
                 ["Sum formula", r"S_\infty = \frac{a_1}{1 - r}"],
                 ["Substitute", r"S_\infty = \frac{%s}{1 - %s}" % (tex(a1), tex(r) if r > 0 else r"\left(%s\right)" % tex(r))],
                 ["", r"= \frac{%s}{%s}" % (tex(a1), tex(1 - r))]]
        alatex = r"S_\infty = %s" % tex(S)
        code = scene(title_base + r",\ n \to \infty", steps, alatex)
        return result("geometric_series", "S_∞ = %s" % with_approx(S), alatex, code,
                      "a1 = %s, r = %s, n = oo" % (a1, r))
    if n is None and last is not None:
        k = 0
        t = a1
        while t != last and k < 200:
            t, k = t * r, k + 1
        if t != last:
            raise Unsupported("The last term doesn't belong to that geometric sequence.")
        n = k + 1
    if n is None:
        raise Unsupported("Say how many terms to add (\"first 8 terms\") or ask for the infinite sum.")
    if not 1 <= n <= 60:
        raise Unsupported("For a geometric series I add up to 60 terms.")
    S = n * a1 if r == 1 else a1 * (1 - r ** n) / (1 - r)
    shown = [a1 * r ** i for i in range(min(n, 4))]
    steps = [["Terms", ",\ ".join(tex(t) for t in shown) + (r",\ \ldots" if n > 4 else "")]]
    if r == 1:
        steps.append(["Ratio 1", r"S_n = n\,a_1"])
    else:
        steps += [["Sum formula", r"S_n = a_1\,\frac{1 - r^n}{1 - r}"],
                  ["Substitute", r"S_{%d} = %s \cdot \frac{1 - %s^{%d}}{1 - %s}" % (
                      n, tex(a1), tex(r) if (r > 0 and r.q == 1) else r"\left(%s\right)" % tex(r), n,
                      tex(r) if r > 0 else r"\left(%s\right)" % tex(r))],
                  ["", r"= %s \cdot \frac{%s}{%s}" % (tex(a1), tex(1 - r ** n), tex(1 - r))]]
    alatex = r"S_{%d} = %s" % (n, tex_approx(S))
    if S.q >= 10 ** 6:  # a huge exact fraction helps nobody
        answer, alatex = "S_%d ≈ %s" % (n, decimal(S, 6)), r"S_{%d} \approx %s" % (n, decimal(S, 6))
    else:
        answer = "S_%d = %s" % (n, with_approx(S))
    return result("geometric_series", answer, alatex, scene(title_base + r",\ n = %d" % n, steps, alatex),
                  "a1 = %s, r = %s, n = %d" % (a1, r, n))


# ---------------------------------------------------------------- determinants

def parse_matrix(text):
    text = re.sub(r"\b[23]\s*(?:x|by|\*)\s*[23]\b", " ", text)
    text = re.sub(r"\b(with rows|rows|with entries|entries|row)\b", " ", text)
    text = re.sub(r"(?<=\d)\s+and\s+(?=-?\d)", "; ", text)
    s = scrub(text, r"\b(determinant|det|of|matrix|the matrix|a matrix|find|compute|calculate|evaluate|"
                    r"what is|is|[a-z]\s*=)\b", r"\b[a-z]\s*=")
    if len(s) > MAX_EXPR:
        raise Unsupported("That matrix is too long for me.")
    if re.search(r"[^0-9\s,;.\-+/\[\]()|]", s):
        raise Unsupported("Write the matrix with numbers only, e.g. \"determinant of [[1,2],[3,4]]\" or "
                          "\"det 1 2; 3 4\".")
    s = s.strip().strip("|")
    inner = re.findall(r"[\[(]([^\[\]()]*)[\])]", s)
    if len(inner) >= 2:
        rows = inner
    else:
        s2 = s.strip("[]() ")
        rows = [r for r in re.split(r"[;|]|\]\s*,?\s*\[", s2) if r.strip()]
        if len(rows) == 1:
            vals = [v for v in re.split(r"[\s,]+", rows[0]) if v]
            k = int(round(math.sqrt(len(vals))))
            if k * k == len(vals) and k in (2, 3):
                rows = [" ".join(vals[i * k:(i + 1) * k]) for i in range(k)]
    matrix = []
    for row in rows:
        vals = [v for v in re.split(r"[\s,]+", row.strip()) if v]
        out = []
        for v in vals:
            if not re.match(r"^[-+]?\d+(?:\.\d+)?(?:/\d+)?$", v) or len(v) > 12:
                raise Unsupported("Each matrix entry must be a number, e.g. [[1,2],[3,4]].")
            out.append(rat(v.lstrip("+")))
        matrix.append(out)
    n = len(matrix)
    if n not in (2, 3) or any(len(r) != n for r in matrix):
        raise Unsupported("I compute determinants of 2x2 and 3x3 matrices, e.g. \"det [[1,2],[3,4]]\".")
    return matrix


def vm(rows):
    return r"\begin{vmatrix} %s \end{vmatrix}" % r" \\ ".join(" & ".join(tex(v) for v in r) for r in rows)


def paren(v):
    return r"\left(%s\right)" % tex(v) if v < 0 else tex(v)


def solve_determinant(text):
    M = parse_matrix(text)
    n = len(M)
    title = r"\det %s" % vm(M).replace("vmatrix", "pmatrix")
    steps = []
    if n == 2:
        (a, b), (c, d) = M
        det = a * d - b * c
        steps.append(["Rule", r"\begin{vmatrix} a & b \\ c & d \end{vmatrix} = ad - bc"])
        steps.append(["Substitute", r"%s \cdot %s - %s \cdot %s" % (paren(a), paren(d), paren(b), paren(c))])
        steps.append(["", r"= %s - %s" % (tex(a * d), paren(b * c))])
    else:
        (a, b, c), (d, e, f), (g, h, i) = M
        det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
        steps.append(["Expand along row 1", r"%s%s - %s%s + %s%s" % (
            paren(a), vm([[e, f], [h, i]]), paren(b), vm([[d, f], [g, i]]), paren(c), vm([[d, e], [g, h]]))])
        steps.append(["2x2 minors", r"%s\left(%s\right) - %s\left(%s\right) + %s\left(%s\right)" % (
            paren(a), tex(e * i - f * h), paren(b), tex(d * i - f * g), paren(c), tex(d * h - e * g))])
        steps.append(["", r"= %s - %s + %s" % (tex(a * (e * i - f * h)), paren(b * (d * i - f * g)), paren(c * (d * h - e * g)))])
    alatex = r"\det = %s" % tex(det)
    code = scene(title, steps, alatex)
    return result("determinant", "det = %s" % plain(det), alatex, code,
                  "[" + ", ".join("[" + ", ".join(str(v) for v in r) + "]" for r in M) + "]")


# ---------------------------------------------------------------- dispatch

def has(pat, text):
    return re.search(pat, text) is not None


# Arithmetic said in words ("3/4 divided by 1/8", "2 times 3/5").
ARITH_WORDS = [(r"\bdivided\s+by\b", " / "), (r"\bmultiplied\s+by\b", " * "), (r"\btimes\b", " * "),
               (r"\bplus\b", " + "), (r"\bminus\b", " - ")]


def arith_words(text):
    text = re.sub(r"(?<=\d)\s+of\s+(?=[\d(])", " * ", text)  # 3/5 of 20
    for pattern, op in ARITH_WORDS:
        text = re.sub(pattern, op, text)
    return text


def only_arith(text):
    text = arith_words(text)
    body = scrub(text, r"\b(what|is|of|simplify|reduce|calculate|compute|evaluate|work out|solve|equals|equal)\b")
    body = body.rstrip("= ").strip()
    return bool(body) and re.fullmatch(r"[\d\s+\-*/().]+", body) is not None and re.search(r"\d", body) is not None \
        and (re.search(r"[+*/]|\d\s*-", body) is not None)


def route(text):
    """The family for normalised text, or None."""
    if has(r"\bdet\b|\bdeterminant", text):
        return solve_determinant
    if has(r"hypotenuse|right[- ]?(?:angled )?triangle|pythag|\blegs?\b", text):
        return solve_pythagoras
    if has(r"\bcircle|\bradius\b|\bdiameter\b|circumference", text):
        return solve_circle
    if has(r"\bseries\b|\bsequence\b|\bprogression\b|arithmetic|geometric|common ratio|common difference|"
           r"sum of (?:the )?first|(?<!lowest )(?<!like )(?<!simplest )\bterms\b|\d\s*,\s*\.\.\.|\.\.\.", text):
        return solve_series
    integral = has(r"\bintegra|antiderivative|anti-derivative|\bprimitive\b|area under|area between", text)
    if integral and find_bounds(text):
        return solve_definite
    if integral:
        return solve_integral
    if has(r"\blim(?:it)?(?![a-z])", text):
        return solve_limit
    if has(r"\bdifferentiat|\bderivative|\bderive\b|d/d[a-z]|\b[a-z]'|\bd[a-z]/d[a-z]\b|\bdiff\b", text):
        return solve_derivative
    if has(r"\bsolve\b", text) and "=" in text:
        return solve_system if text.count("=") >= 2 else solve_equation
    if has(r"\b(plot|graph|sketch|draw)\b", text):
        return solve_plot
    equation_words = has(r"=|\bsolve\b|\broots?\b|\bzeros?\b|\bzeroes\b|\bsolutions?\b", text)
    if has(r"\bfactor(?:ise|ize|ising|izing|isation|ization)?\b", text) and not has(r"=|\broots?\b|\bsolve\b", text):
        return solve_factor
    if has(r"\bexpand|multiply out|\bdistribute\b|remove the (?:brackets|parentheses)", text) and "=" not in text:
        return solve_expand
    if only_arith(text):
        return solve_fractions
    if has(r"\bsimplif|\breduce\b|lowest terms|simplest form", text) and "=" not in text:
        return solve_simplify
    if text.count("=") >= 2:
        return solve_system
    if equation_words:
        return solve_equation
    return None


VERBS = {"derivative": "differentiate", "integral": "integrate", "factor": "factor", "expand": "expand",
         "simplify": "simplify", "plot": "plot"}


def with_context(text, context):
    """Follow-ups: "now plot it" or "what about x^3?" after an earlier problem."""
    if not context or len(context) > MAX_PROBLEM or odd_chars(normalise(context)):
        return None
    try:
        prev = solve_text(normalise(context))
    except Exception:
        return None
    if not prev.get("ok"):
        return None
    expr = prev["expression"]
    if ";" in expr or "[" in expr or not re.fullmatch(r"[0-9a-zA-Z\s+\-*/^().=]*", expr):
        return None
    if "=" in expr:
        l, r = expr.split("=", 1)
        expr = l if r.strip() == "0" else "(%s) - (%s)" % (l, r)
    expr = expr.replace("E", "e")
    if has(r"\b(it|this|that|the same|the function|the result|the expression)\b", text):
        return re.sub(r"\b(it|this|that|the same|the function|the result|the expression)\b", "(%s)" % expr, text, count=1)
    verb = VERBS.get(prev["family"])
    m = re.match(r"^(?:and |now |what about |how about |same for |same with |and what about )+(.*)$", text)
    if verb and m:
        return "%s %s" % (verb, m.group(1))
    return None


def solve_text(text):
    handler = route(text)
    if handler is None:
        raise LookupError
    return handler(text)


def odd_chars(text):
    """Characters no supported problem needs (LaTeX, shell, templating, other scripts)."""
    odd = sorted(set(re.findall(r"[\\`$#@~<>&%]|[^\x00-\x7f]", text.replace("->", ""))))
    return odd + ["_"] if "__" in text else odd


def solve(problem, context=""):
    if not isinstance(problem, str) or not problem.strip():
        return unsupported(HELP)
    if len(problem) > MAX_PROBLEM:
        return unsupported("That message is too long for the offline solver (at most %d characters). "
                           "Try a shorter problem, e.g. %s." % (MAX_PROBLEM, EXAMPLES))
    text = normalise(problem)
    odd = odd_chars(text)
    if odd:
        shown = " ".join(c for c in odd if c.isprintable() and not c.isspace()) or "(an invisible control character)"
        return unsupported("I can't read the character(s) %s. Write the problem in plain words and notation, "
                           "e.g. %s." % (shown, EXAMPLES))
    try:
        try:
            return solve_text(text)
        except (LookupError, Unsupported) as first:
            follow = with_context(text, context if isinstance(context, str) else "")
            if follow is not None and follow != text:
                try:
                    return solve_text(follow)
                except LookupError:
                    pass
            if isinstance(first, Unsupported):
                raise first
            return unsupported(HELP)
    except Unsupported as e:
        return unsupported(str(e))
    except Timeout:
        return unsupported("That took too long to work out offline. An AI provider (MATHREEL_PROVIDERS) "
                           "may handle it, or try a simpler form.")
    except RecursionError:
        return unsupported("That formula is nested too deeply for me.")
    except Exception:
        return unsupported("Something in that problem stopped the offline solver. Try phrasing it like %s, "
                           "or configure an AI provider (MATHREEL_PROVIDERS)." % EXAMPLES)


def unsupported(message):
    return {"ok": False, "error": "unsupported_problem", "message": message}


# ---------------------------------------------------------------- worker loop

def on_alarm(signum, frame):
    raise Timeout()


def handle(line):
    try:
        req = json.loads(line)
    except (ValueError, RecursionError):
        return {"ok": False, "error": "bad_request", "message": "Each request must be one JSON object per line."}
    if not isinstance(req, dict) or not isinstance(req.get("problem"), str):
        return {"ok": False, "error": "bad_request", "message": "The request needs a \"problem\" string."}
    ctx = req.get("context") or ""
    # CPU time, not wall time: a busy machine must not turn a quick problem into a refusal
    # (the daemon keeps its own wall-clock deadline on the whole worker).
    signal.setitimer(signal.ITIMER_PROF, REQUEST_SECONDS, 0.25)
    try:
        return solve(req["problem"], ctx if isinstance(ctx, str) else "")
    except Timeout:
        return unsupported("That took too long to work out offline. An AI provider (MATHREEL_PROVIDERS) may handle it.")
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)


def warm():
    """Pay for SymPy's lazy imports before the first request."""
    for p in ("solve x^2 - 5x + 6 = 0", "differentiate x^3 sin(x)", "integrate x e^(x^2)",
              "integrate x^2 from 0 to 3", "limit of sin(x)/x as x approaches 0", "plot y = 1/x",
              "simplify (x^2-1)/(x-1)", "2x + y = 7 and x - y = 2", "1/2 + 3/4", "factor x^2 - 9",
              "expand (x+2)^3", "lim x->oo (1+1/x)^x", "integrate e^x sin(x)", "integrate x sin(x)",
              "integrate sin(x) cos(x)", "lim x->0 (e^x - 1)/x"):
        try:
            solve(p)
        except Exception:
            pass


def main():
    signal.signal(signal.SIGPROF, on_alarm)
    warm()
    out = sys.stdout
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    stdin = sys.stdin.buffer
    while True:
        line = stdin.readline(1 << 20)
        if not line:
            break
        if not line.endswith(b"\n") and len(line) >= 1 << 20:
            while True:  # drop the rest of an oversized line
                more = stdin.readline(1 << 20)
                if not more or more.endswith(b"\n"):
                    break
            reply = unsupported("That message is too long for the offline solver.")
        elif not line.strip():
            reply = {"ok": False, "error": "bad_request", "message": "An empty line is not a request."}
        else:
            try:
                reply = handle(line.decode("utf-8", "replace"))
            except BaseException as e:  # never let one request end the worker
                if isinstance(e, (KeyboardInterrupt, SystemExit)):
                    raise
                reply = unsupported("Something in that problem stopped the offline solver.")
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
