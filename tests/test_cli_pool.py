"""``skillcred pool`` as an operator runs it: stdin closed, a clean home folder (in-process
through :func:`support.cli.run_cli`, which gives each command what a fresh process would have).
The command-line forms outside checks rely on (issue 20) are used exactly."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pool_support import CATALOG, DOMAIN, FRAMEWORK, PROFILE, WHO, World, build_world
from skillcred._internal.fileio import dump_json
from support.cli import CliResult, home_env, run_cli


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("cli-pool-world"))


def run(world: World, *args: str | Path) -> CliResult:
    home = world.root / "home"
    home.mkdir(exist_ok=True)
    proc = run_cli(*args, env=home_env(home))
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    return proc


def status_args(lists: list[Path]) -> list[str]:
    return [x for p in lists for x in ("--status-list", str(p))]


def add(world: World, target: Path, who: str, *extra: str | Path) -> CliResult:
    return run(world, "pool", "add", "--pool", target, world.apps / f"{who}.json", "--trust", world.trust,
               "--challenge", world.challenge(who), "--domain", DOMAIN, *status_args(world.status), *extra)


def search(world: World, target: Path, *extra: str | Path) -> list[dict[str, Any]]:
    proc = run(world, "pool", "search", "--pool", target, "--profile", PROFILE, "--framework", FRAMEWORK,
               "--json", *extra)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert isinstance(rows, list)
    for r in rows:
        assert {"holder", "essential_coverage", "score", "met", "missing", "plan_hours"} <= set(r)
    return rows


@pytest.fixture(scope="module")
def full(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("cli-pool") / "pool.sqlite"
    for who in WHO:
        proc = add(world, target, who)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith(f"added {world.holders[who]}")
    return target


def test_pool_search_and_rank_agree(world: World, full: Path) -> None:
    rows = search(world, full, "--min-essential", "0", "--catalog", CATALOG)
    proc = run(world, "rank", world.apps, "--profile", PROFILE, "--framework", FRAMEWORK, "--trust", world.trust,
               "--domain", DOMAIN, "--catalog", CATALOG, *status_args(world.status), "--json")
    assert proc.returncode == 0, proc.stderr
    ranked = [r for r in json.loads(proc.stdout) if r["presentation_verified"]]
    assert [r["holder"] for r in rows] == [r["candidate"] for r in ranked]
    assert [r["essential_coverage"] for r in rows] == [r["essential_coverage"] for r in ranked]
    assert [r["score"] for r in rows] == [r["score"] for r in ranked]
    assert [r["plan_hours"] for r in rows] == [r["plan"]["total_hours"] for r in ranked]
    for r, k in zip(rows, ranked, strict=True):
        assert r["report"]["requirements"] == k["requirements"]  # the same explanation, claim for claim
        assert set(r["met"]) == {x["label"] for x in k["requirements"] if x["status"] == "met"}
    assert rows[0]["holder"] == world.holders["jan"] and rows[0]["plan_hours"] == 244


def test_add_jan_keeps_only_verified_credentials(world: World, full: Path) -> None:
    proc = run(world, "pool", "export", "--pool", full, world.holders["jan"])
    assert proc.returncode == 0, proc.stderr
    held = json.loads(proc.stdout)
    assert len(held["credentials"]) == 4  # the revoked and the untrusted one were not stored
    assert world.ids["revoked"] not in proc.stdout and world.ids["untrusted"] not in proc.stdout
    assert held["evidence_kept"] is False and "proofValue" not in proc.stdout


def test_add_reports_what_it_did_not_store_and_refuses_a_replay(world: World, tmp_path: Path) -> None:
    target = tmp_path / "p.sqlite"
    proc = add(world, target, "jan")
    assert proc.returncode == 0
    assert proc.stdout.count("not stored") == 2 and "revoked" in proc.stdout
    replay = run(world, "pool", "add", "--pool", target, world.apps / "fatima.json", "--trust", world.trust,
                 "--challenge", "the-pools-other-request", "--domain", DOMAIN, *status_args(world.status))
    assert replay.returncode == 1 and "NOT ADDED" in replay.stdout and "challenge" in replay.stdout
    bare = tmp_path / "bare.json"
    bare.write_bytes(dump_json(world.docs["kees"][0]))
    proc = run(world, "pool", "add", "--pool", target, bare, "--trust", world.trust, "--challenge", "x",
               "--domain", DOMAIN, *status_args(world.status))
    assert proc.returncode == 1 and "NOT ADDED" in proc.stdout
    stats = json.loads(run(world, "pool", "stats", "--pool", target, "--json").stdout)
    assert stats["candidates"] == 1


def test_add_without_challenge_warns(world: World, tmp_path: Path) -> None:
    proc = run(world, "pool", "add", "--pool", tmp_path / "p.sqlite", world.apps / "kees.json", "--trust",
               world.trust, *status_args(world.status))
    assert proc.returncode == 0, proc.stderr
    assert "warning: no --challenge: challenges are NOT checked" in proc.stderr


@pytest.mark.parametrize("bad", ["not json", "[1, 2]", '{"a": 1, "a": 2}'])
def test_unusable_input_adds_nothing(world: World, tmp_path: Path, bad: str) -> None:
    target = tmp_path / "p.sqlite"
    broken = tmp_path / "broken.json"
    broken.write_text(bad)
    proc = run(world, "pool", "add", "--pool", target, world.apps / "kees.json", broken, "--trust", world.trust,
               "--challenge", world.challenge("kees"), "--domain", DOMAIN, *status_args(world.status))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "broken.json" in proc.stderr
    assert not target.exists()  # nothing half-written: kees was not added either


def test_missing_pool_and_bad_options_are_one_line_errors(world: World, tmp_path: Path) -> None:
    proc = run(world, "pool", "search", "--profile", PROFILE)
    assert proc.returncode == 2 and "--pool" in proc.stderr and proc.stderr.count("\n") == 1
    proc = run(world, "pool", "search", "--pool", tmp_path / "none.sqlite", "--profile", PROFILE)
    assert proc.returncode == 2 and "no pool here" in proc.stderr and not (tmp_path / "none.sqlite").exists()
    proc = run(world, "pool", "stats", "--pool", "postgresql://nobody@127.0.0.1:1/x")
    assert proc.returncode == 2 and "cannot connect" in proc.stderr and proc.stderr.count("\n") == 1
    add(world, tmp_path / "p.sqlite", "kees")
    proc = run(world, "pool", "search", "--pool", tmp_path / "p.sqlite", "--profile", PROFILE,
               "--min-essential", "lots")
    assert proc.returncode == 2 and "--min-essential" in proc.stderr


def test_revoked_after_add_drops_out_after_refresh(world: World, tmp_path: Path) -> None:
    target = tmp_path / "p.sqlite"
    for who in ("fatima", "sem"):
        assert add(world, target, who).returncode == 0
    sem = world.holders["sem"]
    assert sem in [r["holder"] for r in search(world, target, "--min-essential", "2")]
    fresh = world.republish("revoke", "sem-cnc", "status-cli")
    assert sem in [r["holder"] for r in search(world, target, "--min-essential", "2")]  # until refreshed
    proc = run(world, "pool", "refresh", "--pool", target, "--trust", world.trust, *status_args(fresh))
    assert proc.returncode == 0, proc.stderr
    assert "1 changed" in proc.stdout and "revoked" in proc.stdout
    rows = search(world, target, "--min-essential", "2")
    assert sem not in [r["holder"] for r in rows] and world.holders["fatima"] in [r["holder"] for r in rows]
    again = json.loads(run(world, "pool", "refresh", "--pool", target, "--trust", world.trust,
                           *status_args(fresh), "--json").stdout)
    assert again["changed"] == []


def test_remove_erases_at_once_and_log_holds_no_claims(world: World, tmp_path: Path) -> None:
    target = tmp_path / "p.sqlite"
    for who in ("jan", "kees"):
        assert add(world, target, who).returncode == 0
    rows = search(world, target, "--min-essential", "1", "--operator", "consultant-3")
    assert {r["holder"] for r in rows} == {world.holders["jan"], world.holders["kees"]}
    proc = run(world, "pool", "remove", "--pool", target, world.holders["jan"])
    assert proc.returncode == 0 and "erased" in proc.stdout
    assert [r["holder"] for r in search(world, target, "--min-essential", "1")] == [world.holders["kees"]]
    assert run(world, "pool", "remove", "--pool", target, world.holders["jan"]).returncode == 1
    assert run(world, "pool", "export", "--pool", target, world.holders["jan"]).returncode == 1
    with sqlite3.connect(target) as c:
        audit = c.execute("SELECT holder FROM pool_audit").fetchall()
        log = json.dumps(c.execute("SELECT * FROM pool_search_log").fetchall())
    assert audit == [(world.holders["kees"],)]  # Jan's audit rows went with him
    assert world.holders["jan"] not in log and world.holders["kees"] not in log and "esco/skill" not in log
    entries = json.loads(run(world, "pool", "log", "--pool", target).stdout)
    assert [e["hits"] for e in entries] == [2, 1] and entries[0]["operator"] == "consultant-3"


def test_consent_until_takes_effect_at_once(world: World, tmp_path: Path) -> None:
    target = tmp_path / "p.sqlite"
    day = (datetime.now(UTC) + timedelta(days=10)).date()
    assert add(world, target, "kees", "--consent-until", str(day), "--region", "NL-UT").returncode == 0
    assert add(world, target, "sem", "--consent-until", str(day + timedelta(days=20))).returncode == 0
    assert len(search(world, target, "--min-essential", "0")) == 2
    later = search(world, target, "--min-essential", "0", "--at", str(day + timedelta(days=1)))
    assert [r["holder"] for r in later] == [world.holders["sem"]]
    assert [r["holder"] for r in search(world, target, "--min-essential", "0", "--region", "NL-UT")] == \
        [world.holders["kees"]]
    past = add(world, target, "fatima", "--consent-until", "2001-01-01")
    assert past.returncode == 2 and "already past" in past.stderr


def test_search_text_and_html(world: World, full: Path, tmp_path: Path) -> None:
    page = tmp_path / "hits.html"
    proc = run(world, "pool", "search", "--pool", full, "--profile", PROFILE, "--framework", FRAMEWORK,
               "--min-essential", "5", "--html", page)
    assert proc.returncode == 0, proc.stderr
    assert "2 candidate(s)" in proc.stdout and "via diploma" in proc.stdout
    html = page.read_text()
    assert "<script" not in html and world.holders["jan"] in html and "read standard blueprints" in html
