// HS256 signature verification with WebCrypto, after the core has checked the token's shape and claims
// (jwt_bridge.js). WebCrypto's verify compares in constant time; the bytes it checks are exactly the
// signing input the core parsed, so the claims returned are the claims that were signed.
//
// Reasons besides the core's ("jwt:expired", ...): "jwt:bad-signature" (wrong key, tampered token, or a
// signature that is not 32 bytes), "jwt:no-secret" (an empty secret would make any HMAC forgeable),
// "jwt:claims-mismatch" (claimsResult was computed for another token).
import { isolate } from "./isolate_context.js";

const encoder = new TextEncoder();
const HMAC_SHA256 = { name: "HMAC", hash: "SHA-256" };
const SIGNATURE_BYTES = 32;

// The secret is one env value per isolate: imported once rather than on every request (isolate.jwtKey).

async function verifyKey(secret) {
  if (typeof CryptoKey !== "undefined" && secret instanceof CryptoKey) return secret;
  if (typeof secret === "string") {
    if (isolate.jwtKey.secret === secret) return isolate.jwtKey.key;
    if (secret.length === 0) return null;
    const key = await crypto.subtle.importKey("raw", encoder.encode(secret), HMAC_SHA256, false, ["verify"]);
    isolate.jwtKey = { secret, key };
    return key;
  }
  if (secret instanceof ArrayBuffer || ArrayBuffer.isView(secret)) {
    if (secret.byteLength === 0) return null;
    return crypto.subtle.importKey("raw", secret, HMAC_SHA256, false, ["verify"]);
  }
  return null;
}

// secret: string (UTF-8), ArrayBuffer / typed array (raw bytes) or an HMAC CryptoKey.
// claimsResult: checkJwtClaims(core, token, ...)'s answer for this token.
// Returns {ok: true, claims} or {ok: false, reason}.
export async function verifyHs256(token, secret, claimsResult) {
  if (!claimsResult || !claimsResult.ok) return { ok: false, reason: claimsResult?.reason || "jwt:malformed" };
  if (claimsResult.token !== token) return { ok: false, reason: "jwt:claims-mismatch" };
  const key = await verifyKey(secret);
  if (!key) return { ok: false, reason: "jwt:no-secret" };
  if (claimsResult.signature.length !== SIGNATURE_BYTES) return { ok: false, reason: "jwt:bad-signature" };
  const valid = await crypto.subtle.verify("HMAC", key, claimsResult.signature, claimsResult.signingInput);
  return valid ? { ok: true, claims: claimsResult.claims } : { ok: false, reason: "jwt:bad-signature" };
}
