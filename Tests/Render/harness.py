# The render runner (Shared/Sandbox/runner.py) run the way Sandbox.swift runs it:
# `python -I -B -c <runner>`, the job as one JSON line on stdin, an open file as
# descriptor 3 for the video, its report read from the last JSON line; the code is the
# runner's own, byte for byte. Outside bubblewrap (the default, fast) /job is a temp
# directory, through MATHREEL_RUNNER_TEST_ROOT, which the sandbox never sets; with
# sandbox=True it runs in bubblewrap as Sandbox.swift builds it, less seccomp and prlimit.
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


def bwrap():
    """A bubblewrap command close to Sandbox.swift's (no seccomp filter or prlimit): no network,
    a cleared environment, the system and the Python environment read-only, a tmpfs as /job."""
    venv = os.path.dirname(os.path.dirname(PYTHON))
    cmd = ["/usr/bin/bwrap", "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534", "--die-with-parent",
           "--new-session", "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/job",
           "--setenv", "LANG", "C.UTF-8", "--setenv", "TEXMFVAR", "/job/texmf-var", "--setenv", "TMPDIR", "/job/tmp",
           "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "OPENBLAS_NUM_THREADS", "1",
           "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
           "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin"]
    for d in ["/etc/fonts", "/etc/texmf", "/var/lib/texmf", "/var/cache/fontconfig", "/etc/ld.so.cache", "/etc/alternatives"]:
        if os.path.exists(d):
            cmd += ["--ro-bind", d, d]
    if not venv.startswith("/usr/"):
        cmd += ["--ro-bind", venv, venv]
    return cmd + ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/job", "--dir", "/job/tmp", "--remount-ro", "/",
                  "--chdir", "/job"]


def render(code, scene, quality="low", timeout=300, nice=0, keep=None, fmt="mp4", sandbox=False, runner=RUNNER, narration=None):
    """(report, timed_out): the runner's report, with "bytes" (what reached descriptor 3)
    added; `keep`: a path to copy the video to; `sandbox`: inside bubblewrap (bwrap()),
    with the real /job and no test root; `narration`: the job's [{text, duration_s}]."""
    with open(runner, encoding="utf-8") as f:
        src = f.read()
    with tempfile.TemporaryDirectory(prefix="mr-runner-") as root, tempfile.TemporaryFile() as video:
        env = {"PATH": "/usr/bin:/bin", "HOME": root, "LANG": "C.UTF-8", "TMPDIR": root,
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MATHREEL_RUNNER_TEST_ROOT": root}
        # Descriptor 3 inside, as the sandbox passes it (bash: dash takes no descriptor past 9).
        fd = video.fileno()
        cmd = ["/bin/bash", "-c", 'exec "$@"' + ("" if fd == 3 else " 3>&%d %d>&-" % (fd, fd)), "sh"] + (
            ["nice", "-n", str(nice)] if nice else []) + (bwrap() if sandbox else []) + [PYTHON, "-I", "-B", "-c", src]
        if sandbox:
            env = {}
        job = {"code": code, "scene": scene, "quality": quality, "format": fmt, "threads": 1}
        if narration is not None:
            job["narration"] = narration
        job = json.dumps(job) + "\n"
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
