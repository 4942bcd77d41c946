"""scripts/check_claims.py (`make claims`) re-runs a notebook's seeded claims over seeds 0-9."""

import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NB_DIR = ROOT / "notebooks"


def _load():
    spec = importlib.util.spec_from_file_location(
        "check_claims", ROOT / "scripts" / "check_claims.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_claims = _load()


def _notebook(seeds_source="SEEDS = range(1)", claim="assert all(seed != 3 for seed in SEEDS)"):
    """A notebook whose claim holds for seeds 0-2 and fails for seed 3."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    params = nbformat.v4.new_code_cell(seeds_source)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(claim)]
    return nb


def test_seed_ranges_are_read_as_written():
    assert check_claims.parse_seeds("0-9") == range(10)
    assert check_claims.parse_seeds("3") == range(3, 4)
    for bad in ("9-0", "a-b", "", "1,2"):
        with pytest.raises(Exception, match="seeds|empty"):
            check_claims.parse_seeds(bad)


def test_the_parameters_cell_is_replaced_in_a_copy():
    nb = _notebook()
    copy = check_claims.with_seeds(nb, range(0, 10))
    assert copy.cells[0].source.startswith("SEEDS = range(0, 10)")
    assert nb.cells[0].source == "SEEDS = range(1)"  # the original is left alone
    plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    assert check_claims.with_seeds(plain, range(10)) is None


def test_a_parameters_cell_must_set_seeds_and_be_alone():
    nb = _notebook(seeds_source="N = 3")
    with pytest.raises(ValueError, match="does not set SEEDS"):
        check_claims.seeds_cell(nb)
    nb = _notebook()
    nb.cells.append(nb.cells[0].copy())
    with pytest.raises(ValueError, match="2 cells"):
        check_claims.seeds_cell(nb)


def test_a_claim_that_breaks_on_one_seed_fails_and_the_file_is_untouched(tmp_path, capsys):
    path = tmp_path / "claims.ipynb"
    nbformat.write(_notebook(), path)
    before = path.read_bytes()
    assert check_claims.main([str(path), "--seeds", "0-2", "--timeout", "60"]) == 0
    assert check_claims.main([str(path), "--seeds", "0-9", "--timeout", "60"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "AssertionError" in out
    assert path.read_bytes() == before


@pytest.mark.parametrize("path", sorted(NB_DIR.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_that_use_seeds_declare_them_in_one_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    uses = any("SEEDS" in c.source for c in nb.cells if c.cell_type == "code")
    index = check_claims.seeds_cell(nb)
    assert uses == (index is not None), "SEEDS used without a cell tagged parameters, or unused"
    if index is not None:
        twin = nbformat.read(NB_DIR / "solutions" / path.name, as_version=4)
        assert check_claims.seeds_cell(twin) is not None, "the solution twin needs it too"
