"""The build's four changes to JupyterLite's front end (scripts/lite_patches.py).

On a small fake site whose files hold the exact code the patches look for, copied from the
pinned jupyterlite-core 0.5.1 / jupyterlite-pyodide-kernel 0.5.2 (minified as they ship):

- the app starts Lumino in the bubbling phase; the kernel's worker starts Pyodide on the
  standard library kept by an earlier visit when there is one, starts the code cache once
  Pyodide is up and no longer asks for ssl; the kernel's plugin prewarms one worker, which the
  kernel class takes and whose start the worker finishes;
- a place not found stops the build, as does finding it a different number of times;
- every changed file gets the hash of its new content in its name, and every file that names
  it follows (webpack's chunk map, the extension's entry in jupyter-lite.json), so no changed
  file is served under a name a browser may have cached for a year.

The real files are patched by every build, which then checks them with ``node --check``.
"""

import hashlib
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
spec = importlib.util.spec_from_file_location("lite_patches", ROOT / "scripts" / "lite_patches.py")
lite_patches = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lite_patches)

WORKER = (
    'async initialize(e){var t;if(this._options=e,e.location.includes(":")){}else this.'
    "_localPath=e.location;await this.initRuntime(e),await this.initFilesystem(e),await this."
    "initPackageManager(e),await this.initKernel(e),await this.initGlobals(e),null==(t=this."
    "_initializer)||t.resolve()}async initRuntime(e){let t,{pyodideUrl:i,indexUrl:a}=e;"
    "t=self.loadPyodide,this._pyodide=await t({indexURL:a,...e.loadPyodideOptions})}"
    'async initKernel(e){let t=(e.loadPyodideOptions||{}).packages||[],i=["ssl","sqlite3",'
    '"ipykernel","comm","pyodide_kernel","ipython"],a=[];}'
)
KERNEL_CLASS = (
    "class k extends w.BaseKernel{constructor(e){super(e),this._ready=new y.PromiseDelegate,"
    "this._worker=this.initWorker(e),this._remoteKernel=this.initRemote(e)}initWorker(e){return "
    "crossOriginIsolated?new Worker(new URL(i.p+i.u(620),i.b),{type:void 0}):new Worker(new "
    "URL(i.p+i.u(352),i.b),{type:void 0})}initRemote(e){let t;crossOriginIsolated?(t=(0,g.c)("
    'this._worker)):(t=(0,x.em)(this._worker),this._worker.addEventListener("message",(e=>{})))'
    ";return t}}"
)
PLUGIN = (
    "activate:(e,n,i,s)=>{const o=e.serviceManager.contents,r={},a=l.PageConfig.getBaseUrl(),"
    "c=r.pyodideUrl,y=void 0,v=[],g=!!r.disablePyPIFallback,f=r.loadPyodideOptions||{};for("
    'const[e,n]of Object.entries(f))e.endsWith("URL")&&"string"==typeof n&&(f[e]=new URL(n,a)'
    '.href);n.register({spec:{name:"python"},create:async e=>{const{PyodideKernel:n}=await '
    "t.e(56).then(t.t.bind(t,56,23)),l=!!crossOriginIsolated;return new n({...e,pyodideUrl:c,"
    "pipliteWheelUrl:y,pipliteUrls:v,disablePyPIFallback:g,mountDrive:l,loadPyodideOptions:f,"
    "contentsManager:o})}})}"
)
PAGE = (
    '<!DOCTYPE html>\n<html>\n  <head>\n    <title>JupyterLite</title>\n    <meta charset="utf-8"'
    ' />\n    <script id="jupyter-config-data" type="application/json">{}</script>\n  </head>\n'
    '  <body class="jp-ThemedContainer" data-notebook="lab"></body>\n</html>\n'
)
HASHES = {"154": "1fa523c5695b1f902a34", "352": "3014c3141745cb055fab"}
HASHES |= {"512": "87c806cf1202fed3d6cd", "620": "1f7022cb36bb0022cde6"}
ENTRY = "3ac7f76fb22d01270496"


