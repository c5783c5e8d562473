// Fuzzes the JWT claims check and its base64url decoder.
// Input byte 0 chooses the mode: even = the rest is the token as sent; odd = the rest is "header JSON \0 payload
// JSON \0 signature", which the harness base64url-encodes into a token (so the fuzzer explores the JSON checks
// rather than the base64 alphabet). Byte 1 picks the options.
// Invariants: claims exactly when there is no error; accepted tokens satisfy every check they passed (window,
// issuer, audience, signing input = "header.payload"); the decoder accepts only canonical encodings.
#include <algorithm>
#include <string>

#include "fuzz_support.h"
#include "jwt_claims.h"

using namespace edge_cache;

namespace {

std::string base64Url(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (unsigned char c : bytes) {
    bits = bits << 8 | c;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out.push_back(kAlphabet[(bits >> count) & 63]);
    }
  }
  if (count > 0) out.push_back(kAlphabet[(bits << (6 - count)) & 63]);
  return out;
}

void checkDecoder(std::string_view raw) {
  // Everything encodes and decodes back; whatever decodes is the canonical (unpadded) encoding of its bytes,
  // up to the optional padding.
  const auto back = tryDecodeBase64Url(base64Url(raw));
  FUZZ_CHECK(back && *back == raw);
  if (const auto decoded = tryDecodeBase64Url(raw)) {
    std::string_view unpadded = raw;
    while (!unpadded.empty() && unpadded.back() == '=') unpadded.remove_suffix(1);
    FUZZ_CHECK(base64Url(*decoded) == unpadded);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t mode = data[0], optionBits = data[1];
  const std::string_view rest = fuzz::asView(data + 2, size - 2);
  checkDecoder(rest);

  std::string token;
  if (mode % 2 == 0) {
    token = rest;
  } else {
    const size_t a = rest.find('\0');
    const size_t b = a == std::string_view::npos ? a : rest.find('\0', a + 1);
    if (b == std::string_view::npos) return 0;
    token = base64Url(rest.substr(0, a)) + "." + base64Url(rest.substr(a + 1, b - a - 1)) + "." + base64Url(rest.substr(b + 1));
  }

  JwtCheckOptions o;
  o.nowS = optionBits & 1 ? 1'800'000'000 : optionBits & 2 ? INT64_MIN : INT64_MAX;
  o.leewayS = optionBits & 4 ? 0 : optionBits & 8 ? 30 : UINT32_MAX;
  o.requiredIssuer = optionBits & 16 ? "iss" : "";
  o.requiredAudience = optionBits & 32 ? "aud" : "";
  if (optionBits & 64) o.maxTokenBytes = 64;

  const JwtResult r = checkJwt(token, o);
  FUZZ_CHECK(r.claims.has_value() == (r.error == JwtError::None));
  FUZZ_CHECK(jwtErrorName(r.error).substr(0, 4) == "jwt:");
  if (token.size() > o.maxTokenBytes) FUZZ_CHECK(r.error == JwtError::TooLarge);
  if (!r.claims) return 0;

  const JwtClaims& c = *r.claims;
  FUZZ_CHECK(c.signingInput.data() == token.data() && c.signingInput == std::string_view(token).substr(0, token.rfind('.')));
  FUZZ_CHECK(std::count(token.begin(), token.end(), '.') == 2);
  FUZZ_CHECK(tryDecodeBase64Url(std::string_view(token).substr(token.rfind('.') + 1)) == c.signature);
  FUZZ_CHECK(c.exp.has_value());
  FUZZ_CHECK(o.nowS < *c.exp + int64_t{o.leewayS});
  FUZZ_CHECK(!c.nbf || o.nowS >= *c.nbf - int64_t{o.leewayS});
  FUZZ_CHECK(o.requiredIssuer.empty() || c.iss == o.requiredIssuer);
  FUZZ_CHECK(o.requiredAudience.empty() || std::find(c.aud.begin(), c.aud.end(), o.requiredAudience) != c.aud.end());
  // Decoded JSON strings are valid UTF-8 (the parser rejects anything else).
  FUZZ_CHECK(fuzz::isValidUtf8(c.sub) && fuzz::isValidUtf8(c.iss));

  // A token that passes is refused once the limit is one byte short of it, and passes again the same way.
  JwtCheckOptions tight = o;
  tight.maxTokenBytes = token.size() - 1;
  FUZZ_CHECK(checkJwt(token, tight).error == JwtError::TooLarge);
  const JwtResult again = checkJwt(token, o);
  FUZZ_CHECK(again.claims && again.claims->sub == c.sub && again.claims->exp == c.exp && again.claims->aud == c.aud);
  return 0;
}
