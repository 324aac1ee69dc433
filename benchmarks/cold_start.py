"""Cold start: the whole-process CPU time of one ``skillcred verify``, ``wallet list`` and ``--help``.

An employer who runs ``skillcred verify vp.json`` once waits mostly for imports (issue 22 item 2).
This prints, per command, the median user+sys CPU time of ``--runs`` fresh interpreters (measured
with ``getrusage(RUSAGE_CHILDREN)``, so other load on the machine inflates it less than wall time
would) and the number of modules imported. ``--baseline SRC`` measures another checkout's
``src`` folder in the same run, alternating with this one, so both see the same machine.

Byte-compiled modules are used as an installed package would (``PYTHONDONTWRITEBYTECODE`` is
cleared and each tree is compiled first): without ``.pyc`` files every run pays the compiler.

    python benchmarks/cold_start.py [--runs 15] [--baseline /path/to/other/checkout/src] [--json]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from skillcred._internal.fileio import dump_json  # noqa: E402
from skillcred.issuer import Issuer, init_issuer, load_achievement  # noqa: E402
from skillcred.wallet import Wallet  # noqa: E402

CHALLENGE, DOMAIN = "cold-start-challenge", "werkgever.example"
_RUNNER = ("import json, sys\nout = sys.argv[1]\nsys.argv = ['skillcred', *sys.argv[2:]]\n"
           "from skillcred._cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
           "open(out, 'w').write(json.dumps(len(sys.modules)))\n")


def world(root: Path) -> dict[str, list[str]]:
    """A 3-credential presentation, its trust list and status lists, and a wallet: the commands."""
    init_issuer(root / "a", name="ROC Techniek", url="https://roc-techniek.example")
    wallet = Wallet.init(root / "wallet")
    key = wallet.holder_key()
    ach = ROOT / "examples" / "achievements"
    with Issuer.open(root / "a") as a:
        docs = [a.issue(load_achievement(ach / n), wallet.holder, level="3")[0].document
                for n in ("cnc-programmeren.yaml", "mig-mag-lassen.yaml", "technisch-tekeninglezen.yaml")]
        a.publish_status(root / "status")
        did = a.profile.did
    for doc in docs:
        wallet.add(doc)
    (root / "vp.json").write_bytes(dump_json(wallet.present(docs, key=key, challenge=CHALLENGE, domain=DOMAIN)))
    trust = root / "trust.json"
    subprocess.run([sys.executable, "-c", "from skillcred._cli import main; main()", "trust", "add", "--trust",
                    str(trust), did, "--name", "ROC Techniek"], check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    lists = [x for p in sorted((root / "status").iterdir()) if p.name != "index.json"
             for x in ("--status-list", str(p))]
    return {"verify": ["verify", str(root / "vp.json"), "--trust", str(trust), "--challenge", CHALLENGE,
                       "--domain", DOMAIN, *lists],
            "wallet list": ["wallet", "list", "--wallet", str(root / "wallet")],
            "--help": ["--help"]}


def one(src: Path, args: list[str], home: Path) -> tuple[float, int]:
    """CPU seconds (user + sys) of one fresh process, and the modules it had imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SKILLCRED_", "PYTHONDONTWRITEBYTECODE"))}
    env.update(PYTHONPATH=str(src), HOME=str(home), NO_COLOR="1")
    out = home / "modules.json"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, "-c", _RUNNER, str(out), *args], capture_output=True, env=env,
                          stdin=subprocess.DEVNULL, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if b"Traceback" in proc.stderr:
        raise SystemExit(proc.stderr.decode(errors="replace"))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, int(out.read_text())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--baseline", type=Path, help="another checkout's src/ folder, measured in the same run")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    trees = {"this": ROOT / "src"}
    if args.baseline:
        trees["baseline"] = args.baseline.resolve()
    for src in trees.values():
        compileall.compile_dir(str(src), quiet=1)
    result: dict[str, Any] = {"runs": args.runs, "load_average": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="skillcred-cold-") as tmp:
        commands = world(Path(tmp))
        for name, cmd in commands.items():
            samples: dict[str, list[float]] = {t: [] for t in trees}
            modules: dict[str, int] = {}
            for _ in range(args.runs):
                for t, src in trees.items():  # alternating: both trees see the same moments
                    cpu, n = one(src, cmd, Path(tmp))
                    samples[t].append(cpu)
                    modules[t] = n
            result[name] = {t: {"cpu_ms_median": round(statistics.median(s) * 1000, 1), "modules": modules[t]}
                            for t, s in samples.items()}
    result["load_average_end"] = os.getloadavg()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"cold start, median CPU of {args.runs} fresh processes (load {result['load_average'][0]:.1f} "
          f"-> {result['load_average_end'][0]:.1f})")
    for name in commands:
        row = "  ".join(f"{t}: {v['cpu_ms_median']:.0f} ms, {v['modules']} modules" for t, v in result[name].items())
        print(f"  {name:12} {row}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
