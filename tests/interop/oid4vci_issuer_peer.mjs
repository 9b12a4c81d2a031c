// An independent OpenID4VCI issuer on loopback: @openid4vc/openid4vci's Openid4vciIssuer and
// @openid4vc/oauth2's Oauth2AuthorizationServer check the requests (token request with
// tx_code, nonce, JWT proof); the credential is a VCDM 2.0 vc+jwt signed with jose by a did:jwk
// issuer, its credentialSubject.id the did:jwk of the proof's key.
// stdin: {format}; stdout (one line): {offerUrl, txCode, issuer}; runs until stdin closes.
import crypto from 'node:crypto'
import http from 'node:http'
import * as jose from 'jose'
import { Openid4vciIssuer } from '@openid4vc/openid4vci'
import { Oauth2AuthorizationServer, setGlobalConfig } from '@openid4vc/oauth2'

setGlobalConfig({ allowInsecureUrls: true })
const b64url = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true })
const issuerJwk = await jose.exportJWK(publicKey)
const issuerDid = `did:jwk:${b64url({ crv: issuerJwk.crv, kty: issuerJwk.kty, x: issuerJwk.x, y: issuerJwk.y })}`

const callbacks = {
  fetch: globalThis.fetch,
  hash: (data, alg) => crypto.createHash(alg.replace('-', '')).update(data).digest(),
  generateRandom: (size) => crypto.randomBytes(size),
  signJwt: async () => { throw new Error('not used') },
  verifyJwt: async (signer, { compact }) => {
    if (signer.method !== 'jwk') return { verified: false }
    try {
      await jose.compactVerify(compact, await jose.importJWK(signer.publicJwk, signer.alg))
      return { verified: true, signerJwk: signer.publicJwk }
    } catch {
      return { verified: false }
    }
  },
  clientAuthentication: () => {},
}
const vci = new Openid4vciIssuer({ callbacks })
const as = new Oauth2AuthorizationServer({ callbacks })

const server = http.createServer()
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const base = `http://127.0.0.1:${server.address().port}`
const configurationId = 'TraderCredential_jwt_vc_json'
const credentialIssuer = vci.createCredentialIssuerMetadata({
  credential_issuer: base,
  credential_endpoint: `${base}/credential`,
  nonce_endpoint: `${base}/nonce`,
  credential_configurations_supported: {
    [configurationId]: {
      format: 'jwt_vc_json',
      cryptographic_binding_methods_supported: ['did:jwk'],
      credential_signing_alg_values_supported: ['ES256'],
      proof_types_supported: { jwt: { proof_signing_alg_values_supported: ['ES256', 'EdDSA'] } },
      credential_definition: { type: ['VerifiableCredential', 'TraderCredential'] },
    },
  },
})
const authorizationServer = as.createAuthorizationServerMetadata({
  issuer: base,
  token_endpoint: `${base}/token`,
  'pre-authorized_grant_anonymous_access_supported': true,
})
const issuerMetadata = {
  originalDraftVersion: 'v1',
  credentialIssuer,
  authorizationServers: [authorizationServer],
  knownCredentialConfigurations: vci.getKnownCredentialConfigurationsSupported(credentialIssuer),
}
const preAuthorizedCode = crypto.randomBytes(16).toString('base64url')
const txCode = String(crypto.randomInt(100000, 999999))
const accessToken = crypto.randomBytes(16).toString('base64url')
const nonces = new Set()
let redeemed = false
const { credentialOffer, credentialOfferObject } = await vci.createCredentialOffer({
  issuerMetadata,
  credentialConfigurationIds: [configurationId],
  grants: {
    'urn:ietf:params:oauth:grant-type:pre-authorized_code': {
      'pre-authorized_code': preAuthorizedCode,
      tx_code: { input_mode: 'numeric', length: 6 },
    },
  },
  credentialOfferUri: `${base}/offer`,
})

function send(response, status, body) {
  response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
  response.end(JSON.stringify(body))
}

async function handle(request, response, body) {
  const url = new URL(request.url, base)
  const like = { method: request.method, url: url.href, headers: new Headers(request.headers) }
  if (url.pathname === '/.well-known/openid-credential-issuer') return send(response, 200, credentialIssuer)
  if (url.pathname === '/.well-known/oauth-authorization-server') return send(response, 200, authorizationServer)
  if (url.pathname === '/offer') return send(response, 200, credentialOfferObject)
  if (url.pathname === '/token') {
    const form = Object.fromEntries(new URLSearchParams(body))
    const parsed = as.parseAccessTokenRequest({ request: like, accessTokenRequest: form })
    if (redeemed) return send(response, 400, { error: 'invalid_grant' })
    await as.verifyPreAuthorizedCodeAccessTokenRequest({
      authorizationServerMetadata: authorizationServer,
      grant: parsed.grant,
      accessTokenRequest: parsed.accessTokenRequest,
      request: like,
      expectedPreAuthorizedCode: preAuthorizedCode,
      expectedTxCode: txCode,
    })
    redeemed = true
    return send(response, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: 300 })
  }
  if (url.pathname === '/nonce') {
    const cNonce = crypto.randomBytes(16).toString('base64url')
    nonces.add(cNonce)
    return send(response, 200, vci.createNonceResponse({ cNonce, cNonceExpiresIn: 300 }))
  }
  if (url.pathname === '/credential') {
    if (request.headers.authorization !== `Bearer ${accessToken}`) return send(response, 401, { error: 'invalid_token' })
    const credentialRequest = vci.parseCredentialRequest({ issuerMetadata, credentialRequest: JSON.parse(body) })
    const proof = credentialRequest.proofs?.jwt?.[0]
    const { nonce } = jose.decodeJwt(proof) // unverified: only to find which nonce it claims
    if (!nonces.delete(nonce)) return send(response, 400, { error: 'invalid_nonce' })
    const verified = await vci.verifyCredentialRequestJwtProof({ issuerMetadata, jwt: proof, expectedNonce: nonce })
    const holderJwk = verified.signer.publicJwk
    const holder = `did:jwk:${b64url({ crv: holderJwk.crv, kty: holderJwk.kty, x: holderJwk.x, y: holderJwk.y })}`
    const now = Math.floor(Date.now() / 1000)
    const credential = await new jose.SignJWT({
      '@context': ['https://www.w3.org/ns/credentials/v2'],
      type: ['VerifiableCredential', 'TraderCredential'],
      issuer: issuerDid,
      validFrom: new Date((now - 60) * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
      credentialSubject: { id: holder, name: 'Prairie Grain Exports LLC' },
    }).setProtectedHeader({ alg: 'ES256', typ: 'vc+jwt', kid: `${issuerDid}#0` }).sign(privateKey)
    return send(response, 200, vci.createCredentialResponse({ credentialRequest, credentials: [{ credential }] }))
  }
  return send(response, 404, { error: 'not_found' })
}

server.on('request', (request, response) => {
  let body = ''
  request.on('data', (chunk) => { body += chunk })
  request.on('end', () => {
    handle(request, response, body).catch((error) => {
      if (process.env.PEER_DEBUG) console.error(error)
      const answer = error.errorResponse ?? { error: 'invalid_request', error_description: String(error.message ?? error) }
      send(response, error.statusCode ?? 400, answer)
    })
  })
})
process.stdout.write(JSON.stringify({ offerUrl: credentialOffer, txCode, issuer: issuerDid }) + '\n')
process.stdin.resume()
process.stdin.on('end', () => server.close(() => process.exit(0)))
