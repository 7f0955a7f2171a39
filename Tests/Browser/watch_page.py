#!/usr/bin/env python3
"""Check a mathreel watch page in a real browser (headless Chromium).

Usage: watch_page.py --watch URL [--gone URL] [--timeout S]

  --watch URL   a watch page (http://HOST:PORT/v/<token>): its <video> must load, play to
                the end without a media error, and the page must pass axe-core's
                WCAG 2.0/2.1 A and AA rules.
  --gone URL    a deleted video's page: it must answer HTTP 410 and pass the same axe check.
  --timeout S   how long each wait may take (page load, metadata, playback); default 60.

It prints a short report and, as its last line, one JSON object, e.g.
  {"played": true, "duration": 3.0, "watch_violations": 0, "gone_violations": 0, ...}
Exit status: 0 when every check passed, 1 when one failed, 2 when the browser, its
driver or the Python packages are missing (`make setup-browser` installs them).

It drives Debian's /usr/bin/chromium through /usr/bin/chromedriver (one source package,
so their versions agree) and injects the axe-core script that ships inside the PyPI
package: nothing is downloaded while it runs. Run it with .venv-browser/bin/python; run
with another Python that lacks Selenium, it starts itself again with that one.
"""

import argparse
import json
import shutil
import signal
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from browserkit import (CheckFailed, SetupError, add_browser_options, check_axe, find_axe_js, first_line, import_selenium,
                        open_page, say, start_browser)


MEDIA_ERRORS = {
    1: "MEDIA_ERR_ABORTED: fetching the video was aborted (the page or the user stopped it)",
    2: "MEDIA_ERR_NETWORK: a network error stopped the download after the video had begun to load",
    3: "MEDIA_ERR_DECODE: the video could not be decoded (a corrupt file, or an encoding the browser cannot decode)",
    4: "MEDIA_ERR_SRC_NOT_SUPPORTED: the source is unusable: not found (404 or another error status), "
       "served with a wrong Content-Type, or a container/codec this browser cannot play",
}
NETWORK_STATES = {0: "NETWORK_EMPTY", 1: "NETWORK_IDLE", 2: "NETWORK_LOADING", 3: "NETWORK_NO_SOURCE"}


# --- setup ------------------------------------------------------------------------------

# --- page checks --------------------------------------------------------------------------

VIDEO_STATE_JS = """
const v = arguments[0];
let q = null;
if (v.getVideoPlaybackQuality) { const p = v.getVideoPlaybackQuality(); q = {total: p.totalVideoFrames, dropped: p.droppedVideoFrames}; }
return {
  readyState: v.readyState, networkState: v.networkState,
  duration: Number.isFinite(v.duration) ? v.duration : (Number.isNaN(v.duration) ? null : 'Infinity'),
  currentTime: v.currentTime, paused: v.paused, ended: v.ended,
  endedEvent: !!(window.__watchPage && window.__watchPage.ended),
  error: v.error ? {code: v.error.code, message: v.error.message || ''} : null,
  sources: v.getAttribute('src') !== null ? [v.src] : Array.from(v.querySelectorAll('source'), s => s.src),
  currentSrc: v.currentSrc, preload: v.preload, muted: v.muted,
  width: v.videoWidth, height: v.videoHeight, frames: q,
};
"""

WATCH_EVENTS_JS = """
const v = arguments[0];
window.__watchPage = {ended: false};
v.addEventListener('ended', () => { window.__watchPage.ended = true; });
"""

PLAY_JS = """
const v = arguments[0], done = arguments[arguments.length - 1];
v.muted = true;
let p;
try { p = v.play(); } catch (e) { done({ok: false, name: e.name, message: String(e.message)}); return; }
if (p && p.then) { p.then(() => done({ok: true}), e => done({ok: false, name: e.name, message: String(e.message)})); }
else { done({ok: true}); }
"""


def media_error_text(state):
    err = state.get("error")
    if err:
        words = MEDIA_ERRORS.get(err["code"], "an unknown media error code")
        detail = f" (browser says: {err['message']})" if err.get("message") else ""
        return f"media error {err['code']} {words}{detail}; source {state.get('currentSrc') or '(none)'}"
    if state.get("networkState") == 3 and state.get("readyState") == 0:
        tried = ", ".join(state.get("sources") or []) or "(no src and no <source>)"
        return ("no usable source (networkState NETWORK_NO_SOURCE): every <source> failed (404, wrong type, "
                f"or a format the browser cannot play) or none is given, which leaves video.error null; sources: {tried}")
    return None


