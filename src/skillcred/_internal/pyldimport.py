"""Import pyld without the HTTP client stack it would load for a default it never uses here.

``pyld.jsonld`` builds its default document loader at import time, and building it imports
``requests`` (with urllib3, ssl, http.client, email, charset_normalizer: ~60 ms, the largest
single cost of a cold ``skillcred verify``); ``pyld/__init__`` also imports ``asyncio`` and
``pyld.jsonld`` imports ``lxml.html`` for loaders and HTML documents. skillcred never lets pyld
fetch anything: every call passes the offline loader (:mod:`skillcred.loader`).

So pyld is imported once here with ``requests``/``aiohttp`` hidden (pyld then falls back to its
dummy loader) and ``asyncio``/``lxml.html`` stood in for by :class:`_Deferred` proxies that
import the real module on first attribute use (pyld only uses them inside functions); pyld's
default loader is then replaced by one that builds pyld's own default (requests, else aiohttp,
else dummy) on first use. Any other code in the process that uses pyld's default loader or its
aiohttp/HTML support gets what it got before, only later. Every skillcred module imports pyld
through this module (``tests/test_cold_start.py`` checks what a cold command imports).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__all__ = ["ContextResolver", "jsonld"]

_HIDDEN = ("requests", "aiohttp")
# module -> the functions pyld takes from it with `from module import name` at import time
_DEFERRED: dict[str, tuple[str, ...]] = {"asyncio": (), "lxml.html": (), "urllib.request": ("url2pathname",)}


class _Deferred(types.ModuleType):
    """Stands in for module ``name`` while pyld imports; imports the real one when used."""

    def __init__(self, name: str, functions: tuple[str, ...]) -> None:
        super().__init__(name)
        for function in functions:
            setattr(self, function, self._forward(function))

    def _forward(self, function: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            return getattr(self._real(), function)(*args, **kwargs)

        return call

    def _real(self) -> types.ModuleType:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return importlib.import_module(self.__name__)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):  # the import system probes __path__ etc.: not a use
            raise AttributeError(attr)
        return getattr(self._real(), attr)


def _import_pyld() -> Any:
    if "pyld.jsonld" in sys.modules:
        return sys.modules["pyld.jsonld"]
    hidden = [name for name in _HIDDEN if name not in sys.modules]
    stand_ins = {name: _Deferred(name, functions) for name, functions in _DEFERRED.items()
                 if name not in sys.modules}
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # `import name` raises ImportError
    for name, stand_in in stand_ins.items():
        sys.modules[name] = stand_in
        parent, _, child = name.rpartition(".")
        if parent:  # `import lxml.html` binds the package and reads its attribute
            setattr(importlib.import_module(parent), child, stand_in)
    try:
        import pyld  # noqa: F401  (pyld/__init__ imports every document loader module)
        from pyld import jsonld as module
    finally:
        for name in hidden:
            if sys.modules.get(name, "") is None:
                del sys.modules[name]
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
    if hidden:
        module._default_document_loader = _deferred_default(module)
    return module


def _deferred_default(module: Any) -> Any:
    def load(url: str, options: Any = None) -> Any:
        try:
            loader = module.requests_document_loader()
        except ImportError:
            try:
                loader = module.aiohttp_document_loader()
            except (ImportError, SyntaxError):
                loader = module.dummy_document_loader()
        if module._default_document_loader is load:
            module._default_document_loader = loader
        return loader(url, options)

    return load


jsonld: Any = _import_pyld()
ContextResolver: Any = sys.modules["pyld.context_resolver"].ContextResolver
