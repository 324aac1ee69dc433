// A peer wallet built with @openid4vc/openid4vp 0.4 and dcql 3: resolves an OpenID4VP request
// (request_uri, JAR signed by a decentralized_identifier: client), selects credentials with the
// dcql package, presents jwt_vc_json (a vp+jwt), vc+sd-jwt and dc+sd-jwt (only the matched claims'
// disclosures; both with a KB-JWT) and ldp_vc (a Data Integrity VP it signs itself with eddsa-jcs-2022,
// di.mjs: challenge = nonce, domain = client_id), posts direct_post.
// stdin: {uri, holder: {did, kid, jwk}, credentials: [{format, token | document, claims}],
//         tamper?: nonce|aud|challenge|domain, drop?: [qid], move?: {qid: other qid}, replay?}
// stdout: {matched, submitted: [{status, body}], request: {...}}
import crypto from 'node:crypto';
import { Openid4vpClient } from '@openid4vc/openid4vp';
import { DcqlQuery } from 'dcql';
import { setGlobalConfig } from '@openid4vc/utils';
import { b64u, callbacks, readStdinJson, signJws } from './common.mjs';
import { signJcs } from './di.mjs';

const OB = 'https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential';
const VC = 'https://www.w3.org/2018/credentials#VerifiableCredential';

// the tests run on loopback over http; a real wallet keeps the library's https-only default
setGlobalConfig({ allowInsecureUrls: true });
const input = await readStdinJson();
const client = new Openid4vpClient({ callbacks: callbacks(input.holder.jwk) });
const parsed = client.parseOpenid4vpAuthorizationRequest({ authorizationRequest: input.uri });
const resolved = await client.resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: parsed.params });
const request = resolved.authorizationRequestPayload;

const query = DcqlQuery.parse(resolved.dcql.query);
DcqlQuery.validate(query);
const dcqlCredentials = input.credentials.map((c) => c.format === 'dc+sd-jwt'
  // an SD-JWT VC: its flat claims and vct, as the dcql package models one
  ? { credential_format: c.format, vct: c.claims.vct, claims: c.claims, cryptographic_holder_binding: true }
  : {
      credential_format: c.format,
      claims: c.claims,
      type: [...new Set(c.claims.type.map((t) => ({ VerifiableCredential: VC, OpenBadgeCredential: OB, AchievementCredential: OB }[t] ?? t)))],
      cryptographic_holder_binding: true,
    });
const result = DcqlQuery.query(query, dcqlCredentials);

const now = Math.floor(Date.now() / 1000);
const nonce = input.tamper === 'nonce' ? 'not-the-nonce' : request.nonce;
const aud = input.tamper === 'aud' ? 'decentralized_identifier:did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp' : request.client_id;

function keyBinding(presented) {
  const sdHash = b64u(crypto.createHash('sha256').update(presented).digest());
  return presented + signJws({ alg: 'EdDSA', typ: 'kb+jwt' }, { iat: now, aud, nonce, sd_hash: sdHash }, input.holder.jwk);
}

// only the Data Integrity proof is bound wrongly (the other formats stay right)
const challenge = input.tamper === 'challenge' ? 'not-the-nonce' : nonce;
const domain = input.tamper === 'domain' ? 'decentralized_identifier:did:web:other-employer.example' : aud;

function present(c, names) {
  if (c.format === 'ldp_vc') {
    const vp = { '@context': ['https://www.w3.org/ns/credentials/v2'], id: `urn:uuid:${crypto.randomUUID()}`,
      type: ['VerifiablePresentation'], holder: input.holder.did, verifiableCredential: [c.document] };
    return signJcs(vp, { verificationMethod: input.holder.kid, proofPurpose: 'authentication', challenge, domain },
      input.holder.jwk);
  }
  if (c.format === 'dc+sd-jwt') {
    // only the disclosures of the claims the dcql package matched (the claim set's output)
    const [jwt, ...rest] = c.token.split('~').filter((part, i, all) => i < all.length - 1 || part);
    const kept = rest.filter((d) => names.includes(JSON.parse(Buffer.from(d, 'base64url').toString('utf8'))[1]));
    return keyBinding([jwt, ...kept].join('~') + '~');
  }
  if (c.format === 'jwt_vc_json') {
    const vp = {
      '@context': ['https://www.w3.org/ns/credentials/v2'], id: `urn:uuid:${crypto.randomUUID()}`,
      type: ['VerifiablePresentation'], holder: input.holder.did,
      verifiableCredential: [{ '@context': ['https://www.w3.org/ns/credentials/v2'], type: 'EnvelopedVerifiableCredential',
        id: `data:application/vc+jwt,${c.token}` }],
      nonce, aud, iat: now, exp: now + 300,
    };
    return signJws({ alg: 'EdDSA', kid: input.holder.kid, typ: 'vp+jwt', cty: 'vp' }, vp, input.holder.jwk);
  }
  // vc+sd-jwt: every disclosure (this peer does not minimise), then a Key Binding JWT
  const presented = c.token.endsWith('~') ? c.token : c.token + '~';
  const sdHash = b64u(crypto.createHash('sha256').update(presented).digest());
  return presented + signJws({ alg: 'EdDSA', typ: 'kb+jwt' }, { iat: now, aud, nonce, sd_hash: sdHash }, input.holder.jwk);
}

const vpToken = {};
const matched = [];
for (const [qid, match] of Object.entries(result.credential_matches)) {
  if (!match.success) continue;
  const picked = (match.valid_credentials ?? []).map((v) => [input.credentials[v.input_credential_index],
    Object.keys(v.claims?.valid_claim_sets?.[0]?.output ?? {})]);
  if (!picked.length) continue;
  vpToken[qid] = picked.map(([c, names]) => present(c, names));
  matched.push(qid);
}
if (input.drop) for (const q of input.drop) delete vpToken[q];
if (input.move) {
  // answers filed under other query ids than the ones they match
  const moved = {};
  for (const [q, v] of Object.entries(vpToken)) moved[input.move[q] ?? q] = v;
  for (const q of Object.keys(vpToken)) delete vpToken[q];
  Object.assign(vpToken, moved);
}

const response = await client.createOpenid4vpAuthorizationResponse({
  authorizationRequestPayload: request, authorizationResponsePayload: { vp_token: vpToken },
});
const submitted = [];
for (let i = 0; i < (input.replay ? 2 : 1); i++) {
  const sent = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request, authorizationResponsePayload: response.authorizationResponsePayload,
  });
  const text = await sent.response.text();
  submitted.push({ status: sent.response.status, body: text ? JSON.parse(text) : null });
}
process.stdout.write(JSON.stringify({ matched, submitted, request: { client_id: request.client_id, state: request.state,
  dcql_ids: query.credentials.map((c) => c.id), client_name: request.client_metadata?.client_name } }));
