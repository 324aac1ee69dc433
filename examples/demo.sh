#!/usr/bin/env bash
# The skillcred story, end to end, on embedded defaults. Run by `make demo`.
# An institute issues, workers keep and present, an employer verifies, matches and ranks.
# Everything happens offline in ./demo-out (recreated on every run).
set -euo pipefail
cd "$(dirname "$0")/.."
E=examples
OUT=demo-out
rm -rf "$OUT"; mkdir -p "$OUT"
export SKILLCRED_PASSPHRASE="demo passphrase"   # batch mode: keys are encrypted with this
export SKILLCRED_STATUS_CACHE="$OUT/employer/status-cache"
export XDG_CONFIG_HOME="$OUT/employer/config"     # no stray default trust list
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
first() { head -n 1; }

say "1. Two institutes set up: a vocational college (did:web) and an employer's assessor (did:key)"
ROC=$(skillcred issuer init "$OUT/roc" --name "ROC Techniek Midden" --url https://roc-techniek.example \
        --did-method web --key-type ed25519 2>/dev/null | first)
ASSESSOR=$(skillcred issuer init "$OUT/assessor" --name "Metaalbedrijf De Vries (leermeester)" \
        --url https://metaalbedrijf-de-vries.example --did-method key --key-type p256 2>/dev/null | first)
echo "   ROC:      $ROC   (publishes $OUT/roc/did.json)"
echo "   assessor: $ASSESSOR   (ecdsa-rdfc-2019, P-256)"

say "2. Three workers create their wallets"
JAN=$(skillcred wallet init --wallet "$OUT/jan" 2>/dev/null | first)
FATIMA=$(skillcred wallet init --wallet "$OUT/fatima" 2>/dev/null | first)
SEM=$(skillcred wallet init --wallet "$OUT/sem" 2>/dev/null | first)
echo "   Jan $JAN"; echo "   Fatima $FATIMA"; echo "   Sem $SEM"

say "3. The ROC issues a class at once (roster with a progress bar; re-running issues nothing twice)"
cat > "$OUT/roster.csv" <<CSV
key,subject,name,achievement,level
jan-diploma,$JAN,Jan de Vries,$PWD/$E/achievements/mbo-verspaner-diploma.yaml,
jan-cnc,$JAN,Jan de Vries,$PWD/$E/achievements/cnc-programmeren.yaml,3
jan-tekening,$JAN,Jan de Vries,$PWD/$E/achievements/technisch-tekeninglezen.yaml,2
fatima-cnc,$FATIMA,Fatima el Amrani,$PWD/$E/achievements/cnc-programmeren.yaml,4
fatima-tekening,$FATIMA,Fatima el Amrani,$PWD/$E/achievements/technisch-tekeninglezen.yaml,4
fatima-lassen,$FATIMA,Fatima el Amrani,$PWD/$E/achievements/mig-mag-lassen.yaml,3
sem-lassen,$SEM,Sem Jansen,$PWD/$E/achievements/mig-mag-lassen.yaml,2
sem-cnc,$SEM,Sem Jansen,$PWD/$E/achievements/cnc-programmeren.yaml,2
CSV
skillcred issue --issuer "$OUT/roc" --batch "$OUT/roster.csv" --out-dir "$OUT/issued"
skillcred issue --issuer "$OUT/roc" --batch "$OUT/roster.csv" --out-dir "$OUT/issued"

say "4. The assessor attests a soft skill learned on the job (with evidence)"
skillcred issue --issuer "$OUT/assessor" --achievement $E/achievements/plannen-en-organiseren.yaml \
  --subject "$JAN" --name "Jan de Vries" --level 2 --assessor "Piet Bakker, leermeester" \
  --workplace "Metaalbedrijf De Vries, Utrecht" --hours 320 --period-start 2026-02-01 --period-end 2026-06-30 \
  --evidence "Plant wekelijks de werkvoorbereiding van de CNC-cel en bewaakt de levertijden." \
  -o "$OUT/issued/jan-plannen.json" | first

say "5. Workers add their credentials (each is verified on the way in)"
for w in jan fatima sem; do
  did=$(python -c "import json,sys;print(json.load(open('$OUT/$w/wallet.json'))['holder'])")
  for f in "$OUT"/issued/*.json; do
    if grep -q "$did" "$f"; then
      skillcred wallet add --wallet "$OUT/$w" --did-document "$OUT/roc/did.json" "$f" >/dev/null
    fi
  done
done
skillcred wallet list --wallet "$OUT/jan"

say "6. Jan's skills passport (and a printable page)"
skillcred passport --wallet "$OUT/jan" --html "$OUT/jan-passport.html"

say "7. A bad input is refused, nothing lost: Jan tries to add Fatima's credential"
skillcred wallet add --wallet "$OUT/jan" --did-document "$OUT/roc/did.json" \
  "$(grep -l "$FATIMA" "$OUT"/issued/*.json | head -1)" || echo "   -> refused (exit $?), wallet unchanged"

say "8. The employer trusts both institutes (the ROC for diplomas and skills only)"
skillcred trust add --trust "$OUT/employer/trust.json" "$ROC" --name "ROC Techniek Midden" \
  --did-document "$OUT/roc/did.json" --may-attest Diploma --may-attest Competency --may-attest Certification
skillcred trust add --trust "$OUT/employer/trust.json" "$ASSESSOR" --name "Metaalbedrijf De Vries"

say "9. One of Sem's credentials is revoked; the institutes publish their status lists, the employer imports them"
SEM_CNC=$(python -c "
import json,glob
for f in glob.glob('$OUT/issued/*.json'):
    d=json.load(open(f))
    if d['credentialSubject']['id']=='$SEM' and 'cnc' in d['credentialSubject']['achievement']['id']: print(d['id'])")
skillcred revoke --issuer "$OUT/roc" "$SEM_CNC"
skillcred status publish --issuer "$OUT/roc" --out-dir "$OUT/roc/status"
skillcred status publish --issuer "$OUT/assessor" --out-dir "$OUT/assessor/status"
skillcred status import "$OUT"/roc/status/*-1 "$OUT"/assessor/status/*-1

say "10. Each candidate presents (the employer gave each a challenge, for its own domain)"
DOMAIN=werving.metaalbedrijf-de-vries.example
mkdir -p "$OUT/applications"
printf '{\n' > "$OUT/applications/challenges.json"
sep=""
for w in jan fatima sem; do
  ch=$(python -c "import secrets;print(secrets.token_hex(12))")
  skillcred present --wallet "$OUT/$w" --all --challenge "$ch" --domain "$DOMAIN" -o "$OUT/applications/$w.json" 2>/dev/null
  printf '%s  "%s.json": {"challenge": "%s", "domain": "%s"}' "$sep" "$w" "$ch" "$DOMAIN" >> "$OUT/applications/challenges.json"
  sep=$',\n'
done
printf '\n}\n' >> "$OUT/applications/challenges.json"
JAN_CH=$(python -c "import json;print(json.load(open('$OUT/applications/challenges.json'))['jan.json']['challenge'])")

say "11. The employer verifies Jan's presentation, offline"
skillcred verify "$OUT/applications/jan.json" --trust "$OUT/employer/trust.json" \
  --challenge "$JAN_CH" --domain "$DOMAIN"

say "12. A replay (Jan's presentation, a different challenge) is rejected"
skillcred verify "$OUT/applications/jan.json" --trust "$OUT/employer/trust.json" \
  --challenge "another-request" --domain "$DOMAIN" --json \
  | python -c "import json,sys;r=json.load(sys.stdin);c=[x for x in r['checks'] if x['status']!='passed' and x['status']!='not_applicable'][0];print('   verified:',r['verified'],'-',c['id'],c['code'])" || true

say "13. The employer writes the vacancy from ESCO: the real occupation, its skills, levels where needed"
skillcred esco search "operator CNC-machine" --lang nl --kind occupation --limit 3
skillcred profile new --occupation "computer numerical control machine operator" --title "CNC-verspaner (m/v)" \
  -o "$OUT/employer/cnc-verspaner-from-esco.json"
python - "$OUT/employer/cnc-verspaner-from-esco.json" $E/profiles/cnc-verspaner.json <<'PY'
import json, sys
made, used = (json.load(open(p))["requirements"] for p in sys.argv[1:])
assert [r["skill"] for r in made] == [r["skill"] for r in used], "the example profile is not the generated one"
print(f"   {sys.argv[2]} is that profile ({len(used)} ESCO skills), with the levels the employer set:")
for r in used:
    if "level" in r:
        print(f"     level {r['level']}  {r['label']}")
PY

say "14. Jan next to the vacancy: what he can (ESCO-aligned badges, his diploma), what is missing, which training closes it"
skillcred match "$OUT/applications/jan.json" --profile $E/profiles/cnc-verspaner.json \
  --trust "$OUT/employer/trust.json" --challenge "$JAN_CH" --domain "$DOMAIN" \
  --framework $E/frameworks/metaal-vaardigheden.json --catalog $E/catalogs/metaal-opleidingen.json \
  --html "$OUT/jan-gap.html" | grep -v "^  MISSING  .*\[optional\]$" || true
echo "   (the optional ESCO skills nobody showed are left out of this listing; they are in $OUT/jan-gap.html)"

say "15. Ranking all three candidates for the vacancy (Sem's revoked credential does not count)"
skillcred rank "$OUT/applications" --profile $E/profiles/cnc-verspaner.json --trust "$OUT/employer/trust.json" \
  --framework $E/frameworks/metaal-vaardigheden.json

say "16. Privacy: Fatima gets her welding certificate as an SD-JWT and shows only the skill and level"
FAT_SD=$(skillcred issue --issuer "$OUT/roc" --achievement $E/achievements/mig-mag-lassen.yaml --subject "$FATIMA" \
  --name "Fatima el Amrani" --level 3 --evidence "Praktijkexamen: score 91/100 bij Lasbedrijf Noord" \
  --format sd-jwt -o "$OUT/issued/fatima-lassen.sdjwt" | first)
skillcred wallet add --wallet "$OUT/fatima" "$OUT/issued/fatima-lassen.sdjwt" >/dev/null
skillcred status publish --issuer "$OUT/roc" --out-dir "$OUT/roc/status" >/dev/null
skillcred status import "$OUT"/roc/status/*-1 >/dev/null
skillcred present --wallet "$OUT/fatima" --select "$FAT_SD" --disclose /credentialSubject/result/0 \
  --challenge welding-42 --domain "$DOMAIN" -o "$OUT/applications-lasser-fatima.json" 2>/dev/null
python - "$OUT/applications-lasser-fatima.json" <<'PY'
import base64, json, sys
raw = open(sys.argv[1]).read()
token = json.loads(raw)["verifiableCredential"][0]["id"].split(",", 1)[1]
parts = [p for p in token.replace("~", ".").split(".") if p]
text = raw + "".join(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode("utf-8", "replace") for p in parts)
for secret in ("Fatima el Amrani", "score 91", "Lasbedrijf Noord"):
    print(f"   {secret!r} in what the employer receives: {secret in text}")
PY
echo "   Against ESCO's 'welder' (examples/profiles/lasser.json, made with profile new): what her disclosure shows"
skillcred match "$OUT/applications-lasser-fatima.json" --profile $E/profiles/lasser.json \
  --trust "$OUT/employer/trust.json" --challenge welding-42 --domain "$DOMAIN" --json \
  | python -c "
import json,sys
r=json.load(sys.stdin)
print('   verified:', r['verification']['presentation_verified'], '- essential coverage', f\"{r['essential_coverage']:.0%}\")
for q in r['requirements']:
    if q['status'] != 'missing':
        print('   ', q['status'].upper(), q['label'], 'at level', q['level'])" || true

say "17. ESCO's acknowledgement is on the pages the employer and the worker print"
for page in "$OUT/jan-passport.html" "$OUT/jan-gap.html"; do
  grep -q "This service uses the ESCO classification of the European Commission." "$page" \
    && echo "   $page: carries the ESCO acknowledgement" \
    || { echo "   $page: the ESCO acknowledgement is MISSING" >&2; exit 1; }
done
skillcred esco search heftruckchauffeur --lang nl --kind occupation --limit 1
echo "   (This service uses the ESCO classification of the European Commission.)"

say "18. Jan's wallet receives an EU-wallet SD-JWT VC (dc+sd-jwt) from the ROC over OpenID4VCI"
IPORT=$(python -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
python -c "import secrets;print(secrets.token_urlsafe(32))" > "$OUT/roc/token.txt"; chmod 600 "$OUT/roc/token.txt"
OFFER=$(skillcred offer --issuer "$OUT/roc" --achievement $E/achievements/cnc-programmeren.yaml \
  --subject-name "Jan de Vries" --level 3 --format dc+sd-jwt --public-url "http://127.0.0.1:$IPORT" \
  --unsafe-allow-http-loopback 2>/dev/null | sed -n 1p)
echo "   offer (shown as a QR code on a terminal): ${OFFER:0:80}..."
skillcred serve --issuer "$OUT/roc" --trust "$OUT/employer/trust.json" --token-file "$OUT/roc/token.txt" \
  --public-url "http://127.0.0.1:$IPORT" --port "$IPORT" --no-access-log --log-level warning \
  2>"$OUT/roc/serve.log" &
ISSUE_PID=$!
trap 'kill $ISSUE_PID 2>/dev/null || true' EXIT
python -c "
import time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen('http://127.0.0.1:$IPORT/health', timeout=1); break
    except OSError: time.sleep(0.1)"
echo "   stored in Jan's wallet: $(skillcred wallet receive --wallet "$OUT/jan" --did-document "$OUT/roc/did.json" \
  --unsafe-allow-http-loopback "$OFFER" --yes 2>/dev/null | sed -n 1p)"
kill $ISSUE_PID 2>/dev/null || true
skillcred status publish --issuer "$OUT/roc" --out-dir "$OUT/roc/status" >/dev/null
skillcred status import "$OUT"/roc/status/tokens/*.jwt | sed 's/^/   /'

say "19. The vacancy as a QR code: Jan answers the employer's OpenID4VP request from his wallet"
PORT=$(python -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
# a demo on this machine speaks plain http on 127.0.0.1; that needs the (warning) unsafe switch
# on both sides -- a real verifier has an https --verifier-url and the wallet needs no switch
URI=$(skillcred request new --profile $E/profiles/cnc-verspaner.json --verifier-url "http://127.0.0.1:$PORT" \
  --unsafe-allow-http-loopback --verifier "$OUT/employer/verifier" --name "Metaalbedrijf De Vries" --purpose "Vacature CNC-verspaner" \
  --no-qr 2>/dev/null | first)
echo "   request URI (a QR code without --no-qr): ${URI:0:80}..."
skillcred serve --verifier "$OUT/employer/verifier" --trust "$OUT/employer/trust.json" --port "$PORT" \
  --no-access-log --log-level warning 2>"$OUT/employer/verifier.log" &
SERVE_PID=$!
trap 'kill $SERVE_PID $ISSUE_PID 2>/dev/null || true' EXIT
python -c "
import time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen('http://127.0.0.1:$PORT/health', timeout=1); break
    except OSError: time.sleep(0.1)"
skillcred present --wallet "$OUT/jan" --unsafe-allow-http-loopback --oid4vp "$URI" --yes 2>&1 | sed 's/^/   /'
skillcred request results --verifier "$OUT/employer/verifier"
kill $SERVE_PID 2>/dev/null || true

say "Done. Everything is in $OUT/ (open $OUT/jan-passport.html and $OUT/jan-gap.html in a browser)."
