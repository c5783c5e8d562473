#include "jwt_claims.h"

#include <array>
#include <cmath>
#include <nlohmann/json.hpp>

namespace edge_cache {
namespace {

using Json = nlohmann::ordered_json;

// 2^53: beyond it a double no longer holds every integer, and the shim reads these values back as f64. Bounding
// them also keeps `exp + leeway` and `nbf - leeway` far from int64 overflow.
constexpr int64_t kMaxNumericDate = int64_t{1} << 53;

constexpr auto kBase64UrlValue = [] {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 26; ++i) {
    t['A' + i] = static_cast<int8_t>(i);
    t['a' + i] = static_cast<int8_t>(26 + i);
  }
  for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<int8_t>(52 + i);
  t['-'] = 62;
  t['_'] = 63;
  return t;
}();

bool equalsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// Parses a JSON object; nullopt when the text is not one, or when a top-level key repeats (parsers disagree on
// which duplicate wins, so a token whose claims depend on that choice is refused).
std::optional<Json> parseObject(const std::string& text) {
  bool duplicate = false;
  std::vector<std::string> keys;
  Json::parser_callback_t onEvent = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::key && depth == 1) {
      if (const auto* k = parsed.get_ptr<const Json::string_t*>()) {
        for (const std::string& seen : keys) duplicate = duplicate || seen == *k;
        keys.push_back(*k);
      }
    }
    return true;
  };
  Json value = Json::parse(text, onEvent, /*allow_exceptions=*/false);
  if (value.is_discarded() || !value.is_object() || duplicate) return std::nullopt;
  return value;
}

enum class Field { Absent, Ok, BadType };

Field readNumericDate(const Json& obj, const char* name, std::optional<int64_t>& out) {
  const auto it = obj.find(name);
  if (it == obj.end()) return Field::Absent;
  if (it->is_number_unsigned()) {
    const uint64_t v = it->get<uint64_t>();
    if (v > static_cast<uint64_t>(kMaxNumericDate)) return Field::BadType;
    out = static_cast<int64_t>(v);
    return Field::Ok;
  }
  if (it->is_number_integer()) {
    const int64_t v = it->get<int64_t>();
    if (v > kMaxNumericDate || v < -kMaxNumericDate) return Field::BadType;
    out = v;
    return Field::Ok;
  }
  if (it->is_number_float()) {
    const double v = it->get<double>();
    // Out-of-range literals such as 1e400 parse to infinity; the range test also rejects NaN.
    if (!(v >= -static_cast<double>(kMaxNumericDate) && v <= static_cast<double>(kMaxNumericDate)))
      return Field::BadType;
    out = static_cast<int64_t>(std::floor(v));
    return Field::Ok;
  }
  return Field::BadType;
}

Field readString(const Json& obj, const char* name, std::string& out) {
  const auto it = obj.find(name);
  if (it == obj.end()) return Field::Absent;
  const auto* s = it->get_ptr<const Json::string_t*>();
  if (!s) return Field::BadType;
  out = *s;
  return Field::Ok;
}

Field readAudience(const Json& obj, std::vector<std::string>& out) {
  const auto it = obj.find("aud");
  if (it == obj.end()) return Field::Absent;
  if (const auto* s = it->get_ptr<const Json::string_t*>()) {
    out.push_back(*s);
    return Field::Ok;
  }
  if (!it->is_array()) return Field::BadType;
  for (const Json& item : *it) {
    const auto* s = item.get_ptr<const Json::string_t*>();
    if (!s) return Field::BadType;
    out.push_back(*s);
  }
  return Field::Ok;
}

JwtError checkHeader(const Json& header) {
  const auto alg = header.find("alg");
  // Exact and case-sensitive (RFC 7515 §4.1.1): "none" and asymmetric algorithms must never reach an HMAC check.
  if (alg == header.end() || !alg->is_string() || alg->get_ref<const Json::string_t&>() != "HS256")
    return JwtError::AlgorithmNotAllowed;
  const auto typ = header.find("typ");
  if (typ != header.end() && (!typ->is_string() || !equalsIgnoreAsciiCase(typ->get_ref<const Json::string_t&>(), "JWT")))
    return JwtError::TypNotJwt;
  // RFC 7515 §4.1.11: a recipient that does not understand a listed extension must reject the token.
  if (header.contains("crit")) return JwtError::CritUnsupported;
  return JwtError::None;
}

