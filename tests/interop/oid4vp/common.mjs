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

// -- JWE (RFC 7516), ECDH-ES direct key agreement (RFC 7518 §4.6) with AES-GCM: node's crypto only --

const GCM_BITS = { A128GCM: 128, A256GCM: 256 };

function concatKdf(z, enc, bits, apu, apv) {
  const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
  const field = (buf) => Buffer.concat([u32(buf.length), buf]);
  const other = Buffer.concat([field(Buffer.from(enc)), field(apu), field(apv), u32(bits)]);
  return crypto.createHash('sha256').update(Buffer.concat([u32(1), z, other])).digest().subarray(0, bits / 8);
}

const ecPublic = (jwk) => crypto.createPublicKey({ key: { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' });

export function newEncryptionKey() {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const priv = privateKey.export({ format: 'jwk' });
  const kid = b64u(crypto.createHash('sha256').update(JSON.stringify({ crv: priv.crv, kty: priv.kty, x: priv.x, y: priv.y })).digest());
  const pub = { kty: priv.kty, crv: priv.crv, x: priv.x, y: priv.y, use: 'enc', alg: 'ECDH-ES', kid };
  return { pub, priv: { ...pub, d: priv.d } };
}

// header: extra protected members (or overrides: alg, enc, kid) -- the attack cases use them
export function encryptJwe(publicJwk, enc, plaintext, { apu, apv, header = {} } = {}) {
  if (publicJwk.kty !== 'EC' || publicJwk.crv !== 'P-256') throw new Error(`cannot encrypt to a ${publicJwk.kty} key`);
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const epk = publicKey.export({ format: 'jwk' });
  const protectedHeader = { alg: 'ECDH-ES', enc, kid: publicJwk.kid, epk: { kty: epk.kty, crv: epk.crv, x: epk.x, y: epk.y },
    ...(apu ? { apu } : {}), ...(apv ? { apv } : {}), ...header };
  const h = b64u(JSON.stringify(protectedHeader));
  const z = crypto.diffieHellman({ privateKey, publicKey: ecPublic(publicJwk) });
  const bits = GCM_BITS[enc] ?? 128;
  const cek = concatKdf(z, enc, bits, apu ? unb64u(apu) : Buffer.alloc(0), apv ? unb64u(apv) : Buffer.alloc(0));
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv(`aes-${bits}-gcm`, cek, iv);
  cipher.setAAD(Buffer.from(h));
  const ct = Buffer.concat([cipher.update(Buffer.from(plaintext, 'utf8')), cipher.final()]);
  return `${h}..${b64u(iv)}.${b64u(ct)}.${b64u(cipher.getAuthTag())}`;
}

// {payload} or {error}: the header is checked before anything is decrypted
export function decryptJwe(compact, privateJwk, encValues) {
  const parts = compact.split('.');
  if (parts.length !== 5) return { error: 'not a compact JWE' };
  let header;
  try { header = decodePart(parts[0]); } catch { return { error: 'header not JSON' }; }
  if (header.alg !== 'ECDH-ES') return { error: `alg ${header.alg} not allowed` };
  if (!encValues.includes(header.enc)) return { error: `enc ${header.enc} not offered` };
  if (header.kid !== privateJwk.kid) return { error: 'kid is not our key' };
  if (header.zip || parts[1]) return { error: 'zip or encrypted key' };
  try {
    const z = crypto.diffieHellman({ privateKey: crypto.createPrivateKey({ key: privateJwk, format: 'jwk' }), publicKey: ecPublic(header.epk) });
    const bits = GCM_BITS[header.enc];
    const cek = concatKdf(z, header.enc, bits, header.apu ? unb64u(header.apu) : Buffer.alloc(0), header.apv ? unb64u(header.apv) : Buffer.alloc(0));
    const decipher = crypto.createDecipheriv(`aes-${bits}-gcm`, cek, unb64u(parts[2]));
    decipher.setAAD(Buffer.from(parts[0]));
    decipher.setAuthTag(unb64u(parts[4]));
    return { payload: Buffer.concat([decipher.update(unb64u(parts[3])), decipher.final()]).toString('utf8') };
  } catch (e) {
    return { error: `does not decrypt: ${e.message}` };
  }
}

// jwe: {tamper?, enc?} for the wallet's encryptJwe; decryption: {priv, encValues} for the verifier's decryptJwe
export function callbacks(privateJwk, { jwe = {}, decryption } = {}) {
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
    encryptJwe: async (encryptor, data) => {
      let target = encryptor.publicJwk;
      if (jwe.tamper === 'other-key') target = { ...newEncryptionKey().pub, kid: target.kid }; // our kid, another key
      if (jwe.tamper === 'other-kid') target = newEncryptionKey().pub;
      const header = jwe.tamper === 'dir' ? { alg: 'dir' } : {};
      let out = encryptJwe(target, jwe.enc ?? encryptor.enc, data, { apu: encryptor.apu, apv: encryptor.apv, header });
      if (jwe.tamper === 'tag' || jwe.tamper === 'ciphertext') {
        const parts = out.split('.'); const i = jwe.tamper === 'tag' ? 4 : 3;
        const raw = unb64u(parts[i]); raw[0] ^= 1; parts[i] = b64u(raw); out = parts.join('.');
      }
      return { jwe: out, encryptionJwk: encryptor.publicJwk };
    },
    decryptJwe: async (compact) => {
      if (!decryption) return { decrypted: false };
      const result = decryptJwe(compact, decryption.priv, decryption.encValues);
      decryption.last = result.error;
      return result.error ? { decrypted: false } : { decrypted: true, payload: result.payload, decryptionJwk: decryption.pub };
    },
  };
}

export async function readStdinJson() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}
