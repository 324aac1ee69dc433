// eddsa-jcs-2022 (W3C vc-di-eddsa) written here from the spec with node's own crypto: JCS
// (RFC 8785), SHA-256 of the proof configuration then of the document, an Ed25519 signature,
// multibase base58btc proofValue. Independent of skillcred's implementation, so a Data Integrity
// presentation crosses implementations both ways.
import crypto from 'node:crypto';
import { b58decode, b58encode, jwkOfDidKey } from './common.mjs';

// RFC 8785: object members sorted by UTF-16 code units, ES number and string serialisation
export function jcs(value) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return '[' + value.map(jcs).join(',') + ']';
  const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + jcs(value[k])).join(',') + '}';
}

const sha256 = (text) => crypto.createHash('sha256').update(Buffer.from(text, 'utf8')).digest();

function hashData(unsecured, proofConfig) {
  return Buffer.concat([sha256(jcs(proofConfig)), sha256(jcs(unsecured))]);
}

// add a proof (options: verificationMethod, proofPurpose, challenge?, domain?) with a private JWK
export function signJcs(document, options, privateJwk) {
  const unsecured = { ...document }; delete unsecured.proof;
  const proof = { '@context': unsecured['@context'], type: 'DataIntegrityProof', cryptosuite: 'eddsa-jcs-2022',
    created: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), ...options };
  const key = crypto.createPrivateKey({ key: privateJwk, format: 'jwk' });
  const signature = crypto.sign(null, hashData(unsecured, proof), key);
  return { ...unsecured, proof: { ...proof, proofValue: 'z' + b58encode(signature) } };
}

// check an eddsa-jcs-2022 proof made by a did:key method: {ok, reason?, proof}
export function verifyJcs(document, purpose) {
  const proof = document.proof;
  if (!proof || Array.isArray(proof) || proof.type !== 'DataIntegrityProof' || proof.cryptosuite !== 'eddsa-jcs-2022') {
    return { ok: false, reason: `not one eddsa-jcs-2022 proof (${proof?.cryptosuite})` };
  }
  if (proof.proofPurpose !== purpose) return { ok: false, reason: `proofPurpose ${proof.proofPurpose}` };
  if (typeof proof.proofValue !== 'string' || !proof.proofValue.startsWith('z')) return { ok: false, reason: 'proofValue' };
  const unsecured = { ...document }; delete unsecured.proof;
  const config = { ...proof }; delete config.proofValue;
  if (config['@context'] !== undefined) {
    const doc = [].concat(unsecured['@context']); const own = [].concat(config['@context']);
    if (JSON.stringify(doc.slice(0, own.length)) !== JSON.stringify(own)) return { ok: false, reason: 'context' };
    unsecured['@context'] = config['@context'];
  }
  let key;
  try { key = crypto.createPublicKey({ key: jwkOfDidKey(proof.verificationMethod), format: 'jwk' }); } catch (e) {
    return { ok: false, reason: `method ${proof.verificationMethod}: ${e.message}` };
  }
  const ok = crypto.verify(null, hashData(unsecured, config), key, b58decode(proof.proofValue.slice(1)));
  return ok ? { ok, proof } : { ok, reason: 'signature', proof };
}
