"""Four small changes to the built JupyterLite front end. Used by scripts/build_lite.py.

Each finds its exact place in the pinned jupyterlite-core 0.5.1 / jupyterlite-pyodide-kernel
0.5.2 files and stops the build when that place is not found (the app's start: exactly once;
the worker's start and its package list: as often as each other), so a new version of either
cannot be patched blindly.

1. **Keys to the widgets first** (``backport_bubbling_keydown``). JupyterLite's app starts
   Lumino with key bindings in the capture phase, so the notebook's command-mode arrows (move
   to the cell above, collapse a heading) run before a focused slider or dropdown in an output
   sees the key. JupyterLab starts with ``bubblingKeydown``, and JupyterLite does from 0.7.0
   (jupyterlite/jupyterlite#1702): this is that one-line change.
2. **The kernel's code cache** (``patch_kernel_worker``): once Pyodide is up, and before the
   kernel imports anything, the kernel's worker runs ``await course_lite.start()`` (the site's
   own package, lite/course_lite/), which runs modules compiled on an earlier visit. The
   worker also starts Pyodide on the copy of the standard library that an earlier visit kept
   (``BOOT_LOADER``: the zip with checked .pyc files for the modules Pyodide runs while it
   starts, read from the browser's IndexedDB), and on Pyodide's own zip when there is none,
   when it is not whole, or when Python does not start on it.
3. **No ssl at start-up** (also ``patch_kernel_worker``): the worker loads CPython's ssl module
   (and OpenSSL, 0.85 MB on the wire) before the kernel starts, though nothing the kernel or
   the course imports uses it; it stays on the site for a student's ``%pip install ssl``.
4. **The kernel starts with the page** (``prewarm_kernel``): JupyterLite creates the kernel's
   worker only once JupyterLab has opened the notebook (about 2.7 s after the page starts on
   this machine). Here the kernel's plugin, as soon as it is activated, starts one worker and
   has it load Pyodide, the packages and IPython (everything that does not depend on which
   notebook is opened), while JupyterLab opens the notebook on the other core; the first
   kernel JupyterLab asks for takes that worker and finishes its start (the notebook's
   folder, the kernel object). Later kernels (a restart, a second notebook) start as before.
   Not where the page is cross-origin isolated (JupyterLite then uses another worker).
5. **On a later visit, the kernel starts before JupyterLab** (``start_kernel_with_page``): the
   plugin of change 4 notes in the browser's localStorage the worker's address and the options
   it gave it; on the next visit a few lines at the top of lab/index.html start that worker
   with those options at once, a second earlier than the plugin could, and the plugin takes
   it when its own options and address are the same (else it stops it and starts its own).

A changed file keeps no old name: its content hash in the name is replaced by the hash of the
new content, in the name and wherever it is referred to (webpack's chunk maps, the
extension's entry in jupyter-lite.json), so a browser that cached the unchanged file for a
year (scripts/serve_lite.py marks hashed names immutable) fetches the new one.
"""

import hashlib
import json
import re
import shutil
import subprocess
import sys

