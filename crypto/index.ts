/**
 * crypto/: identities and signatures (issue 5, in progress: certificates, pairwise keys, AEAD,
 * onion layers, replay windows and the link-layer integration follow).
 */
export {
  addressOf, decodeIdentity, encodeIdentity, generateIdentity, identityFromSecrets, loadIdentity, saveIdentity, verify,
  IDENTITY_FORMAT, IDENTITY_VERSION, X25519_KEY_BYTES, type Identity,
} from './identity.ts'
export { ed25519, nativeEd25519, nobleEd25519, PUBLIC_KEY_BYTES, SEED_BYTES, SIGNATURE_BYTES, type Ed25519Backend, type Ed25519Signer } from './ed25519.ts'
