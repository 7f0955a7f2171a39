"""The person's text before SymPy: Unicode to ASCII notation, the allow-list, and parsing
into SymPy with no builtins. Nothing else may call parse_expr."""
import re
import unicodedata

import sympy as sp
from sympy.parsing.sympy_parser import (convert_xor, implicit_multiplication_application,
                                        parse_expr, standard_transformations)

from .base import EXAMPLES, MAX_EXPR, Timeout, Unsupported


# ---------------------------------------------------------------- normalising

SUPERSCRIPT = {"⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6",
               "⁷": "7", "⁸": "8", "⁹": "9", "⁻": "-", "⁺": "+", "ⁿ": "n", "ˣ": "x"}
REPLACE = [("−", "-"), ("–", "-"), ("—", "-"), ("×", "*"), ("·", "*"), ("⋅", "*"), ("∙", "*"),
           ("÷", " / "), ("π", " pi "), ("∞", " oo "), ("→", "->"), ("⟶", "->"), ("⇒", "->"),
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
