"""The app served on localhost and used from a real headless Chromium (Playwright): upload a
clip and download its CSV, upload a photo, take a webcam snapshot through Chromium's fake camera.
Screenshots of every tab go to tests/.screenshots/. Skips when Debian's ``chromium`` (apt install
chromium) or the playwright package is absent."""

import csv
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from source.media.ffmpeg import ffmpeg_binary

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt install chromium)")]

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = Path(__file__).resolve().parent / ".screenshots"
STARTUP_S = 90
ANALYSIS_MS = 240_000
TABS = ["Video", "Audio", "Image / webcam", "Grad-CAM", "Models"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``streamlit run app.py`` on a free port, writing its analyses to a temporary folder."""
    out = tmp_path_factory.mktemp("browser-out")
    port = _free_port()
    log = open(out.parent / "streamlit.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless=true",
         f"--server.port={port}", "--server.fileWatcherType=none", "--browser.gatherUsageStats=false"],
        cwd=ROOT, env={**os.environ, "EMOTION_STUDIO_OUTPUT": str(out)}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_S
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read() == b"ok":
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"streamlit did not start: {(out.parent / 'streamlit.log').read_text()[-2000:]}")
        time.sleep(0.5)
    yield url, out
    process.terminate()
    process.wait(timeout=30)
    log.close()


@pytest.fixture(scope="module")
def fake_camera(media, tmp_path_factory) -> Path:
    """The astronaut photo as a Y4M video, which Chromium plays as its fake webcam."""
    target = tmp_path_factory.mktemp("camera") / "astronaut.y4m"
    subprocess.run([ffmpeg_binary(), "-v", "error", "-loop", "1", "-i", str(media["astronaut.png"]), "-t", "1",
                    "-r", "10", "-vf", "scale=640:640", "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", str(target)],
                   check=True)
    return target


@pytest.fixture(scope="module")
def browser(fake_camera):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={fake_camera}"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    url, _ = server
    context = browser.new_context(viewport={"width": 1366, "height": 2400}, accept_downloads=True,
                                  permissions=["camera", "microphone"])
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_role("heading", name="Emotion Studio").wait_for()
    # the tabs render after the heading, one by one: under load, reading them at once found none,
    # and waiting for the last one rendered so far found two of five
    page.get_by_role("tab").nth(len(TABS) - 1).wait_for()
    assert [t.strip() for t in page.get_by_role("tab").all_text_contents()] == TABS
    yield page
    context.close()


def _tab(page, name: str):
    page.get_by_role("tab", name=name).click()
    return page.get_by_role("tabpanel", name=name)


def _screenshot(page, name: str, charts: int = 0) -> None:
    """Save the page once ``charts`` Plotly charts of the open tab have drawn; the page must
    show no traceback (a tab that raised) and no error box (what ``friendly_errors`` shows for a
    tab that raised, "... failed unexpectedly", or a refusal)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.wait_for_function(
        "n => document.querySelectorAll('[role=tabpanel]:not([hidden]) .js-plotly-plot .main-svg').length >= n",
        arg=charts)
    time.sleep(1)  # transitions
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    tracebacks = page.locator("[data-testid=stException]")
    assert tracebacks.count() == 0, f"{name}: the page shows a traceback: {tracebacks.first.inner_text()[:500]}"
    errors = page.locator("[data-testid=stAlertContentError]")
    assert errors.count() == 0, f"{name}: the page shows an error: {errors.first.inner_text()[:500]}"


def test_video_upload_timeline_and_csv_download(page, server, media):
    _, out = server
    panel = _tab(page, "Video")
    panel.locator("input[type=file]").set_input_files(media["astronaut_talking.mp4"])
    panel.get_by_role("button", name="Analyse astronaut_talking.mp4").click()
    panel.get_by_text("Share of time per emotion").wait_for(timeout=ANALYSIS_MS)
    panel.locator(".js-plotly-plot .scatterlayer").first.wait_for()
    panel.locator("video").wait_for()
    _screenshot(page, "video", charts=3)
    with page.expect_download() as download:
        panel.get_by_role("button", name="Per-window CSV").click()
    rows = list(csv.DictReader(open(download.value.path(), newline="", encoding="utf-8")))
    assert [row["start_s"] for row in rows] == ["0.0", "4.0"]
    assert rows == list(csv.DictReader(open(out / "astronaut_talking_windows.csv", newline="", encoding="utf-8")))
    assert all(row["face_top"] == "happy" for row in rows)
    # a click on the timeline's point of window 1 picks that window and seeks the player there
    timeline = panel.locator(".js-plotly-plot").nth(1)
    point = timeline.locator(".scatterlayer .trace").first.locator(".points path").nth(1).bounding_box()
    page.mouse.click(point["x"] + point["width"] / 2, point["y"] + point["height"] / 2)
    panel.get_by_text("1: 4.0–6.0 s", exact=True).wait_for()
    page.wait_for_function("() => (document.querySelector('video') || {}).currentTime >= 4")


def test_photo_upload_shows_happy(page, media):
    panel = _tab(page, "Image / webcam")
    panel.locator("input[type=file]").set_input_files(media["astronaut.png"])
    panel.get_by_test_id("stMetricValue").filter(has_text="happy").wait_for()
    _screenshot(page, "image", charts=1)
    _tab(page, "Grad-CAM").get_by_text("gradcam for happy").first.wait_for()
    _screenshot(page, "gradcam")


def test_webcam_snapshot_shows_happy(page):
    panel = _tab(page, "Image / webcam")
    panel.get_by_text("Webcam snapshot", exact=True).click()
    page.wait_for_function(  # the fake camera is streaming: a click now takes a picture
        "() => (document.querySelector('[data-testid=stCameraInput] video') || {}).readyState >= 2")
    panel.get_by_role("button", name="Take Photo").click()
    panel.get_by_test_id("stMetricValue").filter(has_text="happy").wait_for()
    _screenshot(page, "webcam", charts=1)


def test_audio_upload_and_models_tab(page, server, media):
    _, out = server
    panel = _tab(page, "Audio")
    panel.locator("input[type=file]").set_input_files(media["speech.wav"])
    panel.get_by_role("button", name="Analyse speech.wav").click()
    panel.get_by_text("What the voice model hears").wait_for(timeout=ANALYSIS_MS)
    _screenshot(page, "audio", charts=5)
    # the analysis the page shows is the one written: spoken windows have a voice result and words
    rows = list(csv.DictReader(open(out / "speech_windows.csv", newline="", encoding="utf-8")))
    assert rows and all(row["face_id"] == "" for row in rows)
    spoken = [row for row in rows if row["transcript"].strip()]
    assert spoken and all(row["voice_top"] for row in spoken)
    panel = _tab(page, "Models")
    panel.get_by_text("Measured results of the shipped models").wait_for()
    _screenshot(page, "models")
    # one heading per registered model, with its branch
    from source.registry import list_models

    headings = {h.strip() for h in panel.locator("h4").all_text_contents()}
    assert {f"{e.name} · {e.branch}" for e in list_models()} <= headings, headings


def test_an_avi_plays_through_its_preview(page, media):
    """MPEG-4 part 2 in AVI: Chromium showed only an audio bar; the preview has a picture."""
    panel = _tab(page, "Video")
    panel.locator("input[type=file]").set_input_files(media["astronaut_talking.avi"])
    panel.get_by_role("button", name="Analyse astronaut_talking.avi").click()
    panel.get_by_text("Share of time per emotion").wait_for(timeout=ANALYSIS_MS)
    panel.get_by_text("browser-playable preview of astronaut_talking.avi").wait_for()
    page.wait_for_function("() => { const v = document.querySelector('[role=tabpanel]:not([hidden]) video');"
                           " return v && v.readyState >= 1 && v.videoWidth > 0; }")
    _screenshot(page, "video_avi_preview", charts=3)
    # the result is shown, not only the preview: the windows table and the CSV to download
    panel.get_by_text("Windows", exact=True).first.wait_for()
    assert panel.get_by_test_id("stDataFrame").count() >= 1
    assert panel.get_by_role("button", name="Per-window CSV").count() == 1


LONG_ANALYSIS_MS = 600_000


@pytest.fixture(scope="module", params=[60, 180], ids=["1min", "3min"])
def long_video(request, media, tmp_path_factory) -> Path:
    """The talking clip looped to a minute or three (streams copied)."""
    seconds = request.param
    target = tmp_path_factory.mktemp("long") / f"talking_{seconds}s.mp4"
    subprocess.run([ffmpeg_binary(), "-v", "error", "-stream_loop", str(seconds // 5), "-i",
                    str(media["astronaut_talking.mp4"]), "-c", "copy", "-t", str(seconds), str(target)], check=True)
    return target


def test_long_video_every_tab(page, long_video):
    """A 1- and a 3-minute video: the timeline reaches the end of the media; the long one opens
    in the stacked view with a range slider; a screenshot of every tab."""
    name = long_video.stem
    panel = _tab(page, "Video")
    panel.locator("input[type=file]").set_input_files(long_video)
    panel.get_by_role("button", name=f"Analyse {long_video.name}").click()
    # while it runs, the bar names the stage, the media seconds done and, once a rate is known, the time left
    total = 60 if "60s" in name else 180
    panel.get_by_text(re.compile(rf"Analysing: (decoding|faces|words|voice|fusion) · \d+ of {total} s · about .* left")
                      ).wait_for(timeout=LONG_ANALYSIS_MS)
    _screenshot(page, f"{name}_progress")
    panel.get_by_text("Share of time per emotion").wait_for(timeout=LONG_ANALYSIS_MS)
    panel.locator("video").wait_for()
    _screenshot(page, f"{name}_video", charts=3)
    # the axis reaches the end (as drawn: its tick labels depend on the plot's width, which the legend takes from)
    shown = panel.locator(".js-plotly-plot").nth(1).evaluate("plot => plot._fullLayout.xaxis.range")
    assert shown[0] == 0 and shown[1] >= total, shown
    if "180s" in name:  # 45 windows: the stacked view first, with its range slider
        assert panel.locator(".js-plotly-plot .rangeslider-container").count() == 1
        panel.get_by_text("Lines per branch", exact=True).click()
        page.wait_for_function("() => !document.querySelector('[role=tabpanel]:not([hidden]) .rangeslider-container')")
        _screenshot(page, f"{name}_video_lines", charts=3)
    else:
        panel.get_by_text("Stacked (fused), zoomable", exact=True).click()
        panel.locator(".js-plotly-plot .rangeslider-container").wait_for()
        _screenshot(page, f"{name}_video_stacked", charts=3)
    # every other tab: what it shows for a session that analysed only this video
    expected = {
        "Audio": "Drop a recording or record one, then press Analyse",  # the video is not the audio tab's result
        "Image / webcam": "Drop a photo or take a webcam snapshot",
        # Grad-CAM offers the analysed video and explains its first frame's face
        "Grad-CAM": re.compile(rf"{re.escape(long_video.name)} at 0\.0 s: gradcam for \w+"),
        "Models": "Measured results of the shipped models",
    }
    for tab, shown in expected.items():
        tab_panel = _tab(page, tab)
        tab_panel.get_by_text(shown).first.wait_for()
        if tab == "Models":  # the results table is there
            assert tab_panel.get_by_test_id("stDataFrame").count() >= 1
        _screenshot(page, f"{name}_{tab.split()[0].replace('-', '').lower()}")
