# The installed Manim's own documentation examples (every `.. manim:: Class` in the
# strings of the .py and .rst files it ships), and how each fares: plain `manim -ql`,
# mathreel's static check (Shared/Check/checker.py), and mathreel's runner.
#
#   python Tests/Render/doc_examples.py --json               # the examples, as JSON
#   python Tests/Render/doc_examples.py                      # the check on each, counted
#   python Tests/Render/doc_examples.py --baseline           # also plain `manim -ql` on each
#   python Tests/Render/doc_examples.py --runner             # also mathreel's runner on the accepted
#   python Tests/Render/doc_examples.py --runner --baseline-from OUT.json  # plain manim's results from an earlier --out
#   python Tests/Render/doc_examples.py --baseline-from OUT.json --runner-from OUT.json  # counts only
#   python Tests/Render/doc_examples.py --runner --checker OLD_checker.py --runner-source OLD_runner.py  # as it was
#   python Tests/Render/doc_examples.py --baseline --runner --strict            # fails unless mathreel renders
#                                                                  # every example plain manim renders
#   python Tests/Render/doc_examples.py --baseline --runner --strict --sample 8  # the same on 8 of them (make test)
#   options: -j N (renders at once, default 2), --timeout S (each, default 180),
#            --checker FILE (another checker.py, e.g. the one before a change),
#            --only NAME[,NAME] (those examples), --out FILE (the full results as JSON)
import argparse
import ast
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
CHECKER = os.path.join(REPO, "Shared", "Check", "checker.py")
PYTHON = sys.executable
DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. manim::[ \t]*(?P<name>\S*)[ \t]*$")


def manim_root():
    import importlib.util
    return os.path.dirname(importlib.util.find_spec("manim").origin)


def directives(text):
    """Each `.. manim::` block of `text`: (name, options, code), the code as the directive
    runs it (`from manim import *` first, a doctest's prompts stripped)."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = DIRECTIVE.match(lines[i])
        i += 1
        if not m:
            continue
        indent = len(m.group("indent").expandtabs())
        options, body = {}, []
        # Options (":name: value") come first, then the content, indented deeper than the directive.
        while i < len(lines) and lines[i].strip().startswith(":") and not body:
            key, _, value = lines[i].strip()[1:].partition(":")
            options[key] = value.strip()
            i += 1
        while i < len(lines):
            line = lines[i]
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            body.append(line)
            i += 1
        code = textwrap.dedent("\n".join(body)).strip("\n")
        content = code.split("\n")
        if content and content[0].startswith(">>> "):
            content = [ln[4:] for ln in content if ln.startswith((">>> ", "... "))]
        yield m.group("name"), options, "from manim import *\n\n" + "\n".join(content) + "\n"


def strings(path):
    """Every string constant of a .py file (docstrings and the rest, escapes resolved), or an
    .rst file's whole text, with the line it starts on."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".rst"):
        yield 1, text
        return
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and ".. manim::" in node.value:
            yield node.lineno, node.value


def extract():
    root = manim_root()
    found, skipped = [], []
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x != "__pycache__")
        for fn in sorted(files):
            if not fn.endswith((".py", ".rst")):
                continue
            path = os.path.join(d, fn)
            for lineno, text in strings(path):
                for name, options, code in directives(text):
                    source = "%s:%d" % (os.path.relpath(path, os.path.dirname(root)), lineno)
                    if not name.isidentifier():  # `.. manim:: <Class name>`: the directive's own usage text
                        skipped.append({"name": name, "source": source, "why": "not a class name"})
                        continue
                    found.append({"name": name, "scene": name, "code": code, "source": source,
                                  "still": "save_last_frame" in options})
    # The same class name twice (the docs render both): the second is NAME-2.
    seen = {}
    for e in found:
        seen[e["scene"]] = seen.get(e["scene"], 0) + 1
        if seen[e["scene"]] > 1:
            e["name"] = "%s-%d" % (e["scene"], seen[e["scene"]])
    return found, skipped