def describe(state):
    return (f"readyState {state['readyState']}, networkState {NETWORK_STATES.get(state['networkState'], state['networkState'])}, "
            f"currentTime {state['currentTime']:.2f}, duration {state['duration']}, paused {state['paused']}")


def check_video(driver, args, result):
    videos = driver.find_elements("tag name", "video")
    if not videos:
        raise CheckFailed("the watch page has no <video> element")
    if len(videos) > 1:
        say(f"  note: {len(videos)} <video> elements; checking the first")
    video = videos[0]
    driver.execute_script(WATCH_EVENTS_JS, video)
    state = driver.execute_script(VIDEO_STATE_JS, video)
    if state["readyState"] == 0 and state["preload"] == "none" and not media_error_text(state):
        say("  note: the video has preload=\"none\"; asking it for metadata")
        driver.execute_script("arguments[0].preload = 'metadata'; arguments[0].load();", video)

    # 1. Metadata: readyState >= HAVE_METADATA and a positive duration, with no error.
    deadline = time.monotonic() + args.timeout
    no_source_since = None
    while True:
        state = driver.execute_script(VIDEO_STATE_JS, video)
        err = media_error_text(state)
        if err and not state["error"]:
            # NETWORK_NO_SOURCE can pass between two <source> children: only a lasting one fails.
            no_source_since = no_source_since or time.monotonic()
            if time.monotonic() - no_source_since < 1.5:
                err = None
        else:
            no_source_since = None
        if err:
            raise CheckFailed(err)
        if state["readyState"] >= 1 and state["duration"] not in (None, 0):
            break
        if time.monotonic() > deadline:
            raise CheckFailed(f"the video's metadata did not load within {args.timeout:g} s ({describe(state)}; "
                              f"source {state['currentSrc'] or '(none)'})")
        time.sleep(0.1)
    if state["duration"] == "Infinity":
        raise CheckFailed("the video's duration is Infinity (a live stream?); a watch page's video must have an end")
    duration = float(state["duration"])
    result["duration"] = round(duration, 3)
    say(f"  metadata: {state['width']}x{state['height']}, duration {duration:.2f} s, source {state['currentSrc']}")
    if duration <= 0:
        raise CheckFailed(f"the video's duration is {duration}")
    if duration + 5 > args.timeout:
        raise CheckFailed(f"the video lasts {duration:.1f} s, too long to play within --timeout {args.timeout:g} s; pass a larger --timeout")
    if not state["width"] or not state["height"]:
        raise CheckFailed("the file has no video track the browser can show (videoWidth/videoHeight are 0)")

    # 2. Play it from JavaScript (muted) and wait for 'ended'.
    played = driver.execute_async_script(PLAY_JS, video)
    if not played.get("ok"):
        state = driver.execute_script(VIDEO_STATE_JS, video)
        raise CheckFailed(media_error_text(state) or
                          f"video.play() was refused: {played.get('name')}: {played.get('message')}"
                          + (" (autoplay policy: the page must allow muted play)" if played.get("name") == "NotAllowedError" else ""))
    start = time.monotonic()
    deadline = start + args.timeout
    while True:
        state = driver.execute_script(VIDEO_STATE_JS, video)
        err = media_error_text(state)
        if err:
            raise CheckFailed(f"{err} (during playback at {state['currentTime']:.2f} s)")
        if state["endedEvent"] or state["ended"]:
            break
        if time.monotonic() > deadline:
            result["current_time"] = round(float(state["currentTime"]), 3)
            raise CheckFailed(f"playback did not reach the end within {args.timeout:g} s ({describe(state)})")
        time.sleep(0.2)
    took = time.monotonic() - start
    result["current_time"] = round(float(state["currentTime"]), 3)
    frames = state.get("frames") or {}
    result["frames"] = frames.get("total")
    say(f"  played: currentTime {state['currentTime']:.2f} / duration {duration:.2f} s in {took:.1f} s, "
        f"'ended' event {'fired' if state['endedEvent'] else 'not seen (video.ended is true)'}, "
        f"{frames.get('total', '?')} frames decoded, {frames.get('dropped', '?')} dropped")
    if frames and frames.get("total") == 0:
        raise CheckFailed("the video reached its end but the browser decoded no video frame")
    result["played"] = True