# 1. In JupyterLab's build/: the app's start.
APP_START = re.compile(r"await (\w+)\.start\(\),await \1\.restored")
# 2. and 3. In the kernel extension's chunks that hold the worker.
KERNEL_STATIC = "extensions/@jupyterlite/pyodide-kernel-extension/static"
RUNTIME_READY = re.compile(
    r"this\._pyodide=await (\w+)\(\{indexURL:(\w+),\.\.\.(\w+)\.loadPyodideOptions\}\)"
)
START_HOOK = """\
try:
    import course_lite
except ImportError:
    course_lite = None
if course_lite is not None:
    await course_lite.start()
del course_lite
"""
# The function that starts Pyodide, given Pyodide's loadPyodide and its options: on the
# standard library course_lite kept in IndexedDB (Emscripten's IDBFS: one record per file,
# keyed by its path, {timestamp, mode, contents: an Int8Array}) for this Pyodide folder when
# there is one whose end is a zip's, else (or when it fails) as Pyodide would. Three seconds
# at most to read it; the database is never created here (IDBFS does, when course_lite mounts
# it). While IndexedDB reads, the worker loads pyodide.asm.js, as loadPyodide would next.
BOOT_LOADER = """(async(load,options)=>{\
const base="/course-cache",folder=String(options.indexURL).replace(/\\/+$/,"").split("/").pop(),\
name="/boot-"+folder+".zip";\
const read=()=>new Promise(done=>{let request,timer=setTimeout(()=>done(null),3e3);\
const finish=(db,value)=>{clearTimeout(timer);try{db&&db.close()}catch(e){}done(value)};\
try{request=indexedDB.open(base)}catch(e){return finish(null,null)}\
request.onupgradeneeded=()=>request.transaction.abort();\
request.onerror=()=>finish(null,null);request.onblocked=()=>finish(null,null);\
request.onsuccess=()=>{const db=request.result;try{\
const store=db.transaction("FILE_DATA","readonly").objectStore("FILE_DATA"),\
keys=store.getAllKeys();\
keys.onerror=()=>finish(db,null);keys.onsuccess=()=>{\
const key=keys.result.find(k=>typeof k=="string"&&k.startsWith(base+"/")&&k.endsWith(name));\
if(!key)return finish(db,null);const entry=store.get(key);entry.onerror=()=>finish(db,null);\
entry.onsuccess=()=>{const c=entry.result&&entry.result.contents;\
finish(db,ArrayBuffer.isView(c)?new Uint8Array(c.buffer,c.byteOffset,c.byteLength):null)}}\
}catch(e){finish(db,null)}}});\
const reading=read().catch(()=>null);\
try{typeof _createPyodideModule!="function"&&typeof importScripts=="function"&&\
importScripts(options.indexURL+"pyodide.asm.js")}catch(e){}\
const bytes=await reading,n=bytes?bytes.length:0;\
if(n>22&&bytes[n-22]===80&&bytes[n-21]===75&&bytes[n-20]===5&&bytes[n-19]===6){\
const url=URL.createObjectURL(new Blob([bytes]));\
try{return await load({...options,stdLibURL:url})}\
catch(e){console.warn("course_lite: Python did not start on the kept standard library:",e)}\
finally{URL.revokeObjectURL(url)}}\
return load(options)})"""
KERNEL_LIST = '["ssl","sqlite3","ipykernel","comm","pyodide_kernel","ipython"]'
KERNEL_LIST_WITHOUT_SSL = '["sqlite3","ipykernel","comm","pyodide_kernel","ipython"]'
# 4. The worker's start (every copy of it), the kernel class and the kernel's plugin.
WORKER_START = (
    "await this.initRuntime(e),await this.initFilesystem(e),await this.initPackageManager(e),"
)
WORKER_START_WARM = (
    "this._warm?(await this._warm,await this.initFilesystem(e)):(await this.initRuntime(e),"
    "await this.initFilesystem(e),await this.initPackageManager(e)),"
)
WORKER_INITIALIZE = "async initialize(e){"
WORKER_PREWARM = (
    "prewarm(e){return this._warm||(this._options=e,this._warm=this.initRuntime(e)"
    '.then(()=>this.initPackageManager(e)).then(()=>this._pyodide.runPythonAsync("import '
    'pyodide_kernel"))),this._warm}'
)
# 5. In lab/index.html, and the key of what the plugin notes for it.
EARLY_KEY = "course-kernel-start"
PAGE_ANCHOR = '<meta charset="utf-8" />'
EARLY_START = f"""
    <script>
      /* The course's site: on a later visit, start the Python kernel's worker now, with the
         address and options JupyterLite gave it last time (scripts/lite_patches.py, 5). */
      (function () {{
        try {{
          if (self.crossOriginIsolated) return;
          var base = new URL("..", location.href).href;
          var folder = base + "{KERNEL_STATIC}/";
          var noted = JSON.parse(localStorage.getItem("{EARLY_KEY}") || "null");
          if (!noted || noted.base !== base || typeof noted.worker !== "string") return;
          if (noted.worker.indexOf(folder) !== 0 || noted.worker.indexOf("..") !== -1) return;
          var worker = new Worker(noted.worker);
          worker.postMessage({{id: "course-early-start", type: "APPLY", path: ["prewarm"],
            argumentList: [{{type: "RAW", value: noted.options}}]}});
          self.__courseEarlyKernel = {{worker: worker, url: noted.worker,
            options: JSON.stringify(noted.options)}};
        }} catch (error) {{
          console.warn("course: the kernel was not started early:", error);
        }}
      }})();
    </script>"""
