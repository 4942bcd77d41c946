"""Paths and small helpers shared by the JupyterLite site's build (scripts/build_lite.py)."""

import hashlib
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LITE_DIR = ROOT / "lite"
OUT = ROOT / "_lite"
SITE = OUT / "site"
CACHE = OUT / "cache"
VENV = ROOT / ".venv-lite"
REQUIREMENTS = ROOT / "scripts" / "requirements-lite.txt"
# pip download of pinned files only: no dependencies, no builds, every sha256 checked.
DOWNLOAD = ["download", "-q", "--no-deps", "--only-binary=:all:", "--require-hashes"]


def log(message):
    print(f"[build_lite] {message}", flush=True)


def run(command, **kwargs):
    log("$ " + " ".join(str(part) for part in command))
    subprocess.run([str(part) for part in command], check=True, **kwargs)


def pip(python, *args):
    run([python, "-m", "pip", "--disable-pip-version-check", *args])


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
