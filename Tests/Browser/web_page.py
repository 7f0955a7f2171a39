#!/usr/bin/env python3
"""Check ingest's web page (GET /) in a real browser (headless Chromium).

Usage: web_page.py --base URL [--problem TEXT] [--timeout S]

  --base URL     the ingest server, http://HOST:PORT (the page is at /).
  --problem TEXT the problem to send; default "Solve 2x = 4".
  --timeout S    how long the job may take to be ready; default 240.

At a phone's size (390x844) it checks that the page has no horizontal scroll and that
axe-core finds no WCAG 2.0/2.1 A or AA violation; then, with the keyboard only, it types
the problem, sends it, follows the live status region until a "Watch your video" link
appears (the lesson's scenes listed meanwhile, each ready by the end), runs axe-core again, and sends a too-short problem, whose error must show in
the role="alert" region and take the focus. The job is a real one: the server must be
able to make the video within --timeout.

It prints a short report and, as its last line, "web page: all checks passed" or what
failed. Exit status: 0 when every check passed, 1 when one failed, 2 when the browser,
its driver or the Python packages are missing (`make setup-browser` installs them).

Like watch_page.py it drives Debian's /usr/bin/chromium through /usr/bin/chromedriver and
injects the axe-core script bundled in the PyPI package: nothing is downloaded while it
runs. Run it with .venv-browser/bin/python; run with another Python that lacks Selenium,
it starts itself again with that one.
"""

import argparse
import json
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from browserkit import (CheckFailed, SetupError, add_browser_options, check_axe, find_axe_js, first_line, import_selenium, open_page,
                        say, start_browser)

PHONE = (390, 844)
POLL = 0.2
SHORT_PROBLEM = "1+1"  # under the 10-character minimum: the server answers 400


# --- setup (as in watch_page.py) ----------------------------------------------------------

def setup_problem(e):
    say(f"setup problem: {e}")
    say("web page: not checked (setup problem)")
    return 2


# --- page checks --------------------------------------------------------------------------

def open_form(driver, url):
    """The page, answered 200, with its deferred script run (it fills in the textarea's hint)."""
    status = open_page(driver, url)
    if status and int(status) != 200:
        raise CheckFailed(f"{url} answered HTTP {status}, not 200")
    wait_for(driver, 15, "the page's script to run",
             lambda: driver.execute_script("return document.readyState === 'complete'"))
    return status


