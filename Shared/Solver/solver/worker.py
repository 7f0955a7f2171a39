"""The worker loop: warm SymPy up, print the ready line, then one JSON reply per request
line, each request stopped after REQUEST_SECONDS of CPU time."""
import json
import signal
import sys

from .base import Timeout
from .dispatch import solve, unsupported


REQUEST_SECONDS = 2.0  # hard stop for one request (sympy can take seconds on odd input)


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
        restated = req.get("restated")
        return solve(req["problem"], ctx if isinstance(ctx, str) else "", restated if isinstance(restated, str) else None)
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
