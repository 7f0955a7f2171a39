"""What every module shares: the size limits, the example phrasings, the two exceptions."""

MAX_PROBLEM = 1000   # whole message
MAX_EXPR = 300       # any one expression

EXAMPLES = ('"solve x^2 - 5x + 6 = 0", "differentiate x^3 sin(x)", '
            '"integrate x^2 from 0 to 3"')
HELP = ("I can't solve that one offline. Try phrasing it like " + EXAMPLES +
        ", or \"factor x^2 - 9\", \"1/2 + 3/4\", \"area of a circle with radius 5\". "
        "For anything else, configure an AI provider (set MATHREEL_PROVIDERS and its API key).")


class Unsupported(Exception):
    """A request we answer with ok=false; the message is for the person."""


class Timeout(BaseException):
    """BaseException so SymPy's own `except Exception` cannot swallow it."""
