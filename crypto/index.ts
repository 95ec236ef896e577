/**
 * crypto/: identities, network certificates and revocation, pairwise keys, AEAD/HMAC, onion
 * layers, replay windows, and the authenticators the link layer and protocols use
 * (docs/SECURITY.md).
 */
export {
  addressOf, decodeIdentity, encodeIdentity, generateIdentity, identityFromSecrets, loadIdentity, saveIdentity, verify,
  IDENTITY_FORMAT, IDENTITY_VERSION, X25519_KEY_BYTES, type Identity,
} from './identity.ts'
export { ed25519, nativeEd25519, nobleEd25519, PUBLIC_KEY_BYTES, SEED_BYTES, SIGNATURE_BYTES, type Ed25519Backend, type Ed25519Signer } from './ed25519.ts'
export {
  CertificateError, TrustAnchor, decodeCertificate, decodeNetworkInfo, decodeRevocationList, encodeNetworkInfo, issueCertificate,
  issueRevocationList, networkIdOf, networkInfo, type Addressing, type CertRejection, type Certificate, type NetworkInfo, type RevocationList,
} from './cert.ts'
export { initNetwork, issueToNetwork, loadAuthority, loadCertificate, loadNetwork, revokeInNetwork, saveCertificate } from './network-dir.ts'
export { CertStore } from './cert-store.ts'
export { hkdf, pairwiseKey, x25519Shared } from './pairwise.ts'
export { MacKey, hmacTag, hmacVerify, open, seal, AEAD_KEY_BYTES, AEAD_NONCE_BYTES, AEAD_TAG_BYTES } from './aead.ts'
export { buildOnion, peelOnion, ONION_LAYER_OVERHEAD } from './onion.ts'
export { ReplayWindows, type ReplayVerdict } from './replay.ts'
export { DEFAULT_SECURITY_CONFIG, validateSecurityConfig, type SecurityConfig, type SecurityMode } from './security-defaults.ts'
export { LinkAuth, LINK_TRAILER_BYTES } from './link-auth.ts'
export { OriginAuth, E2E_TRAILER_BYTES, type OriginVerdict } from './origin-auth.ts'
export { SimNetwork, validateSimSecurity, type NodeSecurity } from './sim-network.ts'