# ------------------------------------------------------------------ the static check

def check_all(examples, checker):
    """The checker as the daemons run it: one warm worker, a JSON line in and out per example."""
    with open(checker, encoding="utf-8") as f:
        src = f.read()
    cache = os.path.join(tempfile.gettempdir(), "mathreel-doc-examples-names.json")
    lines = "".join(json.dumps({"code": e["code"], "scene": e["scene"], "names_cache": cache}) + "\n" for e in examples)
    out = subprocess.run([PYTHON, "-I", "-c", src], input=lines, capture_output=True, text=True, timeout=600)
    ready, *replies = out.stdout.splitlines()
    assert json.loads(ready) == {"ready": True}, ready
    assert len(replies) == len(examples), out.stderr[-2000:]
    return [json.loads(r) for r in replies]


# ------------------------------------------------------------------ renders

def _run(cmd, cwd, timeout, **kw):
    # Below the machine's other work (a build may share it); the whole group is killed at the timeout.
    p = subprocess.Popen(["nice", "-n", "10"] + cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True, **kw)
    try:
        out, _ = p.communicate(timeout=timeout)
        return p.returncode, out, False
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        out, _ = p.communicate()
        return None, out, True


def plain_manim(e, timeout):
    """`manim -ql` as a person runs it: a video, or a PNG for a scene that plays nothing."""
    with tempfile.TemporaryDirectory(prefix="mr-doc-") as d:
        with open(os.path.join(d, "scene.py"), "w") as f:
            f.write(e["code"])
        t = time.time()
        rc, out, timed_out = _run([PYTHON, "-m", "manim", "render", "-ql", "--disable_caching", "--media_dir",
                                   os.path.join(d, "media"), "scene.py", e["scene"]], d, timeout)
        made = [fn for _, _, fs in os.walk(os.path.join(d, "media")) for fn in fs
                if fn.endswith((".mp4", ".png", ".gif", ".mov")) and "partial_movie_files" not in fn]
        ok = rc == 0 and bool(made)
        return {"ok": ok, "s": round(time.time() - t, 1), "timed_out": timed_out,
                "why": None if ok else reason(out, timed_out)}


RUNNER_SOURCE = ""  # --runner-source: another runner.py, run in bubblewrap (an older one knows only /job)


def mathreel_runner(e, code, timeout):
    """mathreel's runner (harness.py) on the checked code: its report."""
    sys.path.insert(0, HERE)
    import harness
    t = time.time()
    report, timed_out = harness.render(code, e["scene"], timeout=timeout, nice=10, sandbox=bool(RUNNER_SOURCE),
                                       runner=RUNNER_SOURCE or harness.RUNNER)
    ok = bool(report and report.get("ok") and report.get("bytes"))
    return {"ok": ok, "s": round(time.time() - t, 1), "timed_out": timed_out,
            "why": None if ok else (("timed out after %d s" % timeout) if timed_out else
                                    "%s: %s" % ((report or {}).get("error"), ((report or {}).get("message") or "")[:200])),
            "layout": (report or {}).get("layout")}


def reason(out, timed_out):
    if timed_out:
        return "timed out"
    lines = [ln for ln in (out or "").strip().split("\n") if ln.strip()]
    for ln in reversed(lines):
        if re.match(r"^\s*[\w.]*(Error|Exception)\b", ln.strip()):
            return ln.strip()[:300]
    return (lines[-1][:300] if lines else "no output")


