"""Reading a sentence for the several families: noise words, the formula inside a
sentence, the variable, bounds, arithmetic said in words."""
import re

import sympy as sp

from .base import Unsupported
from .text import NAMES, STOPWORDS, split_run


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


# An integral's bounds or a plotting range ("from 0 to 3", "on [0, 1]", "integral_0^1").
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


# Arithmetic said in words ("3/4 divided by 1/8", "2 times 3/5").
ARITH_WORDS = [(r"\bdivided\s+by\b", " / "), (r"\bmultiplied\s+by\b", " * "), (r"\btimes\b", " * "),
               (r"\bplus\b", " + "), (r"\bminus\b", " - ")]


def arith_words(text):
    text = re.sub(r"(?<=\d)\s+of\s+(?=[\d(])", " * ", text)  # 3/5 of 20
    for pattern, op in ARITH_WORDS:
        text = re.sub(pattern, op, text)
    return text
