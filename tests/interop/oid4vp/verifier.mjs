// A peer verifier built with @openid4vc/openid4vp 0.4 and dcql 3, on a loopback HTTP port: one
// signed request (JAR by reference, decentralized_identifier: did:key client, direct_post) asking,
// with DCQL, for a jwt_vc_json credential aligned to a given skill. It checks the response with the
// package (state, vp_token shape), then the vp+jwt itself (holder's did:key signature, nonce, aud,
// the enveloped vc+jwt's issuer signature) and the DCQL result with the dcql package.
// Mode "three" asks for three credentials in three formats, all required: welding as an SD-JWT VC
// (dc+sd-jwt: issuer signature, disclosure digests, KB-JWT), CNC as Data Integrity (ldp_vc: the
// holder's and the issuer's eddsa-jcs-2022 proofs, checked by di.mjs; challenge, domain) and
// drawing as jwt_vc_json; its metadata takes ldp_vc only as eddsa-jcs-2022.
// argv: SKILL_URI [tamper] | three WELD_SKILL CNC_SKILL DRAW_SKILL.
// stdout: first line {"uri": ...}; then one line per response received.
import crypto from 'node:crypto';
import http from 'node:http';
import { Openid4vpVerifier } from '@openid4vc/openid4vp';
import { setGlobalConfig } from '@openid4vc/utils';
import { DcqlPresentationResult, DcqlQuery } from 'dcql';
import { b64u, callbacks, decodePart, didKeyOfJwk, jwkOfDidKey, verifyJws } from './common.mjs';
import { verifyJcs } from './di.mjs';

setGlobalConfig({ allowInsecureUrls: true }); // loopback http in tests only
const args = process.argv.slice(2);
const three = args[0] === 'three';
const [skill, tamper] = three ? [args[3], undefined] : args;
const { privateKey } = crypto.generateKeyPairSync('ed25519');
const jwk = privateKey.export({ format: 'jwk' });
const did = didKeyOfJwk(jwk);
const kid = `${did}#${did.slice('did:key:'.length)}`;
const verifier = new Openid4vpVerifier({ callbacks: callbacks(jwk) });
const OB = 'https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential';
const ALIGNED = ['credentialSubject', 'achievement', 'alignment', null, 'targetUrl'];
const drawing = { id: 'drawing', format: 'jwt_vc_json', meta: { type_values: [[OB]] },
  claims: [{ path: ALIGNED, values: [skill] }] };
const VCT = 'https://w3id.org/skillcred/vct/v1/skill-credential';
// an SD-JWT VC names its skills in numbered flat claims: any of the first three slots may hold it
const slots = [1, 2, 3];
const dcqlQuery = DcqlQuery.parse({
  credentials: three ? [
    { id: 'welding', format: 'dc+sd-jwt', meta: { vct_values: [VCT] },
      claims: slots.map((n) => ({ id: `s${n}`, path: [`skill_${n}`], values: [args[1]] })),
      claim_sets: slots.map((n) => [`s${n}`]) },
    { id: 'cnc', format: 'ldp_vc', meta: { type_values: [[OB]] }, claims: [{ path: ALIGNED, values: [args[2]] }] },
    drawing,
  ] : [drawing],
});
DcqlQuery.validate(dcqlQuery);

const server = http.createServer(async (req, res) => {
  try {
    if (req.method === 'GET' && req.url === '/request') {
      let jwt = state.requestObject;
      if (tamper === 'request') { const [h, p, s] = jwt.split('.'); const pl = decodePart(p); pl.response_uri = 'http://127.0.0.1:9/steal'; jwt = `${h}.${b64u(JSON.stringify(pl))}.${s}`; }
      res.writeHead(200, { 'content-type': 'application/oauth-authz-req+jwt' }).end(jwt);
      return;
    }
    if (req.method === 'POST' && req.url === '/response') {
      const chunks = []; for await (const c of req) chunks.push(c);
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const outcome = check(form);
      process.stdout.write(JSON.stringify(outcome) + '\n');
      res.writeHead(outcome.accepted ? 200 : 400, { 'content-type': 'application/json' })
        .end(JSON.stringify(outcome.accepted ? {} : { error: 'invalid_request', error_description: outcome.reason }));
      return;
    }
    res.writeHead(404).end();
  } catch (e) {
    res.writeHead(500).end(String(e));
  }
});

