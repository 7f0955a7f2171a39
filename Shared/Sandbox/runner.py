# mathreel's render runner, inside the sandbox: imports Manim first (so a warm
# worker has paid for it before any job arrives), then reads one job as a JSON
# line on stdin, renders it into /job, copies the video into descriptor 3 (an
# unlinked file of the daemon's), and prints one JSON line with the result. One
# job per process: it exits after it. A scene that plays nothing becomes one
# second of its final frame; after every play and wait the text on screen is
# looked at for layout defects (off the frame, text on text), reported as
# "layout". A narrated scene gets its sentences' measured lengths as data:
# `with self.voiceover(text) as tracker:` plays its block over the sentence
# (tracker.duration) and waits out the rest, and the time each sentence began
# is reported as "narration", so the captions come from the render. Embedded
# in mathreel-render at build time; Sandbox.swift starts it.
import contextlib, json, os, shutil, sys, time, traceback

t0 = time.time()
from manim import tempconfig  # the warm import: all of Manim, before any job
import manim as _m  # already loaded by the line above: the layout check's classes
import numpy as _np

print(json.dumps({"ready": True, "import_s": round(time.time() - t0, 3)}), flush=True)
# Tests only (Tests/Render/harness.py): another directory for /job. The sandbox starts the
# runner with a cleared environment (bwrap --clearenv) and never sets this.
ROOT = os.environ.get("MATHREEL_RUNNER_TEST_ROOT") or "/job"

TEXT = tuple(c for c in (_m.SingleStringMathTex, _m.Text, _m.MarkupText, _m.Paragraph, _m.DecimalNumber,
                         getattr(_m, "Typst", None)) if c)  # MathTex, Tex, Title, Integer ... are subclasses
SLACK = 0.1       # scene units a text may poke past the frame's edge (about 1% of its width)
COVER = 0.2       # the share of the smaller text's box (then glyphs) that must be covered to count as overlap
MAX_ENTRIES = 20
GLYPH_PAIRS = 200  # pairs of meeting boxes looked at glyph by glyph, per look


