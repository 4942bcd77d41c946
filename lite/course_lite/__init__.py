"""Run-time help for the course's JupyterLite site: a code cache the browser keeps.

Shipped in the site's ``course-lite`` wheel (with matplotlib's font list) and loaded before
the kernel starts; the site's kernel runs ``await course_lite.start()`` once Pyodide is up and
before it imports IPython (scripts/lite_patches.py adds that call to JupyterLite's kernel).

Pyodide compiles every Python module from its source at every start: its standard library
and its packages ship as ``.py`` files, and the file system lives in memory, so nothing
compiled survives a reload. Compiling what the kernel and the first cells of a notebook import
is about a third of a second visit's wait. Here, the first visit keeps what was compiled:

- a finder placed just before Python's own path finder wraps the loader of each module that
  comes from the standard library's zip file or from site-packages; the wrapper runs the
  module from the cache when it holds code for it (the same file, and for site-packages the
  same size), or compiles it as Python would and keeps the code object (``marshal``);
- once no new module has been compiled for two seconds, the new code objects are written to a
  file in an IndexedDB-backed folder (Emscripten's IDBFS) and synced to the browser's storage;
- the next visit reads that folder before the kernel imports anything.

The modules Pyodide itself runs while it starts (about 140 of the standard library: asyncio,
email, zipfile, ...) are imported before any of this can act. For them the first visit also
writes, at a quiet moment 20 s or more after it started, a copy of the standard library's zip
with a checked ``.pyc`` beside each of their sources (``boot-<Pyodide folder>.zip``, in the
same folder); the kernel's worker (scripts/lite_patches.py) starts the next visit's Pyodide
on that copy. A ``.pyc`` whose source differs is not run (Python compares the source's hash);
when Python does not start on the copy, Pyodide starts again on its own zip.

The cache is keyed by the site's build (``_site.KEY``: a hash of Pyodide's files and every
wheel the site serves), so a rebuilt site starts a new cache and removes the old one. Where
IndexedDB is missing or full, the kernel starts as before: every failure here is reported on
the browser's console and otherwise ignored. ``status()`` says what the cache did.
"""

import asyncio
import importlib.util
import io
import marshal
import os
import sys
import time
import zipfile
from importlib.machinery import PathFinder, SourceFileLoader
from zipimport import zipimporter

FORMAT = 1  # of the cache files; part of the folder's name
MOUNT = "/course-cache"
QUIET_S = 2.0  # save once no module has been compiled for this long
BOOT_AFTER_S = 20.0  # keep the started modules' .pyc files no sooner (not while a page starts)
WATCH_S = 600  # ... for this long after start; later imports are compiled as usual
NOT_CACHED = {"__main__", "course_lite"}
SYNC_TIMEOUT_S = 15  # reading the browser's copy as the kernel starts; longer means no cache
# Writing it happens in the background, where a long cell holds up IndexedDB's answer and the
# timer alike: a short limit can give up on a save that is only late (a TimeoutError in 3 of
# 6 cold visits to notebook 06 on a slow machine), and a long one holds nothing up.
SAVE_TIMEOUT_S = 120
MOST_FILES = 8  # a visit that compiles new modules adds a file; more than this are merged

_state = {"key": None, "loaded": 0, "hits": 0, "compiled": 0, "saved": 0, "error": None}
_state["start_s"] = None  # how long start() took (reading the browser's copy, mostly)
_state["synced"] = 0  # of the saved modules, those in the browser's storage
_state["boot_pyc"] = 0  # modules of the standard library that started from a kept .pyc
_state["boot_written"] = 0  # .pyc files this visit kept for the next one (once synced)
_state["boot_pending"] = False  # this visit will keep them (at a quiet moment, once started)
CHECKED_HASH_PYC = 0b11  # PEP 552: hash-based, and Python checks it against the source


class CodeCache:
    """Code objects by module name, read from and written to files in ``folder``."""

    def __init__(self, folder):
        self.folder = folder
        self.entries = {}  # name -> (origin, source size or -1, marshalled code)
        self.new = {}
        self.dropped = 0
        os.makedirs(folder, exist_ok=True)

    def files(self):
        """Return the cache's files, oldest first."""
        return sorted(f for f in os.listdir(self.folder) if f.endswith(".marshal"))

    def load(self):
        """Read every file of the cache; return how many modules it holds.

        A file that cannot be read (cut short, say) is removed, and ``self.dropped`` counts it.
        """
        for name in self.files():
            path = os.path.join(self.folder, name)
            try:
                with open(path, "rb") as handle:
                    self.entries.update(marshal.load(handle))
            except (EOFError, ValueError, TypeError):
                os.remove(path)
                self.dropped += 1
        return len(self.entries)

    def compact(self, most=MOST_FILES):
        """Merge the files into one when there are more than ``most``; return True if merged."""
        files = self.files()
        if len(files) <= most:
            return False
        merged = os.path.join(self.folder, "merged.part")
        with open(merged, "wb") as handle:
            marshal.dump(self.entries, handle)
        for name in files:
            os.remove(os.path.join(self.folder, name))
        os.replace(merged, os.path.join(self.folder, "0000.marshal"))
        return True

    def code(self, name, origin, size):
        """Return the code kept for module ``name`` from ``origin`` (of ``size``), or None."""
        entry = self.entries.get(name) or self.new.get(name)
        if entry is None or entry[0] != origin or entry[1] != size:
            return None
        return marshal.loads(entry[2])

    def keep(self, name, origin, size, code):
        """Keep the code just compiled for module ``name``, to save later."""
        self.new[name] = (origin, size, marshal.dumps(code))

    def save(self):
        """Write the modules compiled since the last save to a new file; return their count."""
        if not self.new:
            return 0
        path = os.path.join(self.folder, f"{len(self.files()):04d}.marshal")
        with open(path + ".part", "wb") as handle:
            marshal.dump(self.new, handle)
        os.replace(path + ".part", path)
        count = len(self.new)
        self.entries.update(self.new)
        self.new = {}
        return count


