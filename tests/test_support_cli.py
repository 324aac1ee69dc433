"""The in-process CLI runner (tests/support/cli.py) answers as the real console script does.

Most CLI tests trust :func:`support.cli.run_cli` to stand in for a child process; here the same
commands run both ways and must give the same exit code, stdout and stderr byte for byte, and
the runner must leave this process as it found it (environment, working directory, warnings
filters).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from support.cli import clean_env, run_cli, run_cli_subprocess


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runner-keys")
    env = clean_env(SKILLCRED_PASSPHRASE="")
    shut, opened = root / "shut.pem", root / "open.pem"
    for path in (shut, opened):
        assert run_cli_subprocess("keys", "generate", "--type", "ed25519", "-o", path, env=env).returncode == 0
    opened.chmod(0o644)
    return {"shut": shut, "open": opened, "root": root}


def both(*args: str | Path, stdin: bytes | None = None, cwd: Path | None = None,
         env: dict[str, str] | None = None) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    env = env if env is not None else clean_env()
    here = run_cli(*args, env=env, stdin=stdin, cwd=cwd)
    child = run_cli_subprocess(*args, env=env, stdin=stdin, cwd=cwd)
    return (here.returncode, here.stdout, here.stderr), (child.returncode, child.stdout, child.stderr)


@pytest.mark.parametrize("args", [
    ["--version"],
    ["--help"],
    ["keys", "--help"],
    ["issue", "--help"],
    ["no-such-command"],                     # click's usage error: 2 and its three lines
    ["keys", "generate", "--type", "rsa"],   # a bad choice
    ["verify"],                              # a missing argument
    ["verify", "/nonexistent/credential.json"],
    ["status", "publish", "--help"],
])
def test_same_answer_in_process_and_as_a_child(args: list[str]) -> None:
    here, child = both(*args)
    assert here == child
    assert "Traceback" not in here[2]


def test_same_warning_lines_for_an_open_key(keys: dict[str, Path]) -> None:
    here, child = both("keys", "show", "--key", keys["open"])
    assert here == child
    assert here[0] == 0 and "skillcred: warning: " in here[2] and "0644" in here[2]
    here, child = both("sign", "-", "--key", keys["open"], stdin=b"{}")
    assert here == child and here[0] == 2 and "chmod 600" in here[2]


@pytest.mark.parametrize("stdin", [b"", b"{ not json", b"[1, 2]", b"\xff\xfe\x00", b" " * (20 * 1024 * 1024)])
def test_same_answer_for_bad_stdin(keys: dict[str, Path], stdin: bytes) -> None:
    here, child = both("sign", "-", "--key", keys["shut"], stdin=stdin)
    assert here == child
    assert here[0] == 2 and here[2].startswith("skillcred: error: ") and len(here[2].splitlines()) == 1


def test_env_and_cwd_apply_to_the_command_and_are_put_back(tmp_path: Path) -> None:
    before_env, before_cwd = dict(os.environ), os.getcwd()
    quiet = run_cli("keys", "generate", "--type", "ed25519", "-o", "a.pem", cwd=tmp_path,
                    env=clean_env(SKILLCRED_PASSPHRASE="s3cret-phrase"))
    assert quiet.returncode == 0 and quiet.stderr == ""  # the passphrase came from env: no warning
    assert (tmp_path / "a.pem").is_file() and b"ENCRYPTED" in (tmp_path / "a.pem").read_bytes()
    loud = run_cli("keys", "generate", "--type", "ed25519", "-o", "b.pem", cwd=tmp_path, env=clean_env())
    assert loud.returncode == 0 and "no passphrase given" in loud.stderr
    assert dict(os.environ) == before_env and os.getcwd() == before_cwd


def test_the_runner_leaves_the_warnings_filters_as_they_were(keys: dict[str, Path]) -> None:
    before = list(warnings.filters)
    run_cli("keys", "show", "--key", keys["open"], env=clean_env(PYTHONWARNINGS="error"))
    run_cli("--version", env=clean_env(PYTHONWARNINGS="ignore"))
    assert warnings.filters == before


def test_help_width_follows_columns_as_in_a_child() -> None:
    for columns in ("60", "200", "not-a-number"):
        here, child = both("issue", "--help", env=clean_env(COLUMNS=columns))
        assert here == child
