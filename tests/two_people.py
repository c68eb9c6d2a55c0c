"""Two-person composites of the ``av_samples`` talking heads, for the who-is-speaking tests and the
speed benchmark: two faces side by side taking turns every ``turn_s`` seconds. The one speaking
plays with its own sound; the listener is

- ``frozen``: its frame from the turn's start, held;
- ``nodding``: that frame held, but the head sways and bobs (a slow rotation and shift), the mouth
  as it was;
- ``slowed``: its own clip's frames at a quarter of their speed, without their sound: real head
  motion and blinks, and a mouth that moves slowly and a little (a listener murmuring along);
- ``muted``: its own clip's frames over the same span with the sound dropped: real head motion,
  blinks and a mouth that moves as it talks, but silently (the hardest case: only the timing of the
  mouth against the speech heard tells the two apart).

``beside_listener`` puts one talking head beside a real listener instead: the RAVDESS actress's
silent stretches between her sentences (head motion, blinks, a closed mouth), joined into one reel.

Expected speakers: turn ``i`` is the left face's when ``i`` is even, the right face's when odd.
"""

import subprocess
from pathlib import Path

LISTENERS = ("frozen", "nodding", "slowed", "muted")
SIZE = 512


def _listener_filter(mode: str, start: float, turn_s: float) -> str:
    moving = f"trim=start={start}:duration={turn_s},setpts=PTS-STARTPTS,scale={SIZE}:{SIZE},fps=25"
    held = (f"trim=start={start}:duration=0.04,setpts=PTS-STARTPTS,scale={SIZE}:{SIZE},fps=25,"
            f"tpad=stop_mode=clone:stop_duration={turn_s}")
    if mode == "frozen":
        return held
    if mode == "nodding":  # a sway of about 4 degrees and a bob of 12 px, a cycle every 1.7 s / 1.1 s
        pad = 24
        return (f"{held},pad={SIZE + 2 * pad}:{SIZE + 2 * pad}:{pad}:{pad}:color=gray,"
                f"rotate=a='0.07*sin(2*PI*t/1.7)':fillcolor=gray,"
                f"crop={SIZE}:{SIZE}:x='{pad}+8*sin(2*PI*t/2.3)':y='{pad}+12*sin(2*PI*t/1.1)'")
    if mode == "slowed":
        return (f"trim=start={start}:duration={turn_s / 4},setpts=4*(PTS-STARTPTS),scale={SIZE}:{SIZE},fps=25,"
                f"tpad=stop_mode=clone:stop_duration=1")
    if mode == "muted":
        return moving
    raise ValueError(f"listener must be one of {LISTENERS}, not {mode!r}")


def composite(folder: Path, left: Path, right: Path, listener: str = "frozen", turns: int = 4,
              turn_s: float = 4.0, name: str | None = None) -> Path:
    """``left`` and ``right`` side by side taking ``turns`` turns of ``turn_s`` (each clip's 0-4 s,
    then its 4-8 s, ...), the listener shown as ``listener`` says; returns the MP4 made in ``folder``."""
    from source.media.ffmpeg import ffmpeg_binary

    folder.mkdir(parents=True, exist_ok=True)
    stem = name or f"two_people_{listener}"
    parts = []
    for turn in range(turns):
        start = (turn // 2) * turn_s
        speaking_left = turn % 2 == 0
        speaking = f"trim=start={start}:duration={turn_s},setpts=PTS-STARTPTS,scale={SIZE}:{SIZE},fps=25"
        quiet = _listener_filter(listener, start, turn_s)
        graph = (f"[0:v]{speaking if speaking_left else quiet}[l];[1:v]{quiet if speaking_left else speaking}[r];"
                 f"[l][r]hstack=shortest=1,trim=duration={turn_s}[v];"
                 f"[{0 if speaking_left else 1}:a]atrim=start={start}:duration={turn_s},asetpts=PTS-STARTPTS,"
                 "aresample=48000[a]")
        part = folder / f"{stem}_turn{turn}.mp4"
        subprocess.run([ffmpeg_binary(), "-v", "error", "-y", "-i", str(left), "-i", str(right), "-filter_complex",
                        graph, "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac",
                        str(part)], check=True)
        parts.append(part)
    listing = folder / f"{stem}_parts.txt"
    listing.write_text("".join(f"file '{p.name}'\n" for p in parts))
    out = folder / f"{stem}.mp4"
    subprocess.run([ffmpeg_binary(), "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
                    "-c", "copy", str(out)], check=True)
    for part in parts:
        part.unlink()
    listing.unlink()
    return out


def expected_speakers(turns: int = 4) -> list[str]:
    """Per turn (one 4-s window each with the default options), the side that speaks."""
    return ["left" if turn % 2 == 0 else "right" for turn in range(turns)]


ACTRESS = "ravdess_actress_22s.mp4"
# the actress's silences between sentences (Silero VAD hears speech at 0.96-2.30, 3.81-5.21, 6.69-8.09,
# 9.70-11.10, 12.64-14.05, 15.49-16.89, 18.47-20.00, 21.54-23.07 s), 0.15 s or more clear of her speech
ACTRESS_SILENCES = ((2.45, 3.65), (5.35, 6.55), (8.25, 9.55), (11.25, 12.50), (14.20, 15.35), (17.05, 18.30),
                    (20.15, 21.40))


def beside_listener(folder: Path, talker: Path, actress: Path, listener_left: bool, seconds: float = 8.0,
                    name: str | None = None) -> Path:
    """``talker`` speaking for ``seconds`` (its own sound) beside the actress's silent stretches
    (``ACTRESS_SILENCES`` of ``actress`` one after another), the listener on the left when
    ``listener_left``. The talker speaks in every window."""
    from source.media.ffmpeg import ffmpeg_binary

    folder.mkdir(parents=True, exist_ok=True)
    square = f"crop=480:480,scale={SIZE}:{SIZE},setsar=1,fps=25"
    pieces = "".join(f"[1:v]trim=start={a}:end={b},setpts=PTS-STARTPTS,{square}[s{i}];"
                     for i, (a, b) in enumerate(ACTRESS_SILENCES))
    joined = "".join(f"[s{i}]" for i in range(len(ACTRESS_SILENCES)))
    graph = (f"{pieces}{joined}concat=n={len(ACTRESS_SILENCES)}:v=1:a=0,trim=duration={seconds}[q];"
             f"[0:v]trim=duration={seconds},setpts=PTS-STARTPTS,scale={SIZE}:{SIZE},setsar=1,fps=25[t];"
             f"{'[q][t]' if listener_left else '[t][q]'}hstack=shortest=1[v];"
             f"[0:a]atrim=duration={seconds},asetpts=PTS-STARTPTS,aresample=48000[a]")
    out = folder / f"{name or talker.stem + ('_right' if listener_left else '_left')}_beside_listener.mp4"
    subprocess.run([ffmpeg_binary(), "-v", "error", "-y", "-i", str(talker), "-i", str(actress), "-filter_complex",
                    graph, "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac",
                    str(out)], check=True)
    return out
