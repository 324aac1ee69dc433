"""Issue #13 items 4, 7 and 8: input files, the wallet folder, key files.

* Every input is read with a bound and only from a regular file: ``/dev/zero``, a FIFO, a
  character device or an oversize file given to a command (or lying in a wallet, a status
  cache or a rank folder) is one clear message, never a hang or an unbounded read.
* Only regular files physically inside the wallet's ``credentials/`` count; a read-only
  wallet with a stale index still lists.
* A private key file open to group or others warns when loaded and is refused for signing
  credentials unless the ``unsafe`` switch says otherwise; a symlinked key is refused.

A FIFO without a writer blocks a plain ``open()`` forever, so every FIFO case runs either in a
child process with a generous ``timeout`` or under :func:`hang_guard` (SIGALRM): both only turn
a hang into a failure; what is asserted is always the message, never a time.
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import signal
import stat
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conftest import REPO
from skillcred._cli import cli
from skillcred._internal.fileio import (
    MAX_JSON_BYTES,
    MAX_SECRET_BYTES,
    dump_json,
    load_json_file,
    load_json_object,
    read_at_most,
    read_bounded,
)
from skillcred.errors import (
    KeyFileError,
    KeyPermissionError,
    MalformedDocument,
    SkillcredSecurityWarning,
    StoreError,
    WalletError,
)
from skillcred.issuer import Issuer, init_issuer, iter_roster, load_achievement
from skillcred.keys import KeyPair, read_key_file, write_key_file
from skillcred.trust import TrustList
from skillcred.wallet import Wallet
from support.cli import SKILLCRED, CliResult, run_cli

ACHIEVEMENTS = REPO / "examples" / "achievements"
PROFILE = REPO / "examples" / "profiles" / "cnc-verspaner.json"
CHALLENGE = "files-challenge"
DOMAIN = "werkgever.example"
HANG_GUARD_SECONDS = 60  # only turns a hang into a failure; nothing asserts on time


@pytest.fixture
def hang_guard() -> Iterator[None]:
    """Fail (instead of hanging the run) if the code under test blocks, e.g. opening a FIFO."""

    def _hung(signum: int, frame: Any) -> None:
        raise TimeoutError("blocked: the code waited on a FIFO or a device")

    previous = signal.signal(signal.SIGALRM, _hung)
    signal.alarm(HANG_GUARD_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class World:
    root: Path
    home: Path
    issuer_dir: Path
    wallet: Wallet
    credential: Path  # a credential about the wallet's holder, not yet in the wallet
    other_credential: Path  # a second one, also about the holder
    trust: Path
    status: list[Path]
    presentation: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("files")
    init_issuer(root / "roc", name="ROC Techniek", url="https://roc-techniek.example")
    wallet = Wallet.init(root / "wallet")
    with Issuer.open(root / "roc") as iss:
        rec1, _ = iss.issue(load_achievement(ACHIEVEMENTS / "cnc-programmeren.yaml"), wallet.holder, level="3")
        rec2, _ = iss.issue(load_achievement(ACHIEVEMENTS / "mig-mag-lassen.yaml"), wallet.holder, level="2")
        lists = [d for _, d in iss.status_list_credentials()]
        did = iss.profile.did
    cred = root / "cred.json"
    cred.write_bytes(dump_json(rec1.document))
    other = root / "other.json"
    other.write_bytes(dump_json(rec2.document))
    status = []
    for i, doc in enumerate(lists):
        p = root / f"status-{i}.json"
        p.write_bytes(dump_json(doc))
        status.append(p)
    tl = TrustList(path=root / "trust.json")
    tl.add(did, name="ROC Techniek")
    tl.save()
    # a presentation of the holder's credentials, for rank
    holder_wallet = Wallet.init(root / "presenter", key=wallet.holder_key())
    holder_wallet.add([("cred", rec1.document)])
    vp = holder_wallet.present(holder_wallet.select(all_credentials=True), key=wallet.holder_key(),
                               challenge=CHALLENGE, domain=DOMAIN)
    presentation = root / "vp.json"
    presentation.write_bytes(dump_json(vp))
    home = root / "home"
    home.mkdir()
    yield World(root, home, root / "roc", wallet, cred, other, root / "trust.json", status, presentation)


def cli_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SKILLCRED_", "XDG_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"))
    return env


def run(home: Path, *args: str | Path, stdin: bytes | None = None) -> CliResult:
    """The CLI, in-process as a fresh process would run it (support.cli)."""
    out = run_cli(*args, env=cli_env(home), stdin=stdin)
    assert "Traceback" not in out.stderr + out.stdout, out.stderr
    assert "unexpected" not in out.stderr, out.stderr
    return out


def assert_one_line_error(proc: CliResult, *needles: str) -> str:
    """Exit 2 with exactly one ``skillcred: error:`` line on stderr containing ``needles``."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skillcred: error:"), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# --------------------------------------------------------------------------------------------
