"""The written public surface: docs/stability.md lists the promised import paths and the names
each exports, and every public module's ``__all__`` must say exactly that -- so a name cannot be
promised by accident (a helper slipped into ``__all__``) nor dropped silently (a documented name
gone from the code), and a new public module cannot appear without a line in the docs.

It also keeps the layers honest: outside ``_internal``/``_cli`` no module imports an underscored
name from another skillcred module. The imports that do so today are frozen below as known debt
(issue #14 item 4 removes them); a new one fails, and so does an entry that is no longer true,
so the list can only shrink.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "skillcred"
DOCS = ROOT / "docs" / "stability.md"

# (importing module, module imported from, name): private names imported across modules today.
# Known debt, not a licence: remove an entry when its import goes; never add one without a reason.
KNOWN_PRIVATE_IMPORTS: frozenset[tuple[str, str, str]] = frozenset()


def _is_private(name: str) -> bool:
    """``_name`` is private; ``__dunder__`` (``__version__``) is not."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _public_modules() -> list[str]:
    """Every module under src/skillcred/ whose dotted path has no underscored part."""
    names = [_module_name(p) for p in SRC.rglob("*.py")]
    return sorted(n for n in names if not any(_is_private(part) for part in n.split(".")))


def parse_stability(text: str) -> dict[str, list[str]]:
    """The ``### `module` `` sections of docs/stability.md and the names on each one's
    ``Exports:`` paragraph (which may wrap over several lines, ending at a blank line)."""
    documented: dict[str, list[str]] = {}
    current: str | None = None
    exports: list[str] | None = None
    for line in text.splitlines():
        heading = re.fullmatch(r"### `(skillcred(?:\.\w+)*)`", line.strip())
        if heading:
            current = heading.group(1)
            assert current not in documented, f"{current} is documented twice"
            exports = None
            continue
        if line.startswith("#"):
            current = None
            exports = None
            continue
        if current is not None and line.startswith("Exports:"):
            exports = documented.setdefault(current, [])
        if exports is not None:
            if not line.strip():
                exports = None
                current = None
                continue
            exports.extend(re.findall(r"`(\w+)`", line))
    return documented


DOCUMENTED = parse_stability(DOCS.read_text(encoding="utf-8"))
PUBLIC = _public_modules()


def test_the_parser_reads_wrapped_exports_and_stops_at_the_next_section() -> None:
    text = (
        "## The promised modules\n\n### `skillcred.a`\n\nWhat it is, with `code` in prose.\n\n"
        "Exports: `One`, `two`,\n`THREE`\n\n### `skillcred.b`\n\nExports: `__version__`\n\n"
        "## Later\n\nExports: `not_a_module_name`\n"
    )
    assert parse_stability(text) == {"skillcred.a": ["One", "two", "THREE"],
                                     "skillcred.b": ["__version__"]}


def test_the_docs_list_every_public_module_and_no_other() -> None:
    assert len(PUBLIC) >= 20  # the walk really found the package
    assert sorted(DOCUMENTED) == PUBLIC


@pytest.mark.parametrize("module_name", PUBLIC)
def test_all_is_exactly_what_the_docs_promise(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list), f"{module_name} has no __all__ list"
    assert len(exported) == len(set(exported)), f"{module_name}.__all__ lists a name twice"
    documented = DOCUMENTED.get(module_name, [])
    assert len(documented) == len(set(documented)), f"docs list a {module_name} name twice"
    assert set(exported) == set(documented), (
        f"{module_name}: only in __all__: {sorted(set(exported) - set(documented))}; "
        f"only in docs/stability.md: {sorted(set(documented) - set(exported))}")


