// A credential issuer built with @openid4vc/openid4vci and @openid4vc/oauth2, on loopback, for
// `skillcred wallet receive`. stdin: {"claims": an unsigned credential (issuer and subject are
// filled in here), "tx_code": "123456" | null, "format": "jwt_vc_json" | "dc+sd-jwt"}.
// Prints one JSON line {"offer", "issuer_did", "url"} when listening, then serves until killed;
// each event (token, proof verified, credential issued, error) is a JSON line on stderr.
import http from 'node:http'
import crypto from 'node:crypto'
import { Openid4vciIssuer } from '@openid4vc/openid4vci'
import { Oauth2AuthorizationServer, preAuthorizedCodeGrantIdentifier, Oauth2ServerErrorResponseError } from '@openid4vc/oauth2'
import { callbacks, didKeyOfJwk, newKey, readStdin, signCompact, b64u } from './common.mjs'

const input = await readStdin()
const format = input.format ?? 'jwt_vc_json'
const issuerKey = newKey('EdDSA')
const issuerDid = didKeyOfJwk(issuerKey.publicJwk)
issuerKey.didUrl = `${issuerDid}#${issuerDid.slice('did:key:'.length)}`
const cb = callbacks([issuerKey])
const vci = new Openid4vciIssuer({ callbacks: cb })
const as = new Oauth2AuthorizationServer({ callbacks: cb })
const log = (event) => process.stderr.write(JSON.stringify(event) + '\n')