class CachedLoader:
    """A module's own loader, except that its code comes from the cache when it can."""

    def __init__(self, loader, cache, name, origin, size):
        self._loader, self._cache = loader, cache
        self._where = (name, origin, size)

    def create_module(self, spec):
        """Return None: the default module object, as both wrapped loaders do."""
        return None

    def exec_module(self, module):
        """Run the module's code: from the cache, or compiled now and kept."""
        name, origin, size = self._where
        code = self._cache.code(name, origin, size)
        if code is None:
            code = self._loader.get_code(name)
            self._cache.keep(name, origin, size, code)
            _state["compiled"] += 1
        else:
            _state["hits"] += 1
        exec(code, module.__dict__)

    def __getattr__(self, attribute):
        """Answer everything else as the wrapped loader does (get_source, get_data, ...)."""
        return getattr(self._loader, attribute)


class CachingFinder:
    """Find modules as Python's path finder does, and give those it can cache the cache."""

    def __init__(self, cache, stdlib_zip, site_packages):
        self.cache = cache
        self.stdlib_zip = stdlib_zip.rstrip("/") + "/"
        self.site_packages = site_packages.rstrip("/") + "/"

    def find_spec(self, name, path=None, target=None):
        """Return the path finder's spec, with a caching loader where the module can be cached."""
        spec = PathFinder.find_spec(name, path, target)
        if spec is None or name in NOT_CACHED or not isinstance(spec.origin, str):
            return spec
        loader, origin = spec.loader, spec.origin
        if isinstance(loader, zipimporter) and origin.startswith(self.stdlib_zip):
            size = -1  # the zip is part of Pyodide's files, which the cache's key covers
        elif isinstance(loader, SourceFileLoader) and origin.startswith(self.site_packages):
            try:
                size = os.stat(origin).st_size
            except OSError:
                return spec
        else:
            return spec
        spec.loader = CachedLoader(loader, self.cache, name, origin, size)
        return spec


def started_modules(stdlib_zip):
    """Split the standard library's modules imported so far by where their code came from.

    Return ``(sources, compiled)``: the paths inside ``stdlib_zip`` of those run from their
    ``.py`` (sorted), and how many were run from a ``.pyc``. A module under two names in
    ``sys.modules`` (``os.path`` is ``posixpath``) counts once.
    """
    prefix = stdlib_zip.rstrip("/") + "/"
    sources, compiled = set(), set()
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.startswith(prefix):
            continue
        if path.endswith(".py"):
            sources.add(path[len(prefix) :])
        elif path.endswith(".pyc"):
            compiled.add(path)
    return sorted(sources), len(compiled)


def with_compiled(stdlib_zip, sources):
    """Return ``(bytes, count)``: ``stdlib_zip`` with a checked ``.pyc`` beside ``count`` sources.

    ``sources``: paths of ``.py`` files inside the zip. Each is compiled as zipimport would
    compile it (same file name in its code, Unix line endings) and written
    uncompressed after the zip's own entries, which are kept byte for byte; a source the zip
    does not hold, or whose ``.pyc`` it already holds, is skipped. The ``.pyc`` files carry the
    source's hash (PEP 552, checked): Python runs one only while its source is unchanged.
    """
    with open(stdlib_zip, "rb") as handle:
        buffer = io.BytesIO(handle.read())
    count = 0
    with zipfile.ZipFile(buffer, "a") as archive:
        held = set(archive.namelist())
        for inner in sources:
            if inner not in held or inner + "c" in held:
                continue
            source = archive.read(inner)
            text = source.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            code = compile(text, f"{stdlib_zip.rstrip('/')}/{inner}", "exec", dont_inherit=True)
            header = importlib.util.MAGIC_NUMBER + CHECKED_HASH_PYC.to_bytes(4, "little")
            header += importlib.util.source_hash(source)
            entry = zipfile.ZipInfo(inner + "c", date_time=archive.getinfo(inner).date_time)
            archive.writestr(entry, header + marshal.dumps(code), zipfile.ZIP_STORED)
            count += 1
    return buffer.getvalue(), count