@pytest.mark.parametrize("module_name", PUBLIC)
def test_every_exported_name_exists_and_is_not_private(module_name: str) -> None:
    module = importlib.import_module(module_name)
    for name in module.__all__:
        assert not _is_private(name), f"{module_name}.__all__ names private {name}"
        assert hasattr(module, name), f"{module_name}.__all__ names missing {name}"
        obj = getattr(module, name)
        # an exported alias of a private function or class is still a private symbol
        own_name = getattr(obj, "__name__", None) if callable(obj) else None
        assert own_name is None or not _is_private(own_name), (
            f"{module_name}.{name} is the private {own_name}")
        origin = getattr(obj, "__module__", None) if callable(obj) else None
        assert origin is None or not origin.startswith("skillcred._cli"), (
            f"{module_name}.{name} comes from the command line's private code")


def _is_module(dotted: str) -> bool:
    """Whether ``skillcred.a.b`` names a module or package of the source tree (not a class)."""
    path = SRC.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def private_imports(source: str, module_name: str) -> set[tuple[str, str, str]]:
    """``(module, imported from, name)`` for each underscored name this source takes from another
    skillcred module: ``from skillcred.x import _y`` (aliased or relative too) and
    ``x._y`` on a skillcred module bound by ``import skillcred.x as x`` / ``from skillcred import x``.
    """
    found: set[tuple[str, str, str]] = set()
    package = module_name.rsplit(".", 1)[0]
    aliases: dict[str, str] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            origin = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                origin = ".".join([*base, origin] if origin else base)
            if origin != "skillcred" and not origin.startswith("skillcred."):
                continue
            for alias in node.names:
                if _is_private(alias.name):
                    found.add((module_name, origin, alias.name))
                elif _is_module(f"{origin}.{alias.name}"):
                    aliases[alias.asname or alias.name] = f"{origin}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("skillcred.") and alias.asname:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and _is_private(node.attr)):
            found.add((module_name, aliases[node.value.id], node.attr))
    return found


@pytest.mark.parametrize(("source", "expected"), [
    ("from skillcred.jose import _b64u\n", {("skillcred.m", "skillcred.jose", "_b64u")}),
    ("from skillcred.jose import (\n    KEEP,\n    _b64u as b64u,\n)\n",
     {("skillcred.m", "skillcred.jose", "_b64u")}),
    ("from .jose import _b64u\n", {("skillcred.m", "skillcred.jose", "_b64u")}),
    ("from . import _secret\n", {("skillcred.m", "skillcred", "_secret")}),
    ("import skillcred.jose as j\nj._b64u(b'')\n", {("skillcred.m", "skillcred.jose", "_b64u")}),
    ("from skillcred import jose\njose._sign_jws()\n",
     {("skillcred.m", "skillcred.jose", "_sign_jws")}),
    ("def f() -> None:\n    from skillcred.proofs import _hidden\n",
     {("skillcred.m", "skillcred.proofs", "_hidden")}),
    ("from skillcred import __version__\nfrom skillcred.jose import verify_jwt\n", set()),
    ("from skillcred._internal import jcs\nfrom skillcred._internal.jcs import canonicalize\n",
     set()),
    ("from os import _exit\nimport os\nos._exit(0)\n", set()),
    ("class A:\n    def f(self) -> None:\n        self._x = 1\n", set()),
])
def test_the_private_import_scan_finds_each_form(
        source: str, expected: set[tuple[str, str, str]]) -> None:
    assert private_imports(source, "skillcred.m") == expected


def _library_private_imports() -> set[tuple[str, str, str]]:
    found: set[tuple[str, str, str]] = set()
    for path in sorted(SRC.rglob("*.py")):
        name = _module_name(path)
        if name.split(".")[1:2] in (["_internal"], ["_cli"]):
            continue
        found |= private_imports(path.read_text(encoding="utf-8"), name)
    return found


def test_no_new_private_name_is_imported_across_modules() -> None:
    new = _library_private_imports() - KNOWN_PRIVATE_IMPORTS
    assert not new, f"private names imported from another module (make them public or move " \
                    f"them to _internal): {sorted(new)}"


def test_the_known_debt_list_holds_only_imports_that_still_exist() -> None:
    gone = KNOWN_PRIVATE_IMPORTS - _library_private_imports()
    assert not gone, f"remove these from KNOWN_PRIVATE_IMPORTS, they are fixed: {sorted(gone)}"