const server = http.createServer()
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${server.address().port}`
const configurationId = 'skill-credential'
const configuration = format === 'jwt_vc_json'
  ? { format, credential_definition: { type: ['VerifiableCredential', 'OpenBadgeCredential'] } }
  : { format, vct: 'https://peer.example/skill' }
const credentialIssuer = vci.createCredentialIssuerMetadata({
  credential_issuer: url, credential_endpoint: `${url}/credential`, nonce_endpoint: `${url}/nonce`,
  display: [{ name: 'Peer Institute', locale: 'en' }],
  credential_configurations_supported: {
    [configurationId]: {
      ...configuration,
      cryptographic_binding_methods_supported: ['did:key', 'jwk'],
      credential_signing_alg_values_supported: ['EdDSA'],
      proof_types_supported: { jwt: { proof_signing_alg_values_supported: ['ES256', 'EdDSA'] } },
      credential_metadata: { display: [{ name: input.claims?.name ?? 'Skill', locale: 'en' }] },
    },
  },
})
const authorizationServer = as.createAuthorizationServerMetadata({
  issuer: url, token_endpoint: `${url}/token`, 'pre-authorized_grant_anonymous_access_supported': true,
})
const issuerMetadata = {
  credentialIssuer, authorizationServers: [authorizationServer], originalDraftVersion: 'V1',
  knownCredentialConfigurations: vci.getKnownCredentialConfigurationsSupported(credentialIssuer),
}
const preAuthorizedCode = b64u(crypto.randomBytes(32))
const grant = { 'pre-authorized_code': preAuthorizedCode }
if (input.tx_code) grant.tx_code = { input_mode: 'numeric', length: input.tx_code.length }
const { credentialOffer } = await vci.createCredentialOffer({
  issuerMetadata, credentialConfigurationIds: [configurationId],
  grants: { [preAuthorizedCodeGrantIdentifier]: grant },
})
const tokens = new Set()
const nonces = new Set()
let codeUsed = false

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers })
  res.end(JSON.stringify(body))
}

async function body(req) {
  let text = ''
  for await (const chunk of req) { text += chunk; if (text.length > 65536) throw new Error('too large') }
  return text
}

function credentialFor(holder, holderJwk) {
  const claims = structuredClone(input.claims)
  claims.issuer = { id: issuerDid, type: ['Profile'], name: 'Peer Institute' }
  claims.credentialSubject.id = holder
  if (format === 'jwt_vc_json') {
    return signCompact(issuerKey, { alg: 'EdDSA', kid: issuerKey.didUrl, typ: 'vc+jwt', cty: 'vc' }, claims)
  }
  // SD-JWT with no disclosures (every claim visible), bound to the holder key
  return signCompact(issuerKey, { alg: 'EdDSA', kid: issuerKey.didUrl, typ: 'vc+sd-jwt' },
    { ...claims, _sd_alg: 'sha-256', cnf: { jwk: holderJwk } }) + '~'
}

server.on('request', async (req, res) => {
  const path = new URL(req.url, url).pathname
  try {
    if (req.method === 'GET' && path === '/.well-known/openid-credential-issuer') return send(res, 200, credentialIssuer)
    if (req.method === 'GET' && path === '/.well-known/oauth-authorization-server') return send(res, 200, authorizationServer)
    if (req.method === 'POST' && path === '/token') {
      const form = Object.fromEntries(new URLSearchParams(await body(req)))
      const request = { method: 'POST', url: `${url}/token`, headers: new Headers(req.headers) }
      const parsed = as.parseAccessTokenRequest({ request, accessTokenRequest: form })
      if (codeUsed) return send(res, 400, { error: 'invalid_grant', error_description: 'pre-authorized code already used' })
      await as.verifyPreAuthorizedCodeAccessTokenRequest({
        authorizationServerMetadata: authorizationServer, grant: parsed.grant, accessTokenRequest: parsed.accessTokenRequest,
        request, expectedPreAuthorizedCode: preAuthorizedCode, expectedTxCode: input.tx_code ?? undefined,
      })
      codeUsed = true
      const response = await as.createAccessTokenResponse({
        authorizationServer: url, audience: url, subject: 'anonymous', expiresInSeconds: 300,
        signer: { method: 'did', didUrl: issuerKey.didUrl, alg: 'EdDSA' },
      })
      tokens.add(response.access_token)
      log({ event: 'token' })
      return send(res, 200, response)
    }
    if (req.method === 'POST' && path === '/nonce') {
      const cNonce = b64u(crypto.randomBytes(16))
      nonces.add(cNonce)
      return send(res, 200, vci.createNonceResponse({ cNonce, cNonceExpiresIn: 300 }))
    }
    if (req.method === 'POST' && path === '/credential') {
      const auth = req.headers.authorization ?? ''
      if (!auth.startsWith('Bearer ') || !tokens.has(auth.slice(7))) {
        return send(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' })
      }
      const credentialRequest = vci.parseCredentialRequest({ issuerMetadata, credentialRequest: JSON.parse(await body(req)) })
      const jwt = credentialRequest.proofs?.jwt?.[0]
      if (!jwt) return send(res, 400, { error: 'invalid_proof', error_description: 'no jwt proof' })
      const nonce = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url')).nonce
      if (!nonces.delete(nonce)) return send(res, 400, { error: 'invalid_nonce' })
      const verified = await vci.verifyCredentialRequestJwtProof({
        issuerMetadata, jwt, expectedNonce: nonce, nonceExpiresAt: new Date(Date.now() + 300000),
      })
      const holderJwk = verified.signer.publicJwk
      const holder = verified.signer.method === 'did' ? verified.signer.didUrl.split('#')[0] : didKeyOfJwk(holderJwk)
      log({ event: 'proof', holder, method: verified.signer.method, alg: verified.header.alg })
      tokens.delete(auth.slice(7))
      const response = vci.createCredentialResponse({ credentialRequest, credentials: [{ credential: credentialFor(holder, holderJwk) }] })
      log({ event: 'issued', holder })
      return send(res, 200, response)
    }
    return send(res, 404, { error: 'not_found' })
  } catch (error) {
    log({ event: 'error', message: String(error?.message ?? error) })
    if (error instanceof Oauth2ServerErrorResponseError) return send(res, 400, error.errorResponse)
    return send(res, 400, { error: 'invalid_request', error_description: String(error?.message ?? error) })
  }
})

process.stdout.write(JSON.stringify({ offer: credentialOffer, issuer_did: issuerDid, url }) + '\n')
process.on('SIGTERM', () => server.close(() => process.exit(0)))
