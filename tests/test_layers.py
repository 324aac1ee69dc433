"""The layers of the source tree, read from the code with ``ast`` (issue #14 items 4 and 6):

- the command line is thin: no ``_cli/*_cmd.py`` module imports another one (what they share
  lives in ``_cli/_common.py`` and ``_cli/_options.py``);
- library messages do not name command-line flags: outside ``_cli/`` no ``raise`` carries a
  ``--flag`` in a string literal (the exception names the parameter in ``field`` and the CLI
  words it as its option, see ``_cli/_common.py`` ``OPTION_WORDING``);
- nor do verification reports: outside ``_cli/`` no string that becomes a check's reason (an
  argument of a check constructor, a status check's returned reason, a local it is built from)
  carries a ``--flag`` (the check names the parameter in ``Check.hint`` and the CLI's verifiers
  word it, see ``_cli/_common.py`` ``CHECK_WORDING``);
- there is no import cycle among the modules under ``src/skillcred``, counting imports inside
  functions (a call-time cycle is still a cycle of the design) but not ``if TYPE_CHECKING:`` ones.

Each scanner is tried on small sources first, so a scanner that finds nothing cannot pass for a
clean tree. Known debt is frozen below with its reason; an entry that is no longer true fails,
so the lists can only shrink.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from skillcred._cli._common import CHECK_WORDING, OPTION_WORDING, cli_message, option_words
from skillcred.errors import InvalidArgument, Oid4vciError, WalletError

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "skillcred"

# (module, the flag): raises outside _cli that may name a flag, each with its reason.
ALLOWED_FLAG_RAISES: dict[tuple[str, str], str] = {
    # tells the user of `skillcred serve --verifier` how the process must be started
    ("skillcred.oid4vp._http", "--verifier"): "names how to start the verifier process itself",
    # the pool page's uvicorn factory, started without its configuration: how to start it
    ("skillcred.service.pool_web", "--pool"): "names how to start the pool page's process itself",
}

# frozensets of modules that import each other today (known debt, with the reason)
KNOWN_CYCLES: dict[frozenset[str], str] = {}

FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


# -- the scanners ----------------------------------------------------------------------------

def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes under ``if TYPE_CHECKING:`` (imports for annotations only)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else ""
            if name == "TYPE_CHECKING":
                out.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return out


def imported_modules(source: str, module_name: str, known: set[str], *, is_package: bool = False) -> set[str]:
    """The skillcred modules (of ``known``) that ``source`` imports anywhere: at the top, in a
    function, as ``from pkg import module``; a name imported from a module counts as that module."""
    tree = ast.parse(source)
    skip = _type_checking_nodes(tree)
    package = module_name if is_package else module_name.rpartition(".")[0]

    def owner(dotted: str) -> str | None:
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    found: set[str | None] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(owner(a.name) for a in node.names if a.name.split(".")[0] == "skillcred")
        elif isinstance(node, ast.ImportFrom):
            origin = node.module or ""
            if node.level:
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                origin = f"{base}.{origin}" if origin else base
            if origin.split(".")[0] != "skillcred":
                continue
            for alias in node.names:
                full = f"{origin}.{alias.name}"
                found.add(full if full in known else owner(origin))
    # a module's own parent packages run first anyway: not an edge of the design
    return {m for m in found if m and m != module_name and not module_name.startswith(m + ".")}


def import_graph() -> dict[str, set[str]]:
    known = set(MODULES)
    return {name: imported_modules(path.read_text(encoding="utf-8"), name, known,
                                   is_package=path.name == "__init__.py")
            for name, path in MODULES.items()}


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[frozenset[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(frozenset(component))
    return out


def flags_in_raises(source: str) -> set[str]:
    """The ``--flags`` in string literals (f-strings included) inside ``raise`` statements."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Raise) and node.exc is not None:
            for sub in ast.walk(node.exc):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                    found.update(FLAG.findall(sub.value))
    return found


#: the calls that make a verification check: ``run.add(id, step, status, REASON, code)``,
#: ``Check(id, step, status, REASON, ...)``; the reason and its pieces are what is scanned
CHECK_CONSTRUCTORS = frozenset({"add", "Check", "ProofCheck", "_Fail"})


def _reason_returns(tree: ast.AST) -> list[ast.AST]:
    """``return (status, REASON, code)`` tuples: how the status checks hand a reason back."""
    out: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and len(node.value.elts) == 3:
            first = node.value.elts[0]
            if isinstance(first, ast.Constant) and first.value in ("passed", "failed", "not_applicable",
                                                                    "indeterminate"):
                out.append(node.value.elts[1])
    return out


