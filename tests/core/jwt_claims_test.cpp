#include "jwt_claims.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

using namespace edge_cache;
using namespace std::literals;

namespace {

constexpr int64_t kNow = 1'800'000'000;  // fixed clock: 2027-01-15T08:00:00Z
constexpr const char* kHs256 = R"({"alg":"HS256","typ":"JWT"})";

std::string base64Url(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8 | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (bytes.size() - i == 1) {
    const uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (bytes.size() - i == 2) {
    const uint32_t v = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

// The claims check never verifies the signature, so any bytes do; 32 like a real HMAC-SHA256.
const std::string kSignature(32, '\xA5');

std::string makeToken(std::string_view headerJson, std::string_view payloadJson, std::string_view signature = kSignature) {
  return base64Url(headerJson) + "." + base64Url(payloadJson) + "." + base64Url(signature);
}

JwtCheckOptions options(std::string_view issuer = "", std::string_view audience = "") {
  JwtCheckOptions o;
  o.nowS = kNow;
  o.requiredIssuer = issuer;
  o.requiredAudience = audience;
  return o;
}

}  // namespace

TEST_CASE("checkJwt: a valid token yields its claims, signing input and decoded signature") {
  const std::string payload =
      R"({"sub":"user-42","iss":"https://auth.example.com","aud":"edge","exp":1800000600,"nbf":1799999990,"iat":1799999990,"scope":"read"})";
  const std::string token = makeToken(kHs256, payload);
  const JwtResult r = checkJwt(token, options("https://auth.example.com", "edge"));
  CHECK(r.error == JwtError::None);
  CHECK(r.claims.has_value());
  if (!r.claims) return;
  CHECK(r.claims->sub == "user-42");
  CHECK(r.claims->iss == "https://auth.example.com");
  CHECK(r.claims->aud == std::vector<std::string>{"edge"});
  CHECK(r.claims->exp == 1800000600);
  CHECK(r.claims->nbf == 1799999990);
  CHECK(r.claims->iat == 1799999990);
  CHECK(r.claims->signingInput == token.substr(0, token.rfind('.')));
  CHECK(r.claims->signingInput.data() == token.data());  // a view into the token, not a copy
  CHECK(r.claims->signature == kSignature);
}

TEST_CASE("checkJwt: one case per error class") {
  struct Case {
    std::string_view label;
    std::string token;
    JwtCheckOptions opts;
    JwtError error;
  };
  const std::string exp = R"("exp":1800000600)";
  const Case cases[] = {
      {"valid, minimal", makeToken(R"({"alg":"HS256"})", "{" + exp + "}"), options(), JwtError::None},
      {"two parts", base64Url(kHs256) + "." + base64Url("{" + exp + "}"), options(), JwtError::Malformed},
      {"four parts", makeToken(kHs256, "{" + exp + "}") + ".x", options(), JwtError::Malformed},
      {"empty", "", options(), JwtError::Malformed},
      {"dots only", "..", options(), JwtError::Malformed},
      {"header not base64url ('+')", "eyJ+." + base64Url("{" + exp + "}") + ".c2ln", options(), JwtError::Malformed},
      {"header is an array", makeToken(R"(["HS256"])", "{" + exp + "}"), options(), JwtError::Malformed},
      {"payload is a string", makeToken(kHs256, R"("claims")"), options(), JwtError::Malformed},
      {"payload is not JSON", makeToken(kHs256, "{exp:1}"), options(), JwtError::Malformed},
      {"payload has trailing junk", makeToken(kHs256, "{" + exp + "}x"), options(), JwtError::Malformed},
      {"payload invalid UTF-8", makeToken(kHs256, "{\"sub\":\"\xC3\x28\"," + exp + "}"), options(), JwtError::Malformed},
      {"duplicate claim", makeToken(kHs256, R"({"exp":1,"exp":1800000600})"), options(), JwtError::Malformed},
      {"duplicate header key", makeToken(R"({"alg":"none","alg":"HS256"})", "{" + exp + "}"), options(), JwtError::Malformed},
      {"signature not base64url", makeToken(kHs256, "{" + exp + "}", "") + "a=b", options(), JwtError::Malformed},
      {"typ JWS", makeToken(R"({"alg":"HS256","typ":"JWS"})", "{" + exp + "}"), options(), JwtError::TypNotJwt},
      {"typ not a string", makeToken(R"({"alg":"HS256","typ":1})", "{" + exp + "}"), options(), JwtError::TypNotJwt},
      {"typ lower case is fine", makeToken(R"({"alg":"HS256","typ":"jwt"})", "{" + exp + "}"), options(), JwtError::None},
      {"crit", makeToken(R"({"alg":"HS256","crit":["exp"]})", "{" + exp + "}"), options(), JwtError::CritUnsupported},
      {"crit empty", makeToken(R"({"alg":"HS256","crit":[]})", "{" + exp + "}"), options(), JwtError::CritUnsupported},
      {"expired", makeToken(kHs256, R"({"exp":1799999000})"), options(), JwtError::Expired},
      {"not yet valid", makeToken(kHs256, R"({"exp":1800003600,"nbf":1800000600})"), options(), JwtError::NotYetValid},
      {"issuer differs", makeToken(kHs256, R"({"iss":"https://evil.example","exp":1800000600})"), options("https://auth.example.com"), JwtError::IssuerMismatch},
      {"issuer missing", makeToken(kHs256, "{" + exp + "}"), options("https://auth.example.com"), JwtError::IssuerMismatch},
      {"issuer case differs", makeToken(kHs256, R"({"iss":"HTTPS://AUTH.EXAMPLE.COM","exp":1800000600})"), options("https://auth.example.com"), JwtError::IssuerMismatch},
      {"audience differs", makeToken(kHs256, R"({"aud":"other","exp":1800000600})"), options("", "edge"), JwtError::AudienceMismatch},
      {"audience missing", makeToken(kHs256, "{" + exp + "}"), options("", "edge"), JwtError::AudienceMismatch},
      {"audience empty array", makeToken(kHs256, R"({"aud":[],"exp":1800000600})"), options("", "edge"), JwtError::AudienceMismatch},
      {"no exp", makeToken(kHs256, R"({"sub":"u"})"), options(), JwtError::MissingExp},
      {"exp is a string", makeToken(kHs256, R"({"exp":"1800000600"})"), options(), JwtError::BadClaimType},
      {"exp is null", makeToken(kHs256, R"({"exp":null})"), options(), JwtError::BadClaimType},
      {"exp is huge", makeToken(kHs256, R"({"exp":1e300})"), options(), JwtError::BadClaimType},
      // The JSON parser itself refuses a number literal no double can hold.
      {"exp overflows double", makeToken(kHs256, R"({"exp":1e400})"), options(), JwtError::Malformed},
      {"exp past 2^53", makeToken(kHs256, R"({"exp":9007199254740993})"), options(), JwtError::BadClaimType},
      {"exp past uint64", makeToken(kHs256, R"({"exp":18446744073709551616})"), options(), JwtError::BadClaimType},
      {"exp hugely negative", makeToken(kHs256, R"({"exp":-9223372036854775808})"), options(), JwtError::BadClaimType},
      {"nbf is a bool", makeToken(kHs256, R"({"exp":1800000600,"nbf":true})"), options(), JwtError::BadClaimType},
      {"iat is an object", makeToken(kHs256, R"({"exp":1800000600,"iat":{}})"), options(), JwtError::BadClaimType},
      {"iss is a number", makeToken(kHs256, R"({"exp":1800000600,"iss":7})"), options(), JwtError::BadClaimType},
      {"sub is an array", makeToken(kHs256, R"({"exp":1800000600,"sub":["a"]})"), options(), JwtError::BadClaimType},
      {"aud has a number", makeToken(kHs256, R"({"exp":1800000600,"aud":["edge",1]})"), options("", "edge"), JwtError::BadClaimType},
      {"aud is an object", makeToken(kHs256, R"({"exp":1800000600,"aud":{"edge":true}})"), options(), JwtError::BadClaimType},
      {"type errors come before a missing exp", makeToken(kHs256, R"({"sub":1})"), options(), JwtError::BadClaimType},
      {"unknown claims are ignored", makeToken(kHs256, R"({"exp":1800000600,"roles":["a",{"b":null}],"n":1.5})"), options(), JwtError::None},
      {"nested duplicates are not ours to judge", makeToken(kHs256, R"({"exp":1800000600,"x":{"a":1,"a":2}})"), options(), JwtError::None},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const JwtResult r = checkJwt(c.token, c.opts);
    CHECK(jwtErrorName(r.error) == jwtErrorName(c.error));
    CHECK(r.claims.has_value() == (c.error == JwtError::None));
  }
}

TEST_CASE("checkJwt: algorithm confusion is refused before any claim is looked at") {
  struct Case {
    std::string_view header;
    std::string signature;
  };
  const Case cases[] = {
      {R"({"alg":"none"})", ""},
      {R"({"alg":"none","typ":"JWT"})", ""},
      {R"({"alg":"None"})", ""},
      {R"({"alg":"RS256","typ":"JWT"})", std::string(256, 'r')},
      {R"({"alg":"ES256"})", kSignature},
      {R"({"alg":"HS512"})", std::string(64, 's')},
      {R"({"alg":"HS384"})", kSignature},
      {R"({"alg":"hs256"})", kSignature},
      {R"({"alg":"HS256 "})", kSignature},
      {R"({"alg":"HS256\u0000"})", kSignature},
      {R"({"typ":"JWT"})", kSignature},
      {R"({"alg":256})", kSignature},
      {R"({"alg":null})", kSignature},
      {R"({"alg":["HS256"]})", kSignature},
      {R"({"alg":{"name":"HS256"}})", kSignature},
  };
  for (const Case& c : cases) {
    CAPTURE(c.header);
    // Even with claims that would fail, the algorithm is what is reported: it is checked first.
    for (const char* payload : {R"({"exp":1800000600})", R"({"exp":1})", R"({})"}) {
      const JwtResult r = checkJwt(makeToken(c.header, payload, c.signature), options());
      CHECK(r.error == JwtError::AlgorithmNotAllowed);
      CHECK_FALSE(r.claims);
    }
  }
  // "alg":"none" tokens conventionally have an empty third part, which still parses as three parts.
  const std::string unsecured = base64Url(R"({"alg":"none"})") + "." + base64Url(R"({"exp":1800000600})") + ".";
  CHECK(checkJwt(unsecured, options()).error == JwtError::AlgorithmNotAllowed);
}

TEST_CASE("checkJwt: exp and nbf edges with the leeway") {
  struct Case {
    std::string_view label;
    std::string payload;
    uint32_t leewayS;
    JwtError error;
  };
  const std::string now = std::to_string(kNow);
  const Case cases[] = {
      // exp: valid while now < exp + leeway.
      {"exp = now, no leeway", R"({"exp":)" + now + "}", 0, JwtError::Expired},
      {"exp = now + 1, no leeway", R"({"exp":)" + std::to_string(kNow + 1) + "}", 0, JwtError::None},
      {"exp = now - 29, leeway 30", R"({"exp":)" + std::to_string(kNow - 29) + "}", 30, JwtError::None},
      {"exp = now - 30, leeway 30", R"({"exp":)" + std::to_string(kNow - 30) + "}", 30, JwtError::Expired},
      {"fractional exp is floored", R"({"exp":)" + std::to_string(kNow) + ".999}", 0, JwtError::Expired},
      {"fractional exp above now", R"({"exp":)" + std::to_string(kNow + 1) + ".5}", 0, JwtError::None},
      {"exp as a float literal", R"({"exp":1.8000006e9})", 0, JwtError::None},
      {"negative exp", R"({"exp":-1})", 0, JwtError::Expired},
      // nbf: valid from nbf - leeway on.
      {"nbf = now, no leeway", R"({"exp":1900000000,"nbf":)" + now + "}", 0, JwtError::None},
      {"nbf = now + 1, no leeway", R"({"exp":1900000000,"nbf":)" + std::to_string(kNow + 1) + "}", 0, JwtError::NotYetValid},
      {"nbf = now + 30, leeway 30", R"({"exp":1900000000,"nbf":)" + std::to_string(kNow + 30) + "}", 30, JwtError::None},
      {"nbf = now + 31, leeway 30", R"({"exp":1900000000,"nbf":)" + std::to_string(kNow + 31) + "}", 30, JwtError::NotYetValid},
      {"fractional nbf is floored", R"({"exp":1900000000,"nbf":)" + std::to_string(kNow) + ".7}", 0, JwtError::None},
      // A future iat is not an error: only exp and nbf bound the window.
      {"iat in the future", R"({"exp":1900000000,"iat":1850000000})", 0, JwtError::None},
      // Expiry is reported before a premature nbf.
      {"both expired and premature", R"({"exp":1,"nbf":1900000000})", 0, JwtError::Expired},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    JwtCheckOptions o = options();
    o.leewayS = c.leewayS;
    CHECK(jwtErrorName(checkJwt(makeToken(kHs256, c.payload), o).error) == jwtErrorName(c.error));
  }
  // The clock extremes cannot overflow the comparisons.
  JwtCheckOptions far = options();
  far.leewayS = 4294967295u;
  far.nowS = INT64_MAX;
  CHECK(checkJwt(makeToken(kHs256, R"({"exp":9007199254740992})"), far).error == JwtError::Expired);
  far.nowS = INT64_MIN;
  CHECK(checkJwt(makeToken(kHs256, R"({"exp":1,"nbf":-9007199254740992})"), far).error == JwtError::NotYetValid);
}

TEST_CASE("checkJwt: aud as a string or an array") {
  struct Case {
    std::string_view aud;
    JwtError error;
    size_t count;
  };
  const Case cases[] = {
      {R"("edge")", JwtError::None, 1},
      {R"(["edge"])", JwtError::None, 1},
      {R"(["api","edge","admin"])", JwtError::None, 3},
      {R"(["api","admin"])", JwtError::AudienceMismatch, 0},
      {R"(["EDGE"])", JwtError::AudienceMismatch, 0},
      {R"("edge ")", JwtError::AudienceMismatch, 0},
      {R"([["edge"]])", JwtError::BadClaimType, 0},
      {R"(null)", JwtError::BadClaimType, 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.aud);
    const JwtResult r = checkJwt(makeToken(kHs256, std::string(R"({"exp":1800000600,"aud":)") + std::string(c.aud) + "}"), options("", "edge"));
    CHECK(jwtErrorName(r.error) == jwtErrorName(c.error));
    if (r.claims) CHECK(r.claims->aud.size() == c.count);
  }
  // Without a required audience any well-typed aud is accepted and reported.
  const JwtResult any = checkJwt(makeToken(kHs256, R"({"exp":1800000600,"aud":["x","y"]})"), options());
  CHECK(any.claims.has_value());
  if (any.claims) CHECK(any.claims->aud == std::vector<std::string>{"x", "y"});
}

TEST_CASE("checkJwt: size limit, garbage and unicode") {
  JwtCheckOptions o = options();
  // The size limit is checked before anything else, on the raw token.
  const std::string padded = makeToken(kHs256, R"({"exp":1800000600,"pad":")" + std::string(9000, 'x') + "\"}");
  CHECK(checkJwt(padded, o).error == JwtError::TooLarge);
  o.maxTokenBytes = padded.size();
  CHECK(checkJwt(padded, o).error == JwtError::None);
  o.maxTokenBytes = padded.size() - 1;
  CHECK(checkJwt(padded, o).error == JwtError::TooLarge);
  CHECK(checkJwt(std::string(100000, '.'), options()).error == JwtError::TooLarge);

  const std::string_view garbage[] = {
      "a.b.c", "....", "Bearer x.y.z", "eyJhbGciOiJIUzI1NiJ9", "\xFF\xFE.\x00.\x01"sv, "%7B%7D.%7B%7D.",
      " " /* space */, "e30.e30.e30", "e30.e30.", "W10.W10.",
  };
  for (std::string_view g : garbage) {
    CAPTURE(g);
    const JwtResult r = checkJwt(g, options());
    CHECK(r.error != JwtError::None);
    CHECK_FALSE(r.claims);
  }
  // e30 is "{}": a header without alg.
  CHECK(checkJwt("e30.e30.", options()).error == JwtError::AlgorithmNotAllowed);

  // Unicode claims come back as UTF-8, whether raw or \u-escaped (including a surrogate pair and U+0000).
  const JwtResult u = checkJwt(
      makeToken(kHs256, R"({"exp":1800000600,"sub":"J\u00fcrgen \ud83d\ude80 \u0000","iss":"émetteur","aud":"ünïcode"})"),
      options("émetteur", "ünïcode"));
  CHECK(u.claims.has_value());
  if (u.claims) {
    CHECK(u.claims->sub == "J\xC3\xBCrgen \xF0\x9F\x9A\x80 \0"s);
    CHECK(u.claims->iss == "\xC3\xA9metteur");
  }
  // A lone surrogate is not valid JSON text for a string.
  CHECK(checkJwt(makeToken(kHs256, R"({"exp":1800000600,"sub":"\ud83d"})"), options()).error == JwtError::Malformed);
}

TEST_CASE("tryDecodeBase64Url: strict alphabet, optional correct padding, zero trailing bits") {
  struct Case {
    std::string_view input;
    std::optional<std::string_view> output;
  };
  const Case cases[] = {
      {"", ""sv},
      {"Zg", "f"sv},
      {"Zg==", "f"sv},
      {"Zm8", "fo"sv},
      {"Zm8=", "fo"sv},
      {"Zm9v", "foo"sv},
      {"Zm9vYg", "foob"sv},
      {"_-8", "\xFF\xEF"sv},
      {"AA", "\0"sv},
      {"Zg=", std::nullopt},     // half the padding
      {"Zm8==", std::nullopt},   // too much padding
      {"Zm9v=", std::nullopt},   // padding after a full quantum
      {"Zg===", std::nullopt},
      {"Z", std::nullopt},       // one character carries no full byte
      {"Zm9vY", std::nullopt},
      {"Zh", std::nullopt},      // non-zero unused bits ("Zg" is the canonical form)
      {"Zm9", std::nullopt},
      {"Zm+v", std::nullopt},    // standard base64 alphabet
      {"Zm/v", std::nullopt},
      {"Zm 9v", std::nullopt},
      {"Z=g=", std::nullopt},
      {"=", std::nullopt},
      {"==", std::nullopt},
      {"Zm9v\n", std::nullopt},
      {"Zm9v\0"sv, std::nullopt},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    const auto r = tryDecodeBase64Url(c.input);
    CHECK(r.has_value() == c.output.has_value());
    if (r && c.output) CHECK(*r == *c.output);
  }
  // Every byte value round-trips through the test's encoder.
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); n += 37) CHECK(tryDecodeBase64Url(base64Url(all.substr(0, n))) == all.substr(0, n));
}

TEST_CASE("jwtErrorName: stable names, the enum names in kebab case") {
  const std::pair<JwtError, std::string_view> names[] = {
      {JwtError::None, "jwt:none"},
      {JwtError::Malformed, "jwt:malformed"},
      {JwtError::AlgorithmNotAllowed, "jwt:algorithm-not-allowed"},
      {JwtError::TypNotJwt, "jwt:typ-not-jwt"},
      {JwtError::CritUnsupported, "jwt:crit-unsupported"},
      {JwtError::Expired, "jwt:expired"},
      {JwtError::NotYetValid, "jwt:not-yet-valid"},
      {JwtError::IssuerMismatch, "jwt:issuer-mismatch"},
      {JwtError::AudienceMismatch, "jwt:audience-mismatch"},
      {JwtError::MissingExp, "jwt:missing-exp"},
      {JwtError::BadClaimType, "jwt:bad-claim-type"},
      {JwtError::TooLarge, "jwt:too-large"},
  };
  for (const auto& n : names) {
    CAPTURE(n.second);
    CHECK(jwtErrorName(n.first) == n.second);
  }
  // The codes cross the ABI: the order is part of the contract.
  CHECK(static_cast<int>(JwtError::TooLarge) == 11);
}
