"""The app's first page render, as a new visitor gets it: a fresh Python process runs app.py once
through streamlit.testing's AppTest (the same script run a browser's first request triggers) and
reports the time, and which heavy libraries that first render loaded.

    python bench/app_first_render.py [--repeat 3] [--browser] [--root CHECKOUT]

With --browser it also times a real page load: ``streamlit run app.py`` (a fresh server per
repeat) and headless Chromium (Debian's, through Playwright), from asking for the page until the
Video tab's hint is on screen. --root measures another checkout (e.g. ``git archive`` of an older
commit unpacked somewhere) with this interpreter.

Each repeat is a new interpreter, so nothing is cached in memory between them (files are in the
OS page cache after the first). The Streamlit import itself is reported apart: a server has it
loaded before any page is asked for.
"""

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "torchvision", "mediapipe", "spacy", "cv2", "matplotlib", "faster_whisper", "ctranslate2",
         "ray", "sklearn", "transformers", "librosa", "scipy")

CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
t0 = time.perf_counter()
from streamlit.testing.v1 import AppTest
t1 = time.perf_counter()
app = AppTest.from_file({app!r}, default_timeout=300).run()
t2 = time.perf_counter()
assert not app.exception, app.exception
app.run()
t3 = time.perf_counter()
print(json.dumps({{"streamlit_import_s": t1 - t0, "first_render_s": t2 - t1, "second_render_s": t3 - t2,
                  "heavy": [m for m in {heavy!r} if m in sys.modules]}}))
"""
HINT = "Drop a video or pick one from input_files/"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def browser_load(root: Path, chromium: str) -> dict:
    """Seconds from starting ``streamlit run`` to its health check, and from asking for the page
    to the Video tab's hint being visible in Chromium."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(root / "app.py"), "--server.headless=true",
         f"--server.port={port}", "--server.fileWatcherType=none", "--browser.gatherUsageStats=false"],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.1)
        server_s = time.perf_counter() - started
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page()
            asked = time.perf_counter()
            page.goto(url)
            page.get_by_text(HINT).first.wait_for(timeout=120_000)
            page_s = time.perf_counter() - asked
            browser.close()
        return {"server_start_s": server_s, "page_load_s": page_s}
    finally:
        server.terminate()
        server.wait(timeout=30)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--browser", action="store_true", help="also time a page load in headless Chromium")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure (default: this one)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    child = CHILD.format(root=str(root), app=str(root / "app.py"), heavy=HEAVY)
    runs = []
    for _ in range(args.repeat):
        out = subprocess.run([sys.executable, "-c", child], cwd=root, capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in runs[-1].items()}))
    first = [run["first_render_s"] for run in runs]
    print(f"first render: median {statistics.median(first):.2f} s (min {min(first):.2f}, max {max(first):.2f}) "
          f"over {len(runs)} fresh processes; heavy modules loaded: {runs[-1]['heavy']}")
    if args.browser:
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium is None:
            print("no chromium on PATH: browser timing skipped")
            return 0
        loads = []
        for _ in range(args.repeat):
            loads.append(browser_load(root, chromium))
            print(json.dumps({k: round(v, 2) for k, v in loads[-1].items()}))
        page = [load["page_load_s"] for load in loads]
        print(f"browser page load: median {statistics.median(page):.2f} s (min {min(page):.2f}, "
              f"max {max(page):.2f}) over {len(loads)} fresh servers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