def flags_in_check_reasons(source: str) -> set[str]:
    """The ``--flags`` in string literals (f-strings included) that become a check's reason:
    the arguments of a check constructor (``run.add``, ``Check``, ``ProofCheck``, ``_Fail``) and
    the reason of a ``(status, reason, code)`` tuple returned by a status check."""
    tree = ast.parse(source)
    found: set[str] = set()
    roots: list[ast.AST] = _reason_returns(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in CHECK_CONSTRUCTORS:
                roots.extend(node.args)
                roots.extend(k.value for k in node.keywords)
    # a piece of the reason kept in a local first (``carried = "..."`` then ``f"...{carried}"``)
    assigned: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
    seen: set[int] = set()
    while roots:
        root = roots.pop()
        if id(root) in seen:
            continue
        seen.add(id(root))
        for sub in ast.walk(root):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                found.update(FLAG.findall(sub.value))
            elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
                roots.extend(assigned.get(sub.id, ()))
    return found


def command_imports(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    commands = {m for m in graph if m.startswith("skillcred._cli.") and m.endswith("_cmd")}
    return {(m, d) for m in commands for d in graph[m] if d in commands}


# -- the scanners find each form ---------------------------------------------------------------

KNOWN = {"skillcred", "skillcred.a", "skillcred.b", "skillcred.pkg", "skillcred.pkg.c"}


@pytest.mark.parametrize(("source", "expected"), [
    ("from skillcred.b import f\n", {"skillcred.b"}),
    ("import skillcred.b\n", {"skillcred.b"}),
    ("def f() -> None:\n    from skillcred.b import g\n", {"skillcred.b"}),
    ("class K:\n    def m(self) -> None:\n        import skillcred.pkg.c as c\n", {"skillcred.pkg.c"}),
    ("from skillcred.pkg import c\n", {"skillcred.pkg.c"}),
    ("from skillcred.pkg.c import X\n", {"skillcred.pkg.c"}),
    ("from .b import f\n", {"skillcred.b"}),
    ("from . import b\n", {"skillcred.b"}),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from skillcred.b import B\n", set()),
    ("import typing\nif typing.TYPE_CHECKING:\n    from skillcred.b import B\n", set()),
    ("from skillcred import __version__\nimport os\n", set()),
    ("from skillcred.a import f\n", set()),  # itself
])
def test_the_import_scan_finds_each_form(source: str, expected: set[str]) -> None:
    assert imported_modules(source, "skillcred.a", KNOWN) == expected


def test_the_cycle_finder_finds_direct_long_and_no_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"a"}}) == [frozenset({"a", "b"})]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset({"a", "b", "c"})]
    assert cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []
    found = cycles({"a": {"b"}, "b": {"a"}, "x": {"y"}, "y": {"z"}, "z": {"x"}})
    assert sorted(sorted(c) for c in found) == [["a", "b"], ["x", "y", "z"]]


@pytest.mark.parametrize(("source", "expected"), [
    ('raise InvalidArgument("--name must not be empty")\n', {"--name"}),
    ('raise InvalidArgument(f"--may-attest {raw!r}: bad")\n', {"--may-attest"}),
    ('raise X("a " "(use --force-foreign to keep it)", path=p)\n', {"--force-foreign"}),
    ('def f():\n    raise WalletError(f"{a}: pass --replace") from None\n', {"--replace"}),
    ('raise InvalidArgument("name must not be empty", field="name")\n', set()),
    ('raise InvalidArgument("a range 1--2 or -x")\n', set()),
    ('flags = ["--headless"]\nraise PdfRenderError("no Chromium")\n', set()),
    ('"""see ``verify --proof-only``"""\n', set()),
])
def test_the_flag_scan_finds_flags_in_raises_only(source: str, expected: set[str]) -> None:
    assert flags_in_raises(source) == expected


@pytest.mark.parametrize(("source", "expected"), [
    ('run.add("presentation.challenge", 4, "indeterminate", "no challenge (pass --challenge)", "x")\n',
     {"--challenge"}),
    ('run.add(f"{p}.status", 9, "failed", f"list {u} (give it with --status-list)", code)\n', {"--status-list"}),
    ('c = Check(cid, 1, "failed", "too many " "(--max-credentials)")\n', {"--max-credentials"}),
    ('raise _Fail("proof_x", reason="see --did-document")\n', {"--did-document"}),
    ('def f():\n    return "indeterminate", f"{u} is older (--status-not-before)", "status_list_too_old"\n',
     {"--status-not-before"}),
    ('def f():\n    return ("indeterminate", "x " f"{u} (pass --own-status-lists-only)", "c")\n',
     {"--own-status-lists-only"}),
    ('carried = " (--own-status-lists-only)" if c else ""\nrun.add("s", 9, "failed", f"no list{carried}", "x")\n',
     {"--own-status-lists-only"}),
    ('run.add("presentation.challenge", 4, "indeterminate", "no challenge (pass challenge=...)", "x")\n', set()),
    ('def f():\n    return "a", "b (--flag)", "c"\n', set()),  # not a check's status: not a reason
    ('log.info("run with --verbose")\nitems.append("--x")\n', set()),
])
def test_the_reason_scan_finds_flags_in_check_reasons_only(source: str, expected: set[str]) -> None:
    assert flags_in_check_reasons(source) == expected


# -- the tree ------------------------------------------------------------------------------------