function check(form) {
  if (state.answered) return { accepted: false, reason: 'replayed' };
  const parsed = verifier.validateOpenid4vpAuthorizationResponsePayload({
    authorizationRequestPayload: state.payload,
    authorizationResponsePayload: { ...form, vp_token: JSON.parse(form.vp_token) },
  });
  if (form.state !== state.payload.state) return { accepted: false, reason: 'state' };
  const presentations = {};
  const checked = {};
  const holders = new Set();
  const formatOf = Object.fromEntries(dcqlQuery.credentials.map((c) => [c.id, c.format]));
  for (const [qid, list] of Object.entries(parsed.dcql.presentations)) {
    presentations[qid] = [];
    checked[qid] = formatOf[qid];
    for (const vp of list) {
      if (formatOf[qid] === 'ldp_vc') {
        const got = checkDataIntegrity(vp);
        if (got.reason) return { accepted: false, reason: got.reason };
        holders.add(got.holder); presentations[qid].push(...got.credentials);
        continue;
      }
      if (formatOf[qid] === 'dc+sd-jwt') {
        const got = checkSdJwtVc(vp);
        if (got.reason) return { accepted: false, reason: got.reason };
        holders.add(got.holder); presentations[qid].push(got.credential);
        continue;
      }
      if (typeof vp !== 'string') return { accepted: false, reason: 'format' };
      const [h, p] = vp.split('.');
      const header = decodePart(h); const claims = decodePart(p);
      if (header.typ !== 'vp+jwt' || !header.kid?.startsWith(claims.holder + '#')) return { accepted: false, reason: 'vp header' };
      if (!verifyJws(vp, jwkOfDidKey(header.kid))) return { accepted: false, reason: 'vp signature' };
      if (claims.nonce !== state.payload.nonce) return { accepted: false, reason: 'nonce' };
      if (claims.aud !== state.payload.client_id) return { accepted: false, reason: 'aud' };
      for (const env of claims.verifiableCredential) {
        const token = env.id.slice('data:application/vc+jwt,'.length);
        const vcHeader = decodePart(token.split('.')[0]); const vc = decodePart(token.split('.')[1]);
        const issuer = typeof vc.issuer === 'string' ? vc.issuer : vc.issuer.id;
        if (!vcHeader.kid.startsWith(issuer + '#') || !verifyJws(token, jwkOfDidKey(vcHeader.kid))) return { accepted: false, reason: 'vc signature' };
        if (vc.credentialSubject.id !== claims.holder) return { accepted: false, reason: 'holder binding' };
        holders.add(claims.holder);
        presentations[qid].push({ credential_format: 'jwt_vc_json', claims: vc, cryptographic_holder_binding: true,
          type: obTypes(vc.type) });
      }
    }
  }
  if (holders.size !== 1) return { accepted: false, reason: 'holders' };
  const result = DcqlPresentationResult.fromDcqlPresentation(presentations, { dcqlQuery });
  if (!result.can_be_satisfied) return { accepted: false, reason: 'dcql' };
  state.answered = true;
  return { accepted: true, holder: [...holders][0], queries: Object.keys(presentations).sort(),
    ...(three ? { checked } : {}) };
}

const obTypes = (types) => [].concat(types).map((t) => (t === 'OpenBadgeCredential' || t === 'AchievementCredential' ? OB : t));

// ldp_vc: the holder's proof (authentication, challenge = nonce, domain = client_id), then each
// credential's issuer proof (assertionMethod) and its subject = the holder
function checkDataIntegrity(vp) {
  if (!vp || typeof vp !== 'object' || ![].concat(vp.type).includes('VerifiablePresentation')) return { reason: 'ldp_vc shape' };
  const own = verifyJcs(vp, 'authentication');
  if (!own.ok) return { reason: `vp proof: ${own.reason}` };
  if (!own.proof.verificationMethod.startsWith(vp.holder + '#')) return { reason: 'vp proof method' };
  if (own.proof.challenge !== state.payload.nonce) return { reason: 'challenge' };
  if (own.proof.domain !== state.payload.client_id) return { reason: 'domain' };
  const credentials = [];
  for (const vc of [].concat(vp.verifiableCredential ?? [])) {
    const issuer = typeof vc.issuer === 'string' ? vc.issuer : vc.issuer?.id;
    const theirs = verifyJcs(vc, 'assertionMethod');
    if (!theirs.ok || !theirs.proof.verificationMethod.startsWith(issuer + '#')) return { reason: `vc proof: ${theirs.reason ?? 'method'}` };
    if (vc.credentialSubject?.id !== vp.holder) return { reason: 'holder binding' };
    credentials.push({ credential_format: 'ldp_vc', claims: vc, cryptographic_holder_binding: true, type: obTypes(vc.type) });
  }
  return credentials.length ? { holder: vp.holder, credentials } : { reason: 'no credential' };
}

