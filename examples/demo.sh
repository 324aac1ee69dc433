#!/usr/bin/env bash
# The skillcred story, end to end, on embedded defaults. Run by `make demo`.
# Everything happens offline in ./demo-out (recreated on every run).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=demo-out
rm -rf "$OUT"; mkdir -p "$OUT"
unset SKILLCRED_PASSPHRASE || true
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1. The training institute creates its signing key (Ed25519, did:key)"
printf 'demo-passphrase\n' > "$OUT/passphrase.txt"
skillcred keys generate --type ed25519 -o "$OUT/institute.pem" --passphrase-file "$OUT/passphrase.txt"
ls -l "$OUT/institute.pem" | awk '{print "   key file mode:", $1}'

say "2. It signs a MIG/MAG welding skill credential (eddsa-rdfc-2022)"
skillcred sign examples/credentials/unsigned-mig-mag-welding.json \
  --key "$OUT/institute.pem" --passphrase-file "$OUT/passphrase.txt" \
  --suite eddsa-rdfc-2022 -o "$OUT/signed.json"
cat "$OUT/signed.json"

say "3. Anyone verifies the proof offline"
skillcred verify --proof-only "$OUT/signed.json"

say "4. A tampered copy (level raised in the name) is rejected"
python - "$OUT/signed.json" "$OUT/tampered.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["name"] = doc["name"].replace("niveau 3", "niveau 5")
json.dump(doc, open(sys.argv[2], "w"), indent=2)
PY
if skillcred verify --proof-only "$OUT/tampered.json"; then
  echo "   !! the tampered credential verified: this is a bug" >&2; exit 1
else
  echo "   -> rejected, as it must be (exit $?)"
fi
say "Done. Files are in $OUT/"
