"""One way to run the ``skillcred`` command line from a test: :func:`run_cli` in-process through
click's :class:`~click.testing.CliRunner`, :func:`run_cli_subprocess` as a real process.

Both return a :class:`CliResult` with the attribute names of :class:`subprocess.CompletedProcess`
(``returncode``, ``stdout``, ``stderr``), so a test reads the same whichever ran it.

In-process is the default because starting an interpreter and importing the library costs about a
second per command, and most CLI cases only check exit codes, output lines and files written. To
keep it faithful to a real run, :func:`run_cli` recreates what a fresh process would have:

- ``env`` *replaces* ``os.environ`` for the call (as ``subprocess.run(env=...)`` does; ``None``
  inherits, as there) and the old one comes back afterwards; ``cwd`` is changed and restored;
- stdin is the bytes given (or empty, like ``stdin=DEVNULL``), never a terminal; stdout and
  stderr are separate, not terminals, no colour;
- the warnings filters are Python's defaults plus ``PYTHONWARNINGS`` from ``env`` (not pytest's
  ``error``), each call starts with no "already warned" memory, and a warning that is not turned
  into a ``skillcred: warning:`` line is printed on stderr in Python's format, as it would be;
- the help text is as wide as a pipe gets (80 columns, or ``COLUMNS`` from ``env``);
- module state read from the environment at import (``SKILLCRED_JSONLD_FAST``) is set from
  ``env`` for the call and put back;
- an exception that escapes the command (only with ``SKILLCRED_DEBUG``) prints a traceback and
  exits 1, Ctrl-C exits 130 with ``skillcred: interrupted``, as ``skillcred._cli.main`` does.

What stays a real process (:func:`run_cli_subprocess`, or the file's own ``subprocess`` calls), and why:

- tests/test_cold_start.py: counts the modules a fresh interpreter imports for each command;
  test_cli_esco.py's "verify does not import ESCO" and test_user_side.py's two ``python -c``
  checks likewise need an interpreter that has imported nothing yet;
- tests/test_batch_journal.py: kills the process mid-batch (SIGKILL) and reads the journal;
- tests/test_cli_wallet.py: SIGKILL at each step of ``wallet add``, two ``wallet add`` at once;
- tests/test_cli_issue.py: ``issuer list | head`` (exit 141 needs a real broken pipe) and two
  batches at once against one registry (the lock is between processes);
- tests/test_hostile_input.py: its hang guard stops a child that a hostile input sent into a
  loop, failing that one test; a command running in this process cannot be stopped;
- tests/test_security_files.py: the one case run inside ``unshare -m`` (a private mount);
- tests/test_user_side2.py: the README/docs ``sh`` blocks run as a shell runs them, ``serve``,
  shell completion, bare ``skillcred``;
- tests/test_examples_esco.py: runs the examples' shell script with the venv on PATH;
- tests/test_wheel.py: the entry point of a wheel installed into a fresh venv;
- ``skillcred serve`` anywhere (service_support.py, test_service*.py, test_pool_web.py, even a
  ``serve`` that should refuse to start): a server process stopped by a signal, or by the hang
  guard if it starts serving after all;
- the interop files' node peers (test_*_interop.py, test_oid4vp_cross.py) and the served
  instances they talk to; the ``skillcred`` commands beside them run in-process (the files are
  ``loopback``-marked, so the guard of tests/conftest.py lets those commands reach 127.0.0.1).

In-process since the second round, with the servers they talk to still threads or processes:
oid4vp_support.run (test_oid4vp*.py, test_dcql.py, test_consol.py,
test_wallet_protocols_sdjwt_vc.py), test_cli_pool.py, test_pool_web.py's commands,
test_registry_protocol.py's ``--registry postgresql://`` cases (its PostgreSQL stays a process),
test_oid4vci_interop.py's and test_badge_interop.py's commands, and the probes and set-up
commands of test_user_side2.py's docs check that are not documented commands themselves.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import traceback
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner

#: the console script next to the interpreter running the tests (the venv's ``bin/skillcred``)
SKILLCRED = Path(sys.executable).with_name("skillcred")
_PIPE_COLUMNS = 80  # shutil.get_terminal_size's answer when stdout is not a terminal
_MAX_CONTENT_WIDTH = 100  # skillcred._cli.CONTEXT_SETTINGS
#: Python's own filters at start-up (3.11, not a debug build), before any -W / PYTHONWARNINGS
_DEFAULT_FILTERS: tuple[tuple[str, type[Warning], str], ...] = (
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, ""),
    ("ignore", PendingDeprecationWarning, ""),
    ("ignore", ImportWarning, ""),
    ("ignore", ResourceWarning, ""),
)


@dataclass
class CliResult:
    """What a finished command left: the fields of :class:`subprocess.CompletedProcess`."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    stdout_bytes: bytes = field(default=b"", repr=False)
    stderr_bytes: bytes = field(default=b"", repr=False)

    @property
    def output(self) -> str:
        """stdout then stderr (not interleaved as click's ``Result.output``): for messages and
        "appears somewhere" checks."""
        return self.stdout + self.stderr

    def check_returncode(self) -> None:
        if self.returncode:
            raise subprocess.CalledProcessError(self.returncode, self.args, self.stdout, self.stderr)


def _as_bytes(stdin: bytes | str | None) -> bytes:
    if stdin is None:
        return b""
    return stdin.encode("utf-8") if isinstance(stdin, str) else stdin