class Layout:
    """After each play or wait: text-like mobjects on screen that leave the frame or overlap."""

    def __init__(self):
        self.entries, self.seen, self.more, self.errors, self.spent = [], set(), 0, 0, 0.0

    def look(self, scene):
        t = time.perf_counter()
        try:
            self._look(scene)
        except Exception:  # the check never costs a render
            self.errors += 1
        self.spent += time.perf_counter() - t

    def _look(self, scene):
        cam = scene.camera
        fixed = getattr(cam, "fixed_in_frame_mobjects", None)  # 3D: only what is pinned to the screen is flat
        stack = (list(scene.mobjects) + list(getattr(scene, "foreground_mobjects", [])))[::-1]  # popped in scene order
        texts, visited = [], set()
        while stack:
            m = stack.pop()
            if id(m) in visited:
                continue
            visited.add(id(m))
            if isinstance(m, TEXT):  # one unit: its own parts are never compared with each other
                if fixed is None or m in fixed:
                    texts.append(m)
            else:
                stack.extend(m.submobjects[::-1])
        boxes = []
        for m in texts:
            pts = m.get_all_points()
            if len(pts):
                lo, hi = pts[:, :2].min(0), pts[:, :2].max(0)
                boxes.append((m, lo, hi))
        if not boxes:
            return
        c = _np.asarray(cam.frame_center, dtype=float)[:2]
        half = _np.array([cam.frame_width, cam.frame_height]) / 2
        now = round(float(scene.renderer.time), 2)
        moves = hasattr(cam, "frame")  # a moving camera's frame: text beyond it is waiting for it, unless cut by it
        for m, lo, hi in boxes:
            cut = ((hi > c - half) & (lo < c + half)).all()
            if ((lo < c - half - SLACK) | (hi > c + half + SLACK)).any() and (cut or not moves) and visible(m):
                self.add(("offscreen", id(m)), {"at_s": now, "kind": "offscreen", "what": describe(m)})
        if len(boxes) < 2:
            return
        lo = _np.array([b[1] for b in boxes])
        hi = _np.array([b[2] for b in boxes])
        area = _np.prod(_np.maximum(hi - lo, 1e-3), axis=1)  # a flat "-" still has some area
        if len(boxes) <= 400:  # every pair at once
            i, j = _np.triu_indices(len(boxes), 1)
        else:  # sorted by left edge, each box against those that start before its right edge
            order = _np.argsort(lo[:, 0], kind="stable")
            ends = _np.searchsorted(lo[order, 0], hi[order, 0])
            i = _np.concatenate([_np.full(max(0, e - n - 1), order[n]) for n, e in enumerate(ends)] + [[]]).astype(int)
            j = _np.concatenate([order[n + 1:e] for n, e in enumerate(ends)] + [[]]).astype(int)
            i, j = _np.minimum(i, j), _np.maximum(i, j)
        w = _np.minimum(hi[i, 0], hi[j, 0]) - _np.maximum(lo[i, 0], lo[j, 0])
        h = _np.minimum(hi[i, 1], hi[j, 1]) - _np.maximum(lo[i, 1], lo[j, 1])
        share = _np.clip(w, 0, None) * _np.clip(h, 0, None) / _np.minimum(area[i], area[j])
        meet = share > COVER
        pairs = sorted(zip(i[meet].tolist(), j[meet].tolist()))
        # Boxes are coarse (a fraction's box has empty corners): the glyphs themselves must meet.
        # The same words within the other's box are a decoration of one text (a highlight copy,
        # an AnimatedBoundary's outlines); Transform's leftover lies exactly on its target.
        # A pile of hundreds of texts has its first GLYPH_PAIRS pairs looked at, so no look is slow.
        for i, j in pairs[:GLYPH_PAIRS]:
            a, b = boxes[i][0], boxes[j][0]
            if ("overlap", id(a), id(b)) in self.seen:
                continue
            inner = ((lo[i] >= lo[j] - 0.05) & (hi[i] <= hi[j] + 0.05)).all() or (
                (lo[j] >= lo[i] - 0.05) & (hi[j] <= hi[i] + 0.05)).all()
            if inner and words(a) and words(a) == words(b):
                continue
            if inked(a, b) > COVER and not same_look(a, b) and visible(a) and visible(b):
                self.add(("overlap", id(a), id(b)), {"at_s": now, "kind": "overlap", "what": describe(a), "with": describe(b)})

    def add(self, key, entry):
        # The same defect, still there after the next animation, is reported once; so is one
        # that reads the same (a text and the copies an effect laid on it).
        said = (entry["kind"], entry["what"], entry.get("with"))
        if key in self.seen or said in self.seen:
            return
        self.seen.update((key, said))
        if len(self.entries) < MAX_ENTRIES:
            self.entries.append(entry)
        else:
            self.more += 1


def glyphs(m):
    """The boxes (x0, y0, x1, y1) of a text's drawn pieces: its family's members with points."""
    out = [(p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max())
           for p in (sm.points for sm in m.get_family()) if len(p)]
    return _np.array(out).reshape(-1, 4)


def inked(a, b):
    """How much of the smaller text's glyph area the other's glyphs cover (0 to about 1)."""
    ga, gb = glyphs(a), glyphs(b)
    if not len(ga) or not len(gb):
        return 0.0
    if len(ga) * len(gb) > 1_000_000:  # two pages of text whose boxes meet: the boxes decide
        return 1.0
    w = _np.clip(_np.minimum(ga[:, None, 2], gb[None, :, 2]) - _np.maximum(ga[:, None, 0], gb[None, :, 0]), 0, None)
    h = _np.clip(_np.minimum(ga[:, None, 3], gb[None, :, 3]) - _np.maximum(ga[:, None, 1], gb[None, :, 1]), 0, None)

    def area(g):
        return float(_np.prod(_np.maximum(g[:, 2:] - g[:, :2], 1e-3), axis=1).sum())
    return float((w * h).sum()) / min(area(ga), area(gb))


