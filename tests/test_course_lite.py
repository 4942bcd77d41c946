"""The site kernel's code cache (lite/course_lite), run here by CPython on made-up packages.

In the browser, lite/course_lite keeps the code objects a visit compiled in IndexedDB and a
second visit runs them. Its finder and loader are plain Python, checked here in fresh
interpreters (so that nothing is left in this one's import system), with a folder standing
in for the IndexedDB-backed one and two made-up places standing in for Pyodide's standard
library zip and site-packages:

- a first run compiles and keeps every module from those two places, and nothing else (a
  student's own module is left alone); a second run takes every one of them from the cache
  and compiles none, with the same results;
- what the wrapped loaders did still works: a package's other modules (not kept) import from
  where they are, source and tracebacks show the code, package data can be read;
- a module whose source changed size in site-packages is compiled again, never run stale;
- many cache files are merged into one; a file cut short is dropped, not fatal;
- the standard library's modules that ran before the cache could act are written, once, into
  a copy of the stdlib zip with a checked .pyc beside each source (the zip's own entries byte
  for byte); started on that copy, Python runs them from the .pyc files, tracebacks still show
  their source, and a .pyc whose source changed is not run.
"""

import importlib.util
import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COURSE_LITE = ROOT / "lite" / "course_lite" / "__init__.py"

RUN = textwrap.dedent(
    """
    import importlib.util, inspect, json, sys, traceback
    spec = importlib.util.spec_from_file_location("course_lite", sys.argv[1])
    course_lite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(course_lite)
    stdlib_zip, site_packages, cache_folder, own = sys.argv[2:6]
    sys.path[:0] = [stdlib_zip, site_packages, own]
    cache = course_lite.CodeCache(cache_folder)
    loaded = cache.load()
    course_lite.install(cache, stdlib_zip, site_packages)
    import zipmod, zpkg.first, demo.sub, mine
    out = {"loaded": loaded, "values": [zipmod.VALUE, zpkg.first.VALUE, demo.sub.VALUE, mine.VALUE]}
    if sys.argv[6] == "more":
        import zpkg.second
        from importlib.resources import files
        out["second"] = zpkg.second.VALUE
        out["data"] = files("demo").joinpath("data.txt").read_text()
        out["source"] = inspect.getsource(zipmod.fail)
        try:
            zipmod.fail()
        except ValueError:
            out["traceback"] = traceback.format_exc()
    out["loader"] = type(demo.sub.__loader__).__name__
    out["mine_loader"] = type(mine.__loader__).__name__
    out["status"] = course_lite.status()
    out["saved"] = cache.save()
    print(json.dumps(out))
    """
)


@pytest.fixture
def places(tmp_path):
    """(stdlib zip, site-packages, cache folder, a student's folder) with made-up modules."""
    stdlib_zip = tmp_path / "python312.zip"
    with zipfile.ZipFile(stdlib_zip, "w") as archive:
        archive.writestr(
            "zipmod.py", "VALUE = 'zip'\n\n\ndef fail():\n    raise ValueError('from zipmod')\n"
        )
        archive.writestr("zpkg/__init__.py", "")
        archive.writestr("zpkg/first.py", "VALUE = 'first'\n")
        archive.writestr("zpkg/second.py", "VALUE = 'second'\n")
    site = tmp_path / "site-packages"
    (site / "demo").mkdir(parents=True)
    (site / "demo" / "__init__.py").write_text("")
    (site / "demo" / "sub.py").write_text("VALUE = 'site'\n")
    (site / "demo" / "data.txt").write_text("package data")
    own = tmp_path / "drive"
    own.mkdir()
    (own / "mine.py").write_text("VALUE = 'mine'\n")
    return stdlib_zip, site, tmp_path / "cache", own