KERNEL_CLASS = re.compile(r"class (\w+) extends (\w+)\.BaseKernel\{constructor\(e\)\{")
KERNEL_WORKER = re.compile(
    r"initWorker\(e\)\{return crossOriginIsolated\?(new Worker\([^;]*?\{type:void 0\}\))"
    r":(new Worker\([^;]*?\{type:void 0\}\))\}"
)
WORKER_ADDRESS = re.compile(r"^new Worker\((new URL\([^()]*\([^()]*\)[^()]*\)),\{type:void 0\}\)$")
KERNEL_WRAP = re.compile(r":\(t=(\(0,\w+\.em\))\(this\._worker\)")
PLUGIN_OPTIONS = re.compile(
    r"(\w)=(\w)\.loadPyodideOptions\|\|\{\};for\(const\[e,n\]of Object\.entries\(\1\)\)"
    r'e\.endsWith\("URL"\)&&"string"==typeof n&&\(\1\[e\]=new URL\(n,\w\)\.href\);'
)
PLUGIN_CREATE = re.compile(
    r"create:async e=>\{const\{PyodideKernel:n\}=await (\w\.e\(\d+\)\.then\(\w\.t\.bind"
    r"\(\w,\d+,\d+\)\)),.*?new n\(\{\.\.\.e,pyodideUrl:(\w),pipliteWheelUrl:(\w),"
    r"pipliteUrls:(\w),disablePyPIFallback:(\w),mountDrive:\w,loadPyodideOptions:(\w),"
)
# A content hash in a file name, as webpack writes them: 1053.75981ec.js, remoteEntry.3ac7….js
HASHED_NAME = re.compile(r"^(?P<stem>[^.]+)\.(?P<hash>[0-9a-f]{7,32})\.js$")
TEXT_SUFFIXES = {".js", ".json", ".html"}
SKIPPED_FOLDERS = {"files", "pypi", "pyodide", "api"}


def backport_bubbling_keydown(site):
    """Let widgets in outputs take their keys first, as in JupyterLab (see APP_START)."""
    found = []
    for path in sorted((site / "build").glob("*.js")):
        text = path.read_text(encoding="utf-8")
        patched, count = APP_START.subn(
            r"await \1.start({bubblingKeydown:!0}),await \1.restored", text
        )
        if count:
            found.append((path, patched, count))
    if len(found) != 1 or found[0][2] != 1:
        where = [(p.name, n) for p, _, n in found]
        sys.exit(f"JupyterLite's app start was not found exactly once in build/*.js: {where}")
    path, patched, _ = found[0]
    path.write_text(patched, encoding="utf-8")
    return [rename_with_new_hash(site, path)]


def start_kernel_with_page(site):
    """Start the kernel's worker from lab/index.html on a later visit (change 5).

    Returns the changed page (its name carries no hash: served with an ETag, never cached
    for long).
    """
    page = site / "lab" / "index.html"
    text = page.read_text(encoding="utf-8")
    if text.count(PAGE_ANCHOR) != 1:
        sys.exit(f"lab/index.html: {PAGE_ANCHOR!r} found {text.count(PAGE_ANCHOR)} times")
    page.write_text(text.replace(PAGE_ANCHOR, PAGE_ANCHOR + EARLY_START), encoding="utf-8")
    return page


