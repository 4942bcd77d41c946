"""How the JupyterLite site's Python starts: what is loaded at once, and from where.

Used by scripts/build_lite.py. Out of the box, the Pyodide kernel of JupyterLite starts the
interpreter, then installs its own wheels one after the other with micropip, and the first
cell of a notebook installs the course with ``%pip`` (again micropip, reading package indexes
and resolving versions in the browser); matplotlib then builds its font list on every start.
Measured on notebook 02, that is about half of the wait for the first picture. Here instead:

- **One lock file for the whole site** (``SITE_LOCK``): Pyodide's official entries for the
  package files the site ships, plus an entry for each wheel the site serves (the course, the
  widgets, the kernel's own wheels). Pyodide checks every download against the sha256 in it.
  Two changes to the official entries: matplotlib no longer depends on fonttools and pytz
  (it imports them only to write PDF/PS files and for time zones), and matplotlib's file is
  the verified one without the files in ``TRIMMED`` (sample data, fonts the course never
  draws with: 1.6 MB less on the wire), so its entry carries that file's sha256.
- **Everything the kernel and the course import is loaded at start-up** (``preload``), by
  ``loadPyodide({packages})``: all files are fetched at once and unpacked with no resolver.
  The notebooks' ``%pip install course-lib`` then finds the course installed and returns.
  What the course does not import (seaborn, pandas, fonttools, ...) stays on the site, one
  ``%pip install`` away, and costs nothing until then.
- **matplotlib's font list ships with the site** (in ``course-lite``, the site's own small
  wheel, written by scripts/lite_wheels.py, which puts ``fontlist.json`` where Pyodide's
  matplotlib reads it, after matplotlib: the list matplotlib's wheel brings is for another
  version, so it was rebuilt on every start): it is made at build time by running the site's
  own Pyodide and matplotlib in Node.js, so it is the browser's own list.
- **What the first visit compiled is kept** (``course-lite`` again, lite/course_lite/): the
  kernel's code cache in the browser's IndexedDB, which a second visit runs instead of
  compiling Python modules again.
"""

import hashlib
import io
import json
import re
import shutil
import subprocess
import tempfile
import zipfile
from email.parser import Parser
from pathlib import Path

SITE_LOCK = "pyodide-site-lock.json"  # at the root of the site
# What the kernel of jupyterlite-pyodide-kernel 0.5 loads itself unless told it is preloaded
# (its worker compares these exact strings), and what the course needs at run time. Anything
# else that course_lib imports must be listed in NOT_IN_SITE (tests/test_build_lite.py checks).
# ssl is not among them: the site's kernel no longer asks for it (scripts/lite_patches.py).
KERNEL_PACKAGES = ["micropip", "piplite", "sqlite3", "ipykernel", "comm", "pyodide_kernel"]
KERNEL_PACKAGES += ["ipython"]
COURSE_PACKAGES = ["numpy", "matplotlib", "ipywidgets", "platformdirs"]
# Imported by course_lib only where they exist (guarded), never in the browser.
NOT_IN_SITE = {"gensim", "nltk", "torch", "transformers", "tokenizers", "safetensors"}
NOT_IN_SITE |= {"sentence_transformers"}
# Dependencies dropped from the official lock's entries: not imported to draw on screen.
DROPPED_DEPENDS = {"matplotlib": {"fonttools", "pytz"}}
# Front-end code that pip metadata lists but the kernel never imports.
FRONT_END_ONLY = {"jupyterlab-widgets"}
# The kernel's wheels in the built site (jupyterlite-pyodide-kernel puts them there).
KERNEL_WHEELS = "extensions/@jupyterlite/pyodide-kernel-extension/static/pypi"
# Files left out of a verified package file, by lock key: (path prefix, why). matplotlib 3.8's
# wheel is 6.7 MB of a cold start's ~25; these never serve the course's figures.
TRIMMED = {
    "matplotlib": [
        ("matplotlib/mpl-data/sample_data/", "example data for matplotlib's own gallery"),
        ("matplotlib/mpl-data/fonts/ttf/DejaVuSerif", "serif fonts: the course draws in sans"),
        ("matplotlib/mpl-data/images/", "toolbar icons of interactive backends"),
        ("matplotlib/mpl-data/fonts/afm/", "PostScript font metrics: PS/PDF export only"),
        ("matplotlib/mpl-data/fonts/pdfcorefonts/", "PDF core-font metrics: PDF export only"),
    ]
}
# The site's own run-time package (lite/course_lite/ and matplotlib's font list).
RUNTIME_PACKAGE = "course_lite"
RUNTIME_VERSION = "1.1.0"


def canonical(name):
    """A package name as Pyodide's lock keys it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def wheel_metadata(path):
    with zipfile.ZipFile(path) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(archive.read(name).decode("utf-8", "replace"))


def top_level_names(path):
    """The importable top-level names a wheel installs: modules, and folders with Python in."""
    names = set()
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            first = member.split("/", 1)[0]
            if not first.endswith((".dist-info", ".data")) and member.endswith(".py"):
                names.add(first.removesuffix(".py"))
    return sorted(names)


def requirement_names(metadata):
    """Names a wheel's Requires-Dist asks for, leaving out those only for an ``extra``."""
    names = []
    for requirement in metadata.get_all("Requires-Dist", []):
        marker = requirement.partition(";")[2]
        if "extra" in marker:
            continue
        names.append(canonical(re.match(r"[A-Za-z0-9._-]+", requirement.strip()).group()))
    return names


