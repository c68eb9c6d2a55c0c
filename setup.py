"""Emotion Studio: ``pip install -e .`` for the studio, ``pip install -e ".[test]"`` for its tests."""

from setuptools import find_packages, setup

setup(
    name="emotion-studio",
    version="0.1.0",
    description="Multimodal emotion recognition over time: face, voice and words, fused.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.10",
    packages=find_packages(include=["source", "source.*"]),
    install_requires=[
        "numpy>=1.26",
        "scipy>=1.11",
        "pillow>=10",
        "pandas>=2.0",
        "scikit-learn>=1.4",
        "tqdm>=4.66",
        "matplotlib>=3.8",
        "plotly>=5.20",
        "streamlit>=1.40",
        # plain PyPI builds: the machine-local CPU-only torch wheel does not work with torchvision
        "torch>=2.4",
        "torchvision>=0.19",
        "grad-cam>=1.5",
        "albumentations>=2.0",  # the 2.x argument names (GaussNoise std_range, Compose seed)
        "hyperopt>=0.2.7",
        "mediapipe>=0.10.30",  # the Tasks API (FaceLandmarker); older releases differ
        # mediapipe pulls opencv-contrib-python; both are held below 5 so the one cv2 they
        # share is the same 4.x release and still ships the Haar cascades
        "opencv-python-headless>=4.9,<5",
        "opencv-contrib-python>=4.9,<5",
        "av>=12",  # in-process decoding with exact timestamps
        "ffmpeg-python>=0.2",
        "imageio-ffmpeg>=0.5",  # an ffmpeg binary inside a wheel: no apt step needed
        "librosa>=0.10",
        "soundfile>=0.12",
        "openai-whisper>=20240930",
        "faster-whisper>=1.1",
        "spacy>=3.8,<3.9",
        "textblob>=0.18",
        "empath>=0.89",  # the emotion lexicon of the text features (MIT license)
        # run.py serve: the HTTP service; python-multipart parses its form uploads
        "fastapi>=0.115",
        "uvicorn>=0.30",
        "python-multipart>=0.0.9",
        # run.py batch --engine ray (files over a Ray cluster), run.py tune --engine ray (Ray Tune)
        "ray[tune]>=2.30",
    ],
    extras_require={
        # httpx: FastAPI's TestClient; playwright drives Debian's chromium in the browser tests
        "test": ["pytest>=8", "scikit-image>=0.22", "httpx>=0.27", "playwright>=1.40"],
    },
)