def http_status(url, timeout):
    """The status of a plain GET, redirects not followed (WebDriver does not expose it)."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None
    opener = urllib.request.build_opener(NoRedirect)
    req = urllib.request.Request(url, headers={"User-Agent": "mathreel-watch-page-check"})
    try:
        with opener.open(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", "") if e.headers else ""
    except (urllib.error.URLError, OSError) as e:
        raise CheckFailed(f"could not fetch {url}: {getattr(e, 'reason', e)}")


def setup_problem(e, result):
    say(f"setup problem: {e}")
    result["setup_error"] = str(e).splitlines()[0]
    say(json.dumps(result))
    return 2


# --- main ---------------------------------------------------------------------------------

def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--watch", required=True, metavar="URL", help="the watch page, http://HOST:PORT/v/<token>")
    ap.add_argument("--gone", metavar="URL", help="a deleted video's page, which must answer 410")
    ap.add_argument("--gone-within", type=float, default=0.0, metavar="S",
                    help="wait up to S seconds for the gone page to turn 410 (a link is used up after a quiet time)")
    ap.add_argument("--timeout", type=float, default=60.0, metavar="S", help="each wait's limit in seconds (default 60)")
    add_browser_options(ap)
    args = ap.parse_args(argv)
    if args.timeout <= 0:
        ap.error("--timeout must be positive")

    result = {"played": False, "duration": None, "current_time": None, "watch_violations": None,
              "gone_status": None, "gone_violations": None}
    failures = []

    def fail(what, message, shown=None):
        failures.append(f"{what}: {message}")
        say(f"  FAIL {shown or message}")

    try:
        import_selenium()  # may start this script again under .venv-browser's Python
    except SetupError as e:
        return setup_problem(e, result)
    # A test runner's SIGTERM ends the run through `finally`, so Chromium goes with it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    profile = Path(tempfile.mkdtemp(prefix="watch-page-"))
    driver = None
    try:
        axe_js = find_axe_js(args.axe_js)
        driver = start_browser(args, profile, flags=("--autoplay-policy=no-user-gesture-required", "--mute-audio"), timeout=args.timeout)

        say(f"watch page {args.watch}")
        try:
            status = open_page(driver, args.watch)
            say(f"  loaded: HTTP {status if status else '?'}, title {driver.title!r}")
            if status and status != 200:
                fail("watch page", f"answered HTTP {status}, not 200", f"expected HTTP 200, got {status}")
            try:
                check_video(driver, args, result)
            except CheckFailed as e:
                fail("video", str(e), f"video: {e}")
            except Exception as e:
                fail("video", f"the browser failed: {first_line(e)}", f"video: the browser failed: {first_line(e)}")
            check_axe(driver, axe_js, "watch", result, fail)
        except CheckFailed as e:
            fail("watch page", str(e))
        except SetupError:
            raise
        except Exception as e:
            fail("watch page", f"the browser failed: {first_line(e)}")

        if args.gone:
            say(f"gone page {args.gone}")
            try:
                deadline = time.monotonic() + args.gone_within
                status, ctype = http_status(args.gone, args.timeout)
                while status != 410 and time.monotonic() < deadline:
                    time.sleep(0.2)
                    status, ctype = http_status(args.gone, args.timeout)
                result["gone_status"] = status
                say(f"  HTTP {status} ({ctype or 'no Content-Type'})")
                if status != 410:
                    fail("gone page", f"answered HTTP {status}, not 410", f"expected HTTP 410 Gone, got {status}")
                seen = open_page(driver, args.gone)
                say(f"  in the browser: HTTP {seen if seen else '?'}, title {driver.title!r}")
                check_axe(driver, axe_js, "gone", result, fail)
            except CheckFailed as e:
                fail("gone page", str(e))
            except Exception as e:
                fail("gone page", f"the browser failed: {first_line(e)}")
    except SetupError as e:
        return setup_problem(e, result)
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception:
                pass
        shutil.rmtree(profile, ignore_errors=True)

    result["passed"] = not failures
    if failures:
        say(f"FAILED: {len(failures)} check(s)")
        for f in failures:
            say(f"  - {f}")
    else:
        say("PASSED: the video played to its end and the pages have no WCAG 2.1 A/AA violation axe-core finds")
    say(json.dumps(result))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
