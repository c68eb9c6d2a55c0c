"""The ffmpeg binary used wherever a subprocess is needed (writing, muxing, conversions).

Decoding for analysis happens in-process with PyAV; see ``decode.py``.
"""

import shutil
from functools import lru_cache


@lru_cache(maxsize=1)
def ffmpeg_binary() -> str:
    """A system ffmpeg on PATH if present, else the one shipped inside the imageio-ffmpeg wheel."""
    system = shutil.which("ffmpeg")
    if system:
        return system
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()