def patch_kernel(site):
    """Changes 2, 3 and 4 to the kernel's extension; return the patched files' new paths."""
    changed = set(patch_kernel_worker(site)) | set(prewarm_kernel(site))
    return [rename_with_new_hash(site, path) for path in sorted(changed) if path.exists()]


def _exactly_once(pattern, text, where):
    found = list(pattern.finditer(text))
    if len(found) != 1:
        sys.exit(f"{where}: {pattern.pattern[:60]!r} found {len(found)} times, expected once")
    return found[0]


def prewarm_kernel(site):
    """Start one kernel worker with the page (change 4); return the patched files."""
    static = site / KERNEL_STATIC
    patched = []
    for path in sorted(static.glob("*.js")):
        text = path.read_text(encoding="utf-8")
        original = text
        if "initRuntime(" in text:  # the worker's code (bundled in several chunks)
            count = text.count(WORKER_START)
            if count != text.count(WORKER_INITIALIZE) or not count:
                sys.exit(f"{path.name}: the worker's start found {count} times")
            text = text.replace(WORKER_START, WORKER_START_WARM)
            text = text.replace(WORKER_INITIALIZE, WORKER_PREWARM + WORKER_INITIALIZE)
        if ".BaseKernel{constructor(e){" in text:  # the kernel class, in the page
            cls = _exactly_once(KERNEL_CLASS, text, path.name)
            worker = _exactly_once(KERNEL_WORKER, text, path.name)
            wrap = _exactly_once(KERNEL_WRAP, text, path.name)
            plain = worker[2]  # the worker of a page that is not cross-origin isolated
            address = _exactly_once(WORKER_ADDRESS, plain, path.name)[1]
            prewarm = (
                "static prewarm(e){if(crossOriginIsolated||self.__courseWarmKernel)return;"
                'const o=this.prototype.initRemoteOptions.call({location:""},e),'
                # Change 5: the worker lab/index.html started, if it has the same address and
                # options; noted for the next visit.
                # (names of its own: the minified names around it stay visible inside)
                f"courseUrl={address}.href,courseEarly=self.__courseEarlyKernel,courseSame="
                "!!courseEarly&&courseEarly.url===courseUrl&&courseEarly.options===JSON."
                "stringify(o);courseEarly&&!courseSame&&courseEarly.worker.terminate();"
                "try{localStorage.setItem("
                f'"{EARLY_KEY}",JSON.stringify({{base:o.baseUrl,worker:courseUrl,options:o}}))}}'
                "catch(e){}"
                # The comlink proxy is kept: once collected, it tells the worker to stop
                # listening, and the kernel that takes the worker would never hear back.
                "const w=courseSame?courseEarly.worker:new Worker(courseUrl,{type:void 0}),"
                f"r={wrap[1]}(w);"
                "self.__courseWarmKernel={worker:w,remote:r,used:!1,early:courseSame};"
                'r.prewarm(o).catch(e=>console.warn("kernel prewarm:",e))}'
            )
            text = text.replace(
                cls[0], cls[0][: -len("constructor(e){")] + prewarm + "constructor(e){"
            )
            text = text.replace(
                worker[0],
                "initWorker(e){const c=self.__courseWarmKernel;if(c&&!c.used&&!crossOriginIsolated)"
                "return c.used=!0,c.worker;" + worker[0][len("initWorker(e){") :],
            )
        if "loadPyodideOptions||{};" in text and "create:async e=>" in text:  # the plugin
            options = _exactly_once(PLUGIN_OPTIONS, text, path.name)
            create = _exactly_once(PLUGIN_CREATE, text, path.name)
            load, url, wheel, urls, no_pypi, pyodide_options = create.groups()
            start = (
                f"{load}.then(e=>e.PyodideKernel.prewarm&&e.PyodideKernel.prewarm("
                f"{{pyodideUrl:{url},pipliteWheelUrl:{wheel},pipliteUrls:{urls},"
                f"disablePyPIFallback:{no_pypi},loadPyodideOptions:{pyodide_options}}}))"
                '.catch(e=>console.warn("kernel prewarm:",e));'
            )
            text = text.replace(options[0], options[0] + start)
        if text != original:
            path.write_text(text, encoding="utf-8")
            patched.append(path)
    names = sorted(path.name.split(".")[0] for path in patched)
    if not {"154", "512"} <= set(names):
        sys.exit(f"the kernel's plugin or class was not found to prewarm it: patched {names}")
    return patched