def wait_for(driver, timeout, what, probe):
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise CheckFailed(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(POLL)


def check_no_horizontal_scroll(driver, when):
    m = driver.execute_script(
        "return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth};")
    say(f"  width {when}: scrollWidth {m['scroll']} px, innerWidth {m['inner']} px")
    if m["inner"] > PHONE[0] + 1:
        raise CheckFailed(f"the viewport is {m['inner']} px wide, not a phone's {PHONE[0]} px (the size did not apply)")
    if m["scroll"] > m["inner"]:
        raise CheckFailed(f"the page scrolls sideways {when}: scrollWidth {m['scroll']} px > innerWidth {m['inner']} px")


# Describes the focused element: tag, type, role, and its text or label.
ACTIVE_JS = """
const a = document.activeElement;
if (!a) return null;
return {tag: a.tagName.toLowerCase(), type: a.getAttribute('type'), role: a.getAttribute('role'),
        text: (a.tagName === 'SELECT' ? (a.selectedOptions[0] || {}).text || ''
               : a.innerText || a.value || '').trim().slice(0, 80), id: a.id};
"""


def tab_until(driver, what, is_target, limit=10):
    """Press TAB (to the focused element) until is_target(active) holds; at most `limit` times."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    seen = []
    for _ in range(limit):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        active = driver.execute_script(ACTIVE_JS)
        seen.append(describe_active(active))
        if active and is_target(active):
            return seen
    raise CheckFailed(f"{limit} TAB presses did not reach {what}; focus went: {' -> '.join(seen)}")


def describe_active(a):
    if not a:
        return "(nothing)"
    name = a["tag"] + (f"[type={a['type']}]" if a.get("type") else "") + (f"#{a['id']}" if a.get("id") else "")
    return name + (f" {a['text']!r}" if a.get("text") and a["tag"] != "textarea" else "")


def is_textarea(a):
    return a["tag"] == "textarea"


def is_submit(a):
    return a["tag"] == "button" and (a.get("type") in (None, "submit")) and a["text"] == "Make the video"


def type_keys(driver, text):
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(driver).send_keys(text).perform()


def press(driver, key):
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(driver).send_keys(key).perform()


# Records every text the status region shows and whether the button was disabled, so a
# short-lived state between two polls is not lost (the polling below records too).
OBSERVE_JS = """
const status = document.querySelector('[role="status"]');
const button = Array.from(document.querySelectorAll('form button')).find(b => b.textContent.trim() === 'Make the video');
window.__webPage = {texts: [], disabledSeen: false};
if (status) new MutationObserver(() => {
  const t = status.textContent.trim();
  const list = window.__webPage.texts;
  if (t && list[list.length - 1] !== t) list.push(t);
}).observe(status, {childList: true, characterData: true, subtree: true});
if (button) new MutationObserver(() => { if (button.disabled) window.__webPage.disabledSeen = true; })
  .observe(button, {attributes: true, attributeFilter: ['disabled']});
return {status: !!status, button: !!button, live: status ? status.getAttribute('aria-live') : null};
"""

STATE_JS = """
const status = document.querySelector('[role="status"]');
const alert = document.querySelector('[role="alert"]');
const link = Array.from(document.querySelectorAll('a')).find(a => a.textContent.trim() === 'Watch your video' && a.offsetParent !== null);
const button = Array.from(document.querySelectorAll('form button')).find(b => b.textContent.trim() === 'Make the video');
const active = document.activeElement;
const scenes = document.getElementById('scenes');
return {
  scenes: scenes && !scenes.hidden ? Array.from(scenes.querySelectorAll('li')).map(li => li.textContent.trim()) : [],
  status: status ? status.textContent.trim() : null,
  alert: alert ? alert.textContent.trim() : null,
  alertFocused: !!(alert && active && (active === alert || alert.contains(active))),
  link: link ? link.href : null,
  buttonDisabled: button ? button.disabled : null,
  observed: window.__webPage || null,
};
"""


def check_empty_page(driver, axe_js, result, fail):
    say("empty page")
    check_no_horizontal_scroll(driver, "on the empty page")
    check_axe(driver, axe_js, "empty", result, fail)


def send_problem_by_keyboard(driver, problem):
    """From the body, TAB to the textarea, type, TAB to the submit button, press ENTER."""
    from selenium.webdriver.common.keys import Keys
    driver.execute_script("if (document.activeElement) document.activeElement.blur(); window.scrollTo(0, 0);")
    path = tab_until(driver, "the textarea", is_textarea)
    say(f"  keyboard: {' -> '.join(path)}")
    type_keys(driver, problem)
    typed = driver.execute_script("return document.activeElement.value")
    if typed != problem:
        raise CheckFailed(f"typing into the textarea gave {typed!r}, not {problem!r}")
    path = tab_until(driver, "the \"Make the video\" button", is_submit)
    say(f"  keyboard: textarea -> {' -> '.join(path)}, ENTER")
    press(driver, Keys.ENTER)


def follow_job(driver, args, result, fail):
    say(f"job: {args.problem!r} sent with the keyboard")
    observed = driver.execute_script(OBSERVE_JS)
    if not observed["status"]:
        raise CheckFailed('the page has no role="status" region')
    if observed["live"] != "polite":
        fail("status region", f"aria-live is {observed['live']!r}, not 'polite'")
    send_problem_by_keyboard(driver, args.problem)

    texts = []
    scene_lists = []  # each different list of the lesson's scenes the page showed
    start = time.monotonic()
    deadline = start + args.timeout
    last_said = None
    while True:
        s = driver.execute_script(STATE_JS)
        if s["status"] and (not texts or texts[-1] != s["status"]):
            texts.append(s["status"])
        if s["status"] != last_said and s["status"]:
            say(f"  {time.monotonic() - start:6.1f} s  status: {s['status']}")
            last_said = s["status"]
        if s["scenes"] and (not scene_lists or scene_lists[-1] != s["scenes"]):
            scene_lists.append(s["scenes"])
            say(f"  {time.monotonic() - start:6.1f} s  scenes: {s['scenes']}")
        if s["alert"]:
            raise CheckFailed(f"the page shows an error instead of following the job: {s['alert']!r}")
        if s["link"]:
            break
        if s["status"] and s["status"].split(":")[0].strip() in ("Failed", "Expired"):
            raise CheckFailed(f"the job ended without a video: {s['status']!r}")
        if time.monotonic() > deadline:
            raise CheckFailed(f"no \"Watch your video\" link within {args.timeout:g} s; status texts seen: {texts}")
        time.sleep(POLL)
    took = time.monotonic() - start
    seen_by_observer = (s["observed"] or {}).get("texts") or []
    result["link"] = s["link"]
    result["status_texts"] = texts
    say(f"  ready after {took:.1f} s; link: {s['link']}")
    say(f"  status texts (polled every {POLL:g} s): {texts}")
    say(f"  status texts (every change): {seen_by_observer}")
    # A lesson: its scenes listed while it was made, each ready by the end.
    final = scene_lists[-1] if scene_lists else []
    result["scenes"] = final
    if len(final) < 3:
        fail("scene list", f"a lesson's scenes were not listed while it was made (seen: {scene_lists})")
    elif not all(item.endswith(": ready") for item in final):
        fail("scene list", f"not every scene was shown ready: {final}")
    if not s["status"].startswith("Ready"):
        fail("status region", f"the link appeared but the status says {s['status']!r}, not Ready")
    if len(set(texts) | set(seen_by_observer)) < 2:
        fail("status region", f"its text never changed while the job ran (seen: {texts})")
    if not (s["observed"] or {}).get("disabledSeen"):
        fail("submit button", "it was never disabled while the problem was being sent")
    if s["buttonDisabled"]:
        fail("submit button", "it is still disabled after the job was accepted")


def check_result_page(driver, axe_js, result, fail):
    say("page with the result")
    check_no_horizontal_scroll(driver, "with the result shown")
    check_axe(driver, axe_js, "result", result, fail)
    recent = driver.execute_script(
        "const h = Array.from(document.querySelectorAll('h2')).find(h => h.textContent.trim() === 'Your recent videos');"
        "const s = h && h.closest('section');"
        "return s && !s.hidden ? s.querySelectorAll('li').length : null;")
    say(f"  recent videos: {'not shown' if recent is None else f'{recent} listed'}")


def check_error(driver, result, fail):
    from selenium.webdriver.common.keys import Keys
    say(f"error: a too-short problem {SHORT_PROBLEM!r}")
    textarea = driver.find_element("css selector", "textarea")
    driver.execute_script("arguments[0].focus();", textarea)
    # Clear it with the keyboard too: select all, delete.
    press(driver, Keys.CONTROL + "a")
    press(driver, Keys.DELETE)
    if driver.execute_script("return arguments[0].value", textarea) != "":
        driver.execute_script("arguments[0].value = '';", textarea)
    type_keys(driver, SHORT_PROBLEM)
    tab_until(driver, "the \"Make the video\" button", is_submit)
    press(driver, Keys.ENTER)
    def state_when(key):
        def probe():
            st = driver.execute_script(STATE_JS)
            return st if st[key] else None
        return probe

    s = wait_for(driver, 30, 'an error in the role="alert" region', state_when("alert"))
    result["error_message"] = s["alert"]
    say(f"  alert: {s['alert']!r}")
    try:
        s = wait_for(driver, 5, "the focus to move to the error", state_when("alertFocused"))
    except CheckFailed:
        fail("error", "the focus did not move to the role=\"alert\" region; it is on "
             + describe_active(driver.execute_script(ACTIVE_JS)))
    else:
        say(f"  focus: {describe_active(driver.execute_script(ACTIVE_JS))} (the alert region)")
    if s["buttonDisabled"]:
        fail("submit button", "it stays disabled after the error")


# --- main ---------------------------------------------------------------------------------

def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, metavar="URL", help="the ingest server, http://HOST:PORT")
    ap.add_argument("--problem", default="Solve 2x = 4", metavar="TEXT", help='the problem to send (default "Solve 2x = 4")')
    ap.add_argument("--timeout", type=float, default=240.0, metavar="S", help="how long the job may take (default 240)")
    add_browser_options(ap)
    args = ap.parse_args(argv)
    if args.timeout <= 0:
        ap.error("--timeout must be positive")
    if len(args.problem) < 10:
        ap.error("--problem must have at least 10 characters (the server refuses shorter ones)")
    url = args.base.rstrip("/") + "/"

    result = {}
    failures = []

    def fail(what, message):
        failures.append(f"{what}: {message}")
        say(f"  FAIL {what}: {message}")

    try:
        import_selenium()  # may start this script again under .venv-browser's Python
    except SetupError as e:
        return setup_problem(e)
    # A test runner's SIGTERM ends the run through `finally`, so Chromium goes with it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    profile = Path(tempfile.mkdtemp(prefix="web-page-"))
    driver = None
    try:
        axe_js = find_axe_js(args.axe_js)
        driver = start_browser(args, profile, window=PHONE)
        # A phone's viewport, honouring <meta name="viewport"> as a phone's browser does.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 2, "mobile": True})
        say(f"web page {url}")
        # Each step needs the one before it: the first failure that breaks the flow ends it.
        try:
            status = open_form(driver, url)
            say(f"  loaded: HTTP {status or '?'}, title {driver.title!r}")
            check_empty_page(driver, axe_js, result, fail)
            follow_job(driver, args, result, fail)
            check_result_page(driver, axe_js, result, fail)
            check_error(driver, result, fail)
        except CheckFailed as e:
            fail("web page", str(e))
        except SetupError:
            raise
        except Exception as e:
            fail("web page", f"the browser failed: {first_line(e)}")
    except SetupError as e:
        return setup_problem(e)
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception:
                pass
        shutil.rmtree(profile, ignore_errors=True)

    say(json.dumps(result))
    if failures:
        say(f"web page: {len(failures)} check(s) failed")
        for f in failures:
            say(f"  - {f}")
        return 1
    say("web page: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