def test_no_command_module_imports_another() -> None:
    found = command_imports(import_graph())
    assert not found, f"command modules import each other (move the shared piece to _cli/_options.py): {found}"


def test_the_command_scan_would_see_one_command_importing_another() -> None:
    graph = import_graph()
    graph["skillcred._cli.match_cmd"] = graph["skillcred._cli.match_cmd"] | {"skillcred._cli.verify_cmd"}
    assert command_imports(graph) == {("skillcred._cli.match_cmd", "skillcred._cli.verify_cmd")}


def test_library_raises_name_no_command_line_flag() -> None:
    found = {(name, flag) for name, path in MODULES.items() if not name.startswith("skillcred._cli")
             for flag in flags_in_raises(path.read_text(encoding="utf-8"))}
    new = found - set(ALLOWED_FLAG_RAISES)
    assert not new, f"library messages naming CLI flags (name the parameter, set field=, and word it in " \
                    f"_cli/_common.py OPTION_WORDING): {sorted(new)}"
    gone = set(ALLOWED_FLAG_RAISES) - found
    assert not gone, f"remove these from ALLOWED_FLAG_RAISES, they are fixed: {sorted(gone)}"


def test_library_check_reasons_name_no_command_line_flag() -> None:
    # a report's advice names the library parameter (Check.hint); the CLI words it as its option
    found = {(name, flag) for name, path in MODULES.items() if not name.startswith("skillcred._cli")
             for flag in flags_in_check_reasons(path.read_text(encoding="utf-8"))}
    assert not found, f"check reasons naming CLI flags (name the parameter, map its code to Check.hint and " \
                      f"word it in _cli/_common.py CHECK_WORDING): {sorted(found)}"


def test_every_check_wording_turns_a_library_phrase_into_an_option() -> None:
    from skillcred.verify.verifier import _HINTS, _QUOTED_HINTS

    quoted = {("", hint) for _phrase, hint in _QUOTED_HINTS}
    for (code, hint), pairs in CHECK_WORDING.items():
        assert _HINTS.get(code) == hint or (code, hint) in quoted, f"{code}: the verifier gives no hint {hint!r}"
        assert pairs, (code, hint)
        for library, option in pairs:
            assert not FLAG.search(library), f"{code}/{hint}: the library phrase names a flag: {library!r}"
            assert FLAG.search(option), f"{code}/{hint}: the CLI phrase names no option: {option!r}"
    assert set(_HINTS.items()) | quoted == set(CHECK_WORDING), "a hint without CLI wording (or one too many)"


def test_no_import_cycle_among_the_modules() -> None:
    found = set(cycles(import_graph()))
    new = found - set(KNOWN_CYCLES)
    assert not new, f"modules that import each other (directly or at call time): {sorted(map(sorted, new))}"
    gone = set(KNOWN_CYCLES) - found
    assert not gone, f"remove these from KNOWN_CYCLES, they are fixed: {sorted(map(sorted, gone))}"


# -- the CLI words a library message as it did -----------------------------------------------------

@pytest.mark.parametrize(("exc", "shown"), [
    (InvalidArgument("name must not be empty: every credential names the institute", field="name"),
     "--name must not be empty: every credential names the institute"),
    (InvalidArgument("may_attest 'Diplom' is not an Open Badges achievement type", field="may_attest"),
     "--may-attest 'Diplom' is not an Open Badges achievement type"),
    (InvalidArgument("x is already trusted; this would replace the entry: pass replace=True to do so",
                     field="replace"),
     "x is already trusted; this would replace the entry: pass --replace (replace=True) to do so"),
    (WalletError("credential is about a, not this wallet's holder b (use force_foreign=True to keep it anyway)",
                 path="c.json", field="force_foreign"),
     "c.json: credential is about a, not this wallet's holder b (use --force-foreign to keep it anyway)"),
    (Oid4vciError("invalid_request", "this offer needs the code sent separately (tx_code)", field="tx_code"),
     "invalid_request: this offer needs the code sent separately (--tx-code)"),
])
def test_the_cli_shows_the_option_of_the_field(exc: Exception, shown: str) -> None:
    assert isinstance(exc, InvalidArgument | WalletError | Oid4vciError)
    assert cli_message(exc) == shown


def test_the_wording_needs_the_code_and_field_not_just_the_words() -> None:
    text = "name must not be empty"
    assert option_words(text, "invalid_argument", "name") == "--name must not be empty"
    assert option_words(text, "invalid_argument", None) == text  # no field: shown as it is
    assert option_words(text, "wallet_error", "name") == text  # another error's field
    assert cli_message(InvalidArgument("name 'x' is taken", field="name")) == "name 'x' is taken"


def test_every_wording_entry_turns_a_library_phrase_into_an_option() -> None:
    for (code, field), pairs in OPTION_WORDING.items():
        assert pairs, (code, field)
        for library, option in pairs:
            assert not FLAG.search(library), f"{code}/{field}: the library phrase names a flag: {library!r}"
            assert FLAG.search(option), f"{code}/{field}: the CLI phrase names no option: {option!r}"
