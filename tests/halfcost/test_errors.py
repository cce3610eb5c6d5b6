"""The library names parameters, the CLI names flags: one message, two renderings."""

from __future__ import annotations

import pytest

from halfcost.errors import BadInputError, HalfcostError, flag_for


def test_message_names_the_parameter_in_the_library() -> None:
    error = BadInputError("no trial finished; give a larger {param}.", param="budget_s")
    assert str(error) == "no trial finished; give a larger budget_s."
    assert error.render(flag_for("budget_s")) == "no trial finished; give a larger --budget-s."
    assert error.param == "budget_s"


def test_message_without_parameter_is_unchanged() -> None:
    error = BadInputError("no such file x.csv; give an existing table.")
    assert str(error) == error.render("--ignored") == "no such file x.csv; give an existing table."


@pytest.mark.parametrize(
    ("param", "flag"), [("budget_s", "--budget-s"), ("min_score", "--min-score"), ("out", "--out")]
)
def test_flag_for(param: str, flag: str) -> None:
    assert flag_for(param) == flag


def test_cli_prints_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    from halfcost.cli import main

    class Failing(HalfcostError):
        exit_code = 2

    def run(_args: object) -> int:
        raise Failing("give a larger {param}.", param="budget_s")

    import halfcost.cli as cli

    parser = cli.build_parser()
    original = cli.build_parser
    parser.set_defaults(_run=run, command="x")
    cli.build_parser = lambda: parser
    try:
        assert main([]) == 2
    finally:
        cli.build_parser = original
    assert capsys.readouterr().err.strip() == "halfcost x: error: give a larger --budget-s."