def same_look(a, b):
    """Whether every curve end of one lies on one of the other's (Transform splits curves, so
    its leftover has more points than its target, all on the target's outline)."""
    pa, pb = a.get_all_points(), b.get_all_points()
    pa = _np.concatenate([pa[0::4], pa[3::4]])[:, :2]  # a cubic's ends: points 0 and 3 of each 4
    pb = _np.concatenate([pb[0::4], pb[3::4]])[:, :2]
    if not len(pa) or not len(pb) or len(pa) * len(pb) > 4_000_000:
        return False
    d = ((pa[:, None] - pb[None]) ** 2).sum(-1)
    return min(d.min(1).max(), d.min(0).max()) < 1e-4


def visible(m):
    """Whether any part is drawn at all (a text faded to opacity 0 is not)."""
    for sm in m.get_family():
        fill, stroke = getattr(sm, "fill_rgbas", None), getattr(sm, "stroke_rgbas", None)
        if fill is not None and len(fill) and fill[:, 3].max() > 0:
            return True
        if stroke is not None and len(stroke) and stroke[:, 3].max() > 0 and (getattr(sm, "stroke_width", 0) or 0) > 0:
            return True
    return False


def words(m):  # what the text says, for the report
    for attr in ("tex_string", "original_text", "text"):
        v = getattr(m, attr, None)
        if isinstance(v, str) and v:
            return v
    lines = getattr(m, "lines_text", None)  # Paragraph
    if lines is not None:
        return words(lines)
    if hasattr(m, "number"):
        return str(m.number)
    return ""


def describe(m):
    w = " ".join(words(m).split())
    return "%s '%s'" % (type(m).__name__, w[:40] + ("..." if len(w) > 40 else "")) if w else type(m).__name__


GAP_S = 0.25  # between sentences the scene did not place itself


class Tracker:
    """What `with self.voiceover(text) as tracker:` gives, as manim-voiceover's does."""

    def __init__(self, scene, start, duration):
        self.scene, self.start, self.duration = scene, start, duration

    def get_remaining_duration(self, buff=0.0):
        return max(0.0, self.start + self.duration - float(self.scene.renderer.time) + buff)


class Narration:
    """This scene's sentences and their lengths; when each began."""

    def __init__(self, items):
        self.items = []
        for it in items if isinstance(items, list) else []:
            it = it if isinstance(it, dict) else {}
            d = it.get("duration_s")
            d = float(d) if isinstance(d, (int, float)) and d == d else 0.0  # d == d: not NaN
            self.items.append((" ".join(str(it.get("text", "")).split()), max(0.0, min(d, 120.0))))
        self.at = [None] * len(self.items)

    def find(self, text):
        """The sentence a block speaks: the first unspoken one with its text, else the next unspoken one."""
        if isinstance(text, str):
            key = " ".join(text.split())
            for i, (t, _) in enumerate(self.items):
                if self.at[i] is None and t == key:
                    return i
        return next((i for i, a in enumerate(self.at) if a is None), None)

    def method(self, scene):
        @contextlib.contextmanager
        def voiceover(text=None, **kwargs):
            i = self.find(text)
            start = float(scene.renderer.time)
            if i is None:  # more blocks than sentences: silent, as long as its words would take
                duration = len(str(text or "").split()) / 2.5
            else:
                duration = self.items[i][1]
                self.at[i] = start
            yield Tracker(scene, start, duration)
            wait_until(scene, start + duration)
        return voiceover

    def place_rest(self, now):
        """Sentences no block spoke: one after another from the start of a scene that placed
        none (its animations run under them), else after the last block. Returns their end."""
        t = 0.0 if all(a is None for a in self.at) else now
        end = max([a + d for a, (_, d) in zip(self.at, self.items) if a is not None] + [0.0])
        for i, (_, d) in enumerate(self.items):
            if self.at[i] is None:
                self.at[i] = t
                t += d + GAP_S
                end = max(end, self.at[i] + d)
        return end