# Why an example cannot render in a sandbox, whatever the check says: it needs what a scene
# there has not (recognised from the code; a comment's address does not count).
NEEDS = [
    (re.compile(r"(?<![\w.])(ImageMobject|SVGMobject)\(\s*['\"]|add_sound\(|(?<![\w.])(open|Path)\("), "a file given by path"),
    (re.compile(r"^[^#\n]*(https?://|urlopen|requests\.)", re.M), "the network"),
]
# Why plain manim fails here, by its message: not the sandbox's doing, the same outside it.
FAILS = [
    (re.compile(r"requires the 'typst' Python package"), "the typst package is not installed"),
    (re.compile(r"Invalid mode for data type"), "ImageMobject from a NumPy array fails with the installed Pillow"),
    (re.compile(r"name 'OpenGL\w+' is not defined"), "OpenGL classes, which `from manim import *` does not give"),
    (re.compile(r"No module named 'requests'"), "requests, to fetch a map over the network"),
    (re.compile(r"could not find click.wav"), "a sound file, click.wav, given by path"),
    (re.compile(r"name 'Any' is not defined"), "typing's Any, which the example never imports"),
    (re.compile(r"has no play calls"), "it plays nothing (a still), and the runner wanted a play"),
]


def needs(code):
    return [why for rx, why in NEEDS if rx.search(code)]


def failure_kind(why):
    return next((k for rx, k in FAILS if rx.search(why or "")), why)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--baseline", action="store_true")
    ap.add_argument("--runner", action="store_true")
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=180)
    ap.add_argument("--checker", default=CHECKER)
    ap.add_argument("--only", default="")
    ap.add_argument("--sample", type=int, default=0, help="N examples spread evenly over the sorted names")
    ap.add_argument("--strict", action="store_true", help="exit 1 when an example plain manim renders is not rendered by mathreel")
    ap.add_argument("--out", default="")
    ap.add_argument("--baseline-from", default="", help="the plain manim results of an earlier --out, instead of rendering")
    ap.add_argument("--runner-from", default="", help="the runner results of an earlier --out, instead of rendering")
    ap.add_argument("--runner-source", default="", help="another runner.py (e.g. the one before a change), in bubblewrap")
    a = ap.parse_args()
    global RUNNER_SOURCE
    RUNNER_SOURCE = a.runner_source
    examples, skipped = extract()
    if a.only:
        wanted = set(a.only.split(","))
        examples = [e for e in examples if e["name"] in wanted]
    if a.sample:
        examples = spread(examples, a.sample)
    if a.json:
        print(json.dumps([{k: e[k] for k in ("name", "scene", "code", "source")} for e in examples], indent=1))
        return
    print("%d examples in %s (%d directives skipped: %s)" % (
        len(examples), manim_root(), len(skipped), "; ".join("%s at %s: %s" % (s["name"], s["source"], s["why"]) for s in skipped)))
    checked = check_all(examples, a.checker)
    for e, r in zip(examples, checked):
        e["check"] = {"valid": r["valid"], "errors": [x["message"] for x in r["errors"]]}
        e["checked_code"] = r.get("code") or e["code"]
        e["needs"] = needs(e["code"])
    if a.baseline_from:
        earlier = {e["name"]: e for e in json.load(open(a.baseline_from))}
        for e in examples:
            if "manim" in earlier.get(e["name"], {}):
                e["manim"] = earlier[e["name"]]["manim"]
    if a.runner_from:
        earlier = {e["name"]: e for e in json.load(open(a.runner_from))}
        for e in examples:
            if "runner" in earlier.get(e["name"], {}) and e["check"]["valid"]:
                e["runner"] = earlier[e["name"]]["runner"]
    if a.baseline:
        with ThreadPoolExecutor(a.j) as pool:
            for e, res in zip(examples, pool.map(lambda e: plain_manim(e, a.timeout), examples)):
                e["manim"] = res
                print("  manim  %-4s %5.1fs %-40s %s" % ("ok" if res["ok"] else "FAIL", res["s"], e["name"], res["why"] or ""),
                      flush=True)
    if a.runner:
        todo = [e for e in examples if e["check"]["valid"]]
        with ThreadPoolExecutor(a.j) as pool:
            for e, res in zip(todo, pool.map(lambda e: mathreel_runner(e, e["checked_code"], a.timeout), todo)):
                e["runner"] = res
                print("  runner %-4s %5.1fs %-40s %s" % ("ok" if res["ok"] else "FAIL", res["s"], e["name"], res["why"] or ""),
                      flush=True)
    missed = summarize(examples)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(examples, f, indent=1)
    if a.strict and missed:
        sys.exit("%d example(s) plain manim renders and mathreel does not: %s" % (len(missed), ", ".join(missed)))


