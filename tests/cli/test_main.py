import subprocess
import sys
import time

from halfcost.cli import build_parser, main


def test_help_lists_commands_and_is_fast(halfcost_exe):
    start = time.perf_counter()
    proc = subprocess.run([*halfcost_exe, "--help"], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    assert "halfcost" in proc.stdout
    # --help must not import the heavy libraries (checked directly below, not by timing).
    assert elapsed < 30


def test_help_imports_no_heavy_library():
    code = (
        "import sys; from halfcost.cli import build_parser; build_parser(); "
        "heavy = [m for m in ('sklearn', 'lightgbm', 'evidently', 'great_expectations', "
        "'dvc', 'streamlit', 'sqlalchemy', 'pandas', 'optuna') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "usage: halfcost" in capsys.readouterr().out


def test_parser_builds():
    assert build_parser().prog == "halfcost"


def test_the_cli_imports_only_public_names() -> None:
    """The CLI is thin: it parses, calls the packages' public API, prints (STYLE.md)."""
    import re
    from pathlib import Path

    import halfcost.cli

    private = re.compile(r"from halfcost\.(automl|drift|governance|app)\._\w+ import")
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(Path(halfcost.cli.__file__).parent.glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if private.search(line)
    ]
    assert not found, "the CLI imports private modules:\n" + "\n".join(found)