# Bad "files": what they are, and what the refusal must say


def _fifo(folder: Path, name: str = "pipe.json") -> Path:
    path = folder / name
    os.mkfifo(path)
    return path


def _oversize(folder: Path, name: str, size: int = MAX_JSON_BYTES + 1) -> Path:
    path = folder / name
    with path.open("wb") as fh:
        fh.truncate(size)  # sparse: big to stat and to read, cheap to make
    return path


def _link_to_dev_zero(folder: Path, name: str = "zero.json") -> Path:
    path = folder / name
    path.symlink_to("/dev/zero")
    return path


#: name -> (make it in a folder, what the one-line message must contain)
BAD_FILES: dict[str, tuple[Callable[[Path, str], Path], str]] = {
    "dev-zero": (lambda d, n: Path("/dev/zero"), "is a character device, not a regular file"),
    "dev-null": (lambda d, n: Path("/dev/null"), "is a character device, not a regular file"),
    "fifo": (lambda d, n: _fifo(d, n), "is a FIFO (named pipe), not a regular file"),
    "oversize": (lambda d, n: _oversize(d, n), "larger than the 8,388,608-byte limit"),
}


@pytest.fixture(params=sorted(BAD_FILES))
def bad_file(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    make, message = BAD_FILES[request.param]
    return make(tmp_path, "bad.json"), message


# --------------------------------------------------------------------------------------------
# Item 4, library: the one bounded reader


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_read_bounded_refuses_what_is_not_a_regular_file_before_reading(
    tmp_path: Path, kind: str, hang_guard: None
) -> None:
    make, message = BAD_FILES[kind]
    path = make(tmp_path, "x.json")
    with pytest.raises(MalformedDocument) as info:
        read_bounded(path, max_bytes=MAX_JSON_BYTES)
    assert message in str(info.value)
    assert str(path) in str(info.value)
    with pytest.raises(MalformedDocument, match=r"not a regular file|larger than"):
        load_json_object(path)


def test_a_fifo_with_a_writer_is_refused_too(tmp_path: Path, hang_guard: None) -> None:
    """A writer that never closes is the case a plain read would wait on forever."""
    fifo = _fifo(tmp_path)
    writer = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # keeps a writer end open, never closes it
    try:
        os.write(writer, b'{"a": 1}')
        with pytest.raises(MalformedDocument, match="is a FIFO"):
            load_json_file(fifo)
    finally:
        os.close(writer)


def test_a_socket_and_a_directory_are_refused(tmp_path: Path, hang_guard: None) -> None:
    import socket

    sock_path = tmp_path / "s.json"
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(sock_path))
        with pytest.raises(MalformedDocument, match="is a socket, not a regular file"):
            load_json_file(sock_path)
    finally:
        sock.close()
    with pytest.raises(MalformedDocument, match="is a directory, not a file"):
        load_json_file(tmp_path)