# The examples mathreel refuses on purpose, and why (AnySceneTests holds the same list).
REFUSED = {"ColorsOverview": "a computed getattr, which could reach any attribute by a name made at run time",
           "RateFuncExample": "__dict__, Python's internals",
           "LabeledCountryExample": "a web request (renders have no network)"}


def spread(examples, n):
    """n examples at even steps through the sorted names: the same ones on every machine with
    the same Manim, and across the whole documentation rather than one module."""
    ordered = sorted(examples, key=lambda e: e["name"])
    if n >= len(ordered):
        return ordered
    return [ordered[(i * len(ordered)) // n] for i in range(n)]


def summarize(examples):
    """Prints the counts; returns the names plain manim renders and mathreel does not (refused
    by the check or failed in the runner), when both were run."""
    missed = []
    total = len(examples)
    accepted = [e for e in examples if e["check"]["valid"]]
    print("\n%d examples; the checker accepts %d" % (total, len(accepted)))
    why = {}
    for e in examples:
        for msg in e["check"]["errors"]:
            key = re.sub(r"^Line \d+: ", "", msg)[:140]
            why.setdefault(key, []).append(e["name"])
    for key, names in sorted(why.items(), key=lambda kv: -len(kv[1])):
        print("  refused %3d  %s  (%s)" % (len(names), key, ", ".join(names[:6]) + (" ..." if len(names) > 6 else "")))
    if any("manim" in e for e in examples):
        rendered = [e for e in examples if e.get("manim", {}).get("ok")]
        print("plain manim -ql renders %d of %d" % (len(rendered), sum("manim" in e for e in examples)))
        kinds = {}
        for e in examples:
            if "manim" in e and not e["manim"]["ok"]:
                kinds.setdefault(failure_kind(e["manim"]["why"]), []).append(e["name"])
        for k, names in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
            print("  manim fails %3d: %s (%s)" % (len(names), k, ", ".join(names)))
        both = [e for e in rendered if e["check"]["valid"]]
        print("rendered by manim and accepted by the checker: %d of %d" % (len(both), len(rendered)))
        for e in rendered:
            if not e["check"]["valid"]:
                print("  renders, refused  %-40s %s%s" % (e["name"], e["check"]["errors"][0][:160],
                                                        "  [needs %s]" % ", ".join(e["needs"]) if e["needs"] else ""))
                if e["name"] not in REFUSED:
                    missed.append(e["name"])
    if any("runner" in e for e in examples):
        ran = [e for e in examples if "runner" in e]
        print("mathreel's runner renders %d of %d accepted" % (sum(e["runner"]["ok"] for e in ran), len(ran)))
        kinds = {}
        for e in ran:
            if not e["runner"]["ok"]:
                kinds.setdefault(failure_kind(e["runner"]["why"]), []).append(e["name"])
        for k, names in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
            print("  runner fails %3d: %s (%s)" % (len(names), k, ", ".join(names)))
        found = [e for e in ran if e["runner"].get("layout")]
        print("the layout check reports a defect in %d of them:" % len(found))
        for e in found:
            print("  layout  %-36s %s" % (e["name"], "; ".join("%s %s%s" % (x["kind"], x["what"], " / " + x["with"] if "with" in x else "")
                                                             for x in e["runner"]["layout"][:3])
                                       + (" ... (%d)" % len(e["runner"]["layout"]) if len(e["runner"]["layout"]) > 3 else "")))
        if any("manim" in e for e in ran):
            failed = [e["name"] for e in ran if e.get("manim", {}).get("ok") and not e["runner"]["ok"]]
            print("manim renders but mathreel's runner does not: %d %s" % (len(failed), failed))
            missed += failed
    for e in examples:
        if e["needs"]:
            print("  needs %-40s %s" % (", ".join(e["needs"]), e["name"]))
    return missed


if __name__ == "__main__":
    main()