def keep_started(stdlib_zip, sources, target):
    """Write :func:`with_compiled` to ``target`` (whole or not at all); return the .pyc count."""
    if not sources or os.path.exists(target):
        return 0
    data, count = with_compiled(stdlib_zip, sources)
    with open(target + ".part", "wb") as handle:
        handle.write(data)
    os.replace(target + ".part", target)
    return count


def install(cache, stdlib_zip, site_packages):
    """Put a caching finder just before Python's path finder; return it."""
    finder = CachingFinder(cache, stdlib_zip, site_packages)
    sys.meta_path.insert(sys.meta_path.index(PathFinder), finder)
    return finder


def status():
    """Return what the cache did in this kernel: modules loaded, run from it, compiled, saved."""
    return dict(_state)


# ------------------------------------------------------------ the browser's side (Pyodide)


def _console(message):
    try:
        import js

        js.console.warn(f"course_lite: {message}")
    except ImportError:
        print(f"course_lite: {message}", file=sys.stderr)


async def _sync(mount, populate, timeout=SYNC_TIMEOUT_S):
    """Copy the IDBFS folder from (populate) or to the browser's IndexedDB."""
    import pyodide_js
    from pyodide.ffi import create_once_callable

    done = asyncio.get_event_loop().create_future()

    def finished(error=None):
        if not done.done():
            done.set_result(error)

    pyodide_js.FS.filesystems.IDBFS.syncfs(mount, populate, create_once_callable(finished))
    error = await asyncio.wait_for(done, timeout)  # a blocked IndexedDB: no cache
    if error:
        raise OSError(f"IndexedDB sync failed: {error}")


def _mount():
    import js
    import pyodide_js

    fs = pyodide_js.FS
    fs.mkdirTree(MOUNT)
    fs.mount(fs.filesystems.IDBFS, js.Object.new(), MOUNT)
    return fs.lookupPath(MOUNT).node.mount


def _forget_other_builds(keep):
    """Remove the caches of other builds of the site; return True if there were any."""
    import shutil

    others = [name for name in os.listdir(MOUNT) if name != keep]
    for name in others:
        shutil.rmtree(os.path.join(MOUNT, name), ignore_errors=True)
    return bool(others)


async def _watch(cache, mount, changed, started=None):
    """Save new code once the imports settle; keep watching for WATCH_S seconds.

    ``changed``: the folder already differs from the browser's copy (merged, or another
    build's cache removed), so it is synced at the first chance. ``started``: ``(stdlib zip,
    sources run while Pyodide started, target)`` for :func:`keep_started`, called at the first
    quiet moment BOOT_AFTER_S or more after the start.
    """
    loop = asyncio.get_event_loop()
    began = loop.time()
    until = began + WATCH_S
    seen = 0
    _state["boot_pending"] = bool(started)
    while loop.time() < until:
        await asyncio.sleep(QUIET_S)
        quiet = len(cache.new) == seen  # nothing compiled for QUIET_S
        # The started modules' .pyc files take about half a second to compile: at a quiet
        # moment once the page has long started, never while the kernel and the first cells
        # are starting (that would hold them up).
        boot = started if quiet and loop.time() - began >= BOOT_AFTER_S else None
        if changed or boot or (cache.new and quiet):
            try:
                _state["saved"] += cache.save()
                written = keep_started(*boot) if boot else 0
                await _sync(mount, False, SAVE_TIMEOUT_S)
                _state["synced"] = _state["saved"]  # now in the browser's storage too
                if boot:
                    started, _state["boot_pending"] = None, False
                    _state["boot_written"] = written
                changed = False
            except Exception as error:  # noqa: BLE001 (a full or missing IndexedDB: no cache)
                _state["error"] = repr(error)
                _state["boot_pending"] = False
                _console(f"the code cache was not saved: {error!r}")
                return
        seen = len(cache.new)


async def start():
    """Load the code cache kept by an earlier visit, and keep what this visit compiles."""
    began = time.perf_counter()
    try:
        from course_lite import _site

        folder = f"{MOUNT}/{_site.KEY}-{FORMAT}"
        mount = _mount()
        await _sync(mount, True)
        changed = _forget_other_builds(os.path.basename(folder))
        cache = CodeCache(folder)
        _state.update(key=_site.KEY, loaded=cache.load())
        changed = cache.compact() or changed or bool(cache.dropped)
        stdlib_zip = next(p for p in sys.path if p.endswith(".zip"))
        site_packages = next(p for p in sys.path if p.endswith("site-packages"))
        sources, _state["boot_pyc"] = started_modules(stdlib_zip)
        pyodide = getattr(_site, "PYODIDE", "")
        target = os.path.join(folder, f"boot-{pyodide}.zip")
        started = None
        if pyodide and sources and not os.path.exists(target):
            started = (stdlib_zip, sources, target)
        install(cache, stdlib_zip, site_packages)
        asyncio.ensure_future(_watch(cache, mount, changed, started))
        _state["start_s"] = round(time.perf_counter() - began, 3)
    except Exception as error:  # noqa: BLE001 (no cache: the kernel starts as it always did)
        _state["error"] = repr(error)
        _console(f"no code cache: {error!r}")
