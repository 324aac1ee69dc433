"""Fixtures several test files share; tests/conftest.py imports them, so every test file sees
them by name. A file that defines a fixture of the same name keeps its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from skillcred.issuer import Issuer, init_issuer

ROC_NAME = "ROC Techniek"
ROC_URL = "https://roc-techniek.example"


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Issuer]:
    """A did:key training institute, ROC Techniek, for credentials made in-process (fast); one
    per test module, as creating its key and registry is the slow part."""
    folder = tmp_path_factory.mktemp("issuer") / "roc"
    init_issuer(folder, name=ROC_NAME, url=ROC_URL)
    iss = Issuer.open(folder)
    yield iss
    iss.close()


__all__ = ["ROC_NAME", "ROC_URL", "issuer"]