def fake_site(tmp_path, worker=WORKER):
    """A site with JupyterLab's app start and the kernel extension's four chunks."""
    site = tmp_path / "site"
    (site / "build" / "lab").mkdir(parents=True)
    (site / "lab").mkdir()
    (site / "build" / "5531.09238fc.js").write_text(
        'x=1;y.name="a",await y.start(),await y.restored}'
    )
    (site / "build" / "lab" / "bundle.js").write_text('u=e=>e+"."+{5531:"09238fc",5494:"db2521b"}')
    static = site / lite_patches.KERNEL_STATIC
    static.mkdir(parents=True)
    bodies = {"154": PLUGIN, "352": worker, "512": KERNEL_CLASS + worker, "620": worker}
    for chunk, body in bodies.items():
        (static / f"{chunk}.{HASHES[chunk]}.js").write_text(body)
    (static / f"352.{HASHES['352']}.js.LICENSE.txt").write_text("licences")
    chunk_map = ",".join(f'{chunk}:"{value}"' for chunk, value in HASHES.items())
    (static / f"remoteEntry.{ENTRY}.js").write_text(f'i.u=e=>e+"."+{{{chunk_map}}}[e]+".js"')
    config = {"federated_extensions": [{"load": f"static/remoteEntry.{ENTRY}.js"}]}
    (site / "jupyter-lite.json").write_text(json.dumps({"jupyter-config-data": config}))
    (site / "lab" / "index.html").write_text(PAGE)
    (site / "files").mkdir()
    (site / "files" / "notes.json").write_text(json.dumps({"hash": HASHES["352"]}))
    return site


def new_name(folder, chunk):
    (path,) = folder.glob(f"{chunk}.*.js")
    return path


def test_the_app_starts_lumino_in_the_bubbling_phase_under_a_new_name(tmp_path):
    site = fake_site(tmp_path)
    (renamed,) = lite_patches.backport_bubbling_keydown(site)
    text = renamed.read_text()
    assert text == 'x=1;y.name="a",await y.start({bubblingKeydown:!0}),await y.restored}'
    assert renamed.name == f"5531.{hashlib.sha256(text.encode()).hexdigest()[:7]}.js"
    assert not (site / "build" / "5531.09238fc.js").exists()
    bundle = (site / "build" / "lab" / "bundle.js").read_text()
    assert f'5531:"{renamed.name.split(".")[1]}"' in bundle and '5494:"db2521b"' in bundle


@pytest.mark.parametrize("copies", [0, 2])
def test_the_app_start_must_be_found_exactly_once(tmp_path, copies):
    site = fake_site(tmp_path)
    start = "await y.start(),await y.restored"
    (site / "build" / "5531.09238fc.js").write_text("a;" + ";".join([start] * copies))
    with pytest.raises(SystemExit, match="not found exactly once"):
        lite_patches.backport_bubbling_keydown(site)


