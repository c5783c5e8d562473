// The JS side of ec_check_jwt: writes JwtFacts into the core's scratch region and reads JwtCheck back
// (layout: src/abi/abi_layout.h). The core decides whether a bearer token is well formed, HS256, and
// inside its validity window for the required issuer and audience; jwt_verify.js then checks the HMAC
// over the signing input returned here. The secret never crosses into Wasm.
// The generated ABI constants, not core_bridge.js (which loads the Wasm module): this file loads in plain Node.
import * as ABI from "./generated/abi_layout.js";

// "NotYetValid" -> "jwt:not-yet-valid": the same stable strings as jwtErrorName() in src/jwt_claims.cpp.
const kebab = (name) => name.replace(/[A-Z]/g, (c, i) => (i ? "-" : "") + c.toLowerCase());
const REASONS = Object.freeze(Object.fromEntries(Object.entries(ABI.JwtCode).map(([name, code]) => [code, `jwt:${kebab(name)}`])));

export function jwtReason(code) {
  return REASONS[code] || `jwt:unknown-${code}`;
}

function failure(code) {
  return { ok: false, error: code, reason: jwtReason(code) };
}

// core: a CoreInstance (getCore(env) / withCore(env, fn) from core_bridge.js).
// Returns {ok: true, token, claims: {sub, iss, exp, nbf, iat}, signingInput: Uint8Array, signature: Uint8Array}
// (absent sub/iss are "", absent nbf/iat are null) or {ok: false, error: JwtCode, reason: "jwt:..."}.
// signingInput and signature are copies: the scratch and result regions are reused by the next call.
export function checkJwtClaims(core, token, { nowS = Date.now() / 1000, leewayS = 30, issuer = "", audience = "", maxTokenBytes = 0 } = {}) {
  if (typeof token !== "string") return failure(ABI.JwtCode.Malformed);
  core.refreshViews();
  const s = core.scratch;
  // A non-number clock reaches the core as NaN, which it treats as "every token is expired".
  core.putF64(s, ABI.kJwtNowS, Math.floor(Number(nowS)));
  core.putU32(s, ABI.kJwtLeewayS, Math.min(Math.max(0, Math.floor(Number(leewayS) || 0)), 0xffffffff));
  core.putU32(s, ABI.kJwtMaxTokenBytes, maxTokenBytes >>> 0);
  let cursor = s + ABI.kJwtStrings;
  const fields = [[ABI.kJwtTokenLength, token], [ABI.kJwtIssuerLength, issuer || ""], [ABI.kJwtAudienceLength, audience || ""]];
  for (const [slot, value] of fields) {
    const next = core.putString(cursor, value);
    if (next < 0) return failure(ABI.JwtCode.TooLarge);
    core.putU32(s, slot, next - cursor);
    cursor = next;
  }

  const code = core.exports.ec_check_jwt();
  core.refreshViews(); // the check allocates, so memory may have grown
  if (code !== ABI.JwtCode.None) return failure(code);

  const r = core.result;
  const present = core.getU32(r, ABI.kJwtResClaims);
  const date = (bit, off) => (present & bit ? core.f64[(r + off) >>> 3] : null);
  const subLength = core.getU32(r, ABI.kJwtResSubLength);
  const issLength = core.getU32(r, ABI.kJwtResIssLength);
  const signatureLength = core.getU32(r, ABI.kJwtResSignatureLength);
  const strings = r + ABI.kJwtResStrings;
  const signingInputAt = s + core.getU32(r, ABI.kJwtResSigningInputOffset);
  const signatureAt = strings + subLength + issLength;
  return {
    ok: true,
    token,
    claims: {
      sub: core.readString(strings, subLength),
      iss: core.readString(strings + subLength, issLength),
      exp: date(ABI.JwtClaimBit.Exp, ABI.kJwtResExpS),
      nbf: date(ABI.JwtClaimBit.Nbf, ABI.kJwtResNbfS),
      iat: date(ABI.JwtClaimBit.Iat, ABI.kJwtResIatS),
    },
    signingInput: core.u8.slice(signingInputAt, signingInputAt + core.getU32(r, ABI.kJwtResSigningInputLength)),
    signature: core.u8.slice(signatureAt, signatureAt + signatureLength),
  };
}