// dc+sd-jwt: issuer signature (did:key kid of iss), each disclosure's digest among _sd, and the
// KB-JWT by the cnf key (nonce, aud = client_id, sd_hash over what precedes it)
function checkSdJwtVc(token) {
  if (typeof token !== 'string' || token.endsWith('~')) return { reason: 'sd-jwt shape or no KB-JWT' };
  const parts = token.split('~');
  const [jwt, kb] = [parts[0], parts[parts.length - 1]];
  const header = decodePart(jwt.split('.')[0]); const payload = decodePart(jwt.split('.')[1]);
  if (header.typ !== 'dc+sd-jwt') return { reason: `typ ${header.typ}` };
  if (!header.kid?.startsWith(payload.iss + '#') || !verifyJws(jwt, jwkOfDidKey(header.kid))) return { reason: 'sd-jwt signature' };
  const claims = { ...payload }; delete claims._sd; delete claims._sd_alg;
  for (const d of parts.slice(1, -1)) {
    const digest = b64u(crypto.createHash('sha256').update(d).digest());
    if (!(payload._sd ?? []).includes(digest)) return { reason: 'disclosure digest' };
    const [, name, value] = JSON.parse(Buffer.from(d, 'base64url').toString('utf8'));
    claims[name] = value;
  }
  const kbHeader = decodePart(kb.split('.')[0]); const kbClaims = decodePart(kb.split('.')[1]);
  if (kbHeader.typ !== 'kb+jwt' || !verifyJws(kb, payload.cnf.jwk)) return { reason: 'kb-jwt signature' };
  if (kbClaims.nonce !== state.payload.nonce || kbClaims.aud !== state.payload.client_id) return { reason: 'kb-jwt binding' };
  const presented = token.slice(0, token.length - kb.length);
  if (kbClaims.sd_hash !== b64u(crypto.createHash('sha256').update(presented).digest())) return { reason: 'sd_hash' };
  if (jwkOfDidKey(payload.sub).x !== payload.cnf.jwk.x) return { reason: 'holder binding' };
  return { holder: payload.sub, credential: { credential_format: 'dc+sd-jwt', vct: claims.vct, claims, cryptographic_holder_binding: true } };
}

const state = {};
server.listen(0, '127.0.0.1', async () => {
  const base = `http://127.0.0.1:${server.address().port}`;
  const created = await verifier.createOpenId4vpAuthorizationRequest({
    authorizationRequestPayload: {
      response_type: 'vp_token', client_id: `decentralized_identifier:${did}`, response_mode: 'direct_post',
      response_uri: `${base}/response`, nonce: b64u(crypto.randomBytes(16)), state: b64u(crypto.randomBytes(16)),
      dcql_query: dcqlQuery, client_metadata: { client_name: 'Peer verifier (openid4vp 0.4)', vp_formats_supported: {
        jwt_vc_json: { alg_values: ['EdDSA'] },
        ...(three ? { ldp_vc: { proof_type_values: ['DataIntegrityProof'], cryptosuite_values: ['eddsa-jcs-2022'] },
          'dc+sd-jwt': { 'sd-jwt_alg_values': ['EdDSA'], 'kb-jwt_alg_values': ['EdDSA'] } } : {}) } },
    },
    jar: { requestUri: `${base}/request`, jwtSigner: { method: 'did', didUrl: kid, alg: 'EdDSA' }, expiresInSeconds: 300 },
  });
  state.payload = created.authorizationRequestPayload;
  state.requestObject = created.jar.authorizationRequestJwt;
  process.stdout.write(JSON.stringify({ uri: created.authorizationRequest, client_id: state.payload.client_id }) + '\n');
});
