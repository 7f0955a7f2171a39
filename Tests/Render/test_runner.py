# Tests of the render runner (Shared/Sandbox/runner.py) through harness.py: a still scene
# becomes a second of its exact final frame; the layout check finds text off the frame and
# formulas on top of each other, stays quiet on clean scenes and on a label on a filled
# shape, reports a lasting defect once, bounds its list, swallows its own failures; and
# what it costs on a busy scene.
#
#   python Tests/Render/test_runner.py           # every test (a minute or two)
#   python Tests/Render/test_runner.py WORD ...  # the tests whose names hold a WORD
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402

HEAD = "from manim import *\n\n"


def run(body, scene="S", **kw):
    with tempfile.TemporaryDirectory() as d:
        keep = kw.pop("keep", None) or os.path.join(d, "v.mp4")
        report, timed_out = harness.render(HEAD + body, scene, keep=keep, **kw)
        if report and os.path.exists(keep):
            with open(keep, "rb") as f:
                report["video_bytes"] = f.read()
    assert not timed_out, "timed out"
    assert report and report["ok"], (report or {}).get("message") or report
    assert report["bytes"] > 0
    assert report["layout_errors"] == 0, report
    return report


def kinds(report):
    return sorted((e["kind"], e["what"], e.get("with", "")) for e in report["layout"])


def frames(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                          "stream=nb_read_frames:format=duration", "-of", "json", path], capture_output=True, text=True)
    o = json.loads(out.stdout)
    return int(o["streams"][0]["nb_read_frames"]), float(o["format"]["duration"])


# ------------------------------------------------------------------ still scenes

def test_still_scene_is_a_second_of_video():
    with tempfile.TemporaryDirectory() as d:
        video = os.path.join(d, "v.mp4")
        r = run("class S(Scene):\n    def construct(self):\n        self.add(Square(), MathTex('a'))\n", keep=video)
        n, dur = frames(video)
        assert n == 15 and abs(dur - 1.0) < 0.05, (n, dur)  # low quality: 15 fps
        assert r["layout"] == []


