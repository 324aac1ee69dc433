#!/usr/bin/env python3
"""ESCO costs: is the taxonomy interactive, and does it stay out of ``verify``?

Times, in this order (each the best of ``--repeat`` runs unless said otherwise):

* opening the embedded snapshot (decompress + deserialize into memory: once per process);
* ``Taxonomy.search`` for a few queries (occupation and skill, en and nl);
* ``job_profile`` for the CNC operator (158 requirements), and ``skillcred profile new`` as a
  process (interpreter start included);
* ``match`` of one candidate (credentials aligned to narrower ESCO skills) against that
  profile, with ESCO inference on and off (library; the verification is done once, outside);
* ``skillcred verify`` cold start (a fresh process on a signed credential) with and without a
  user-imported ESCO store present (the store is never opened there, so the numbers should agree)
  and whether ``skillcred.esco`` was imported by it.

    python benchmarks/esco.py               # numbers to stdout
    python benchmarks/esco.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import yaml  # noqa: E402

from skillcred import esco  # noqa: E402
from skillcred.errors import SkillcredSecurityWarning  # noqa: E402
from skillcred.issuer import Issuer, init_issuer, load_achievement  # noqa: E402
from skillcred.match import load_framework, load_profile, match  # noqa: E402
from skillcred.trust import TrustList  # noqa: E402
from skillcred.verify import VerificationPolicy, Verifier  # noqa: E402
from skillcred.wallet import Wallet  # noqa: E402

SKILLCRED = Path(sys.executable).with_name("skillcred")
CNC_OPERATOR = "http://data.europa.eu/esco/occupation/5c082067-ea18-4ccb-8c43-e70b18ad8120"
NARROWER = ["http://data.europa.eu/esco/skill/6e34b68e-0d61-49f2-bc4d-571c0326d857",  # test sensors
            "http://data.europa.eu/esco/skill/17b3af3e-0bd5-4388-9fb4-db5d241aa9d8",  # 2 steps below maintenance
            "http://data.europa.eu/esco/skill/c5fdbd81-db10-4fc3-8cee-8b1a7169c472"]


def best(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def achievement_file(folder: Path, i: int, uri: str) -> Path:
    slug = f"esco-{i}"
    data = {"kind": "skill", "achievement": {
        "id": f"https://roc.example/achievements/{slug}", "achievementType": "Competency", "name": slug,
        "description": "bench", "criteria": {"narrative": "bench"},
        "alignment": [{"targetFramework": "ESCO", "targetUrl": uri}],
        "resultDescription": [{"id": f"https://roc.example/a/{slug}/niveau", "name": "Niveau",
                               "resultType": "RubricCriterionLevel", "rubricCriterionLevel": [
                                   {"id": f"https://roc.example/r/{slug}/{n}", "name": f"N{n}", "level": str(n)}
                                   for n in (1, 2, 3)]}]}}
    path = folder / f"{slug}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def run_cli(args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    t = time.perf_counter()
    p = subprocess.run([str(SKILLCRED), *args], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    return time.perf_counter() - t, p


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("XDG_")},
               "HOME": str(tmp / "home"), "XDG_DATA_HOME": str(tmp / "xdg")}
        os.environ["XDG_DATA_HOME"] = env["XDG_DATA_HOME"]

        t = time.perf_counter()
        tax = esco.Taxonomy.embedded()
        tax.counts()
        out["open_embedded_s"] = time.perf_counter() - t
        out["snapshot_bytes"] = (REPO / "src/skillcred/_data/esco" / esco.SNAPSHOT_FILE).stat().st_size

        queries = [("welder", "occupation", None), ("lasser", "occupation", "nl"), ("welding", "skill", None),
                   ("computer numerical control machine operator", None, None), ("machine", None, "en")]
        out["search_ms"] = {q: 1000 * best(lambda q=q, k=k, lang=lang: tax.search(q, kind=k, lang=lang), args.repeat)
                            for q, k, lang in queries}
        out["job_profile_ms"] = 1000 * best(lambda: esco.job_profile(tax, CNC_OPERATOR), args.repeat)
        prof_file = tmp / "cnc.json"
        cli_times = []
        for _ in range(max(1, args.repeat // 2)):
            dt, p = run_cli(["profile", "new", "--occupation", CNC_OPERATOR, "-o", str(prof_file)], env)
            assert p.returncode == 0, p.stderr
            cli_times.append(dt)
        out["cli_profile_new_s"] = min(cli_times)

        # one candidate: three credentials on narrower ESCO skills, verified once
        init_issuer(tmp / "roc", name="ROC", url="https://roc.example")
        wallet = Wallet.init(tmp / "wallet")
        with Issuer.open(tmp / "roc") as roc:
            docs = [dict(roc.issue(load_achievement(achievement_file(tmp, i, u), esco=tax), wallet.holder,
                                   level="3")[0].document) for i, u in enumerate(NARROWER)]
            did = roc.profile.did
        tl = TrustList()
        tl.add(did, name="ROC")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SkillcredSecurityWarning)
            policy = VerificationPolicy(trust=tl, unsafe_accept_unknown_status=True)
        vp = wallet.present(docs, key=wallet.holder_key(), challenge="c", domain="d")
        accepted = list(Verifier(policy).assess(vp, challenge="c", domain="d").accepted)
        profile = load_profile(prof_file)
        on = load_framework([], esco=tax)
        off = load_framework([])
        report_on = match(profile, accepted, framework=on)
        report_off = match(profile, accepted, framework=off)
        out["match_met_esco_on"] = sum(r.status == "met" for r in report_on.requirements)
        out["match_met_esco_off"] = sum(r.status == "met" for r in report_off.requirements)
        out["match_esco_on_first_ms"] = 1000 * best(
            lambda: match(profile, accepted, framework=load_framework([], esco=tax)), 1)
        out["match_esco_on_ms"] = 1000 * best(lambda: match(profile, accepted, framework=on), args.repeat)
        out["match_esco_off_ms"] = 1000 * best(lambda: match(profile, accepted, framework=off), args.repeat)

        # verify cold start, without and with a user ESCO store present
        (tmp / "vc.json").write_text(json.dumps(docs[0]), encoding="utf-8")
        probe = ("import sys; sys.argv = ['skillcred', 'verify', '--proof-only', sys.argv[1]]\n"
                 "from skillcred._cli import main\n"
                 "try:\n    main()\nexcept SystemExit:\n    pass\n"
                 "seen = 'skillcred.esco' in sys.modules\n"
                 "print('ESCO-IMPORTED' if seen else 'ESCO-NOT-IMPORTED', file=sys.stderr)\n")

        def verify_cold() -> tuple[float, bool]:
            times, imported = [], False
            for _ in range(args.repeat):
                t = time.perf_counter()
                p = subprocess.run([sys.executable, "-c", probe, str(tmp / "vc.json")], capture_output=True,
                                   text=True, env={**env, "PYTHONPATH": str(REPO / "src")})
                times.append(time.perf_counter() - t)
                imported = imported or "ESCO-IMPORTED" in p.stderr
            return statistics.median(times), imported

        out["verify_cold_no_store_s"], imp1 = verify_cold()
        store = Path(env["XDG_DATA_HOME"]) / "skillcred" / "esco" / esco.STORE_FILE
        store.parent.mkdir(parents=True)
        store.write_bytes(esco._snapshot_data())
        out["verify_cold_with_store_s"], imp2 = verify_cold()
        out["verify_imports_esco"] = imp1 or imp2
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"embedded snapshot: {out['snapshot_bytes']:,} bytes; open (decompress + load): "
          f"{out['open_embedded_s'] * 1000:.0f} ms")
    for q, ms in out["search_ms"].items():
        print(f"search {q!r}: {ms:.1f} ms")
    print(f"job_profile (CNC operator, library): {out['job_profile_ms']:.1f} ms; "
          f"`skillcred profile new` process: {out['cli_profile_new_s'] * 1000:.0f} ms")
    print(f"match, one candidate vs 158 requirements: ESCO on {out['match_esco_on_ms']:.1f} ms "
          f"(first, cold caches {out['match_esco_on_first_ms']:.1f} ms; {out['match_met_esco_on']} met), "
          f"ESCO off {out['match_esco_off_ms']:.1f} ms ({out['match_met_esco_off']} met)")
    print(f"`skillcred verify` cold start (median): no ESCO store {out['verify_cold_no_store_s'] * 1000:.0f} ms, "
          f"with a user store {out['verify_cold_with_store_s'] * 1000:.0f} ms; "
          f"skillcred.esco imported: {out['verify_imports_esco']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