def wait_until(scene, end, **kwargs):
    """Waits until the scene's time reaches `end`, never less: waits are whole frames."""
    frame = 1.0 / float(_m.config.frame_rate)
    for _ in range(3):
        left = end - float(scene.renderer.time)
        if left <= 1e-3:
            break
        scene.wait(max(left, frame), **kwargs)


def main():
    line = sys.stdin.readline()
    if not line:
        sys.exit(0)
    job = json.loads(line)
    quality = {"low": "low_quality", "medium": "medium_quality", "high": "high_quality"}[job.get("quality", "low")]
    fmt = job.get("format", "mp4")
    started = time.time()
    runner = os.getpid()
    path = os.path.join(ROOT, "scene.py")

    def report(**fields):
        sys.stdout.write("\n" + json.dumps(fields) + "\n")
        sys.stdout.flush()

    try:
        with open(path, "w") as f:
            f.write(job["code"])
        import importlib.util
        spec = importlib.util.spec_from_file_location("scene", path)
        module = importlib.util.module_from_spec(spec)
        settings = {"quality": quality, "media_dir": os.path.join(ROOT, "media"), "format": fmt, "disable_caching": True,
                    "progress_bar": "none", "verbosity": "WARNING", "output_file": "video", "write_to_movie": True}
        if job.get("threads"):  # the encoder's share of the cores (renders run side by side)
            settings["video_encoder_options"] = {"threads": str(int(job["threads"]))}
        layout = Layout()
        with tempconfig(settings):
            spec.loader.exec_module(module)
            scene = getattr(module, job["scene"])()
            narration = Narration(job.get("narration") or [])
            scene.voiceover = narration.method(scene)
            watch(scene, layout, narration)
            scene.render()
            produced = str(scene.renderer.file_writer.movie_file_path)
        ext = ".webm" if fmt == "webm" else ".mp4"
        with open(produced, "rb") as src, os.fdopen(3, "wb", closefd=False) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        report(ok=True, file="video" + ext, render_s=round(time.time() - started, 3), layout=layout.entries,
               narration=[round(a, 4) for a in narration.at],
               layout_more=layout.more, layout_errors=layout.errors, layout_s=round(layout.spent, 4))
        os._exit(0)  # the video and the report are out: skip the interpreter's slow teardown
    except BaseException as e:  # noqa: everything is reported, including SystemExit from the scene
        if os.getpid() != runner:  # a child the scene forked: only the runner reports
            os._exit(1)
        tb = traceback.extract_tb(e.__traceback__)
        lines = [fr.lineno for fr in tb if fr.filename == path]
        report(ok=False, error=type(e).__name__, message=str(e)[:2000], line=lines[-1] if lines else None,
               render_s=round(time.time() - started, 3))
        os._exit(1)


def watch(scene, layout, narration):
    """The layout check after every play and wait (both go through the renderer's play), a
    still scene's one second of its final frame, and the time its narration still needs."""
    renderer = scene.renderer
    own_play, own_tear_down = renderer.play, scene.tear_down

    def play(*args, **kwargs):
        own_play(*args, **kwargs)
        layout.look(scene)

    def tear_down():
        own_tear_down()
        end = narration.place_rest(float(renderer.time))
        if renderer.num_plays == 0:
            # Manim saves a still scene's final frame as a PNG (all its mobjects drawn in order,
            # no updater run): that very frame, held for a second, is the video.
            own_freeze = renderer.freeze_current_frame

            def freeze(duration):
                renderer.static_image = None
                renderer.update_frame(scene)
                own_freeze(duration)

            renderer.freeze_current_frame = freeze
            try:
                scene.wait(max(1.0, end), frozen_frame=True)
            finally:
                renderer.freeze_current_frame = own_freeze
        else:
            wait_until(scene, end)

    renderer.play, scene.tear_down = play, tear_down


if __name__ == "__main__":
    main()
