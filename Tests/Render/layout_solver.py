# The offline solver's scenes through the render runner's layout check: one problem per
# family (the first of each in Tests/Solver/check_solver.py), the solver run the way that
# file runs it (solver_main.py, JSON lines), each lesson scene (and the family's single
# scene) rendered by harness.py; asserts that no scene has text off the frame or text on text.
#
#   python Tests/Render/layout_solver.py            # one problem per family
#   python Tests/Render/layout_solver.py --extra    # also check_solver's RENDER_EXTRA (other template branches)
#   options: -j N (renders at once, default 2), --family NAME[,NAME], --keep DIR (the videos)
import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
SOLVER = os.path.join(REPO, "Shared", "Solver", "solver_main.py")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "Tests", "Solver"))
import harness  # noqa: E402


def problems(extra):
    import check_solver  # the problem set: (family, problem, check) rows
    first = {}
    for family, problem, _ in check_solver.CASES:
        first.setdefault(family, problem)
    out = [(f, p) for f, p in first.items()]
    if extra:
        out += [("extra", p) for p in check_solver.RENDER_EXTRA]
    return out


def solve(items):
    """The solver's replies, from one worker: a ready line, then a JSON line per problem."""
    p = subprocess.Popen([sys.executable, "-I", "-B", SOLVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, encoding="utf-8", bufsize=1)
    assert json.loads(p.stdout.readline()) == {"ready": True}
    replies = []
    for _, problem in items:
        p.stdin.write(json.dumps({"problem": problem, "context": ""}) + "\n")
        p.stdin.flush()
        replies.append(json.loads(p.stdout.readline()))
    p.stdin.close()
    p.wait(timeout=30)
    return replies


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--extra", action="store_true")
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--family", default="")
    ap.add_argument("--keep", default="")
    a = ap.parse_args()
    items = problems(a.extra)
    if a.family:
        items = [i for i in items if i[0] in a.family.split(",")]
    replies = solve(items)
    jobs = []
    for (family, problem), r in zip(items, replies):
        assert r.get("ok"), "%s: %s" % (problem, r)
        family = r["family"] if family == "extra" else family
        for i, s in enumerate(r["lesson"]):
            jobs.append(("%s/%d-%s" % (family, i + 1, s["scene"]), problem, s["code"], s["scene"]))
        jobs.append(("%s/single-%s" % (family, r["scene"]), problem, r["code"], r["scene"]))
    if a.keep:
        os.makedirs(a.keep, exist_ok=True)

    def one(job):
        name, problem, code, scene = job
        keep = os.path.join(a.keep, name.replace("/", "_") + ".mp4") if a.keep else None
        t = time.time()
        report, timed_out = harness.render(code, scene, timeout=300, nice=10, keep=keep)
        return job, report, timed_out, time.time() - t

    failures, spent, rendered = [], 0.0, 0.0
    with ThreadPoolExecutor(a.j) as pool:
        for (name, problem, code, scene), report, timed_out, s in pool.map(one, jobs):
            if timed_out or not report or not report.get("ok"):
                failures.append("%s (%s): did not render: %s" % (name, problem, "timed out" if timed_out else
                                                                  (report or {}).get("message")))
                print("FAIL  %-40s did not render" % name, flush=True)
                continue
            spent += report["layout_s"]
            rendered += report["render_s"]
            found = report["layout"]
            if report["layout_errors"]:
                failures.append("%s: the layout check failed %d times" % (name, report["layout_errors"]))
            for e in found:
                failures.append("%s (%s): %s at %.2f s: %s%s" % (name, problem, e["kind"], e["at_s"], e["what"],
                                                                 " with " + e["with"] if "with" in e else ""))
            print("%s  %-40s %5.1f s  layout %.3f s%s" % ("ok  " if not found else "FAIL", name, s, report["layout_s"],
                                                          "".join("\n      %s %s %s" % (e["kind"], e["what"], e.get("with", ""))
                                                                  for e in found)), flush=True)
    print("\n%d scenes of %d problems; the layout check took %.2f s of %.1f s rendering" % (
        len(jobs), len(items), spent, rendered))
    if failures:
        print("\n".join(failures))
    assert not failures, "%d layout defects or failures" % len(failures)
    print("no layout defect")


if __name__ == "__main__":
    main()
