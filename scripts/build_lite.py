"""Build the course's JupyterLite site: JupyterLab, Pyodide and the notebooks, all static.

    python scripts/build_lite.py            # build into _lite/site (about a minute)
    python scripts/build_lite.py --reuse    # keep _lite/site if its inputs are unchanged

The site needs nothing from the internet at run time: Pyodide and its packages, the course's
wheel and the pure-Python wheels it needs are files of the site. The build, by concern:

- JupyterLab's interface and the Pyodide kernel: jupyterlite-core and
  jupyterlite-pyodide-kernel, pinned in scripts/requirements-lite.txt and installed into
  .venv-lite (created here on first use; nothing goes into .venv); three small changes to
  their files: scripts/lite_patches.py.
- Pyodide, its core from npm and its packages checked against its official lock:
  scripts/lite_pyodide.py.
- The wheels the site serves (the course, the widgets, notebook 06's model, the site's own
  run-time package) and the NOTICE: scripts/lite_wheels.py.
- How the kernel starts (one lock file, everything the course needs loaded at start-up,
  matplotlib's font list shipped, a code cache kept by the browser): scripts/lite_runtime.py
  and lite/course_lite/.
- The notebooks: the contents of notebooks/ at the root of the site's file tree, without
  their "Open in Colab" badge (here).

For a room on one laptop's Wi-Fi:

- Pyodide lives in ``pyodide/<version>-<hash of its files>/``, and JupyterLab's files carry
  a content hash in their names, so a server may let browsers keep them for a year
  (scripts/serve_lite.py does); every other file is revalidated.
- Every file that gzip makes at least a tenth smaller gets a ``.gz`` copy beside it (level 9,
  reproducible), which scripts/serve_lite.py sends to browsers as ``Content-Encoding: gzip``.

A NOTICE.md listing everything redistributed, with licences, is written into the site, and
the site's total size is printed; the build fails above MAX_SITE_MB.
"""

import argparse
import fcntl
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/, beside this file
import lite_patches  # noqa: E402
import lite_pyodide  # noqa: E402
import lite_runtime  # noqa: E402
import lite_wheels  # noqa: E402
from lite_common import (  # noqa: E402
    CACHE,
    LITE_DIR,
    OUT,
    REQUIREMENTS,
    ROOT,
    SITE,
    VENV,
    log,
    run,
    sha256_of,
)

BUILD_INFO = "build-info.json"  # in SITE: what the site was built from
# About 72 MB, and notebook 06's model (a 42 MB wheel, fetched only by that notebook).
MAX_SITE_MB = 150
KERNEL_PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel"
# gzip copies: only where they save at least this share of the file.
GZIP_MIN_SAVING = 0.1


# ------------------------------------------------------------------------ inputs and reuse


def input_files(notebooks):
    """Every file whose change should trigger a rebuild."""
    files = sorted(Path(__file__).parent.glob("lite_*.py"))
    files += [Path(__file__), REQUIREMENTS, ROOT / "pyproject.toml"]
    files += sorted(LITE_DIR.rglob("*"))
    files += sorted((ROOT / "course_lib").rglob("*.py"))
    files += sorted((ROOT / "course_lib" / "data").glob("*"))
    files += sorted(Path(notebooks).rglob("*.ipynb"))
    skipped = {".ipynb_checkpoints", "__pycache__"}
    return [f for f in files if f.is_file() and not skipped & set(f.parts)]


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


# ------------------------------------------------------------------------ the site


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


def compress_site(site):
    """Write NAME.gz beside every file gzip shrinks by GZIP_MIN_SAVING; return bytes saved."""
    saved = 0
    for path in sorted(p for p in site.rglob("*") if p.is_file() and p.suffix != ".gz"):
        data = path.read_bytes()
        if len(data) < 1024:
            continue
        buffer = io.BytesIO()
        # mtime=0 and no file name in the header: the same input gives the same bytes.
        with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buffer, mtime=0) as z:
            z.write(data)
        packed = buffer.getvalue()
        if len(packed) <= (1 - GZIP_MIN_SAVING) * len(data):
            path.with_name(path.name + ".gz").write_bytes(packed)
            saved += len(data) - len(packed)
    return saved