JwtError checkClaims(const Json& payload, const JwtCheckOptions& o, JwtClaims& c) {
  const Field fields[] = {
      readNumericDate(payload, "exp", c.exp), readNumericDate(payload, "nbf", c.nbf),
      readNumericDate(payload, "iat", c.iat), readString(payload, "iss", c.iss),
      readString(payload, "sub", c.sub),      readAudience(payload, c.aud),
  };
  for (Field f : fields)
    if (f == Field::BadType) return JwtError::BadClaimType;
  if (!c.exp) return JwtError::MissingExp;
  // Both bounds are within ±2^53 and the leeway below 2^32, so neither sum can overflow.
  if (o.nowS >= *c.exp + static_cast<int64_t>(o.leewayS)) return JwtError::Expired;
  if (c.nbf && o.nowS < *c.nbf - static_cast<int64_t>(o.leewayS)) return JwtError::NotYetValid;
  if (!o.requiredIssuer.empty() && (fields[3] != Field::Ok || c.iss != o.requiredIssuer))
    return JwtError::IssuerMismatch;
  if (!o.requiredAudience.empty()) {
    bool found = false;
    for (const std::string& a : c.aud) found = found || a == o.requiredAudience;
    if (!found) return JwtError::AudienceMismatch;
  }
  return JwtError::None;
}

}  // namespace

std::string_view jwtErrorName(JwtError e) {
  switch (e) {
    case JwtError::None: return "jwt:none";
    case JwtError::Malformed: return "jwt:malformed";
    case JwtError::AlgorithmNotAllowed: return "jwt:algorithm-not-allowed";
    case JwtError::TypNotJwt: return "jwt:typ-not-jwt";
    case JwtError::CritUnsupported: return "jwt:crit-unsupported";
    case JwtError::Expired: return "jwt:expired";
    case JwtError::NotYetValid: return "jwt:not-yet-valid";
    case JwtError::IssuerMismatch: return "jwt:issuer-mismatch";
    case JwtError::AudienceMismatch: return "jwt:audience-mismatch";
    case JwtError::MissingExp: return "jwt:missing-exp";
    case JwtError::BadClaimType: return "jwt:bad-claim-type";
    case JwtError::TooLarge: return "jwt:too-large";
  }
  return "jwt:unknown";
}

std::optional<std::string> tryDecodeBase64Url(std::string_view text) {
  size_t n = text.size();
  size_t padding = 0;
  while (n > 0 && padding < 2 && text[n - 1] == '=') {
    --n;
    ++padding;
  }
  // Padding, when present, must be exactly what completes the last quantum; one leftover character is never valid.
  if (n % 4 == 1 || (padding > 0 && n % 4 + padding != 4)) return std::nullopt;
  std::string out;
  out.reserve(n / 4 * 3 + 2);
  uint32_t bits = 0;
  int bitCount = 0;
  for (size_t i = 0; i < n; ++i) {
    const int8_t v = kBase64UrlValue[static_cast<unsigned char>(text[i])];
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    bitCount += 6;
    if (bitCount >= 8) {
      bitCount -= 8;
      out.push_back(static_cast<char>((bits >> bitCount) & 0xFF));
    }
  }
  // Non-zero unused bits would give one byte string several encodings.
  if ((bits & ((1u << bitCount) - 1)) != 0) return std::nullopt;
  return out;
}

JwtResult checkJwt(std::string_view token, const JwtCheckOptions& options) {
  JwtResult result;
  if (token.size() > options.maxTokenBytes) {
    result.error = JwtError::TooLarge;
    return result;
  }
  result.error = JwtError::Malformed;
  const size_t firstDot = token.find('.');
  if (firstDot == std::string_view::npos) return result;
  const size_t secondDot = token.find('.', firstDot + 1);
  if (secondDot == std::string_view::npos || token.find('.', secondDot + 1) != std::string_view::npos) return result;

  const auto headerText = tryDecodeBase64Url(token.substr(0, firstDot));
  const auto payloadText = tryDecodeBase64Url(token.substr(firstDot + 1, secondDot - firstDot - 1));
  auto signature = tryDecodeBase64Url(token.substr(secondDot + 1));
  if (!headerText || !payloadText || !signature) return result;
  const auto header = parseObject(*headerText);
  if (!header) return result;
  const auto payload = parseObject(*payloadText);
  if (!payload) return result;

  result.error = checkHeader(*header);
  if (result.error != JwtError::None) return result;
  JwtClaims claims;
  result.error = checkClaims(*payload, options, claims);
  if (result.error != JwtError::None) return result;
  claims.signingInput = token.substr(0, secondDot);
  claims.signature = std::move(*signature);
  result.claims = std::move(claims);
  return result;
}

}  // namespace edge_cache
