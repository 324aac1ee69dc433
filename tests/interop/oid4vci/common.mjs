// Crypto callbacks for @openid4vc/* (node:crypto only) and did:key <-> JWK, shared by the
// peer wallet (wallet.mjs) and the peer issuer (issuer.mjs).
import crypto from 'node:crypto'
import { setGlobalConfig } from '@openid4vc/oauth2'

// the tests run on loopback: http:// URLs (the library allows only https:// by default)
setGlobalConfig({ allowInsecureUrls: true })

export const b64u = (buf) => Buffer.from(buf).toString('base64url')
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

function base58(bytes) {
  let n = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'))
  let out = ''
  while (n > 0n) { out = ALPHABET[Number(n % 58n)] + out; n /= 58n }
  for (const b of bytes) { if (b === 0) out = '1' + out; else break }
  return out
}

function unbase58(text) {
  let n = 0n
  for (const c of text) n = n * 58n + BigInt(ALPHABET.indexOf(c))
  let hex = n.toString(16); if (hex.length % 2) hex = '0' + hex
  const lead = text.match(/^1*/)[0].length
  return Buffer.concat([Buffer.alloc(lead), Buffer.from(hex, 'hex')])
}

export function didKeyOfJwk(jwk) {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') {
    return 'did:key:z' + base58(Buffer.concat([Buffer.from([0xed, 0x01]), Buffer.from(jwk.x, 'base64url')]))
  }
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') {
    const y = Buffer.from(jwk.y, 'base64url')
    const point = Buffer.concat([Buffer.from([y[y.length - 1] & 1 ? 3 : 2]), Buffer.from(jwk.x, 'base64url')])
    return 'did:key:z' + base58(Buffer.concat([Buffer.from([0x80, 0x24]), point]))
  }
  throw new Error(`no did:key for ${jwk.kty}/${jwk.crv}`)
}

export function jwkOfDidKey(didUrl) {
  const did = didUrl.split('#')[0]
  const raw = unbase58(did.slice('did:key:z'.length))
  if (raw[0] === 0xed && raw[1] === 0x01) return { kty: 'OKP', crv: 'Ed25519', x: b64u(raw.subarray(2)) }
  if (raw[0] === 0x80 && raw[1] === 0x24) {
    const key = crypto.createPublicKey({ key: Buffer.concat([Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'), raw.subarray(2)]), format: 'der', type: 'spki' })
    const { kty, crv, x, y } = key.export({ format: 'jwk' })
    return { kty, crv, x, y }
  }
  throw new Error(`unsupported did:key ${did}`)
}

export function newKey(alg) {
  const { privateKey, publicKey } = alg === 'ES256'
    ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : crypto.generateKeyPairSync('ed25519')
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' })
  return { alg, privateKey, publicJwk: y ? { kty, crv, x, y } : { kty, crv, x } }
}

export function signCompact(key, header, payload) {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`
  const sig = key.alg === 'ES256'
    ? crypto.sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
    : crypto.sign(null, Buffer.from(input), key.privateKey)
  return `${input}.${b64u(sig)}`
}

export function verifyCompact(compact, jwk) {
  const [h, p, s] = compact.split('.')
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' })
  const alg = JSON.parse(Buffer.from(h, 'base64url')).alg
  const data = Buffer.from(`${h}.${p}`)
  const sig = Buffer.from(s, 'base64url')
  return alg === 'ES256'
    ? crypto.verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig)
    : crypto.verify(null, data, key, sig)
}

export function callbacks(keys) {
  return {
    hash: (data, alg) => crypto.createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
    generateRandom: (n) => crypto.randomBytes(n),
    signJwt: async (signer, { header, payload }) => {
      const key = keys.find((k) => signer.method === 'did' ? k.didUrl === signer.didUrl
        : JSON.stringify(k.publicJwk) === JSON.stringify(signer.publicJwk)) ?? keys[0]
      return { jwt: signCompact(key, header, payload), signerJwk: key.publicJwk }
    },
    verifyJwt: async (signer, { compact }) => {
      const jwk = signer.method === 'did' ? jwkOfDidKey(signer.didUrl) : signer.publicJwk
      return verifyCompact(compact, jwk) ? { verified: true, signerJwk: jwk } : { verified: false }
    },
  }
}

export async function readStdin() {
  let text = ''
  for await (const chunk of process.stdin) text += chunk
  return text ? JSON.parse(text) : {}
}
