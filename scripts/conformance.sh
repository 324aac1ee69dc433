#!/usr/bin/env bash
# `make conformance`: the official W3C VC suites against `skillcred serve`, on loopback only.
#
# Runs the harness in ../shared/w3c-suites (README.md there) against one service hosting three
# issuer configurations: an eddsa-rdfc-2022 issuer that is also the verifier (the primary, at
# /credentials/issue), a JCS twin of it (the same key, --issuer-suite, at
# /issuers/inst-jcs/credentials/issue) and a P-256 ecdsa-rdfc-2019 issuer (at
# /issuers/inst-ecdsa/credentials/issue); the suites' own test keys (suite-dids.txt) are trusted. The verifier runs as a generic VC-API deployment
# (--unsafe-no-holder-binding --allow-empty-presentations): the suites' presentations hold
# credentials about other subjects, and some hold none. Prints "SUITE: N passed, M failed".
#
# Nothing is fetched. When the harness is not set up (it needs local snapshots of nine public
# repositories and `setup.sh`), this says what is missing and exits 0: it is not part of
# `make test`, and CI cannot fetch the suites.
#
#   usage: scripts/conformance.sh [SUITE...]     (default: all six)
#   env:   W3C_SUITES  the harness folder (default ../shared/w3c-suites; a writable copy where
#                      setup.sh ran), SKILLCRED  the skillcred command (default .venv/bin/skillcred)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
H=${W3C_SUITES:-$ROOT/../shared/w3c-suites}
SC=${SKILLCRED:-$ROOT/.venv/bin/skillcred}
SUITES=("$@"); ((${#SUITES[@]})) || SUITES=(vcdm2 eddsa bsl vc-api-issuer vc-api-verifier ecdsa)

missing=()
[[ -x $H/run.sh ]] || missing+=("the harness: no $H/run.sh (set W3C_SUITES to the folder holding it)")
[[ -d $H/suites ]] || missing+=("the installed suites: no $H/suites (copy the harness somewhere writable and run W3C_MIRRORS=DIR ./setup.sh there, with local snapshots of the nine repositories its README names; then W3C_SUITES=that-folder)")
command -v node >/dev/null 2>&1 || missing+=("node (the suites are mocha projects)")
command -v curl >/dev/null 2>&1 || missing+=("curl (to wait for the servers)")
[[ -x $SC ]] || missing+=("skillcred at $SC (make venv, or set SKILLCRED)")
if ((${#missing[@]})); then
  echo "make conformance: not run; missing:" >&2
  for m in "${missing[@]}"; do echo "  - $m" >&2; done
  echo "note: the W3C suites are not part of 'make test'; nothing was fetched. See docs/service.md, Conformance." >&2
  exit 0
fi

W=$(mktemp -d)
free() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
P1=$(free); PP=$(free)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
export -n SKILLCRED_PASSPHRASE
"$SC" issuer init "$W/inst" --name "Suite issuer" --url "https://127.0.0.1:$PP" --did-method key \
  </dev/null >"$W/init.out" 2>&1 || { cat "$W/init.out"; exit 2; }
DID=$(grep -o 'did:key:[A-Za-z0-9]*' "$W/init.out" | head -1)
"$SC" issuer init "$W/inst-ecdsa" --name "Suite issuer ECDSA" --url "https://127.0.0.1:$PP" --did-method key \
  --key-type p256 --suite ecdsa-rdfc-2019 </dev/null >"$W/init-ecdsa.out" 2>&1 || { cat "$W/init-ecdsa.out"; exit 2; }
EDID=$(grep -o 'did:key:[A-Za-z0-9]*' "$W/init-ecdsa.out" | head -1)
for d in $DID $EDID $(cat "$H/suite-dids.txt"); do
  "$SC" trust add --trust "$W/trust.json" "$d" --name "k${d:8:12}" </dev/null >/dev/null 2>&1 || true
done
GENERIC=(--unsafe-no-holder-binding --allow-empty-presentations)
"$SC" serve --issuer "inst=$W/inst" --issuer-suite "inst-jcs=$W/inst:eddsa-jcs-2022" --issuer "inst-ecdsa=$W/inst-ecdsa" \
  --trust "$W/trust.json" --host 127.0.0.1 --port "$P1" --unsafe-open-issuing \
  --public-url "https://127.0.0.1:$PP" "${GENERIC[@]}" </dev/null >"$W/s1.log" 2>&1 & PIDS+=($!)
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$P1/health" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$P1/health" >/dev/null || { echo "skillcred serve on $P1 did not start:"; tail -3 "$W"/s1.log; exit 2; }
cd "$H" && ./run.sh -v --base "http://127.0.0.1:$P1" --issuer-id "$DID" --proxy-port "$PP" \
  --jcs-issue-url "http://127.0.0.1:$P1/issuers/inst-jcs/credentials/issue" \
  --ecdsa-issue-url "http://127.0.0.1:$P1/issuers/inst-ecdsa/credentials/issue" --ecdsa-issuer-id "$EDID" "${SUITES[@]}"
