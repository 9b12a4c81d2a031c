// An independent OpenID4VCI wallet: @openid4vc/openid4vci's Openid4vciClient redeems a
// credential offer (pre-authorized code + tx_code) with a P-256 key of its own (jose).
// stdin: {offerUrl, txCode}; stdout: {configurationId, credential, publicJwk}.
import crypto from 'node:crypto'
import * as jose from 'jose'
import { Openid4vciClient } from '@openid4vc/openid4vci'
import { clientAuthenticationAnonymous, setGlobalConfig } from '@openid4vc/oauth2'

const input = JSON.parse(await new Promise((resolve) => {
  let data = ''
  process.stdin.on('data', (chunk) => { data += chunk })
  process.stdin.on('end', () => resolve(data))
}))
setGlobalConfig({ allowInsecureUrls: true }) // the vcred issuer listens on http://127.0.0.1

const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true })
const publicJwk = await jose.exportJWK(publicKey)
const client = new Openid4vciClient({
  callbacks: {
    fetch: globalThis.fetch,
    hash: (data, alg) => crypto.createHash(alg.replace('-', '')).update(data).digest(),
    generateRandom: (size) => crypto.randomBytes(size),
    clientAuthentication: clientAuthenticationAnonymous(),
    signJwt: async (signer, { header, payload }) => {
      const jwt = await new jose.SignJWT(payload).setProtectedHeader(header).sign(privateKey)
      return { jwt, signerJwk: publicJwk }
    },
  },
})

try {
  const offer = await client.resolveCredentialOffer(input.offerUrl)
  const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer)
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer: offer,
    issuerMetadata,
    txCode: input.txCode,
  })
  const configurationId = offer.credential_configuration_ids[0]
  const { c_nonce } = await client.requestNonce({ issuerMetadata })
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata,
    credentialConfigurationId: configurationId,
    signer: { method: 'jwk', publicJwk, alg: 'ES256' },
    nonce: c_nonce,
  })
  const response = await client.retrieveCredentials({
    issuerMetadata,
    accessToken: accessTokenResponse.access_token,
    credentialConfigurationId: configurationId,
    proofs: { jwt: [jwt] },
  })
  const credential = response.credentialResponse.credentials[0].credential
  process.stdout.write(JSON.stringify({ configurationId, credential, publicJwk }))
} catch (error) {
  // the issuer's error answer, last on stderr: what the test matches on
  console.error(JSON.stringify({ error: error.errorResponse?.error ?? String(error.message ?? error) }))
  process.exit(1)
}
