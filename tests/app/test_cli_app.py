"""`halfcost app` refuses a registry it cannot read before starting any server."""

from __future__ import annotations

import time

DEAD_URL = "postgresql+psycopg://nobody@127.0.0.1:1/x"


def test_dead_database_url_is_one_line_exit_2(cli):
    started = time.monotonic()
    proc = cli(["app", "--db", DEAD_URL, "--port", "1"], timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("halfcost app: error: ")
    assert "nobody@127.0.0.1:1/x" in lines[0] and "start" in lines[0]  # problem and fix
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert time.monotonic() - started < 60  # it never started a server


def test_missing_sqlite_registry_is_one_line_exit_2(cli, tmp_path):
    proc = cli(["app", "--db", f"sqlite:///{tmp_path / 'none.db'}"], timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "halfcost registry init" in proc.stderr or "halfcost demo" in proc.stderr
    assert not (tmp_path / "none.db").exists()


def test_bad_port_and_missing_secrets_file(cli, tmp_path):
    proc = cli(["app", "--port", "70000"])
    assert proc.returncode == 2 and "--port" in proc.stderr
    proc = cli(["app", "--secrets", str(tmp_path / "absent.toml")])
    assert proc.returncode == 2 and "--secrets" in proc.stderr


def test_command_line_serves_the_installed_app(tmp_path):
    from halfcost.cli.app import app_script, streamlit_command

    script = app_script()
    assert script.is_file() and (script.parent / "pages" / "overview.py").is_file()
    argv = streamlit_command(script, db_url="sqlite:///r.db", port=8600, host="127.0.0.1")
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
    assert argv[argv.index("--browser.gatherUsageStats") + 1] == "false"
    assert argv[argv.index("--server.headless") + 1] == "true"
    assert argv[-3:] == ["--", "--db", "sqlite:///r.db"]


def test_a_password_never_reaches_the_server_argv():
    from halfcost.cli.app import app_script, streamlit_command

    argv = streamlit_command(app_script(), db_url=None, port=8600, host="127.0.0.1")
    assert "--db" not in argv and "--" not in argv
