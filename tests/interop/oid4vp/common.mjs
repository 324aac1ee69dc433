// Shared helpers of the OpenID4VP peers: did:key (Ed25519) <-> JWK, EdDSA JWS sign/verify,
// the CallbackContext @openid4vc/openid4vp needs. Node's own crypto only.
import crypto from 'node:crypto';

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export function b58encode(bytes) {
  let n = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'));
  let out = '';
  while (n > 0n) { out = B58[Number(n % 58n)] + out; n /= 58n; }
  for (const b of bytes) { if (b === 0) out = '1' + out; else break; }
  return out;
}

export function b58decode(text) {
  let n = 0n;
  for (const c of text) { const i = B58.indexOf(c); if (i < 0) throw new Error('bad base58'); n = n * 58n + BigInt(i); }
  let hex = n.toString(16); if (hex.length % 2) hex = '0' + hex;
  const lead = text.match(/^1*/)[0].length;
  return Buffer.concat([Buffer.alloc(lead), Buffer.from(hex, 'hex')]);
}

export const b64u = (buf) => Buffer.from(buf).toString('base64url');
export const unb64u = (s) => Buffer.from(s, 'base64url');

export function didKeyOfJwk(jwk) {
  const raw = unb64u(jwk.x);
  return 'did:key:z' + b58encode(Buffer.concat([Buffer.from([0xed, 0x01]), raw]));
}

export function jwkOfDidKey(didUrl) {
  const did = didUrl.split('#')[0];
  if (!did.startsWith('did:key:z')) throw new Error(`not a did:key: ${did}`);
  const bytes = b58decode(did.slice('did:key:z'.length));
  if (bytes[0] !== 0xed || bytes[1] !== 0x01) throw new Error('only Ed25519 did:key here');
  return { kty: 'OKP', crv: 'Ed25519', x: b64u(bytes.subarray(2)) };
}

export function signJws(header, payload, privateJwk) {
  const input = b64u(JSON.stringify(header)) + '.' + b64u(JSON.stringify(payload));
  const key = crypto.createPrivateKey({ key: privateJwk, format: 'jwk' });
  return input + '.' + b64u(crypto.sign(null, Buffer.from(input), key));
}

export function verifyJws(compact, publicJwk) {
  const [h, p, s] = compact.split('.');
  const key = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicJwk.x }, format: 'jwk' });
  return crypto.verify(null, Buffer.from(`${h}.${p}`), key, unb64u(s));
}

export const decodePart = (s) => JSON.parse(unb64u(s).toString('utf8'));

export function callbacks(privateJwk) {
  return {
    fetch: globalThis.fetch,
    hash: (data, alg) => new Uint8Array(crypto.createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
    generateRandom: (n) => new Uint8Array(crypto.randomBytes(n)),
    verifyJwt: async (signer, { compact }) => {
      if (signer.method !== 'did') return { verified: false };
      const jwk = jwkOfDidKey(signer.didUrl);
      return verifyJws(compact, jwk) ? { verified: true, signerJwk: jwk } : { verified: false, signerJwk: jwk };
    },
    signJwt: async (signer, { header, payload }) => {
      if (!privateJwk) throw new Error('this peer signs nothing');
      return { jwt: signJws(header, payload, privateJwk), signerJwk: { kty: 'OKP', crv: 'Ed25519', x: privateJwk.x } };
    },
    encryptJwe: async () => { throw new Error('encryption is not used'); },
    decryptJwe: async () => { throw new Error('encryption is not used'); },
  };
}

export async function readStdinJson() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}
