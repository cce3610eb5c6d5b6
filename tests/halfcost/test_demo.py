"""Where `halfcost demo` writes when no --dir is given, wherever it is started."""

from __future__ import annotations

from pathlib import Path

import pytest

from halfcost.demo import _prepare_dir, default_demo_dir
from halfcost.errors import BadInputError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def test_an_empty_folder_holds_the_demo(tmp_path: Path, home: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    chosen = default_demo_dir(empty)
    assert chosen.parent == empty.resolve()
    assert chosen.name.startswith("halfcost-demo-")


def test_the_home_folder_holds_the_demo(home: Path) -> None:
    assert default_demo_dir(home).parent == home.resolve()


@pytest.mark.parametrize("where", [".", "automl", "tests/halfcost"])
def test_inside_the_checkout_the_demo_goes_home(where: str, home: Path) -> None:
    chosen = default_demo_dir(REPO / where)
    assert chosen.parent == home.resolve()
    _prepare_dir(chosen)  # accepted: outside the package
    assert chosen.is_dir()


def test_a_regular_checkout_copy_is_recognised(tmp_path: Path, home: Path) -> None:
    checkout = tmp_path / "halfcost-src"
    (checkout / "drift").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text('[project]\nname = "halfcost"\n')
    assert default_demo_dir(checkout / "drift").parent == home.resolve()


def test_an_explicit_folder_inside_the_package_is_refused() -> None:
    with pytest.raises(BadInputError, match="inside the halfcost package; give --dir"):
        _prepare_dir(REPO / "halfcost" / "demo-here")
    assert not (REPO / "halfcost" / "demo-here").exists()


def test_a_non_empty_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("mine")
    with pytest.raises(BadInputError, match="not empty"):
        _prepare_dir(tmp_path)
    assert (tmp_path / "file.txt").read_text() == "mine"
