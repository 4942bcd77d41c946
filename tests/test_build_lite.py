"""The checks of the site's build (scripts/build_lite.py, lite_pyodide.py, lite_wheels.py)
that run without a network or a browser.

- Pyodide's package files from the carrier: a file whose sha256 differs from the official
  lock, or that is missing, stops the build; matching files are copied with their
  dependencies (taken from the lock, whatever the spelling of the names).
- The notebooks laid into the site lose their Colab badge; any other outside picture stops
  the build.
- The site's notice names the licence of each wheel from its metadata.
"""

import hashlib
import importlib.util
import json
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
spec = importlib.util.spec_from_file_location("build_lite", ROOT / "scripts" / "build_lite.py")
build_lite = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_lite)
lite_pyodide = build_lite.lite_pyodide
lite_wheels = build_lite.lite_wheels


def fake_release(tmp_path, tamper=None, leave_out=None):
    """(lock, carrier zip, core folder) for a tiny fake Pyodide release."""
    files = {"alpha": b"alpha bytes", "beta_pkg": b"beta bytes", "gamma": b"unused"}
    depends = {"alpha": ["Beta_Pkg"], "beta_pkg": [], "gamma": []}
    lock = {"info": {"version": lite_pyodide.PYODIDE_VERSION}, "packages": {}}
    for name, data in files.items():
        lock["packages"][name] = {
            "file_name": f"{name}-1.0-py3-none-any.whl",
            "version": "1.0",
            "sha256": hashlib.sha256(data).hexdigest(),
            "depends": depends[name],
        }
    carrier = tmp_path / "carrier.whl"
    with zipfile.ZipFile(carrier, "w") as archive:
        for name, data in files.items():
            if name == leave_out:
                continue
            if name == tamper:
                data += b"!"
            member = lite_pyodide.CARRIER_PYODIDE_DIR + lock["packages"][name]["file_name"]
            archive.writestr(member, data)
    core = tmp_path / "core"
    core.mkdir()
    for name in lite_pyodide.PYODIDE_CORE:
        (core / name).write_text(name)
    return lock, carrier, core


@pytest.fixture
def only_alpha(monkeypatch):
    monkeypatch.setattr(lite_pyodide, "PYODIDE_PACKAGES", ["alpha"])


def test_matching_files_are_copied_with_their_dependencies(tmp_path, only_alpha):
    lock, carrier, core = fake_release(tmp_path)
    target = tmp_path / "site" / "pyodide"
    copied = lite_pyodide.install_pyodide(core, lock, carrier, target)
    assert [name for name, _ in copied] == ["alpha", "beta_pkg"]
    assert [entry for _, entry in copied] == [
        lock["packages"]["alpha"],
        lock["packages"]["beta_pkg"],
    ]
    assert (target / "beta_pkg-1.0-py3-none-any.whl").read_bytes() == b"beta bytes"
    assert not (target / "gamma-1.0-py3-none-any.whl").exists()
    assert (target / "pyodide.asm.wasm").read_text() == "pyodide.asm.wasm"


def test_a_tampered_file_stops_the_build(tmp_path, only_alpha):
    lock, carrier, core = fake_release(tmp_path, tamper="beta_pkg")
    with pytest.raises(SystemExit, match="sha256 mismatch for beta_pkg-1.0"):
        lite_pyodide.install_pyodide(core, lock, carrier, tmp_path / "site" / "pyodide")


def test_a_missing_file_stops_the_build(tmp_path, only_alpha):
    lock, carrier, core = fake_release(tmp_path, leave_out="beta_pkg")
    with pytest.raises(SystemExit, match="not in the carrier"):
        lite_pyodide.install_pyodide(core, lock, carrier, tmp_path / "site" / "pyodide")


def test_an_unknown_package_stops_the_build(tmp_path):
    lock, _, _ = fake_release(tmp_path)
    with pytest.raises(SystemExit, match="no package 'delta'"):
        lite_pyodide.package_closure(lock, ["alpha", "delta"])


def notebook(*markdown):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": text} for text in markdown]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_the_colab_badge_is_removed_from_the_site_copy(tmp_path):
    source = tmp_path / "notebooks"
    (source / "solutions").mkdir(parents=True)
    badge = (
        "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        "(https://colab.research.google.com/github/o/r/blob/main/notebooks/01.ipynb)\n\n"
    )
    text = badge + "# Title\n\nSee [the docs](https://example.org)."
    (source / "01.ipynb").write_text(json.dumps(notebook(text)))
    (source / "solutions" / "01.ipynb").write_text(json.dumps(notebook(text)))
    build_lite.prepare_notebooks(source, tmp_path / "site")
    for path in [tmp_path / "site" / "01.ipynb", tmp_path / "site" / "solutions" / "01.ipynb"]:
        cells = json.loads(path.read_text())["cells"]
        assert cells[0]["source"] == "# Title\n\nSee [the docs](https://example.org)."
    assert "colab-badge" in (source / "01.ipynb").read_text()  # the original is untouched


@pytest.mark.parametrize(
    "text",
    ["![a plot](https://example.org/plot.png)", '<img alt="x" src="//cdn.example.org/x.png">'],
)
def test_another_outside_picture_stops_the_build(tmp_path, text):
    source = tmp_path / "notebooks"
    source.mkdir()
    (source / "01.ipynb").write_text(json.dumps(notebook(text)))
    with pytest.raises(SystemExit, match="picture from outside"):
        build_lite.prepare_notebooks(source, tmp_path / "site")


def test_licences_come_from_the_wheel_metadata():
    parse = lite_wheels.parse_metadata
    bsd = "Classifier: License :: OSI Approved :: BSD License\n"
    assert lite_wheels.licence_of(parse("Name: x\nLicense-Expression: MIT\n" + bsd)) == "MIT"
    assert lite_wheels.licence_of(parse("Name: x\n" + bsd)) == "BSD License"
    assert lite_wheels.licence_of(parse("Name: x\n")) == "see the package's LICENSE file"


def test_the_widgets_extension_must_match_the_served_widgets(tmp_path):
    venv = tmp_path / "venv"
    (venv / "lib/python3.12/site-packages/jupyterlab_widgets-3.0.17.dist-info").mkdir(parents=True)
    served = [Path("jupyterlab_widgets-3.0.17-py3-none-any.whl")]
    lite_wheels.check_widgets_extension(served, venv)
    with pytest.raises(SystemExit, match="pin the same version"):
        other = [Path("jupyterlab_widgets-3.0.13-py3-none-any.whl")]
        lite_wheels.check_widgets_extension(other, venv)