def test_the_kernel_starts_the_code_cache_prewarms_and_skips_ssl(tmp_path):
    site = fake_site(tmp_path)
    static = site / lite_patches.KERNEL_STATIC
    renamed = lite_patches.patch_kernel(site)
    assert sorted(path.name.split(".")[0] for path in renamed) == ["154", "352", "512", "620"]
    for chunk in ["352", "512", "620"]:
        text = new_name(static, chunk).read_text()
        hook = json.dumps(lite_patches.START_HOOK)
        assert f"...e.loadPyodideOptions}}),await this._pyodide.runPythonAsync({hook})" in text
        loader = f"this._pyodide=await {lite_patches.BOOT_LOADER}(t,{{indexURL:a,"
        assert text.count(loader) == 1  # Pyodide starts on the kept standard library, if any
        assert lite_patches.KERNEL_LIST_WITHOUT_SSL in text and '"ssl"' not in text
        assert text.count("prewarm(e){return this._warm||") == 1
        assert "this._warm?(await this._warm,await this.initFilesystem(e)):" in text
    kernel = new_name(static, "512").read_text()
    assert "static prewarm(e){if(crossOriginIsolated||self.__courseWarmKernel)return;" in kernel
    assert "r=(0,x.em)(w);self.__courseWarmKernel={worker:w,remote:r,used:!1,early:" in kernel
    assert "courseUrl=new URL(i.p+i.u(352),i.b).href," in kernel
    # the worker lab/index.html started is taken only with the same address and options
    assert "const w=courseSame?courseEarly.worker:new Worker(courseUrl,{type:void 0})" in kernel
    assert "courseEarly.options===JSON.stringify(o)" in kernel
    assert f'localStorage.setItem("{lite_patches.EARLY_KEY}",' in kernel
    assert "if(c&&!c.used&&!crossOriginIsolated)return c.used=!0,c.worker;" in kernel
    plugin = new_name(static, "154").read_text()
    assert (
        ".href);t.e(56).then(t.t.bind(t,56,23)).then(e=>e.PyodideKernel.prewarm&&e.PyodideKernel"
        ".prewarm({pyodideUrl:c,pipliteWheelUrl:y,pipliteUrls:v,disablePyPIFallback:g,"
        "loadPyodideOptions:f}))"
    ) in plugin


def test_every_changed_file_and_what_names_it_get_new_names(tmp_path):
    site = fake_site(tmp_path)
    static = site / lite_patches.KERNEL_STATIC
    lite_patches.patch_kernel(site)
    (entry,) = static.glob("remoteEntry.*.js")
    assert entry.name != f"remoteEntry.{ENTRY}.js"
    assert entry.name in (site / "jupyter-lite.json").read_text()  # the page finds the new entry
    chunk_map = entry.read_text()
    for chunk, old in HASHES.items():
        path = new_name(static, chunk)
        value = path.name.split(".")[1]
        assert value != old and len(value) == len(old)
        assert value == hashlib.sha256(path.read_bytes()).hexdigest()[:20]  # of what it holds
        assert f'{chunk}:"{value}"' in chunk_map
    assert (static / f"{new_name(static, '352').name}.LICENSE.txt").is_file()
    # the notebooks' own files are never rewritten, even where the old hash appears
    assert HASHES["352"] in (site / "files" / "notes.json").read_text()
    leftovers = [p.name for p in static.iterdir() if any(h in p.name for h in HASHES.values())]
    assert leftovers == []


def test_a_worker_the_patch_does_not_recognise_stops_the_build(tmp_path):
    site = fake_site(tmp_path, worker=WORKER.replace('["ssl","sqlite3",', '["sqlite3",'))
    with pytest.raises(SystemExit, match="jupyterlite-pyodide-kernel still 0.5.2"):
        lite_patches.patch_kernel(site)


def test_a_kernel_class_the_patch_does_not_recognise_stops_the_build(tmp_path):
    site = fake_site(tmp_path)
    static = site / lite_patches.KERNEL_STATIC
    path = static / f"512.{HASHES['512']}.js"
    path.write_text(path.read_text().replace("(0,x.em)", "(0,x.wrap)"))
    with pytest.raises(SystemExit, match="found 0 times, expected once"):
        lite_patches.patch_kernel(site)


def test_a_file_nothing_names_cannot_be_renamed(tmp_path):
    site = fake_site(tmp_path)
    lonely = site / "build" / "9999.abcdef1.js"
    lonely.write_text("x")
    with pytest.raises(SystemExit, match="nothing refers to 9999.abcdef1.js"):
        lite_patches.rename_with_new_hash(site, lonely)
    assert re.fullmatch(r"[0-9a-f]{7}", lite_patches.HASHED_NAME.match(lonely.name)["hash"])


def test_the_syntax_check_catches_broken_javascript(tmp_path):
    good, bad = tmp_path / "good.js", tmp_path / "bad.js"
    good.write_text("self.x = {a: 1};\n")
    bad.write_text("self.x = {a: 1;\n")
    if lite_patches.shutil.which("node") is None:
        pytest.skip("Node.js is not installed (the site's build needs it)")
    lite_patches.check_syntax([good])
    with pytest.raises(SystemExit, match="bad.js is not valid JavaScript"):
        lite_patches.check_syntax([good, bad])