def patch_kernel_worker(site):
    """Start the code cache and leave ssl out, in every chunk that holds the kernel's worker."""
    hook = json.dumps(START_HOOK)
    patched = []
    for path in sorted((site / KERNEL_STATIC).glob("*.js")):
        text = path.read_text(encoding="utf-8")
        if "initRuntime(" not in text:
            continue
        text, ready = RUNTIME_READY.subn(
            lambda m: (
                f"this._pyodide=await {BOOT_LOADER}({m[1]},{{indexURL:{m[2]},..."
                f"{m[3]}.loadPyodideOptions}}),await this._pyodide.runPythonAsync({hook})"
            ),
            text,
        )
        lists = text.count(KERNEL_LIST)
        if ready != lists or not ready:  # 512.*.js bundles the worker's code three times
            sys.exit(
                f"{path.name}: the kernel's start was found {ready} times and its package list "
                f"{lists} times (expected as often, at least once): is "
                "jupyterlite-pyodide-kernel still 0.5.2?"
            )
        path.write_text(text.replace(KERNEL_LIST, KERNEL_LIST_WITHOUT_SSL), encoding="utf-8")
        patched.append(path)
    if not patched:
        sys.exit(f"no chunk of {KERNEL_STATIC} holds the kernel's worker (initRuntime)")
    return patched


def _text_files(site):
    for path in sorted(site.rglob("*")):
        relative = path.relative_to(site).parts
        if path.is_file() and path.suffix in TEXT_SUFFIXES and relative[0] not in SKIPPED_FOLDERS:
            yield path


def rename_with_new_hash(site, path):
    """Give the changed file ``path`` the hash of its content, wherever its name is used.

    Every text file of the front end that names the old hash is rewritten; one that carries a
    hash in its own name is renamed in turn (webpack's entry file, after its chunk map).
    Returns the new path.
    """
    match = HASHED_NAME.match(path.name)
    if match is None:
        sys.exit(f"{path.name} has no content hash in its name")
    old = match["hash"]
    new = hashlib.sha256(path.read_bytes()).hexdigest()[: len(old)]
    pattern = re.compile(rf"(?<![0-9a-f]){old}(?![0-9a-f])")
    changed = []
    for text_path in _text_files(site):
        text = text_path.read_text(encoding="utf-8")
        replaced, count = pattern.subn(new, text)
        if count:
            text_path.write_text(replaced, encoding="utf-8")
            changed.append(text_path)
    if not [other for other in changed if other != path]:
        sys.exit(f"nothing refers to {path.name}: cannot rename it")
    for sibling in sorted(path.parent.glob(f"{match['stem']}.{old}.js*")):
        sibling.rename(sibling.with_name(sibling.name.replace(f".{old}.", f".{new}.")))
    renamed = path.with_name(f"{match['stem']}.{new}.js")
    for other in changed:
        if other != path and HASHED_NAME.match(other.name) and other.exists():
            rename_with_new_hash(site, other)
    return renamed


def check_syntax(paths, node="node"):
    """Parse every patched file with Node.js (``node --check``); stop the build on an error."""
    if shutil.which(node) is None:
        sys.exit("Node.js is needed to build the site (it comes with npm)")
    for path in paths:
        result = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(
                f"{path.name} is not valid JavaScript after the patch:\n{result.stderr[-2000:]}"
            )