def test_a_character_device_made_here_is_refused(tmp_path: Path) -> None:
    dev = tmp_path / "null.json"
    try:
        os.mknod(dev, stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    with pytest.raises(MalformedDocument, match="is a character device"):
        load_json_file(dev)


def test_the_bound_holds_whatever_stat_says(tmp_path: Path) -> None:
    """/proc files say size 0 and have content: the limit is enforced on what is read."""
    proc_file = Path("/proc/self/status")
    if not proc_file.exists() or proc_file.stat().st_size != 0:
        pytest.skip("needs a Linux /proc file whose stat size is 0")
    with pytest.raises(MalformedDocument, match="larger than the 16-byte limit"):
        read_bounded(proc_file, max_bytes=16)
    assert read_bounded(proc_file, max_bytes=1 << 20).startswith(b"Name:")


def test_the_size_limit_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    assert read_bounded(path, max_bytes=100) == b"x" * 100
    with pytest.raises(MalformedDocument, match="100 bytes, larger than the 99-byte limit"):
        read_bounded(path, max_bytes=99)


def test_a_stream_is_read_with_a_bound() -> None:
    assert read_at_most(io.BytesIO(b"y" * 10), 10, source="<stdin>") == b"y" * 10
    with pytest.raises(MalformedDocument, match="<stdin>: input is larger than the 9-byte limit"):
        read_at_most(io.BytesIO(b"y" * 10), 9, source="<stdin>")

    class Endless(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, b: Any) -> int:
            b[:] = b"\0" * len(b)
            return len(b)

    with pytest.raises(MalformedDocument, match="larger than"):
        read_at_most(io.BufferedReader(Endless()), 1 << 20, source="<stdin>")


def test_no_follow_refuses_links_even_to_good_files(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text('{"a": 1}')
    link = tmp_path / "link.json"
    link.symlink_to(good)
    assert load_json_object(link) == {"a": 1}  # given directly, a link is the user's choice
    with pytest.raises(MalformedDocument, match="is a symbolic link"):
        load_json_object(link, follow_symlinks=False)
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "gone.json")
    with pytest.raises(MalformedDocument, match="is a symbolic link"):
        load_json_object(dangling, follow_symlinks=False)


def test_achievement_yaml_and_roster_are_bounded(tmp_path: Path, hang_guard: None) -> None:
    fifo = _fifo(tmp_path, "a.yaml")
    with pytest.raises(MalformedDocument, match="is a FIFO"):
        load_achievement(fifo)
    with pytest.raises(MalformedDocument, match="is a character device"):
        load_achievement(Path("/dev/zero"))
    big = _oversize(tmp_path, "big.yaml")
    with pytest.raises(MalformedDocument, match="larger than"):
        load_achievement(big)
    roster = _fifo(tmp_path, "roster.csv")
    with pytest.raises(MalformedDocument, match="is a FIFO"):
        list(iter_roster(roster))
    with pytest.raises(MalformedDocument, match="is a character device"):
        list(iter_roster(Path("/dev/zero")))


def test_roster_stream_stops_at_its_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import skillcred.issuer as issuer_mod

    roster = tmp_path / "r.csv"
    roster.write_text("subject\n" + "did:key:z6Mkx\n" * 100)
    assert len(list(iter_roster(roster))) == 100
    monkeypatch.setattr(issuer_mod, "MAX_ROSTER_BYTES", 200)
    with pytest.raises(MalformedDocument, match="larger than the 200-byte limit"):
        list(iter_roster(roster))


# --------------------------------------------------------------------------------------------
# Item 4, command line: bad files given directly


def test_verify_refuses_a_bad_file(world: World, bad_file: tuple[Path, str]) -> None:
    path, message = bad_file
    assert_one_line_error(run(world.home, "verify", path, "--trust", world.trust), str(path), message)


def test_wallet_add_refuses_a_bad_file(world: World, bad_file: tuple[Path, str]) -> None:
    path, message = bad_file
    assert_one_line_error(run(world.home, "wallet", "add", "--wallet", world.wallet.root, path), str(path), message)
    assert world.wallet.entries() == []


def test_wallet_add_from_stdin_stays_allowed_and_bounded(world: World, tmp_path: Path) -> None:
    w = Wallet.init(tmp_path / "w", key=world.wallet.holder_key())
    proc = run(world.home, "wallet", "add", "--wallet", w.root, "-", stdin=world.credential.read_bytes())
    assert proc.returncode == 0, proc.stderr
    assert len(w.entries()) == 1
    too_big = b" " * (MAX_JSON_BYTES + 1)
    assert_one_line_error(run(world.home, "wallet", "add", "--wallet", w.root, "-", stdin=too_big), "<stdin>",
                   "larger than")


def test_trust_add_refuses_a_bad_did_document(world: World, bad_file: tuple[Path, str], tmp_path: Path) -> None:
    path, message = bad_file
    trust = tmp_path / "t.json"
    proc = run(world.home, "trust", "add", "--trust", trust, "did:web:roc.example", "--name", "ROC",
               "--did-document", path)
    assert_one_line_error(proc, str(path), message)
    assert not trust.exists()


def test_status_import_refuses_a_bad_file(world: World, bad_file: tuple[Path, str], tmp_path: Path) -> None:
    path, message = bad_file
    cache = tmp_path / "cache"
    assert_one_line_error(run(world.home, "status", "import", path, "--cache", cache), str(path), message)
    assert list(cache.glob("*.json")) == []


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_issue_refuses_a_bad_achievement_file(world: World, tmp_path: Path, suffix: str) -> None:
    subject = world.wallet.holder
    for make, message in BAD_FILES.values():
        path = make(tmp_path, f"ach-{len(list(tmp_path.iterdir()))}{suffix}")
        if path.parent == Path("/dev"):
            link = tmp_path / f"dev-{path.name}{suffix}"  # /dev/zero under a .yaml name
            link.symlink_to(path)
            path = link
        proc = run(world.home, "issue", "--issuer", world.issuer_dir, "--achievement", path,
                   "--subject", subject, "-o", tmp_path / "out.json")
        assert_one_line_error(proc, str(path), message)
    assert not (tmp_path / "out.json").exists()


def test_a_bad_passphrase_file_is_refused(world: World, tmp_path: Path) -> None:
    for path, message in [(Path("/dev/zero"), "is a character device"),
                          (_fifo(tmp_path, "pass"), "is a FIFO"),
                          (_oversize(tmp_path, "pass.big", MAX_SECRET_BYTES + 1), "larger than the 65,536-byte")]:
        proc = run(world.home, "issue", "--issuer", world.issuer_dir, "--achievement",
                   ACHIEVEMENTS / "cnc-programmeren.yaml", "--subject", world.wallet.holder,
                   "--passphrase-file", path)
        assert_one_line_error(proc, str(path), message)


def test_sign_refuses_a_key_that_is_a_fifo_or_a_device(world: World, tmp_path: Path) -> None:
    for path, message in [(Path("/dev/zero"), "is a character device"), (_fifo(tmp_path, "k.pem"), "is a FIFO")]:
        assert_one_line_error(run(world.home, "sign", world.credential, "--key", path), str(path), message)


def test_rank_refuses_a_bad_challenge_file_and_profile(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "apps"
    folder.mkdir()
    shutil.copy(world.presentation, folder / "jan.json")
    fifo = _fifo(tmp_path, "ch.json")
    proc = run(world.home, "rank", folder, "--profile", PROFILE, "--challenge-file", fifo, "--trust", world.trust)
    assert_one_line_error(proc, str(fifo), "is a FIFO")
    (folder / "challenges.json").write_text(json.dumps({"jan.json": CHALLENGE}))
    proc = run(world.home, "rank", folder, "--profile", "/dev/zero", "--trust", world.trust)
    assert_one_line_error(proc, "/dev/zero", "is a character device")


# --------------------------------------------------------------------------------------------
# Item 4, folders: one bad entry is reported and skipped, the others still count


def _plant_bad_entries(folder: Path) -> list[str]:
    """A FIFO, a link to /dev/zero, a link to a good file, an oversize file, a directory and
    junk in ``folder``; returns their names."""
    names = []
    _fifo(folder, "a-fifo.json")
    names.append("a-fifo.json")
    _link_to_dev_zero(folder, "b-zero.json")
    names.append("b-zero.json")
    _oversize(folder, "c-big.json")
    names.append("c-big.json")
    (folder / "d-dir.json").mkdir()
    names.append("d-dir.json")
    (folder / "e-junk.json").write_bytes(b"{not json")
    names.append("e-junk.json")
    try:
        os.mknod(folder / "f-null.json", stat.S_IFCHR | 0o600, os.makedev(1, 3))
        names.append("f-null.json")
    except OSError:
        pass
    return names


def _good_wallet(world: World, folder: Path) -> Wallet:
    w = Wallet.init(folder, key=world.wallet.holder_key())
    w.add(json.loads(world.credential.read_text()))
    return w


def test_wallet_list_skips_bad_entries_and_lists_the_rest(world: World, tmp_path: Path) -> None:
    w = _good_wallet(world, tmp_path / "w")
    bad = _plant_bad_entries(w.root / "credentials")
    proc = run(world.home, "wallet", "list", "--wallet", w.root, "--json")
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 1
    warnings_ = proc.stderr.strip().splitlines()
    assert len(warnings_) == len(bad), proc.stderr
    for name in bad:
        assert any(name in line and "skipped" in line for line in warnings_), (name, proc.stderr)
    assert any("a-fifo.json: skipped: is a FIFO" in line for line in warnings_)
    assert any("b-zero.json: skipped: is a symbolic link" in line for line in warnings_)
    assert any("c-big.json: skipped: file is" in line and "larger than" in line for line in warnings_)
    # and the same through the passport
    proc = run(world.home, "passport", "--wallet", w.root)
    assert proc.returncode == 0, proc.stderr
    assert "CNC" in proc.stdout or "cnc" in proc.stdout.lower()
    assert sum("skipped" in line for line in proc.stderr.splitlines()) == len(bad)


def test_present_all_uses_only_the_good_entries(world: World, tmp_path: Path) -> None:
    w = _good_wallet(world, tmp_path / "w")
    _plant_bad_entries(w.root / "credentials")
    out = tmp_path / "vp.json"
    proc = run(world.home, "present", "--wallet", w.root, "--all", "--challenge", CHALLENGE, "--domain", DOMAIN,
               "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(out.read_text())["verifiableCredential"]) == 1


def test_status_cache_skips_bad_entries(world: World, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    for i, p in enumerate(world.status):
        shutil.copy(p, cache / f"list-{i}.json")
    bad = _plant_bad_entries(cache)
    proc = run(world.home, "verify", world.credential, "--trust", world.trust, "--status-cache", cache)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert proc.stdout.startswith("VERIFIED")
    for name in bad:
        assert any(name in line and "(skipped)" in line for line in proc.stderr.splitlines()), (name, proc.stderr)


def test_rank_reports_bad_entries_per_row(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "apps"
    folder.mkdir()
    shutil.copy(world.presentation, folder / "jan.json")
    (folder / "challenges.json").write_text(json.dumps({"jan.json": {"challenge": CHALLENGE, "domain": DOMAIN}}))
    bad = _plant_bad_entries(folder)
    (folder / "g-link.json").symlink_to(folder / "jan.json")  # a link even to a good application
    bad.append("g-link.json")
    args: list[str | Path] = ["rank", folder, "--profile", PROFILE, "--trust", world.trust, "--json", "--jobs", "1"]
    for p in world.status:
        args += ["--status-list", p]
    proc = run(world.home, *args)
    rows = {r["file"]: r for r in json.loads(proc.stdout)}
    assert rows["jan.json"]["presentation_verified"] is True, rows["jan.json"]
    for name in bad:
        assert rows[name]["presentation_verified"] is False
        assert rows[name]["summary"].startswith("UNUSABLE"), rows[name]
    assert "is a FIFO" in rows["a-fifo.json"]["summary"]
    assert "is a symbolic link" in rows["b-zero.json"]["summary"]
    assert "is a symbolic link" in rows["g-link.json"]["summary"]
    assert "larger than" in rows["c-big.json"]["summary"]


def test_wallet_import_refuses_a_bad_bundle_file(world: World, bad_file: tuple[Path, str], tmp_path: Path) -> None:
    path, message = bad_file
    assert_one_line_error(run(world.home, "wallet", "import", "--wallet", tmp_path / "new", path), str(path), message)
    assert not (tmp_path / "new" / "wallet.json").exists()


# --------------------------------------------------------------------------------------------
# Item 7: only regular files physically inside the wallet count


def test_a_symlink_to_a_credential_outside_is_not_the_workers(world: World, tmp_path: Path) -> None:
    w = Wallet.init(tmp_path / "w", key=world.wallet.holder_key())
    (w.root / "credentials" / "outside.json").symlink_to(world.credential)
    listing = w.listing()
    assert listing.entries == []
    assert [(p.file, "symbolic link" in p.message) for p in listing.problems] == [("outside.json", True)]
    with pytest.raises(Exception, match="nothing selected"):
        w.select(all_credentials=True)


def test_a_symlink_to_a_credential_inside_is_skipped_the_file_counts_once(world: World, tmp_path: Path) -> None:
    w = _good_wallet(world, tmp_path / "w")
    real = next((w.root / "credentials").glob("*.json"))
    (w.root / "credentials" / "again.json").symlink_to(real)
    (w.root / "credentials" / "again-relative.json").symlink_to(real.name)
    listing = w.listing()
    assert [e.file for e in listing.entries] == [real.name]
    assert sorted(p.file for p in listing.problems) == ["again-relative.json", "again.json"]
    assert len(w.select(all_credentials=True)) == 1


def test_a_dangling_symlink_and_a_fifo_are_reported(world: World, tmp_path: Path, hang_guard: None) -> None:
    w = _good_wallet(world, tmp_path / "w")
    (w.root / "credentials" / "gone.json").symlink_to(tmp_path / "nowhere.json")
    _fifo(w.root / "credentials", "pipe.json")
    listing = w.listing()
    assert len(listing.entries) == 1
    problems = {p.file: p.message for p in listing.problems}
    assert "symbolic link" in problems["gone.json"]
    assert "FIFO" in problems["pipe.json"]
    # the index remembers them as problems, and a second listing (from the index) agrees
    again = Wallet.open(w.root).listing()
    assert again.entries == listing.entries and again.problems == listing.problems


def test_a_symlinked_credentials_folder_is_refused(world: World, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(world.credential, elsewhere / "c.json")
    w = Wallet.init(tmp_path / "w", key=world.wallet.holder_key())
    (w.root / "credentials").rmdir()
    (w.root / "credentials").symlink_to(elsewhere)
    with pytest.raises(WalletError, match="credentials folder is a symbolic link"):
        w.listing()
    with pytest.raises(WalletError, match="credentials folder is a symbolic link"):
        w.add(json.loads(world.credential.read_text()))
    assert [p.name for p in elsewhere.iterdir()] == ["c.json"]
    proc = run(world.home, "wallet", "list", "--wallet", w.root)
    assert_one_line_error(proc, "symbolic link")


def test_a_symlinked_holder_key_is_refused(world: World, tmp_path: Path) -> None:
    w = Wallet.init(tmp_path / "w", key=world.wallet.holder_key())
    key = w.root / "holder-key.pem"
    moved = tmp_path / "moved.pem"
    key.rename(moved)
    key.symlink_to(moved)
    with pytest.raises(KeyFileError, match="symbolic link"):
        w.holder_key()
    with pytest.raises(WalletError, match="symbolic link"):
        w.export(tmp_path / "backup.json")


def _stale_read_only_wallet(world: World, folder: Path) -> Wallet:
    """A wallet whose index is stale: a credential file was added after the index was built."""
    w = _good_wallet(world, folder)
    w.listing()  # index written
    doc = json.loads(world.other_credential.read_text())
    from skillcred.wallet import _file_name

    (w.root / "credentials" / _file_name(doc["id"])).write_bytes(dump_json(doc))
    for p in [w.root, w.root / "credentials"]:
        p.chmod(0o555)
    for p in (w.root / "credentials").iterdir():
        p.chmod(0o444)
    return w


def _refuse_writes(monkeypatch: pytest.MonkeyPatch, how: str) -> list[str]:
    """Make the wallet's writes fail as they do on a read-only wallet (tests run as root, where
    mode bits do not stop writes): ``locked`` cannot create/open ``.lock`` (StoreError, what it
    raises for EROFS/EACCES), or the index write itself fails (PermissionError, OSError EROFS)."""
    import skillcred.wallet as wallet_mod

    attempts: list[str] = []

    def failing_write(path: Any, data: bytes, **kwargs: Any) -> None:
        attempts.append(str(path))
        if how == "permission":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        if how == "erofs":
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        raise StoreError("cannot write here: Read-only file system", path=str(path))

    monkeypatch.setattr(wallet_mod, "atomic_write", failing_write)
    if how == "lock":
        from contextlib import AbstractContextManager

        def failing_lock(path: Any) -> AbstractContextManager[None]:
            attempts.append(str(path))
            raise StoreError("cannot open lock file: Read-only file system", path=str(path))

        monkeypatch.setattr(wallet_mod, "locked", failing_lock)
    return attempts


@pytest.mark.parametrize("how", ["permission", "erofs", "store-error", "lock"])
def test_a_read_only_wallet_with_a_stale_index_still_lists(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    w = _stale_read_only_wallet(world, tmp_path / "w")
    index_before = (w.root / "index.json").read_bytes()
    attempts = _refuse_writes(monkeypatch, how)
    listing = Wallet.open(w.root).listing()
    assert len(listing.entries) == 2 and listing.problems == []
    assert attempts, "the stale index was not even tried to be rewritten"
    assert (w.root / "index.json").read_bytes() == index_before
    # the commands that list: wallet list, passport, present --all (in-process, same monkeypatch)
    runner = CliRunner()
    res = runner.invoke(cli, ["wallet", "list", "--wallet", str(w.root), "--json"])
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.stdout)) == 2
    res = runner.invoke(cli, ["passport", "--wallet", str(w.root)])
    assert res.exit_code == 0, res.output
    out = tmp_path / "vp.json"
    res = runner.invoke(cli, ["present", "--wallet", str(w.root), "--all", "--challenge", CHALLENGE,
                              "--domain", DOMAIN, "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert len(json.loads(out.read_text())["verifiableCredential"]) == 2


def test_a_really_read_only_wallet_lists(world: World, tmp_path: Path) -> None:
    """The same on a real read-only file system (a tmpfs remounted ro in a private mount
    namespace), when this machine allows one; skipped otherwise."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("no unshare(1)")
    w = _stale_read_only_wallet(world, tmp_path / "w")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    script = (f"mount -t tmpfs none {mnt} && cp -a {w.root} {mnt}/w && mount -o remount,ro {mnt} && "
              f"{SKILLCRED} wallet list --json --wallet {mnt}/w")
    proc = subprocess.run([unshare, "-m", "sh", "-c", script], capture_output=True, text=True,
                          env=cli_env(world.home), timeout=120, check=False)
    if proc.returncode != 0 and ("mount" in proc.stderr or "unshare" in proc.stderr):
        pytest.skip(f"no private read-only mount here: {proc.stderr.strip()[:200]}")
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 2


# --------------------------------------------------------------------------------------------
# Item 8: key file permissions


def _key_file(folder: Path, mode: int, name: str = "k.pem") -> Path:
    path = folder / name
    write_key_file(path, KeyPair.generate())
    path.chmod(mode)
    return path


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o620])
def test_loading_an_open_key_warns_naming_file_and_mode(tmp_path: Path, mode: int) -> None:
    path = _key_file(tmp_path, mode)
    with pytest.warns(SkillcredSecurityWarning) as caught:
        key = read_key_file(path)
    assert key.key_type == "ed25519"
    message = str(caught[0].message)
    assert str(path) in message and f"{mode:04o}" in message and "chmod 600" in message


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_a_private_key_loads_without_a_word(tmp_path: Path, mode: int) -> None:
    import warnings

    path = _key_file(tmp_path, mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning would raise here
        loaded = read_key_file(path)
        strict = read_key_file(path, strict_permissions=True)
    assert loaded.public_key.multikey == strict.public_key.multikey


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_an_open_key_is_refused_for_signing(tmp_path: Path, mode: int) -> None:
    path = _key_file(tmp_path, mode)
    with pytest.raises(KeyPermissionError) as info:
        read_key_file(path, strict_permissions=True)
    assert info.value.code == "key_permissions"
    assert str(path) in str(info.value) and f"{mode:04o}" in str(info.value) and "chmod 600" in str(info.value)
    with pytest.warns(SkillcredSecurityWarning, match="UNSAFE"):
        read_key_file(path, strict_permissions=True, unsafe_allow_open_key_permissions=True)


@pytest.mark.parametrize("target", ["private", "open"])
def test_a_symlinked_key_is_refused(tmp_path: Path, target: str) -> None:
    real = _key_file(tmp_path, 0o600 if target == "private" else 0o644, "real.pem")
    link = tmp_path / "link.pem"
    link.symlink_to(real)
    for strict in (False, True):
        with pytest.raises(KeyFileError, match="symbolic link"):
            read_key_file(link, strict_permissions=strict)
    with pytest.raises(KeyFileError, match="symbolic link"):
        read_key_file(link, strict_permissions=True, unsafe_allow_open_key_permissions=True)


def test_a_key_that_is_not_a_regular_file_is_refused(tmp_path: Path, hang_guard: None) -> None:
    for path, what in [(Path("/dev/zero"), "character device"), (_fifo(tmp_path, "k.pem"), "FIFO"),
                       (tmp_path, "directory")]:
        with pytest.raises(KeyFileError, match=what):
            read_key_file(path)
    big = _oversize(tmp_path, "big.pem", MAX_SECRET_BYTES + 1)
    with pytest.raises(KeyFileError, match="larger than"):
        read_key_file(big)


def test_issuer_open_refuses_an_open_issuer_key(tmp_path: Path) -> None:
    init_issuer(tmp_path / "roc", name="ROC", url="https://roc.example")
    key = tmp_path / "roc" / "issuer-key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600  # written private, as before
    key.chmod(0o644)
    with pytest.raises(KeyPermissionError, match="0644"):
        Issuer.open(tmp_path / "roc")
    with pytest.warns(SkillcredSecurityWarning, match="0644"):
        Issuer.open(tmp_path / "roc", unsafe_allow_open_key_permissions=True).close()
    key.chmod(0o600)
    Issuer.open(tmp_path / "roc").close()


def test_the_holder_key_only_warns(world: World, tmp_path: Path) -> None:
    w = Wallet.init(tmp_path / "w", key=world.wallet.holder_key())
    (w.root / "holder-key.pem").chmod(0o644)
    with pytest.warns(SkillcredSecurityWarning, match="holder-key.pem.*0644"):
        assert w.holder_key() == world.wallet.holder_key()


@pytest.fixture
def cli_issuer(tmp_path: Path) -> Path:
    folder = tmp_path / "roc"
    init_issuer(folder, name="ROC", url="https://roc.example")
    return folder


def _issue_args(folder: Path, subject: str, out: Path) -> list[str | Path]:
    return ["issue", "--issuer", folder, "--achievement", ACHIEVEMENTS / "cnc-programmeren.yaml",
            "--subject", subject, "--level", "3", "-o", out]


@pytest.mark.parametrize("mode", [0o644, 0o640])
def test_cli_issue_refuses_an_open_issuer_key(world: World, cli_issuer: Path, tmp_path: Path, mode: int) -> None:
    key = cli_issuer / "issuer-key.pem"
    key.chmod(mode)
    out = tmp_path / "c.json"
    line = assert_one_line_error(run(world.home, *_issue_args(cli_issuer, world.wallet.holder, out)),
                          str(key), f"{mode:04o}", "chmod 600")
    assert "key_permissions" not in line  # the message is for people; the code is for programs
    assert not out.exists()
    proc = run(world.home, *_issue_args(cli_issuer, world.wallet.holder, out), "--unsafe-allow-open-key-permissions")
    assert proc.returncode == 0, proc.stderr
    assert out.exists()
    warnings_ = [line for line in proc.stderr.splitlines() if line.startswith("skillcred: warning:")]
    assert any("UNSAFE" in line and f"{mode:04o}" in line and str(key) in line for line in warnings_), proc.stderr


def test_cli_issue_with_a_private_key_says_nothing(world: World, cli_issuer: Path, tmp_path: Path) -> None:
    proc = run(world.home, *_issue_args(cli_issuer, world.wallet.holder, tmp_path / "c.json"))
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr


def test_every_issuer_key_command_refuses_an_open_key(world: World, cli_issuer: Path, tmp_path: Path) -> None:
    """issue --batch, revoke, suspend, unsuspend, status publish: all sign with (or open) the
    issuer key, all refuse it open, all accept the unsafe switch."""
    with Issuer.open(cli_issuer) as iss:
        rec, _ = iss.issue(load_achievement(ACHIEVEMENTS / "cnc-programmeren.yaml"), world.wallet.holder, level="3")
    key = cli_issuer / "issuer-key.pem"
    key.chmod(0o644)
    roster = tmp_path / "r.csv"
    roster.write_text(f"subject,achievement,level\n{world.wallet.holder},{ACHIEVEMENTS / 'mig-mag-lassen.yaml'},2\n")
    commands: list[list[str | Path]] = [
        ["issue", "--issuer", cli_issuer, "--batch", roster, "--out-dir", tmp_path / "out"],
        ["suspend", "--issuer", cli_issuer, rec.id],
        ["unsuspend", "--issuer", cli_issuer, rec.id],
        ["revoke", "--issuer", cli_issuer, rec.id],
        ["status", "publish", "--issuer", cli_issuer, "--out-dir", tmp_path / "pub"],
    ]
    for args in commands:
        assert_one_line_error(run(world.home, *args), str(key), "0644", "chmod 600")
    for args in commands:
        proc = run(world.home, *args, "--unsafe-allow-open-key-permissions")
        assert proc.returncode == 0, (args, proc.stderr)
        assert "UNSAFE" in proc.stderr


def test_cli_sign_refuses_an_open_key_and_keys_show_warns(world: World, tmp_path: Path) -> None:
    key = _key_file(tmp_path, 0o644)
    assert_one_line_error(run(world.home, "sign", world.credential, "--key", key), str(key), "0644", "chmod 600")
    proc = run(world.home, "sign", world.credential, "--key", key, "--unsafe-allow-open-key-permissions",
               "-o", tmp_path / "s.json")
    assert proc.returncode == 0, proc.stderr
    assert "UNSAFE" in proc.stderr
    proc = run(world.home, "keys", "show", "--key", key)
    assert proc.returncode == 0
    assert proc.stderr.strip().splitlines() == [
        f"skillcred: warning: {key}: key file is accessible by group or others (mode 0644); fix: chmod 600 {key}"]
    key.chmod(0o600)
    proc = run(world.home, "keys", "show", "--key", key)
    assert proc.returncode == 0 and proc.stderr == ""


def test_cli_sign_refuses_a_symlinked_key(world: World, tmp_path: Path) -> None:
    real = _key_file(tmp_path, 0o600)
    link = tmp_path / "link.pem"
    link.symlink_to(real)
    assert_one_line_error(run(world.home, "sign", world.credential, "--key", link), str(link), "symbolic link")
    # the unsafe switch is about permissions only: a link is still refused (after its UNSAFE line)
    proc = run(world.home, "sign", world.credential, "--key", link, "--unsafe-allow-open-key-permissions")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("skillcred: warning: UNSAFE") and len(lines) == 2, proc.stderr
    assert lines[1].startswith("skillcred: error:") and str(link) in lines[1] and "symbolic link" in lines[1]


def test_cli_present_with_an_open_holder_key_warns_and_signs(world: World, tmp_path: Path) -> None:
    w = _good_wallet(world, tmp_path / "w")
    (w.root / "holder-key.pem").chmod(0o640)
    out = tmp_path / "vp.json"
    proc = run(world.home, "present", "--wallet", w.root, "--all", "--challenge", CHALLENGE, "--domain", DOMAIN,
               "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert out.exists()
    assert any(line.startswith("skillcred: warning:") and "holder-key.pem" in line and "0640" in line
               for line in proc.stderr.splitlines()), proc.stderr