def wheel_entry(path, file_name, depends):
    """A lock entry for one wheel served by the site."""
    meta = wheel_metadata(path)
    return {
        "name": meta["Name"],
        "version": meta["Version"],
        "file_name": file_name,
        "install_dir": "site",
        "sha256": sha256_hex(Path(path).read_bytes()),
        "package_type": "package",
        "imports": top_level_names(path),
        "depends": depends,
        "unvendored_tests": False,
    }


def site_lock(official, shipped, wheels, course_depends):
    """The site's lock: the entries of ``shipped`` (official, or of a trimmed file) and wheels.

    ``shipped`` maps lock keys to the lock entries of the Pyodide files the site ships.
    ``wheels`` maps each wheel's path to its URL relative to the Pyodide folder (the lock's
    base). A wheel's dependencies are its Requires-Dist that the lock has (the course's are
    ``course_depends``); front-end-only packages are left out.
    """
    packages = {}
    for key, shipped_entry in shipped.items():
        entry = dict(shipped_entry)
        dropped = DROPPED_DEPENDS.get(key, set())
        entry["depends"] = [d for d in entry["depends"] if canonical(d) not in dropped]
        packages[key] = entry
    metas = {path: wheel_metadata(path) for path in wheels}
    known = set(packages) | {canonical(meta["Name"]) for meta in metas.values()}
    for path, url in sorted(wheels.items(), key=lambda item: item[1]):
        key = canonical(metas[path]["Name"])
        if key == "course-lib":
            depends = list(course_depends)
        else:
            depends = [d for d in requirement_names(metas[path]) if d in known]
        depends = [d for d in depends if d not in FRONT_END_ONLY]
        packages[key] = wheel_entry(path, url, depends)
    missing = sorted(
        {d for entry in packages.values() for d in entry["depends"] if canonical(d) not in packages}
    )
    if missing:
        raise ValueError(f"the site's lock has dependencies it does not ship: {missing}")
    return {"info": dict(official["info"]), "packages": dict(sorted(packages.items()))}


def trim_wheel(data, dropped):
    """A wheel's bytes without the members under ``dropped``'s prefixes (and their RECORD lines).

    Every member kept has the same name and bytes as before; reproducible (dates kept).
    """
    prefixes = tuple(prefix for prefix, _ in dropped)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                if info.filename.startswith(prefixes):
                    continue
                body = source.read(info)
                if info.filename.endswith(".dist-info/RECORD"):
                    lines = body.decode().splitlines(keepends=True)
                    body = "".join(x for x in lines if not x.startswith(prefixes)).encode()
                kept = zipfile.ZipInfo(info.filename, info.date_time)
                kept.external_attr = info.external_attr
                kept.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(kept, body, compresslevel=9)
    return out.getvalue()


def closure(lock, names):
    """``names`` (any spelling) and their dependencies in ``lock``, as lock keys."""
    todo, seen = [canonical(n) for n in names], set()
    while todo:
        key = todo.pop()
        if key not in lock["packages"]:
            raise ValueError(f"{key!r} is not in the site's lock")
        if key not in seen:
            seen.add(key)
            todo.extend(canonical(d) for d in lock["packages"][key]["depends"])
    return sorted(seen)


def preload():
    """What ``loadPyodide`` loads before the kernel starts (exact strings the kernel checks)."""
    return [*KERNEL_PACKAGES, "course-lib", RUNTIME_PACKAGE.replace("_", "-")]


def kernel_settings(pyodide_url):
    """The Pyodide kernel's settings (jupyter-lite.json, ``litePluginSettings``)."""
    return {
        "pyodideUrl": pyodide_url,
        "disablePyPIFallback": True,
        "loadPyodideOptions": {
            "lockFileURL": f"./{SITE_LOCK}",
            "packages": preload(),
        },
    }


# ------------------------------------------------------------------ matplotlib's font list

FONT_LIST_SCRIPT = """
import { loadPyodide } from %(module)s;
const py = await loadPyodide({indexURL: %(index)s});
await py.loadPackage(["matplotlib"], {messageCallback: () => {}});
const out = py.runPython(`
import inspect, json, site
from pathlib import Path
from matplotlib import font_manager
# Pyodide's matplotlib keeps its font list beside font_manager.py (fontlist.json), not in
# the cache folder: read where _load_fontmanager looks, and write the list there.
source = inspect.getsource(font_manager._load_fontmanager)
if 'Path(__file__).parent.joinpath("fontlist.json")' not in source:
    raise RuntimeError("this matplotlib does not read its font list from fontlist.json")
path = Path(font_manager.__file__).parent / "fontlist.json"
font_manager.json_dump(font_manager.fontManager, path)
json.dumps({"path": str(path.relative_to(site.getsitepackages()[0])), "text": path.read_text()})
`);
process.stdout.write(out);
"""


def font_list(pyodide_dir, node="node"):
    """matplotlib's font list as the site's Pyodide builds it: (path in site-packages, JSON)."""
    if shutil.which(node) is None:
        raise FileNotFoundError("Node.js is needed to build the site (it comes with npm)")
    folder = Path(pyodide_dir).resolve()
    script = FONT_LIST_SCRIPT % {
        "module": json.dumps((folder / "pyodide.mjs").as_uri()),
        "index": json.dumps(str(folder) + "/"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "font_list.mjs"
        path.write_text(script)
        result = subprocess.run(
            [node, str(path)], capture_output=True, text=True, timeout=600, check=False
        )
    if result.returncode != 0:
        raise RuntimeError(f"building matplotlib's font list failed:\n{result.stderr[-3000:]}")
    found = json.loads(result.stdout)
    if not json.loads(found["text"]).get("ttflist"):
        raise RuntimeError("matplotlib's font list has no fonts")
    return found["path"], found["text"]
