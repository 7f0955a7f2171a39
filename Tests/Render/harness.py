# The render runner (Shared/Sandbox/runner.py) run the way Sandbox.swift runs it, minus
# bubblewrap: `python -I -B -c <runner>`, the job as one JSON line on stdin, an open file
# as descriptor 3 for the video, its report read from the last JSON line. /job is a temp
# directory, through MATHREEL_RUNNER_TEST_ROOT (which the sandbox never sets); the code
# is the runner's own, byte for byte.
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
RUNNER = os.path.join(REPO, "Shared", "Sandbox", "runner.py")
PYTHON = sys.executable


def render(code, scene, quality="low", timeout=300, nice=0, keep=None, fmt="mp4"):
    """(report, timed_out): the runner's report, with "bytes" (what reached descriptor 3)
    added; `keep`: a path to copy the video to."""
    with open(RUNNER, encoding="utf-8") as f:
        src = f.read()
    with tempfile.TemporaryDirectory(prefix="mr-runner-") as root, tempfile.TemporaryFile() as video:
        env = {"PATH": "/usr/bin:/bin", "HOME": root, "LANG": "C.UTF-8", "TMPDIR": root,
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MATHREEL_RUNNER_TEST_ROOT": root}
        # Descriptor 3 inside, as the sandbox passes it (bash: dash takes no descriptor past 9).
        fd = video.fileno()
        cmd = ["/bin/bash", "-c", 'exec "$@"' + ("" if fd == 3 else " 3>&%d %d>&-" % (fd, fd)), "sh"] + (["nice", "-n", str(nice)] if nice else []) + [
            PYTHON, "-I", "-B", "-c", src]
        job = json.dumps({"code": code, "scene": scene, "quality": quality, "format": fmt, "threads": 1}) + "\n"
        p = subprocess.Popen(cmd, cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, pass_fds=(fd,), text=True, start_new_session=True)
        try:
            out, _ = p.communicate(job, timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            out, _ = p.communicate()
            timed_out = True
        report = None
        for line in reversed(out.split("\n")):
            if line.startswith("{"):
                try:
                    o = json.loads(line)
                except ValueError:
                    continue
                if "ok" in o:
                    report = o
                    break
        if report is None and not timed_out:  # it never said: the end of what it printed says why
            report = {"ok": False, "error": "no report", "message": out[-500:], "rc": p.returncode}
        if report is not None:
            video.seek(0, 2)
            report["bytes"] = video.tell()
            report["log"] = out[-3000:]
            if keep and report["bytes"]:
                video.seek(0)
                with open(keep, "wb") as dst:
                    shutil.copyfileobj(video, dst)
        return report, timed_out


if __name__ == "__main__":
    # python Tests/Render/harness.py FILE.py SCENE: render one file, print the report.
    code = open(sys.argv[1], encoding="utf-8").read()
    r, t = render(code, sys.argv[2], keep=sys.argv[3] if len(sys.argv) > 3 else None)
    if r:
        r.pop("log", None)
    print(json.dumps({"report": r, "timed_out": t}, indent=1))
