#!/usr/bin/env python3
"""Batch issuing rate: a class roster of N workers through ``Issuer.issue_batch``.

Sets up a fresh issuer folder in a temporary directory (did:key, the default Ed25519 key and
eddsa-rdfc-2022 unless told otherwise), writes a roster of N rows for the CNC-programming skill
(``examples/achievements/cnc-programmeren.yaml``, level 3) with a distinct did:key subject per
row (from freshly generated keys), and times one ``issue_batch`` call over it: building each
credential, validating it against its JSON Schema, signing it, recording it in the SQLite
registry (one durable transaction per credential) and writing it to the output folder.

``--jsonl`` writes the credentials as one JSON Lines archive (``skillcred issue --batch
--jsonl``) instead of a file each, and ``keep_records=False`` as the CLI does, so memory stays
flat. The roster's subject keys are made before the clock starts (they are not part of issuing).
While the batch runs, the resident memory (VmRSS) of this process and of every worker process
is read up to four times a second (from the progress callback): the report gives each one's peak and the parent's and
the workers' memory over time (one line per tenth of the run), so "flat memory" is a reading,
not a guess. CPU time of the parent and the workers (user + system) is printed too, and the
parent's CPU per row in each tenth of the roster (flat when its cost per row does not grow with
the registry: the sign that a batch of any size runs at the rate of a small one).

Progress goes to stderr (``click.progressbar``); the numbers go to stdout: total seconds,
credentials per second, milliseconds per credential and the registry's size on disk. It only
prints numbers; it fails (exit 1) only if a row was not issued.

    python benchmarks/batch_issue.py              # N = 1000
    python benchmarks/batch_issue.py --n 200 --key-type p256
    python benchmarks/batch_issue.py --n 100000 --jsonl      # the issue-22 target: <= 60 s on 2 cores
    python benchmarks/batch_issue.py --json
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import click

from skillcred.did import key_did
from skillcred.issuer import Issuer, init_issuer
from skillcred.keys import KeyPair

REPO = Path(__file__).resolve().parents[1]
ACHIEVEMENT = REPO / "examples" / "achievements" / "cnc-programmeren.yaml"


def write_roster(path: Path, n: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "subject", "name", "achievement", "level"])
        for i in range(n):
            subject = key_did(KeyPair.generate("ed25519").public_key)
            w.writerow([f"bench-{i:06d}", subject, f"Student {i:06d}", str(ACHIEVEMENT), "3"])


def _rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _io_counters() -> int:
    """Bytes this process has written so far (``wchar`` of /proc/self/io; 0 where there is none)."""
    try:
        with open("/proc/self/io", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("wchar:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return 0
    return 0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
            return [int(x) for x in fh.read().split()]
    except (OSError, ValueError):
        return []


class MemorySampler:
    """VmRSS of this process and of its child processes (the workers), read from ``/proc``.

    Sampled from the batch's progress callback (after each chunk, at most every ``interval``
    seconds), not from a thread: a thread in this process would make the batch start its
    workers from a fork server instead of forking them, and the numbers would be of another
    set-up. Linux only; elsewhere it records nothing and the report says so."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        # (t, parent KiB, workers KiB sum, max worker)
        self.samples: list[tuple[float, int, int, int]] = []
        self.cpu: list[tuple[int, float]] = []  # (rows done, parent CPU seconds) at each sample
        self._started = time.perf_counter()
        self._cpu_started = time.process_time()
        self._last = -interval

    def sample(self, rows: int = 0, force: bool = False) -> None:
        now = time.perf_counter() - self._started
        if not force and now - self._last < self.interval:
            return
        self._last = now
        me = os.getpid()
        parent = _rss_kib(me)
        if parent is None:
            return
        workers = [r for r in (_rss_kib(c) for c in _children(me)) if r is not None]
        self.samples.append((now, parent, sum(workers), max(workers, default=0)))
        self.cpu.append((rows, time.process_time() - self._cpu_started))

    def timeline(self, points: int = 10) -> list[dict[str, float]]:
        if not self.samples:
            return []
        step = max(1, len(self.samples) // points)
        picked = self.samples[::step]
        if picked[-1] is not self.samples[-1]:
            picked.append(self.samples[-1])
        return [{"t_s": round(t, 1), "parent_mib": round(p / 1024, 1), "workers_mib": round(w / 1024, 1)}
                for t, p, w, _m in picked]

    def parent_cpu_by_tenth(self, n: int) -> list[float]:
        """The parent's CPU per row (ms) in each tenth of the roster: flat when the parent's
        cost per row does not grow with what it has issued so far."""
        out: list[float] = []
        prev_rows, prev_cpu = 0, 0.0
        for tenth in range(1, 11):
            upto = n * tenth // 10
            # the first sample at or past this tenth (samples come after whole chunks)
            point = next(((r, c) for r, c in self.cpu if r >= upto and r > prev_rows), None)
            if point is None:
                break
            rows, cpu = point
            out.append(round((cpu - prev_cpu) * 1000 / (rows - prev_rows), 3))
            prev_rows, prev_cpu = rows, cpu
        return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="rows in the roster (default 1000)")
    parser.add_argument("--key-type", choices=("ed25519", "p256", "p384"), default="ed25519")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--jsonl", action="store_true",
                        help="one JSON Lines archive, not a file per credential (skillcred issue --batch --jsonl)")
    parser.add_argument("--workers", type=int, default=None, help="signing processes (default: every core)")
    args = parser.parse_args()
    if args.n < 1:
        parser.error("--n must be at least 1")

    with tempfile.TemporaryDirectory(prefix="skillcred-bench-") as tmp:
        root = Path(tmp)
        folder = root / "issuer"
        profile = init_issuer(folder, name="ROC Techniek (benchmark)", url="https://roc-techniek.example",
                              key_type=args.key_type, passphrase=b"benchmark")
        roster = root / "roster.csv"
        write_roster(roster, args.n)
        out = root / "issued"

        with Issuer.open(folder, b"benchmark") as iss:
            with click.progressbar(length=args.n, label="Issuing", file=sys.stderr,
                                   show_pos=True, show_eta=True) as bar:
                cpu_self, cpu_children = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
                memory = MemorySampler()

                done = 0

                def progress(rows: int) -> None:
                    nonlocal done
                    done += rows
                    bar.update(rows)
                    memory.sample(done, force=done >= args.n)

                io_before = _io_counters()
                started = time.perf_counter()
                # keep_records=False, as the CLI issues: the result holds counts, not records
                result = iss.issue_batch(roster, out, progress=progress, archive=args.jsonl,
                                         keep_records=False, workers=args.workers)
                elapsed = time.perf_counter() - started
                parent_cpu = time.process_time() - cpu_self
                io_after = _io_counters()
                after = resource.getrusage(resource.RUSAGE_CHILDREN)  # workers, once they have exited
                worker_cpu = (after.ru_utime - cpu_children.ru_utime) + (after.ru_stime - cpu_children.ru_stime)
            count = iss.registry.count()
        registry_bytes = sum(p.stat().st_size for p in folder.glob("registry.sqlite*"))
        issued_bytes = (sum(p.stat().st_size for p in out.glob("*.jsonl")) if args.jsonl
                        else sum(p.stat().st_size for p in out.glob("*.json")))

    if result.errors or result.issued_count != args.n or count != args.n:
        for err in result.errors[:10]:
            print(f"roster line {err.line}: {err.message}", file=sys.stderr)
        print(f"only {result.issued_count} of {args.n} issued", file=sys.stderr)
        return 1

    numbers = {
        "n": args.n,
        "key_type": args.key_type,
        "cryptosuite": profile.suite,
        "total_seconds": round(elapsed, 3),
        "credentials_per_second": round(args.n / elapsed, 1),
        "ms_per_credential": round(elapsed * 1000 / args.n, 2),
        "registry_bytes": registry_bytes,
        "registry_bytes_per_credential": round(registry_bytes / args.n),
        "average_credential_bytes": round(issued_bytes / args.n),
        "output": "jsonl" if args.jsonl else "files",
        "parent_cpu_ms_per_credential": round(parent_cpu * 1000 / args.n, 3),
        "worker_cpu_ms_per_credential": round(worker_cpu * 1000 / args.n, 3),
        # bytes this process handed to write(2)/pwrite(2): the registry's WAL and checkpoints, the
        # archive or files (``wchar`` of /proc/self/io; counted on tmpfs too, unlike write_bytes)
        "parent_written_kib_per_credential": round((io_after - io_before) / 1024 / args.n, 1),
        "peak_parent_rss_mib": round(max((p for _t, p, _w, _m in memory.samples), default=0) / 1024, 1),
        "peak_worker_rss_mib": round(max((m for _t, _p, _w, m in memory.samples), default=0) / 1024, 1),
        "memory_over_time": memory.timeline(),
        "parent_cpu_ms_per_credential_by_tenth": memory.parent_cpu_by_tenth(args.n),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    if args.json:
        print(json.dumps(numbers, indent=2))
    else:
        print(f"issued {args.n} credentials ({profile.suite}, {args.key_type} issuer key)")
        print(f"total:            {numbers['total_seconds']:.3f} s")
        print(f"rate:             {numbers['credentials_per_second']:.1f} credentials/s")
        print(f"per credential:   {numbers['ms_per_credential']:.2f} ms")
        print(f"registry size:    {registry_bytes} bytes "
              f"({numbers['registry_bytes_per_credential']} bytes per credential)")
        print(f"credential size:  {numbers['average_credential_bytes']} bytes on average "
              f"({numbers['output']})")
        print(f"CPU:              parent {numbers['parent_cpu_ms_per_credential']:.3f} ms, workers "
              f"{numbers['worker_cpu_ms_per_credential']:.3f} ms per credential")
        print(f"written:          {numbers['parent_written_kib_per_credential']} KiB per credential (parent)")
        print(f"peak RSS:         parent {numbers['peak_parent_rss_mib']} MiB, "
              f"largest worker {numbers['peak_worker_rss_mib']} MiB")
        print("parent CPU/row:   " + (" ".join(f"{x:.3f}" for x in numbers["parent_cpu_ms_per_credential_by_tenth"])
                                      or "(no /proc)") + " ms, each tenth of the roster")
        print("memory over time: " + (", ".join(f"{m['t_s']}s {m['parent_mib']}+{m['workers_mib']} MiB"
                                                for m in numbers["memory_over_time"]) or "(no /proc)"))
        print(f"load average:     {' '.join(map(str, numbers['load_average']))} (at the end)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