def run(places, more=False):
    stdlib_zip, site, cache, own = places
    command = [sys.executable, "-c", RUN, str(COURSE_LITE), str(stdlib_zip), str(site)]
    command += [str(cache), str(own), "more" if more else "plain"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_second_run_takes_every_module_from_the_cache(places):
    first = run(places)
    assert first["values"] == ["zip", "first", "site", "mine"]
    # zipmod, zpkg, zpkg.first, demo, demo.sub: compiled and kept; the student's module: not
    assert first["status"]["compiled"] == 5 and first["status"]["hits"] == 0
    assert first["saved"] == 5 and first["loader"] == "CachedLoader"
    assert first["mine_loader"] == "SourceFileLoader"
    second = run(places)
    assert second["values"] == first["values"] and second["loaded"] == 5
    assert second["status"]["hits"] == 5 and second["status"]["compiled"] == 0
    assert second["saved"] == 0


def test_what_the_wrapped_loaders_did_still_works(places):
    run(places)
    out = run(places, more=True)
    assert out["status"]["hits"] == 5
    assert out["second"] == "second"  # not kept before: found in the package's own zip
    assert out["status"]["compiled"] == 1 and out["saved"] == 1
    assert out["data"] == "package data"
    assert "raise ValueError('from zipmod')" in out["source"]
    assert "raise ValueError('from zipmod')" in out["traceback"]  # the source line is shown


def test_a_changed_source_is_compiled_again(places):
    run(places)
    (places[1] / "demo" / "sub.py").write_text("VALUE = 'changed'\n")  # another size
    out = run(places)
    assert out["values"][2] == "changed"
    assert out["status"]["compiled"] == 1 and out["status"]["hits"] == 4


def test_many_cache_files_are_merged_into_one(places, tmp_path):
    spec_path = str(COURSE_LITE)
    code = textwrap.dedent(
        """
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("course_lite", sys.argv[1])
        course_lite = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(course_lite)
        cache = course_lite.CodeCache(sys.argv[2])
        for i in range(course_lite.MOST_FILES + 2):
            cache.keep(f"m{i}", f"/x/m{i}.py", i, compile(f"X = {i}", "m", "exec"))
            cache.save()
        again = course_lite.CodeCache(sys.argv[2])
        print(len(again.files()), again.load(), again.compact(), len(again.files()))
        merged = course_lite.CodeCache(sys.argv[2])
        print(merged.load(), merged.code("m3", "/x/m3.py", 3) is not None,
              merged.code("m3", "/x/m3.py", 4) is None)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code, spec_path, str(tmp_path / "c")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["10", "10", "True", "1", "10", "True", "True"]


def test_a_cache_file_cut_short_is_dropped(places):
    run(places)
    (cache_file,) = places[2].glob("*.marshal")
    cache_file.write_bytes(cache_file.read_bytes()[:100])
    out = run(places)  # compiles again, keeps again
    assert out["values"] == ["zip", "first", "site", "mine"]
    assert out["loaded"] == 0 and out["status"]["compiled"] == 5 and out["saved"] == 5
    assert len(list(places[2].glob("*.marshal"))) == 1


# -- the modules Pyodide runs while it starts: a copy of the stdlib zip with checked .pyc files

BOOT = textwrap.dedent(
    """
    import importlib.util, json, sys, traceback
    spec = importlib.util.spec_from_file_location("course_lite", sys.argv[1])
    course_lite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(course_lite)
    stdlib_zip, target = sys.argv[2:4]
    sys.path.insert(0, stdlib_zip)
    import zipmod, zpkg.first, crlf
    sys.modules["zipmod_alias"] = zipmod  # one module, two names (as os.path and posixpath)
    out = {"values": [zipmod.VALUE, zpkg.first.VALUE, crlf.VALUE]}
    out["files"] = [zipmod.__file__, zpkg.__file__, crlf.__file__]
    sources, compiled = course_lite.started_modules(stdlib_zip)
    out["sources"], out["compiled"] = sources, compiled
    if target != "-":
        out["written"] = course_lite.keep_started(stdlib_zip, sources, target)
        out["again"] = course_lite.keep_started(stdlib_zip, sources, target)  # already there
    try:
        zipmod.fail()
    except ValueError:
        out["traceback"] = traceback.format_exc()
    print(json.dumps(out))
    """
)


def boot_run(stdlib_zip, target="-"):
    command = [sys.executable, "-c", BOOT, str(COURSE_LITE), str(stdlib_zip), str(target)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_started_modules_run_from_checked_pyc_files_on_the_next_start(places, tmp_path):
    stdlib_zip = places[0]
    with zipfile.ZipFile(stdlib_zip, "a") as archive:  # Windows line endings in one source
        archive.writestr("crlf.py", "VALUE = (\r\n    'crlf'\r\n)\r\n")
    kept = tmp_path / "boot.zip"
    first = boot_run(stdlib_zip, kept)
    assert first["values"] == ["zip", "first", "crlf"] and first["compiled"] == 0
    assert first["sources"] == ["crlf.py", "zipmod.py", "zpkg/__init__.py", "zpkg/first.py"]
    assert first["written"] == 4 and first["again"] == 0
    with zipfile.ZipFile(stdlib_zip) as original, zipfile.ZipFile(kept) as copy:
        for info in original.infolist():  # the zip's own entries, byte for byte
            assert copy.read(info.filename) == original.read(info.filename)
        assert sorted(set(copy.namelist()) - set(original.namelist())) == [
            "crlf.pyc", "zipmod.pyc", "zpkg/__init__.pyc", "zpkg/first.pyc",
        ]  # fmt: skip
        header = copy.read("zipmod.pyc")[:8]
    assert header[:4] == importlib.util.MAGIC_NUMBER and header[4:8] == b"\x03\0\0\0"

    second = boot_run(kept)
    assert second["values"] == first["values"]
    assert all(path.endswith(".pyc") for path in second["files"])
    assert second["sources"] == [] and second["compiled"] == 4  # the alias counted once
    # the code keeps the source's file name: a traceback still shows the line that raised
    assert "zipmod.py" in second["traceback"]
    assert "raise ValueError('from zipmod')" in second["traceback"]


def test_a_pyc_whose_source_changed_is_not_run(places, tmp_path):
    stdlib_zip = places[0]
    with zipfile.ZipFile(stdlib_zip, "a") as archive:
        archive.writestr("crlf.py", "VALUE = 'crlf'\n")
    kept = tmp_path / "boot.zip"
    boot_run(stdlib_zip, kept)
    changed = tmp_path / "changed.zip"  # the kept .pyc files beside a changed zipmod.py
    with zipfile.ZipFile(kept) as source, zipfile.ZipFile(changed, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "zipmod.py":
                data = data.replace(b"'zip'", b"'new'")
            target.writestr(info, data)
    out = boot_run(changed)
    assert out["values"][0] == "new"  # from the source: the .pyc's hash no longer matches
    assert out["sources"] == ["zipmod.py"] and out["compiled"] == 3
