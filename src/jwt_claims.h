#pragma once
// JWT (RFC 7519) header and claims checks for HS256 bearer tokens. The shim verifies the HMAC with WebCrypto over
// `signingInput`; everything about the token's shape, algorithm and validity window is decided here, before any
// signature work, so a forged or malformed token costs one linear pass and never reaches crypto.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edge_cache {

// The numeric values are the codes ec_check_jwt (src/abi/wasm_exports.cpp) hands the shim: append, never reorder.
enum class JwtError {
  None,
  Malformed,            // not three base64url parts, bad base64url, header or payload not a JSON object, duplicate key
  AlgorithmNotAllowed,  // header "alg" is not exactly "HS256" ("none", "RS256", "hs256", missing, not a string)
  TypNotJwt,            // header "typ" present and not "JWT" (ASCII case-insensitive)
  CritUnsupported,      // header "crit" present: we understand no extensions, so the token must be refused
  Expired,              // now >= exp + leeway
  NotYetValid,          // now < nbf - leeway
  IssuerMismatch,       // a required issuer and "iss" missing or different
  AudienceMismatch,     // a required audience not in "aud" (string or array of strings)
  MissingExp,           // tokens without an expiry are refused: a leaked one would be valid forever
  BadClaimType,         // exp/nbf/iat not a finite number within ±2^53, iss/sub not strings, aud not string/string[]
  TooLarge,             // token longer than maxTokenBytes
};

// Stable reason strings, the enum names in kebab case: "jwt:none", "jwt:malformed", "jwt:algorithm-not-allowed",
// "jwt:typ-not-jwt", "jwt:crit-unsupported", "jwt:expired", "jwt:not-yet-valid", "jwt:issuer-mismatch",
// "jwt:audience-mismatch", "jwt:missing-exp", "jwt:bad-claim-type", "jwt:too-large".
std::string_view jwtErrorName(JwtError e);

struct JwtClaims {
  std::string sub, iss;           // "" when absent
  std::vector<std::string> aud;   // a string "aud" becomes one element
  // NumericDates in Unix seconds; fractional values are floored.
  std::optional<int64_t> exp, nbf, iat;
  // "header.payload" as it appears in the token (a view into the caller's token): what the signature covers.
  std::string_view signingInput;
  std::string signature;          // decoded signature bytes (not checked here: any length)
};

struct JwtCheckOptions {
  int64_t nowS = 0;
  // Clock skew allowed between the issuer and the edge, applied to exp and nbf.
  uint32_t leewayS = 30;
  std::string_view requiredIssuer;    // "" = any (or no) issuer
  std::string_view requiredAudience;  // "" = any (or no) audience
  size_t maxTokenBytes = 8192;
};

struct JwtResult {
  std::optional<JwtClaims> claims;  // set exactly when error == None
  JwtError error = JwtError::None;
};

// Never fails or aborts on any input. Checks, in order: size, structure (three base64url parts; header and payload
// JSON objects without duplicate top-level keys), header (alg, typ, crit), claim types, exp presence, then the
// validity window, issuer and audience. The signature is only decoded, never verified.
JwtResult checkJwt(std::string_view token, const JwtCheckOptions& options);

// Base64url (RFC 4648 §5) decoding as JWS uses it: alphabet A-Z a-z 0-9 - _, optional '=' padding (only where
// standard base64 would put it), and unused trailing bits must be zero (one encoding per byte string).
// nullopt on anything else.
std::optional<std::string> tryDecodeBase64Url(std::string_view text);

}  // namespace edge_cache
