# mathreel's render runner, inside the sandbox: imports Manim first (so a warm
# worker has paid for it before any job arrives), then reads one job as a JSON
# line on stdin, renders it into /job, copies the video into descriptor 3 (an
# unlinked file of the daemon's), and prints one JSON line with the result. One
# job per process: it exits after it. Embedded in mathreel-render at build time;
# Sandbox.swift starts it.
import json, os, shutil, sys, time, traceback

t0 = time.time()
from manim import tempconfig  # the warm import: all of Manim, before any job

print(json.dumps({"ready": True, "import_s": round(time.time() - t0, 3)}), flush=True)
line = sys.stdin.readline()
if not line:
    sys.exit(0)
job = json.loads(line)
quality = {"low": "low_quality", "medium": "medium_quality", "high": "high_quality"}[job.get("quality", "low")]
fmt = job.get("format", "mp4")
started = time.time()
runner = os.getpid()


def report(**fields):
    sys.stdout.write("\n" + json.dumps(fields) + "\n")
    sys.stdout.flush()


try:
    with open("/job/scene.py", "w") as f:
        f.write(job["code"])
    import importlib.util
    spec = importlib.util.spec_from_file_location("scene", "/job/scene.py")
    module = importlib.util.module_from_spec(spec)
    settings = {"quality": quality, "media_dir": "/job/media", "format": fmt, "disable_caching": True,
                "progress_bar": "none", "verbosity": "WARNING", "output_file": "video", "write_to_movie": True}
    if job.get("threads"):  # the encoder's share of the cores (renders run side by side)
        settings["video_encoder_options"] = {"threads": str(int(job["threads"]))}
    with tempconfig(settings):
        spec.loader.exec_module(module)
        scene = getattr(module, job["scene"])()
        scene.render()
        produced = str(scene.renderer.file_writer.movie_file_path)
    ext = ".webm" if fmt == "webm" else ".mp4"
    with open(produced, "rb") as src, os.fdopen(3, "wb", closefd=False) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    report(ok=True, file="video" + ext, render_s=round(time.time() - started, 3))
    os._exit(0)  # the video and the report are out: skip the interpreter's slow teardown
except BaseException as e:  # noqa: everything is reported, including SystemExit from the scene
    if os.getpid() != runner:  # a child the scene forked: only the runner reports
        os._exit(1)
    tb = traceback.extract_tb(e.__traceback__)
    lines = [fr.lineno for fr in tb if fr.filename == "/job/scene.py"]
    report(ok=False, error=type(e).__name__, message=str(e)[:2000], line=lines[-1] if lines else None,
           render_s=round(time.time() - started, 3))
    os._exit(1)
