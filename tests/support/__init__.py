"""Helpers the test files share: running the CLI (:mod:`support.cli`) and the set-ups several
files repeat (:mod:`support.builders`). The older ``*_support.py`` modules beside the tests stay
where they are (other lanes import them); new shared code goes here."""