def folder_size(path):
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def build(python, digest, notebooks):
    CACHE.mkdir(parents=True, exist_ok=True)
    core, lock = lite_pyodide.fetch_pyodide_core()
    carrier = lite_pyodide.fetch_carrier(python)
    site_wheels = lite_wheels.fetch_site_wheels(python)
    lite_wheels.check_widgets_extension(site_wheels, VENV)
    course_wheel = lite_wheels.build_course_wheel(python, CACHE / "course-wheel")
    model_wheel = lite_wheels.build_model_wheel(python)

    staging = OUT / "staging"
    shutil.rmtree(staging, ignore_errors=True)
    # Pyodide first: its folder's name carries the hash of its files, and the kernel's
    # settings name that folder.
    pyodide_staged = staging / "pyodide"
    pyodide_packages = lite_pyodide.install_pyodide(core, lock, carrier, pyodide_staged)
    pyodide_digest = lite_pyodide.folder_digest(pyodide_staged)
    pyodide_name = f"{lite_pyodide.PYODIDE_VERSION}-{pyodide_digest[:12]}"
    font_name, font_text = lite_pyodide.cached_font_list(pyodide_staged, pyodide_digest)
    served = [course_wheel, *site_wheels, model_wheel]
    key = lite_wheels.site_key(pyodide_name, served)
    runtime_wheel = lite_wheels.course_lite_wheel(
        CACHE / "runtime-wheel", font_name, font_text, key, pyodide_name
    )
    wheels = [course_wheel, *site_wheels, runtime_wheel, model_wheel]

    contents = staging / "contents"
    prepare_notebooks(notebooks, contents)
    lite_dir = staging / "lite"
    lite_dir.mkdir()
    config = json.loads((LITE_DIR / "jupyter-lite.json").read_text())
    settings = config["jupyter-config-data"].setdefault("litePluginSettings", {})
    settings[KERNEL_PLUGIN] = lite_runtime.kernel_settings(f"./pyodide/{pyodide_name}/pyodide.js")
    (lite_dir / "jupyter-lite.json").write_text(json.dumps(config, indent=2) + "\n")

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

    # Browsers ask for /favicon.ico whatever the page says: answer with JupyterLab's.
    if (new_site / "lab" / "favicon.ico").is_file():
        shutil.copy2(new_site / "lab" / "favicon.ico", new_site / "favicon.ico")
    pyodide_dir = new_site / "pyodide" / pyodide_name
    pyodide_dir.parent.mkdir()
    shutil.move(pyodide_staged, pyodide_dir)
    write_site_lock(new_site, lock, dict(pyodide_packages))
    patched = lite_patches.backport_bubbling_keydown(new_site)
    patched += lite_patches.patch_kernel(new_site)
    lite_patches.check_syntax(patched)
    page = lite_patches.start_kernel_with_page(new_site)
    log("patched: " + ", ".join(path.name for path in [*patched, page]))
    lite_wheels.write_notice(
        new_site, pyodide_dir, pyodide_packages, wheels,
        lite_pyodide.PYODIDE_VERSION, lite_pyodide.CARRIER,
    )  # fmt: skip
    saved = compress_site(new_site)
    size = folder_size(new_site)
    info = {
        "inputs_sha256": digest,
        "pyodide_version": lite_pyodide.PYODIDE_VERSION,
        "pyodide_folder": f"pyodide/{pyodide_name}",
        "site_key": key,
        "size_bytes": size,
        "gzip_saved_bytes": saved,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (new_site / BUILD_INFO).write_text(json.dumps(info, indent=1) + "\n")
    shutil.rmtree(SITE, ignore_errors=True)
    new_site.rename(SITE)
    shutil.rmtree(staging, ignore_errors=True)
    return size


def write_site_lock(site, official, shipped):
    # shipped: {lock key: lock entry of the file as shipped}
    """The site's lock (scripts/lite_runtime.py): Pyodide's entries and the served wheels."""
    base = "../../"  # from pyodide/<version>-<hash>/ (the lock's base) to the site's root
    wheels = {path: base + "pypi/" + path.name for path in sorted((site / "pypi").glob("*.whl"))}
    for path in sorted((site / lite_runtime.KERNEL_WHEELS).glob("*.whl")):
        if not path.name.startswith("widgetsnbextension-3."):  # ipywidgets 8 wants 4.x
            wheels[path] = f"{base}{lite_runtime.KERNEL_WHEELS}/{path.name}"
    course_depends = [lite_runtime.canonical(n) for n in lite_runtime.COURSE_PACKAGES]
    course_depends.append(lite_runtime.canonical(lite_runtime.RUNTIME_PACKAGE))
    try:
        site_lock = lite_runtime.site_lock(official, shipped, wheels, course_depends)
        lite_runtime.closure(site_lock, lite_runtime.preload())
    except ValueError as error:
        sys.exit(f"the site's lock is incomplete: {error}")
    text = json.dumps(site_lock, indent=1, sort_keys=True) + "\n"
    (site / lite_runtime.SITE_LOCK).write_text(text)


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
