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
    if all(mathy(w) for w in words) and not re.search(r"[,;:?!]\s", body):
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


# An integral's bounds or a plotting range ("from 0 to 3", "from x = 1 to x = 3", "on [0, 1]",
# "integral_0^1", "upper limit 3 and lower limit 1"). Named groups: each number's role is its
# group, never its place in the sentence.
VAR_EQ = r"(?:(?P<v1>[a-z])\s*=\s*)?"
VAR_EQ2 = r"(?:(?P<v2>[a-z])\s*=\s*)?"
# "between" also joins formulas ("between y = x^2 and the x-axis"): there a bound must look like a number
CONSTISH = r"[-+]?(?:\d|pi\b|e\b|oo\b|inf)[^\s,;]*"
BOUNDS = [r"\bfrom\s+" + VAR_EQ + r"(?P<lo>\S+)\s+to\s+" + VAR_EQ2 + r"(?P<hi>\S+)",
          r"\bbetween\s+" + VAR_EQ + r"(?P<lo>" + CONSTISH + r")\s+and\s+" + VAR_EQ2 + r"(?P<hi>" + CONSTISH + r")",
          r"\b(?:on|over|in)\s+(?:the\s+interval\s+)?\[\s*(?P<lo>[^,\]\s]+)\s*,\s*(?P<hi>[^\]\s]+)\s*\]",
          r"integral\s*_\s*\{?\s*(?P<lo>[^\s{}^]+?)\s*\}?\s*\^\s*\{?\s*(?P<hi>[^\s{}]+?)\s*\}?(?=\s|\(|$)",
          r"\b(?:with\s+)?(?:a\s+|the\s+)?lower (?:limit|bound)\s+(?:of\s+|is\s+|=\s*)?(?P<lo>\S+?),?\s+(?:and\s+)?"
          r"(?:an?\s+|the\s+)?upper (?:limit|bound)\s+(?:of\s+|is\s+|=\s*)?(?P<hi>\S+)",
          r"\b(?:with\s+)?(?:an?\s+|the\s+)?upper (?:limit|bound)\s+(?:of\s+|is\s+|=\s*)?(?P<hi>\S+?),?\s+(?:and\s+)?"
          r"(?:a\s+|the\s+)?lower (?:limit|bound)\s+(?:of\s+|is\s+|=\s*)?(?P<lo>\S+)",
          r"\b(?:integral|integrate)\s+(?P<lo>" + CONSTISH + r")\s+to\s+(?P<hi>" + CONSTISH + r")\s+of\b"]


class Bounds:
    """Where the bounds were found: lo, hi (text), the variable named with them ("x = 1"), the span."""

    def __init__(self, m):
        self.lo, self.hi = m.group("lo").strip(",;"), m.group("hi").strip(",;")
        names = {m.groupdict().get(k) for k in ("v1", "v2")} - {None}
        if len(names) > 1:
            raise Unsupported("The two bounds name different variables (%s); write them like "
                              "\"from x = 1 to x = 3\"." % " and ".join(sorted(names)))
        self.var = names.pop() if names else None
        self.start, self.end = m.start(), m.end()


def find_bounds(text):
    """The first pair of bounds, or None; two pairs are refused (which one would be meant?)."""
    found = []
    for pat in BOUNDS:
        for m in re.finditer(pat, text):
            if all(m.end() <= b.start or m.start() >= b.end for b in found):
                found.append(Bounds(m))
    if len(found) > 1:
        raise Unsupported("I found two pairs of bounds in that. Ask for one integral at a time, e.g. "
                          "\"integrate x^2 from 1 to 3\".")
    return found[0] if found else None


# Arithmetic said in words ("3/4 divided by 1/8", "2 times 3/5", "three quarters").
ARITH_WORDS = [(r"\bdivided\s+by\b", " / "), (r"\bmultiplied\s+by\b", " * "), (r"\btimes\b", " * "),
               (r"\bplus\b", " + "), (r"\bminus\b", " - "), (r"\btake away\b", " - ")]