def test_a_later_visit_starts_the_kernel_from_the_page(tmp_path):
    site = fake_site(tmp_path)
    page = lite_patches.start_kernel_with_page(site)
    text = page.read_text()
    assert text.count("<script>") == 1 and text.index("<script>") < text.index("jupyter-config")
    assert f'localStorage.getItem("{lite_patches.EARLY_KEY}")' in text
    assert f'var folder = base + "{lite_patches.KERNEL_STATIC}/";' in text
    assert text.replace(lite_patches.EARLY_START, "") == PAGE  # nothing else of the page changed
    if lite_patches.shutil.which("node") is None:
        pytest.skip("Node.js is not installed (the site's build needs it)")
    early = tmp_path / "early.js"
    early.write_text(text.split("<script>")[1].split("</script>")[0])
    lite_patches.check_syntax([early])
    page.write_text(PAGE.replace('<meta charset="utf-8" />', ""))
    with pytest.raises(SystemExit, match="found 0 times"):
        lite_patches.start_kernel_with_page(site)


# BOOT_LOADER run in Node against a stand-in IndexedDB (one IDBFS record, or none, or a
# database that never answers) and a stand-in loadPyodide that records what it was given.
BOOT_HARNESS = """
const [loaderText, mode] = [process.argv[2], process.argv[3]];
const folder = "pyodide";
const zipEnd = [80, 75, 5, 6];
const end = mode === "not-zip" ? [9, 9, 9, 9] : zipEnd;
const contents = mode === "none" ? null : Int8Array.from([1, 2, 3, ...end, ...Array(18).fill(0)]);
const later = (f) => setTimeout(f, 1);
const requestOf = (result, fire) => { const r = {result}; later(() => fire(r)); return r; };
globalThis.indexedDB = {open(name) {
  const request = {};
  if (mode === "silent") return request;  // never answers: the loader gives up after 3 s
  const store = {
    getAllKeys: () => requestOf(contents ? ["/course-cache/k-1/boot-" + folder + ".zip"] : [],
      (r) => r.onsuccess()),
    get: (key) => requestOf({contents}, (r) => r.onsuccess()),
  };
  request.result = {transaction: () => ({objectStore: () => store}), close() {}};
  later(() => request.onsuccess());
  return request;
}};
const warnings = [], calls = [];
console.warn = (...args) => warnings.push(args.join(" "));
const load = async (options) => {
  calls.push(options.stdLibURL ? "kept" : "own");
  if (options.stdLibURL && mode === "broken") throw new Error("zipimport failed");
  return options.stdLibURL ? "started on the kept zip" : "started on Pyodide's own zip";
};
eval(loaderText)(load, {indexURL: "https://site/" + folder + "/"}).then((value) => {
  console.log(JSON.stringify({value, calls, warnings}));
});
"""


@pytest.mark.parametrize(
    ("mode", "value", "calls", "warned"),
    [
        ("none", "started on Pyodide's own zip", ["own"], False),
        ("zip", "started on the kept zip", ["kept"], False),
        ("not-zip", "started on Pyodide's own zip", ["own"], False),
        ("broken", "started on Pyodide's own zip", ["kept", "own"], True),
        ("silent", "started on Pyodide's own zip", ["own"], False),
    ],
)
def test_the_kernel_starts_on_the_kept_standard_library_or_else_on_its_own(
    tmp_path, mode, value, calls, warned
):
    node = lite_patches.shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (the site's build needs it)")
    harness = tmp_path / "boot.js"
    harness.write_text(BOOT_HARNESS)
    run = subprocess.run(
        [node, str(harness), lite_patches.BOOT_LOADER, mode],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert (result["value"], result["calls"]) == (value, calls)
    warning = "did not start on the kept standard library"
    assert any(warning in line for line in result["warnings"]) is warned
