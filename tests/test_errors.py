"""The exception tree: every public exception derives from SkillcredError, has a stable code,
and the code is documented in docs/errors.md (so the docs cannot drift from the code)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import skillcred
from skillcred.errors import SkillcredError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "errors.md"


def _all_exception_classes() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(skillcred.__path__, "skillcred."):
        if "._cli" in info.name or info.name.endswith(("service", "registry_pg")):
            continue
        mod = importlib.import_module(info.name)
        for name, obj in vars(mod).items():
            if (inspect.isclass(obj) and issubclass(obj, Exception) and not issubclass(obj, Warning)
                    and obj.__module__ == mod.__name__
                    and not name.startswith("_")):
                found[f"{mod.__name__}.{name}"] = obj
    return list(found.values())


CLASSES = _all_exception_classes()


def test_there_are_exception_classes() -> None:
    assert len(CLASSES) >= 15


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_public_exceptions_derive_from_the_root_and_have_a_code(cls: type[BaseException]) -> None:
    assert issubclass(cls, SkillcredError), f"{cls.__module__}.{cls.__name__} is outside the tree"
    code = cls.code  # type: ignore[attr-defined]
    assert isinstance(code, str) and code == code.lower() and " " not in code


def test_codes_are_unique_per_class() -> None:
    by_code: dict[str, list[str]] = {}
    for cls in CLASSES:
        by_code.setdefault(cls.code, []).append(cls.__name__)  # type: ignore[attr-defined]
    dupes = {k: v for k, v in by_code.items() if len(v) > 1}
    assert not dupes, dupes


def test_every_code_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [cls.code for cls in CLASSES if f"`{cls.code}`" not in text]  # type: ignore[attr-defined]
    assert not missing, f"undocumented error codes: {missing}"


def test_invalid_argument_is_still_a_value_error() -> None:
    from skillcred.errors import InvalidArgument, MalformedDocument

    assert issubclass(InvalidArgument, ValueError)
    assert issubclass(MalformedDocument, ValueError)


def test_message_names_the_file() -> None:
    from skillcred.errors import MalformedDocument

    assert str(MalformedDocument("not valid JSON", path="cv.json")) == "cv.json: not valid JSON"