def test_still_frame_is_manims_own():
    # Pixel for pixel before encoding: the frames the runner's still writes are the PNG that
    # `manim` saves for the same scene (updaters, z-order and transparency included).
    code = HEAD + (
        "class S(Scene):\n"
        "    def construct(self):\n"
        "        d = Dot(color=RED).add_updater(lambda m, dt: m.shift(RIGHT * 0.5))\n"
        "        sq = Square(fill_opacity=0.5, color=BLUE).set_z_index(2)\n"
        "        self.add(d, sq, Circle(fill_opacity=0.3), Text('still').shift(UP * 2))\n")
    script = (
        "import importlib.util, io, os, sys, contextlib, numpy as np\n"
        "from PIL import Image\n"
        "spec = importlib.util.spec_from_file_location('runner', %r)\n"
        "runner = importlib.util.module_from_spec(spec)\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    spec.loader.exec_module(runner)  # its ready line, not its main()\n"
        "from manim import tempconfig\n"
        "ns = {}\n"
        "exec(compile(%r, 'scene.py', 'exec'), ns)\n"
        "d = sys.argv[1]\n"
        "with tempconfig({'quality': 'low_quality', 'media_dir': d + '/png', 'format': 'png', 'disable_caching': True,\n"
        "                 'output_file': 'still', 'verbosity': 'ERROR', 'progress_bar': 'none'}):\n"
        "    s = ns['S'](); s.render(); png = str(s.renderer.file_writer.final_file_path)\n"
        "with tempconfig({'quality': 'low_quality', 'media_dir': d + '/mp4', 'format': 'mp4', 'disable_caching': True,\n"
        "                 'output_file': 'video', 'verbosity': 'ERROR', 'progress_bar': 'none'}):\n"
        "    s = ns['S'](); runner.watch(s, runner.Layout(), runner.Narration([]))\n"
        "    written = []\n"
        "    own = s.renderer.file_writer.write_frame\n"
        "    def keep(frame, repeat=1):\n"
        "        written.append((np.array(frame), repeat)); return own(frame, repeat=repeat)\n"
        "    s.renderer.file_writer.write_frame = keep\n"
        "    s.render()\n"
        "want = np.array(Image.open(png).convert('RGBA'))\n"
        "assert written, 'no frame written'\n"
        "frame = written[-1][0]\n"
        "print(frame.shape == want.shape and bool((frame == want).all()), sum(n for _, n in written))\n"
    ) % (harness.RUNNER, code)
    with tempfile.TemporaryDirectory() as d:
        out = subprocess.run([harness.PYTHON, "-c", script, d], capture_output=True, text=True, cwd=d, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    same, count = out.stdout.split()[-2:]
    assert same == "True", out.stdout
    assert count == "15", count


def test_inside_bubblewrap():
    # The same runner in a bubblewrap sandbox like Sandbox.swift's: the real /job, no test root.
    if not os.access("/usr/bin/bwrap", os.X_OK):
        print("    (no bwrap here: skipped)")
        return
    r = run("class S(Scene):\n    def construct(self):\n        self.add(Square(), MathTex('x^2').shift(UP * 3.9))\n",
            sandbox=True)
    assert kinds(r) == [("offscreen", "MathTex 'x^2'", "")], r["layout"]


def test_a_scene_that_plays_still_works_as_before():
    with tempfile.TemporaryDirectory() as d:
        video = os.path.join(d, "v.mp4")
        run("class S(Scene):\n    def construct(self):\n        self.play(Create(Square()), run_time=2)\n", keep=video)
        n, dur = frames(video)
        assert n == 30 and abs(dur - 2.0) < 0.05, (n, dur)


# ------------------------------------------------------------------ the layout check

def test_text_off_the_frame_is_found():
    r = run("class S(Scene):\n    def construct(self):\n"
            "        self.play(Write(Text('far right').move_to(RIGHT * 7.5)))\n"
            "        self.play(FadeIn(MathTex('x^2 + 1').to_edge(DOWN)))\n")
    assert kinds(r) == [("offscreen", "Text 'far right'", "")], r["layout"]
    assert r["layout"][0]["at_s"] == 1.0, r["layout"]


def test_formulas_on_top_of_each_other_are_found():
    r = run("class S(Scene):\n    def construct(self):\n"
            "        a = MathTex('x^2 + 1')\n"
            "        b = MathTex('y = 3x - 2').move_to(a).shift(RIGHT * 0.3)\n"
            "        self.play(Write(a))\n"
            "        self.play(Write(b))\n"
            "        self.wait()\n"
            "        self.play(a.animate.shift(UP * 0.05))\n")
    # Found once, when it appears, though it lasts three animations.
    assert kinds(r) == [("overlap", "MathTex 'x^2 + 1'", "MathTex 'y = 3x - 2'")], r["layout"]
    assert r["layout"][0]["at_s"] == 2.0, r["layout"]


def test_different_text_on_the_same_spot_is_found():
    r = run("class S(Scene):\n    def construct(self):\n"
            "        self.add(MathTex('6'), MathTex('9'))\n        self.wait(0.2)\n")
    assert kinds(r) == [("overlap", "MathTex '6'", "MathTex '9'")], r["layout"]


def test_text_inside_a_group_is_compared_too():
    r = run("class S(Scene):\n    def construct(self):\n"
            "        g = VGroup(Tex('left'), Tex('right')).arrange(RIGHT, buff=-0.4)\n"
            "        self.add(VGroup(Square(), g))\n        self.wait(0.2)\n")
    assert kinds(r) == [("overlap", "Tex 'left'", "Tex 'right'")], r["layout"]


def test_a_clean_scene_is_quiet():
    r = run("class S(Scene):\n    def construct(self):\n"
            "        title = Title('Solving a linear equation')\n"
            "        eqs = VGroup(MathTex('3x + 5 = 20'), MathTex('3x = 15'), MathTex('x = 5')).arrange(DOWN, buff=0.4)\n"
            "        ax = Axes(x_range=[-3, 3, 1], y_range=[-2, 2, 1], x_length=5, y_length=3).add_coordinates()\n"
            "        labels = ax.get_axis_labels(MathTex('x'), MathTex('y'))\n"
            "        VGroup(eqs, VGroup(ax, labels)).arrange(RIGHT, buff=1).next_to(title, DOWN)\n"
            "        m = Matrix([[1, 2], [3, 4]]).scale(0.6).to_corner(DL)\n"
            "        self.play(Write(title))\n"
            "        for e in eqs:\n"
            "            self.play(Write(e), run_time=0.3)\n"
            "        self.play(Create(ax), Write(labels), FadeIn(m))\n"
            "        self.play(TransformMatchingTex(eqs[2].copy(), MathTex('x = 5').to_corner(DR)))\n"
            "        self.play(Indicate(eqs[2]))\n"
            "        self.wait()\n")
    assert r["layout"] == [], r["layout"]


def test_a_label_on_a_filled_square_is_quiet():
    r = run("class S(Scene):\n    def construct(self):\n"
            "        sq = Square(side_length=2, fill_color=BLUE, fill_opacity=1)\n"
            "        label = MathTex('A = s^2').move_to(sq)\n"
            "        dot = LabeledDot(MathTex('P')).next_to(sq, RIGHT)\n"
            "        self.play(FadeIn(sq), Write(label), FadeIn(dot))\n"
            "        self.play(Circumscribe(sq))\n")
    assert r["layout"] == [], r["layout"]


def test_transparent_text_and_a_highlight_copy_are_quiet():
    r = run("class S(Scene):\n    def construct(self):\n"
            "        a = MathTex('x = 5')\n"
            "        hidden = MathTex('y = 7').move_to(a).set_opacity(0)\n"
            "        glow = a.copy().set_color(YELLOW)\n"
            "        shiny = Text('So shiny!').to_edge(UP)\n"
            "        self.add(a, hidden, glow, shiny, AnimatedBoundary(shiny, colors=[RED, BLUE]))\n"
            "        self.wait(0.5)\n")
    assert r["layout"] == [], r["layout"]
    # ... but the same words shifted onto themselves are a defect, said once.
    r = run("class S(Scene):\n    def construct(self):\n"
            "        shiny = Text('So shiny!')\n"
            "        self.add(shiny, AnimatedBoundary(shiny, colors=[RED, BLUE]), shiny.copy().shift(RIGHT * 0.4))\n"
            "        self.wait(0.5)\n")
    assert kinds(r) == [("overlap", "Text 'So shiny!'", "Text 'So shiny!'")], r["layout"]


def test_three_d_text_counts_only_when_fixed_in_frame():
    r = run("class S(ThreeDScene):\n    def construct(self):\n"
            "        self.set_camera_orientation(phi=70 * DEGREES, theta=30 * DEGREES)\n"
            "        self.add(ThreeDAxes(), Text('in space').shift(OUT * 2), Text('in space 2').shift(OUT * 2))\n"
            "        t = Text('pinned').to_corner(UL).shift(LEFT * 2)\n"
            "        self.add_fixed_in_frame_mobjects(t)\n"
            "        self.wait(0.2)\n")
    assert kinds(r) == [("offscreen", "Text 'pinned'", "")], r["layout"]


def test_moving_camera_frame_is_the_frame():
    # Text the moving frame has not reached yet is waiting for it; text it cuts is a defect.
    r = run("class S(MovingCameraScene):\n    def construct(self):\n"
            "        cut = Text('cut here').move_to(RIGHT * 7)\n"
            "        far = Text('over there').shift(RIGHT * 14)\n"
            "        self.add(cut, far)\n"
            "        self.wait(0.2)\n"
            "        self.play(self.camera.frame.animate.move_to(far))\n")
    assert kinds(r) == [("offscreen", "Text 'cut here'", "")], r["layout"]
    assert r["layout"][0]["at_s"] == 0.2, r["layout"]


def test_glyphs_decide_not_boxes():
    # A label in the empty corner of a tall fraction's box touches no glyph; Transform's
    # leftover lies exactly on its target and looks like one number.
    r = run("class S(Scene):\n    def construct(self):\n"
            "        f = MathTex(r'\\frac{1}{x^2 + 2x + 1} + 3').scale(1.5)\n"
            "        tag = Tex('a').scale(0.6).move_to(f.get_corner(UR) + DOWN * 0.3 + LEFT * 0.25)\n"
            "        a, b = Integer(4), Integer(5).shift(DOWN * 2)\n"
            "        self.add(f, tag, a, b)\n"
            "        self.play(Transform(a, b))\n")
    assert r["layout"] == [], r["layout"]


def test_the_list_is_bounded():
    r = run("class S(Scene):\n    def construct(self):\n"
            "        self.add(*[Integer(i).scale(0.5).move_to(LEFT * 8 * (-1) ** i + UP * (i // 2 * 0.5 - 3.5))\n"
            "                    for i in range(30)])\n"
            "        self.wait(0.2)\n")
    assert len(r["layout"]) == 20 and r["layout_more"] == 10, (len(r["layout"]), r["layout_more"])


def test_a_failing_check_is_swallowed_and_counted():
    report, _ = harness.render(HEAD + "class Odd(Text):\n    def get_all_points(self):\n        raise ValueError('odd')\n\n"
                                      "class S(Scene):\n    def construct(self):\n"
                                      "        self.add(Odd('x'))\n        self.wait(0.2)\n        self.wait(0.2)\n", "S")
    assert report["ok"] and report["bytes"] > 0, report
    assert report["layout_errors"] == 2 and report["layout"] == [], report


def test_cost_on_a_busy_scene():
    # 120 formulas and texts, 40 animations: the check's own time against the render's.
    r = run("class S(Scene):\n    def construct(self):\n"
            "        cells = VGroup(*[MathTex('x_{%d}^2' % i) if i % 2 else Text(str(i)) for i in range(120)])\n"
            "        cells.arrange_in_grid(rows=10, buff=0.25).scale_to_fit_height(7)\n"
            "        self.add(cells)\n"
            "        for i in range(40):\n"
            "            self.play(cells[i].animate.set_color(YELLOW), run_time=0.1)\n")
    share = r["layout_s"] / r["render_s"]
    print("    busy scene: layout check %.3f s of %.2f s rendering (%.1f%%), %d looks"
          % (r["layout_s"], r["render_s"], 100 * share, 40))
    assert r["layout"] == [], r["layout"]
    assert share < 0.05, share


def test_a_pile_of_text_stays_cheap():
    # 500 numbers on 5 spots (hundreds of thousands of meeting boxes), 10 animations.
    r, _ = harness.render(HEAD + "class S(Scene):\n    def construct(self):\n"
                          "        self.add(*[Integer(i).shift(RIGHT * (i % 5)) for i in range(500)])\n"
                          "        for _ in range(10):\n            self.wait(0.1)\n", "S")
    assert r["ok"] and r["layout_errors"] == 0, r
    print("    pile of 500: layout check %.3f s for 10 looks, %d reported, %d more"
          % (r["layout_s"], len(r["layout"]), r["layout_more"]))
    assert len(r["layout"]) == 20 and r["layout_s"] / 10 < 0.25, r["layout_s"]


# ------------------------------------------------------------------ narration

SAID = [{"text": "First sentence.", "duration_s": 1.5}, {"text": "Second one.", "duration_s": 0.8}]


def test_voiceover_blocks_follow_the_sentences():
    # The first block's animation is shorter than its sentence, the second's longer: the scene
    # waits out the first, and the second sentence starts where its block did.
    r = run("class S(Scene):\n    def construct(self):\n"
            "        with self.voiceover(text='First sentence.') as t:\n"
            "            self.play(Create(Circle()), run_time=t.duration / 3)\n"
            "        with self.voiceover('Second one.') as t:\n"
            "            self.play(FadeIn(Square()), run_time=2.0)\n", narration=SAID)
    # Times are whole frames (1/15 s at low quality): the second starts at the first frame after the first ends.
    assert r["narration"][0] == 0.0 and 1.5 <= r["narration"][1] < 1.5 + 1 / 15 + 1e-3, r["narration"]
    n, d = frames_of(r)
    assert abs(d - (r["narration"][1] + 2.0)) < 0.1, d


def test_blocks_match_by_text_then_order():
    # The second sentence's block comes first; an unknown text takes the next unspoken one.
    r = run("class S(Scene):\n    def construct(self):\n"
            "        with self.voiceover('Second one.') as t:\n            self.wait(t.duration)\n"
            "        with self.voiceover('something else') as t:\n            self.wait(t.get_remaining_duration())\n",
            narration=SAID)
    assert r["narration"] == [0.8, 0.0], r["narration"]


def test_a_scene_without_blocks_is_narrated_from_its_start_and_waits_for_the_end():
    r = run("class S(Scene):\n    def construct(self):\n        self.play(Create(Circle()), run_time=0.5)\n",
            narration=SAID)
    assert r["narration"] == [0.0, 1.75], r["narration"]
    _, d = frames_of(r)
    assert abs(d - 2.55) < 0.1, d


def test_a_still_scene_holds_its_frame_for_the_narration():
    r = run("class S(Scene):\n    def construct(self):\n        self.add(Circle())\n", narration=SAID)
    assert r["narration"] == [0.0, 1.75], r["narration"]
    _, d = frames_of(r)
    assert abs(d - 2.55) < 0.1, d


def test_hostile_narration_data_is_bounded():
    r = run("class S(Scene):\n    def construct(self):\n        self.wait(0.2)\n",
            narration=[{"text": 5, "duration_s": -3}, "nonsense", {"duration_s": 1e9}, {"duration_s": "x"}, {"duration_s": float("nan")}])
    assert r["narration"] == [0.0, 0.25, 0.5, 120.75, 121.0], r["narration"]
    _, d = frames_of(r)
    assert d < 121.5, d


def frames_of(report):
    with tempfile.NamedTemporaryFile(suffix=".mp4") as f:
        f.write(report["video_bytes"])
        f.flush()
        return frames(f.name)


def main():
    wanted = sys.argv[1:]
    tests = [(n, f) for n, f in globals().items() if n.startswith("test_") and (not wanted or any(w in n for w in wanted))]
    failed = []
    for name, f in tests:
        try:
            f()
            print("ok    %s" % name, flush=True)
        except Exception as e:  # noqa: every failure is listed
            failed.append(name)
            print("FAIL  %s: %s: %s" % (name, type(e).__name__, str(e)[:1500]), flush=True)
    print("%d of %d passed" % (len(tests) - len(failed), len(tests)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
