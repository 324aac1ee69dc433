// Interop peer for tests/test_sdjwt_interop.py: the OpenWallet Foundation libraries
// @sd-jwt/sd-jwt-vc (SD-JWT VC, dc+sd-jwt) and @sd-jwt/jwt-status-list (IETF Token Status List).
// Usage: node peer.mjs COMMAND < input.json > output.json. Nothing is fetched: the status list
// token and the type metadata come in the input (the fetchers return them).
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { ES256, digest, generateSalt } from '@sd-jwt/crypto-nodejs';
import { StatusList, createHeaderAndPayload, getListFromStatusListJWT } from '@sd-jwt/jwt-status-list';

const input = JSON.parse(await new Promise((resolve) => {
  let data = '';
  process.stdin.on('data', (c) => { data += c; });
  process.stdin.on('end', () => resolve(data || '{}'));
}));

const b64u = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');

async function signJwt(header, payload, privateJwk) {
  const signer = await ES256.getSigner(privateJwk);
  const signingInput = `${b64u(header)}.${b64u(payload)}`;
  return `${signingInput}.${await signer(signingInput)}`;
}

async function instance(extra = {}) {
  return new SDJwtVcInstance({
    hasher: digest, hashAlg: 'sha-256', saltGenerator: generateSalt,
    signAlg: ES256.alg,
    signer: input.issuer_private_jwk ? await ES256.getSigner(input.issuer_private_jwk) : undefined,
    verifier: input.issuer_public_jwk ? await ES256.getVerifier(input.issuer_public_jwk) : undefined,
    kbSignAlg: ES256.alg,
    kbSigner: input.holder_private_jwk ? await ES256.getSigner(input.holder_private_jwk) : undefined,
    kbVerifier: async (data, sig, payload) => (await ES256.getVerifier(payload.cnf.jwk))(data, sig),
    statusListFetcher: async (uri) => {
      if (!input.status_list_token) throw new Error(`no status list token given for ${uri}`);
      return input.status_list_token;
    },
    vctFetcher: async () => input.type_metadata,
    loadTypeMetadataFormat: Boolean(input.type_metadata),
    ...extra,
  });
}

const commands = {
  // verify skillcred's dc+sd-jwt (with a KB-JWT when input.kb)
  async verify() {
    const sdjwt = await instance();
    let result;
    try {
      result = await sdjwt.verify(input.token, input.kb
        ? { keyBindingNonce: input.nonce, requiredClaimKeys: ['vct', 'iss'] } : { requiredClaimKeys: ['vct', 'iss'] });
    } catch (err) {
      return { ok: false, error: String(err && err.message ? err.message : err) };
    }
    return { ok: true, payload: result.payload, header: result.header, kb: result.kb ? result.kb.payload : null,
             type_metadata: result.typeMetadata ? result.typeMetadata.vctValues : null };
  },
  // issue an SD-JWT VC with the peer, then present it with only input.disclose released (+ KB)
  async issue() {
    const sdjwt = await instance();
    const token = await sdjwt.issue(input.claims, input.disclosure_frame, { header: { kid: input.issuer_kid } });
    if (!input.present) return { token };
    const kb = input.nonce ? { payload: { iat: Math.floor(Date.now() / 1000), aud: input.aud, nonce: input.nonce } }
      : undefined;
    const presented = await sdjwt.present(token, input.present, kb ? { kb } : undefined);
    return { token, presented };
  },
  // read statuses from skillcred's Status List Token
  async status() {
    const list = getListFromStatusListJWT(input.token);
    return { bits: list.getBitsPerStatus(), statuses: input.indexes.map((i) => list.getStatus(i)) };
  },
  // make a Status List Token with the peer
  async make_status() {
    const list = new StatusList(input.statuses, input.bits);
    const iat = Math.floor(Date.now() / 1000);
    const { header, payload } = createHeaderAndPayload(
      list, { iss: input.iss, sub: input.uri, iat, exp: iat + 86400 },
      { alg: 'ES256', typ: 'statuslist+jwt', kid: input.kid });
    return { token: await signJwt(header, payload, input.private_jwk) };
  },
  // decode a lst the way the library does (for the draft's vectors)
  async decode_lst() {
    const list = StatusList.decompressStatusList(input.lst, input.bits);
    return { statuses: list.statusList.slice(0, input.count) };
  },
};

const command = commands[process.argv[2]];
if (!command) { console.error(`unknown command ${process.argv[2]}`); process.exit(2); }
try {
  process.stdout.write(JSON.stringify(await command()));
} catch (err) {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
}
