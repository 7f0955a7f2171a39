"""What the browser checks share: Debian's Chromium through ChromeDriver, axe-core
from the PyPI package, and the setup errors (exit status 2) and check failures
(exit status 1) both scripts report. Nothing is downloaded while they run.
"""

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BROWSER_VENV = REPO / ".venv-browser"
SETUP_HINT = "install them with `make setup-browser` (Debian packages chromium and chromium-driver, and .venv-browser with Tests/Browser/requirements.txt)"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


class SetupError(Exception):
    """The browser, its driver or a Python package is missing: exit status 2."""


class CheckFailed(Exception):
    """A check failed: exit status 1."""


def say(line=""):
    print(line, flush=True)


def import_selenium():
    """Import Selenium, starting again under .venv-browser's Python if this one lacks it."""
    if importlib.util.find_spec("selenium") is not None:
        return
    venv_python = BROWSER_VENV / "bin" / "python"
    here = Path(sys.prefix).resolve()
    if venv_python.exists() and here != BROWSER_VENV.resolve() and not os.environ.get("MATHREEL_BROWSER_REEXEC"):
        os.environ["MATHREEL_BROWSER_REEXEC"] = "1"
        os.execv(str(venv_python), [str(venv_python), str(Path(sys.argv[0]).resolve())] + sys.argv[1:])
    raise SetupError(f"the Python package selenium is not installed for {sys.executable}; {SETUP_HINT}, "
                     f"then run this script with {venv_python}")


def find_axe_js(explicit):
    """The axe-core script bundled in the PyPI package (axe-selenium-python's layout)."""
    if explicit:
        path = Path(explicit)
    else:
        try:
            import axe_selenium_python
        except ImportError:
            raise SetupError(f"the Python package that bundles axe-core (axe_selenium_python) is not installed; {SETUP_HINT}")
        path = Path(axe_selenium_python.__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
    if not path.is_file():
        raise SetupError(f"axe-core's script is missing at {path}; {SETUP_HINT}")
    return path.read_text(encoding="utf-8")


def start_browser(args, profile, flags=(), window=(1280, 800), timeout=60):
    """Headless Chromium through ChromeDriver; `flags` are added to the common ones."""
    for what, path, package in (("Chromium", args.chromium, "chromium"), ("ChromeDriver", args.chromedriver, "chromium-driver")):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise SetupError(f"{what} is not installed at {path} (Debian package {package}); {SETUP_HINT}")
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = args.chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile / 'user-data'}", f"--window-size={window[0]},{window[1]}",
                 "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync") + tuple(flags):
        options.add_argument(flag)
    log = profile / "chromedriver.log"
    service = Service(executable_path=args.chromedriver, log_output=str(log))
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except WebDriverException as e:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise SetupError(f"Chromium did not start through ChromeDriver: {first_line(e)}\n{tail}\n"
                         "(chromium and chromium-driver must be the same version: "
                         "`dpkg-query -W chromium chromium-driver`; `make setup-browser` installs both)")
    driver.set_page_load_timeout(timeout)
    driver.set_script_timeout(timeout)
    caps = driver.capabilities
    say(f"browser: {caps.get('browserName')} {caps.get('browserVersion')}, "
        f"chromedriver {caps.get('chrome', {}).get('chromedriverVersion', '?').split(' ')[0]}")
    return driver


def first_line(e):
    text = getattr(e, "msg", None) or str(e)
    return text.strip().splitlines()[0] if text.strip() else type(e).__name__


def open_page(driver, url):
    from selenium.common.exceptions import WebDriverException
    try:
        driver.get(url)
    except WebDriverException as e:
        raise CheckFailed(f"the browser could not open {url}: {first_line(e)}")
    status = navigation_status(driver)
    if not status:
        # Chromium's own error page (connection refused and the like) keeps the URL asked
        # for, answers no HTTP status, and names the network error in .error-code.
        err = driver.execute_script(
            "if (!document.getElementById('main-frame-error') && !document.body.classList.contains('neterror')) return null;"
            "const c = document.querySelector('.error-code'); return c ? c.textContent.trim() : 'a network error';")
        if err:
            raise CheckFailed(f"the browser could not open {url}: {err}")
    return status


def navigation_status(driver):
    """The HTTP status of the page as the browser saw it (Navigation Timing), or None."""
    try:
        s = driver.execute_script(
            "const n = performance.getEntriesByType('navigation')[0]; return n ? n.responseStatus : null;")
        return int(s) if s else None
    except Exception:
        return None


def run_axe(driver, axe_js, label):
    """axe-core on the open page, WCAG 2.0 and 2.1 A and AA only; returns the violations."""
    driver.execute_script(axe_js)
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations", "incomplete"]}
    out = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, arguments[0]).then(r => done({ok: true, version: axe.version,"
        "  violations: r.violations, incomplete: r.incomplete.map(i => i.id)}),"
        "  e => done({ok: false, error: String(e)}));", options)
    if not out.get("ok"):
        raise CheckFailed(f"axe-core failed on the {label} page: {out.get('error')}")
    violations = out["violations"]
    say(f"  axe-core {out['version']} ({', '.join(AXE_TAGS)}) on the {label} page: {len(violations)} violation(s)"
        + (f"; needs review (not failures): {', '.join(out['incomplete'])}" if out["incomplete"] else ""))
    for v in violations:
        say(f"  VIOLATION {v['id']} [{v.get('impact') or '?'}]: {v['help']} ({v.get('helpUrl', '')})")
        for node in v["nodes"]:
            target = " ".join(json.dumps(t) if not isinstance(t, str) else t for t in node.get("target", []))
            say(f"    at {target}")
            for line in (node.get("failureSummary") or "").splitlines():
                say(f"      {line.strip()}")
    return violations


def check_axe(driver, axe_js, page, result, fail):
    """axe-core on the open page: records `<page>_violations` in result and fails on any."""
    violations = run_axe(driver, axe_js, page)
    result[f"{page}_violations"] = len(violations)
    if violations:
        fail(f"{page} page", f"{len(violations)} accessibility violation(s): " + ", ".join(v["id"] for v in violations))


def add_browser_options(ap):
    """The browser, its driver and axe-core, overridable but not advertised."""
    ap.add_argument("--chromium", default="/usr/bin/chromium", help=argparse.SUPPRESS)
    ap.add_argument("--chromedriver", default="/usr/bin/chromedriver", help=argparse.SUPPRESS)
    ap.add_argument("--axe-js", help=argparse.SUPPRESS)
