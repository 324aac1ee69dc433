// A wallet built with @openid4vc/openid4vci receives one credential offer from skillcred serve.
// stdin: {"offer": URI, "tx_code": "123456"?, "alg": "ES256"|"EdDSA", "signer": "jwk"|"did"}
// stdout: {"credentials": [...], "format", "configuration_id", "holder", "metadata", "token_type"}
// Every response is validated by the library (its zod schemas); a failure exits non-zero.
import { Openid4vciClient } from '@openid4vc/openid4vci'
import { clientAuthenticationAnonymous } from '@openid4vc/oauth2'
import { callbacks, didKeyOfJwk, newKey, readStdin } from './common.mjs'

const input = await readStdin()
const key = newKey(input.alg ?? 'EdDSA')
const holder = didKeyOfJwk(key.publicJwk)
key.didUrl = `${holder}#${holder.slice('did:key:'.length)}`
const client = new Openid4vciClient({ callbacks: { ...callbacks([key]), clientAuthentication: clientAuthenticationAnonymous() } })

const offer = await client.resolveCredentialOffer(input.offer)
const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer)
const configurationId = offer.credential_configuration_ids[0]
const config = issuerMetadata.credentialIssuer.credential_configurations_supported[configurationId]
if (!config) throw new Error(`metadata lacks ${configurationId}`)
const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
  credentialOffer: offer, issuerMetadata, txCode: input.tx_code ?? undefined,
})
const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata })
const signer = input.signer === 'did'
  ? { method: 'did', didUrl: key.didUrl, alg: key.alg }
  : { method: 'jwk', publicJwk: key.publicJwk, alg: key.alg }
const { jwt } = await client.createCredentialRequestJwtProof({
  issuerMetadata, credentialConfigurationId: configurationId, signer, nonce,
})
const response = await client.retrieveCredentials({
  issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: configurationId,
  proofs: { jwt: [jwt] },
})
if (!response.ok) throw new Error(`credential request failed: ${JSON.stringify(response.credentialResponseResult ?? response)}`)
const body = response.credentialResponse
// A dc+sd-jwt must be an SD-JWT VC of the configuration's vct, bound (cnf) to this wallet's key.
const decode = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
const sdJwtVc = config.format === 'dc+sd-jwt'
  ? (body.credentials ?? []).map((c) => {
      const [header, payload] = c.credential.split('~')[0].split('.').slice(0, 2).map(decode)
      if (header.typ !== 'dc+sd-jwt') throw new Error(`typ ${header.typ} is not dc+sd-jwt`)
      if (payload.vct !== config.vct) throw new Error(`vct ${payload.vct} is not the configuration's ${config.vct}`)
      if (['kty', 'crv', 'x', 'y'].some((m) => payload.cnf?.jwk?.[m] !== key.publicJwk[m])) throw new Error('cnf is not the proof key')
      return { typ: header.typ, vct: payload.vct, status: payload.status ?? null }
    })
  : null
process.stdout.write(JSON.stringify({
  sd_jwt_vc: sdJwtVc, vct: config.vct ?? null,
  credentials: (body.credentials ?? []).map((c) => c.credential),
  format: config.format, configuration_id: configurationId, holder, holder_jwk: key.publicJwk,
  token_type: accessTokenResponse.token_type, authorization_servers: issuerMetadata.authorizationServers.map((a) => a.issuer),
}))