@contextlib.contextmanager
def _environment(env: Mapping[str, str] | None) -> Iterator[None]:
    saved = dict(os.environ)
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _working_directory(cwd: str | Path | None) -> Iterator[None]:
    saved = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """Python's default display (to the stderr of the moment: the runner's), which pytest's
    recording ``catch_warnings`` would otherwise swallow."""
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


@contextlib.contextmanager
def _fresh_warnings() -> Iterator[None]:
    """The filters a new interpreter starts with, plus ``PYTHONWARNINGS`` (already in os.environ)."""
    with warnings.catch_warnings():
        warnings.resetwarnings()
        for action, category, module in reversed(_DEFAULT_FILTERS):
            warnings.filterwarnings(action, category=category, module=module)  # type: ignore[arg-type]
        options = [o for o in os.environ.get("PYTHONWARNINGS", "").split(",") if o.strip()]
        warnings._processoptions(options)  # type: ignore[attr-defined]  # how -W / PYTHONWARNINGS are read
        warnings.onceregistry.clear()  # type: ignore[attr-defined]
        warnings.showwarning = _show_warning
        yield


@contextlib.contextmanager
def _import_time_state() -> Iterator[None]:
    """Module globals the library sets from the environment when it is imported."""
    from skillcred._internal import jsonld

    saved = jsonld._fast_enabled
    jsonld._fast_enabled = os.environ.get("SKILLCRED_JSONLD_FAST", "1").strip().lower() not in (
        "0", "false", "no", "off")
    try:
        yield
    finally:
        jsonld._fast_enabled = saved


def _help_width() -> int:
    """click's own formula (HelpFormatter) with the terminal size a pipe has."""
    try:
        columns = int(os.environ.get("COLUMNS", "")) or _PIPE_COLUMNS
    except ValueError:
        columns = _PIPE_COLUMNS
    return max(min(columns, _MAX_CONTENT_WIDTH) - 2, 50)


def run_cli(*args: str | Path, env: Mapping[str, str] | None = None, stdin: bytes | str | None = None,
            cwd: str | Path | None = None) -> CliResult:
    """Run ``skillcred ARGS`` in this process, as :func:`run_cli_subprocess` would run it."""
    from skillcred._cli import cli

    argv = [str(a) for a in args]
    runner = CliRunner()
    stdout: bytes
    stderr: bytes
    with _environment(env), _working_directory(cwd), _fresh_warnings(), _import_time_state():
        result = runner.invoke(cli, argv, input=_as_bytes(stdin), prog_name="skillcred",
                               terminal_width=_help_width(), catch_exceptions=True, color=False)
        stdout = result.stdout_bytes
        stderr = result.stderr_bytes or b""
        code = result.exit_code
        exc = result.exception
        if exc is not None and not isinstance(exc, SystemExit):
            if isinstance(exc, KeyboardInterrupt):
                stderr += b"skillcred: interrupted\n"
                code = 130
            else:  # what the interpreter prints for an uncaught exception, and its exit status
                assert result.exc_info is not None
                stderr += "".join(traceback.format_exception(*result.exc_info)).encode("utf-8")
                code = 1
    return CliResult(["skillcred", *argv], code, stdout.decode("utf-8", "replace"),
                     stderr.decode("utf-8", "replace"), stdout, stderr)


def run_cli_subprocess(*args: str | Path, env: Mapping[str, str] | None = None, stdin: bytes | str | None = None,
                       cwd: str | Path | None = None, timeout: float = 300) -> CliResult:
    """Run the installed ``skillcred`` entry point as a child process (see the module docstring
    for when a test needs that). ``timeout`` only stops a hung child; no test asserts on time."""
    argv = [str(a) for a in args]
    proc = subprocess.run([str(SKILLCRED), *argv], input=_as_bytes(stdin), capture_output=True,
                          env=None if env is None else dict(env), cwd=cwd, timeout=timeout, check=False)
    return CliResult(["skillcred", *argv], proc.returncode, proc.stdout.decode("utf-8", "replace"),
                     proc.stderr.decode("utf-8", "replace"), proc.stdout, proc.stderr)


def clean_env(base: Mapping[str, str] | None = None, *, drop: Sequence[str] = ("SKILLCRED_",),
              **extra: str) -> dict[str, str]:
    """``os.environ`` (or ``base``) without the variables starting with ``drop``, plus ``extra``:
    what a user's shell with no skillcred settings would pass."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if not k.startswith(tuple(drop))}
    env.update(extra)
    return env




def home_env(home: Path, **extra: str) -> dict[str, str]:
    """:func:`clean_env` without ``SKILLCRED_*`` and ``XDG_*``, with every per-user folder
    (trust list, status cache, wallet, ESCO store) under ``home``: nothing of the machine's
    own user is read or written."""
    folders = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache"),
               "XDG_DATA_HOME": str(home / ".local")}
    return clean_env(drop=("SKILLCRED_", "XDG_"), **(folders | extra))



def user_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A worker's or institute's shell: :func:`clean_env` with a new ``tmp_path/home`` as
    ``HOME`` and its ``data`` and ``config`` folders as the XDG ones (the wallet and the trust
    list land there), plus ``extra`` (a passphrase, a status cache)."""
    home = tmp_path / "home"
    home.mkdir()
    return clean_env(**({"HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
                         "XDG_CONFIG_HOME": str(home / "config")} | extra))


__all__ = ["SKILLCRED", "CliResult", "clean_env", "home_env", "run_cli", "run_cli_subprocess", "user_env"]