UNIT_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
TENS_WORDS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}
DENOM_WORDS = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fourth": 4,
               "fourths": 4, "fifth": 5, "fifths": 5, "sixth": 6, "sixths": 6, "seventh": 7, "sevenths": 7,
               "eighth": 8, "eighths": 8, "ninth": 9, "ninths": 9, "tenth": 10, "tenths": 10,
               "twelfth": 12, "twelfths": 12, "hundredth": 100, "hundredths": 100}
FRAC_NUM = r"(?:\d+ \d+/\d+|\d+(?:\.\d+)?(?:/\d+)?)"  # 2 1/2, 3/4, 7, 0.5


def number_words(text):
    """twenty five -> 25, three quarters -> 3/4, two and a half -> 2 1/2, a third -> 1/3."""
    units = "|".join(sorted(UNIT_WORDS, key=len, reverse=True))
    tens = "|".join(TENS_WORDS)
    text = re.sub(r"\b(%s)(?:[- ](%s))?\b" % (tens, units),
                  lambda m: str(TENS_WORDS[m.group(1)] + (UNIT_WORDS[m.group(2)] if m.group(2) else 0)), text)
    text = re.sub(r"\b(%s)\b" % units, lambda m: str(UNIT_WORDS[m.group(1)]), text)
    text = re.sub(r"\b(\d+) hundred\b", lambda m: str(int(m.group(1)) * 100), text)
    denoms = "|".join(sorted(DENOM_WORDS, key=len, reverse=True))
    # a plural after one ("one thirds") or a singular after more ("three quarter") is still read as said
    text = re.sub(r"\b(\d+)\s+and\s+(?:a|an|1)\s+(%s)\b" % denoms, lambda m: "%s 1/%d" % (m.group(1), DENOM_WORDS[m.group(2)]), text)
    text = re.sub(r"\b(\d+)\s+and\s+(\d+)\s+(%s)\b" % denoms,
                  lambda m: "%s %s/%d" % (m.group(1), m.group(2), DENOM_WORDS[m.group(3)]), text)
    text = re.sub(r"\b(\d+)[\s-]+(%s)\b" % denoms, lambda m: "%s/%d" % (m.group(1), DENOM_WORDS[m.group(2)]), text)
    text = re.sub(r"\b(?:an?\s+)?(%s)\b" % denoms, lambda m: "1/%d" % DENOM_WORDS[m.group(1)], text)
    text = re.sub(r"\b(\d+)\s+over\s+(\d+)\b", r"\1/\2", text)
    return text


# Operations said as verbs, the operands in the order they are said: "subtract A from B" is B - A.
VERB_OPS = [(r"\bdivide\s+(X)\s+by\s+(X)$", r"\1 / \2"),
            (r"\bsubtract\s+(X)\s+from\s+(X)$", r"\2 - \1"),
            (r"\btake\s+(?:away\s+)?(X)\s+(?:away\s+)?from\s+(X)$", r"\2 - \1"),
            (r"\badd\s+(X)\s+(?:and|to)\s+(X)$", r"\1 + \2"),
            (r"\bmultiply\s+(X)\s+(?:by|and|with)\s+(X)$", r"\1 * \2"),
            (r"\bsum\s+of\s+(X)\s+and\s+(X)$", r"\1 + \2"),
            (r"\bproduct\s+of\s+(X)\s+and\s+(X)$", r"\1 * \2"),
            (r"\bdifference\s+(?:between|of)\s+(X)\s+and\s+(X)$", r"\1 - \2"),
            (r"\bquotient\s+of\s+(X)\s+(?:and|by)\s+(X)$", r"\1 / \2")]


def arith_words(text):
    text = number_words(text)
    for pattern, op in VERB_OPS:
        text = re.sub(pattern.replace("X", FRAC_NUM), " " + op, text)
    text = re.sub(r"(?<=\d)\s+of\s+(?=[\d(])", " * ", text)  # 3/5 of 20
    for pattern, op in ARITH_WORDS:
        text = re.sub(pattern, op, text)
    return text


def with_reading(reply, **reading):
    """The quantities the family read from the text, for the second reading to agree with
    (dispatch takes them out of the reply)."""
    reply["reading"] = reading
    return reply
