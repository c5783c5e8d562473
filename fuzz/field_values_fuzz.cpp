// Fuzzes the parsers of single request/response field values the cache reads from untrusted peers: Range and
// If-Range (byte_range), targeted Cache-Control dictionaries (structured_field), Vary variant values (variant),
// entity-tags and client conditionals (conditional_request), HTTP-dates read in any case (http_date), Age and
// the age arithmetic (response_age), and client IP addresses (client_address).
// Input byte 0 chooses the parser; the rest is its input (raw bytes, or parts separated by NUL).
// Invariants, besides "no crash / no UB":
//   range      a parsed spec is one of first-[last] with first <= last, or a suffix > 0; surrounding OWS and the
//              unit's case change nothing; the spec re-serialised parses to itself; resolved against any length a
//              Partial is first <= last < length and selects what RFC 9110 §14.1.2 says; a weak If-Range never
//              matches; a strong stored ETag matches itself.
//   sf         targeted validity implies dictionary validity; surrounding spaces change nothing; one more member
//              keeps a valid dictionary valid; a dictionary serialised per RFC 8941 from the input always
//              validates, and the targeted check agrees with the types the generator chose (RFC 9213 §2.1).
//   variant    normalisation is idempotent; a value matches itself and nothing matches across absence; matching
//              is symmetric; Accept* values match whatever their case.
//   etag       weak comparison is symmetric, reflexive on valid tags and transitive; "W/" on a valid strong tag
//              keeps it matching; a valid tag is in an If-None-Match list made of it (after other elements);
//              "*" matches everything; the outcome of client conditions follows RFC 9110 §13.2.2 precedence and
//              If-Modified-Since is monotonic in its date.
//   date       the any-case reader agrees with the strict one wherever the strict one accepts; any change of
//              letter case leaves its result unchanged; formatHttpDate output parses back to its instant.
//   age        a parsed Age is at most the delta-seconds cap; leading empty elements are skipped and later
//              members never change a valid first one; corrected and current ages never go below their inputs,
//              and the current age grows with time.
//   ip         canonical(canonical(x)) == canonical(x); canonical output is lower-case, re-parses, and is what
//              glibc's inet_pton reads as the same address; acceptance agrees with inet_pton; case changes
//              nothing.
#include <arpa/inet.h>
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "abi/abi_codec.h"
#include "byte_range.h"
#include "cache_control.h"
#include "client_address.h"
#include "conditional_request.h"
#include "fuzz_support.h"
#include "http_date.h"
#include "response_age.h"
#include "structured_field.h"
#include "variant.h"

using namespace edge_cache;

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}
std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}
// Flips the case of the letters whose bit in `pattern` (cycled) is set.
std::string mixCase(std::string_view s, uint64_t pattern) {
  std::string out(s);
  for (size_t i = 0; i < out.size(); ++i) {
    if (((pattern >> (i % 64)) & 1) == 0) continue;
    char& c = out[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    else if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Splits at NUL into exactly n parts (missing parts are empty).
std::vector<std::string_view> parts(std::string_view s, size_t n) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i + 1 < n; ++i) {
    const size_t z = s.find('\0');
    out.push_back(s.substr(0, z));
    s = z == std::string_view::npos ? std::string_view() : s.substr(z + 1);
  }
  out.push_back(s);
  return out;
}

bool sameSpec(const std::optional<ByteRangeSpec>& a, const std::optional<ByteRangeSpec>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->first == b->first && a->last == b->last && a->suffixLength == b->suffixLength);
}

// ---- range --------------------------------------------------------------------------------------------------
void fuzzRange(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const uint64_t length = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint64_t>(0, 300) : in.ConsumeIntegral<uint64_t>();
  const std::string header = in.ConsumeRemainingBytesAsString();
  const auto spec = tryParseSingleByteRange(header);
  FUZZ_CHECK(sameSpec(spec, tryParseSingleByteRange(" \t" + header + "\t ")));
  FUZZ_CHECK(sameSpec(spec, tryParseSingleByteRange(upper(header))));
  FUZZ_CHECK(sameSpec(spec, tryParseSingleByteRange(lower(header))));
  if (!spec) return;
  std::string again = "bytes=";
  if (spec->suffixLength) {
    FUZZ_CHECK(*spec->suffixLength > 0 && spec->first == 0 && !spec->last);
    again += "-" + std::to_string(*spec->suffixLength);
  } else {
    FUZZ_CHECK(!spec->last || *spec->last >= spec->first);
    again += std::to_string(spec->first) + "-" + (spec->last ? std::to_string(*spec->last) : "");
  }
  FUZZ_CHECK(sameSpec(spec, tryParseSingleByteRange(again)));

  const ResolvedRange r = resolveByteRange(*spec, length);
  FUZZ_CHECK(r.outcome != RangeOutcome::Full);  // a parsed range is always applied or refused
  if (r.outcome == RangeOutcome::Partial) {
    FUZZ_CHECK(r.first <= r.last && r.last < length);
    if (spec->suffixLength) {
      FUZZ_CHECK(r.last == length - 1);
      FUZZ_CHECK(r.last - r.first + 1 == std::min(*spec->suffixLength, length));
    } else {
      FUZZ_CHECK(r.first == spec->first);
      FUZZ_CHECK(r.last == (spec->last ? std::min(*spec->last, length - 1) : length - 1));
    }
  } else {
    FUZZ_CHECK(spec->suffixLength ? length == 0 : spec->first >= length);
  }
}

void fuzzIfRange(std::string_view input) {
  const auto p = parts(input, 4);
  const std::string_view ifRange = p[0], etag = p[1], lastModified = p[2], date = p[3];
  const bool matches = ifRangeMatches(ifRange, etag, lastModified, date);
  FUZZ_CHECK(matches == ifRangeMatches(" " + std::string(ifRange) + "\t", etag, lastModified, date));
  // RFC 9110 §13.1.5: a weak entity-tag in If-Range never matches (strong comparison).
  FUZZ_CHECK(!ifRangeMatches("W/" + std::string(ifRange), etag, lastModified, date));
  FUZZ_CHECK(!ifRangeMatches("W/\"x\"", "W/\"x\"", lastModified, date));
  // A strong stored ETag validates an If-Range that repeats it.
  std::string_view trimmed = etag;
  while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) trimmed.remove_prefix(1);
  while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t')) trimmed.remove_suffix(1);
  if (!trimmed.empty() && trimmed.front() == '"' && etagsMatchWeakly(trimmed, trimmed))
    FUZZ_CHECK(ifRangeMatches(trimmed, etag, lastModified, date));
  // A date validator is trusted only against a Date at least a second later: never without one.
  if (!ifRange.empty() && ifRange.find('"') == std::string_view::npos) FUZZ_CHECK(!ifRangeMatches(ifRange, etag, lastModified, ""));
}

// ---- structured fields --------------------------------------------------------------------------------------
// Serialisation per RFC 8941 §4.1 of a dictionary the provider describes; `typesOk` tracks whether the cache
// directives with a defined type (RFC 9213 §2.1 via RFC 9111) got it.
struct SfWriter {
  FuzzedDataProvider& in;
  std::string out;
  bool negative = false;  // the last bare item was a negative number

  enum Kind { Integer, Decimal, String, Token, Bytes, Boolean, InnerList };

  void key() {
    static constexpr char kFirst[] = "abcdefghijklmnopqrstuvwxyz*";
    static constexpr char kRest[] = "abcdefghijklmnopqrstuvwxyz0123456789_-.*";
    out.push_back(kFirst[in.ConsumeIntegralInRange<size_t>(0, sizeof(kFirst) - 2)]);
    for (size_t n = in.ConsumeIntegralInRange<size_t>(0, 8); n > 0; --n)
      out.push_back(kRest[in.ConsumeIntegralInRange<size_t>(0, sizeof(kRest) - 2)]);
  }
  void digits(size_t n, bool leadingNonZero) {
    for (size_t i = 0; i < n; ++i)
      out.push_back(static_cast<char>('0' + in.ConsumeIntegralInRange<int>(i == 0 && leadingNonZero ? 1 : 0, 9)));
  }
  Kind bareItem(std::optional<Kind> forced = std::nullopt) {
    const Kind kind = forced ? *forced : static_cast<Kind>(in.ConsumeIntegralInRange<int>(Integer, Boolean));
    negative = false;
    switch (kind) {
      case Integer:
        negative = in.ConsumeBool();
        if (negative) out.push_back('-');
        digits(in.ConsumeIntegralInRange<size_t>(1, 15), false);
        break;
      case Decimal:
        if (in.ConsumeBool()) out.push_back('-');
        digits(in.ConsumeIntegralInRange<size_t>(1, 12), false);
        out.push_back('.');
        digits(in.ConsumeIntegralInRange<size_t>(1, 3), false);
        break;
      case String: {
        out.push_back('"');
        for (size_t n = in.ConsumeIntegralInRange<size_t>(0, 12); n > 0; --n) {
          const char c = static_cast<char>(in.ConsumeIntegralInRange<int>(0x20, 0x7e));
          if (c == '"' || c == '\\') out.push_back('\\');
          out.push_back(c);
        }
        out.push_back('"');
        break;
      }
      case Token: {
        static constexpr char kFirst[] = "abcXYZ*";
        static constexpr char kRest[] = "aZ09!#$%&'*+-.^_`|~:/";
        out.push_back(kFirst[in.ConsumeIntegralInRange<size_t>(0, sizeof(kFirst) - 2)]);
        for (size_t n = in.ConsumeIntegralInRange<size_t>(0, 8); n > 0; --n)
          out.push_back(kRest[in.ConsumeIntegralInRange<size_t>(0, sizeof(kRest) - 2)]);
        break;
      }
      case Bytes: {
        static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        out.push_back(':');
        for (size_t n = in.ConsumeIntegralInRange<size_t>(0, 4); n > 0; --n)
          for (int k = 0; k < 4; ++k) out.push_back(kB64[in.ConsumeIntegralInRange<size_t>(0, 63)]);
        out.push_back(':');
        break;
      }
      case Boolean:
      case InnerList:
        out += in.ConsumeBool() ? "?1" : "?0";
        return Boolean;
    }
    return kind;
  }
  void parameters() {
    for (size_t n = in.ConsumeIntegralInRange<size_t>(0, 2); n > 0; --n) {
      out.push_back(';');
      key();
      if (in.ConsumeBool()) {  // a parameter without a value is Boolean true and serialised bare
        out.push_back('=');
        bareItem();
      }
    }
  }
  Kind member() {
    if (in.ConsumeIntegralInRange<int>(0, 5) == 0) {
      out.push_back('(');
      for (size_t n = in.ConsumeIntegralInRange<size_t>(0, 3), i = 0; i < n; ++i) {
        if (i) out.push_back(' ');
        bareItem();
        parameters();
      }
      out.push_back(')');
      parameters();
      return InnerList;
    }
    const Kind kind = bareItem();
    const bool itemNegative = negative;
    parameters();
    negative = itemNegative;
    return kind;
  }
};

void fuzzStructured(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  if (in.ConsumeBool()) {
    const std::string value = in.ConsumeRemainingBytesAsString();
    const bool dict = isValidSfDictionary(value);
    const bool targeted = isValidTargetedCacheControl(value);
    FUZZ_CHECK(!targeted || dict);
    FUZZ_CHECK(dict == isValidSfDictionary("  " + value + " "));
    FUZZ_CHECK(targeted == isValidTargetedCacheControl(" " + value + "  "));
    bool blank = true;
    for (char c : value) blank = blank && c == ' ';
    if (dict && !blank) {
      FUZZ_CHECK(isValidSfDictionary(value + ", zz"));
      FUZZ_CHECK(isValidSfDictionary(value + ",\tzz=1"));
      FUZZ_CHECK(targeted == isValidTargetedCacheControl(value + ", zz=?0"));
    }
    return;
  }
  // Generated: a dictionary in RFC 8941's serialisation, with the cache directives among its keys.
  static constexpr std::string_view kDeltaNames[] = {"max-age", "s-maxage", "stale-while-revalidate", "stale-if-error"};
  static constexpr std::string_view kFlagNames[] = {"no-store", "public", "must-revalidate", "proxy-revalidate",
                                                    "immutable", "must-understand", "no-transform"};
  SfWriter w{in, {}};
  bool typesOk = true;
  for (size_t n = in.ConsumeIntegralInRange<size_t>(0, 6), i = 0; i < n; ++i) {
    if (i) w.out += in.ConsumeBool() ? ", " : ",";
    const size_t keyStart = w.out.size();
    const int which = in.ConsumeIntegralInRange<int>(0, 2);
    if (which == 0) w.key();
    else if (which == 1) w.out += kDeltaNames[in.ConsumeIntegralInRange<size_t>(0, 3)];
    else w.out += kFlagNames[in.ConsumeIntegralInRange<size_t>(0, 6)];
    const std::string_view key = std::string_view(w.out).substr(keyStart);
    const bool delta = std::find(std::begin(kDeltaNames), std::end(kDeltaNames), key) != std::end(kDeltaNames);
    const bool flag = std::find(std::begin(kFlagNames), std::end(kFlagNames), key) != std::end(kFlagNames);
    SfWriter::Kind kind = SfWriter::Boolean;
    w.negative = false;
    if (in.ConsumeBool()) {
      w.parameters();  // a bare key is Boolean true
    } else {
      w.out.push_back('=');  // "=?1" parses as the same Boolean a bare key would serialise
      kind = w.member();
    }
    // Every occurrence must have the type: a duplicate of the wrong type makes the field invalid (conservative).
    if (delta) typesOk = typesOk && kind == SfWriter::Integer && !w.negative;  // delta-seconds: non-negative
    if (flag) typesOk = typesOk && kind == SfWriter::Boolean;
  }
  if (!isValidSfDictionary(w.out) || isValidTargetedCacheControl(w.out) != typesOk)
    std::fprintf(stderr, "dictionary: %s (types %s)\n", w.out.c_str(), typesOk ? "ok" : "wrong");
  FUZZ_CHECK(isValidSfDictionary(w.out));
  FUZZ_CHECK(isValidTargetedCacheControl(w.out) == typesOk);
}

// ---- variant ------------------------------------------------------------------------------------------------
void fuzzVariant(std::string_view input) {
  static constexpr std::string_view kNames[] = {"accept", "accept-language", "accept-charset", "x-tenant", "user-agent"};
  if (input.empty()) return;
  const std::string_view name = kNames[static_cast<uint8_t>(input[0]) % 5];
  const auto p = parts(input.substr(1), 2);
  const std::string_view a = p[0], b = p[1];
  const std::string n = normalizeVariantValue(name, a);
  FUZZ_CHECK(normalizeVariantValue(name, n) == n);
  FUZZ_CHECK(n.size() <= a.size());
  FUZZ_CHECK(variantFieldMatches(name, kVariantAbsent, std::nullopt));
  if (a == kVariantAbsent || b == kVariantAbsent) return;
  FUZZ_CHECK(variantFieldMatches(name, a, a));
  FUZZ_CHECK(variantFieldMatches(name, a, n));
  FUZZ_CHECK(!variantFieldMatches(name, a, std::nullopt));
  FUZZ_CHECK(!variantFieldMatches(name, kVariantAbsent, a));
  FUZZ_CHECK(variantFieldMatches(name, a, b) == variantFieldMatches(name, b, a));
  // Empty elements carry nothing (RFC 9110 §5.6.1) — unless an unclosed quote swallows the rest of the value.
  if (std::count(a.begin(), a.end(), '"') % 2 == 0) FUZZ_CHECK(variantFieldMatches(name, a, "," + std::string(a) + ", "));
  if (name == "accept" || name == "accept-language" || name == "accept-charset") {
    FUZZ_CHECK(variantFieldMatches(name, a, upper(a)));
    FUZZ_CHECK(variantFieldMatches(name, lower(a), upper(a)));
  }
}

// ---- entity-tags and client conditionals --------------------------------------------------------------------
void fuzzEtags(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const uint32_t status = in.ConsumeBool() ? 200 + in.ConsumeIntegralInRange<uint32_t>(0, 99) : in.ConsumeIntegral<uint32_t>();
  const int64_t base = in.ConsumeIntegralInRange<int64_t>(-62167219200, 253402300799);
  const uint32_t step = in.ConsumeIntegralInRange<uint32_t>(0, 1u << 30);
  const std::string a = in.ConsumeRandomLengthString(64);
  const std::string b = in.ConsumeRandomLengthString(64);
  const std::string c = in.ConsumeRandomLengthString(64);
  const std::string lastModified = in.ConsumeRandomLengthString(40);
  const std::string date = in.ConsumeRandomLengthString(40);

  FUZZ_CHECK(etagsMatchWeakly(a, b) == etagsMatchWeakly(b, a));
  const bool aValid = etagsMatchWeakly(a, a);
  if (etagsMatchWeakly(a, b) && etagsMatchWeakly(b, c)) FUZZ_CHECK(etagsMatchWeakly(a, c));
  if (etagsMatchWeakly(a, b)) FUZZ_CHECK(aValid && etagsMatchWeakly(b, b));
  if (aValid) {
    FUZZ_CHECK(ifNoneMatchMatches(a, a));
    if (b.find('"') == std::string::npos) FUZZ_CHECK(ifNoneMatchMatches(b + "," + a, a));
    std::string_view t = a;
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    if (t.front() == '"') FUZZ_CHECK(etagsMatchWeakly("W/" + std::string(t), a));
  }
  FUZZ_CHECK(ifNoneMatchMatches("*", b) && ifNoneMatchMatches(" * ", ""));
  if (!b.empty() && ifNoneMatchMatches(a, b)) FUZZ_CHECK(etagsMatchWeakly(b, b) || a.find('*') != std::string::npos);

  StoredValidators stored{status, b, lastModified, date, base * 1000};
  ClientConditions client;
  FUZZ_CHECK(evaluateClientConditions(client, stored) == ConditionalOutcome::Unconditional);
  const bool validated = status >= 200 && status <= 299;  // RFC 9110 §13.2.1: only 2xx
  client.ifNoneMatch = a;
  client.ifModifiedSince = date;  // ignored beside If-None-Match (RFC 9110 §13.1.3)
  const ConditionalOutcome inm = evaluateClientConditions(client, stored);
  FUZZ_CHECK(inm == (!validated                  ? ConditionalOutcome::Unconditional
                     : ifNoneMatchMatches(a, b) ? ConditionalOutcome::NotModified
                                                : ConditionalOutcome::Modified));
  client.ifNoneMatch.reset();
  // If-Modified-Since is monotonic: not modified since t means not modified since any later t'.
  const std::string since = formatHttpDate(base), later = formatHttpDate(base + step);
  client.ifModifiedSince = since;
  const ConditionalOutcome early = evaluateClientConditions(client, stored);
  client.ifModifiedSince = later;
  const ConditionalOutcome late = evaluateClientConditions(client, stored);
  if (!validated) FUZZ_CHECK(early == ConditionalOutcome::Unconditional && late == ConditionalOutcome::Unconditional);
  if (early == ConditionalOutcome::NotModified) FUZZ_CHECK(late == ConditionalOutcome::NotModified);
  const std::string sinceAnyCase = mixCase(since, static_cast<uint64_t>(base) * 0x9E3779B97F4A7C15ull);
  client.ifModifiedSince = sinceAnyCase;
  FUZZ_CHECK(evaluateClientConditions(client, stored) == early);
}

// ---- dates --------------------------------------------------------------------------------------------------
void fuzzDate(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const uint64_t pattern = in.ConsumeIntegral<uint64_t>();
  const int64_t instant = in.ConsumeIntegral<int64_t>();
  const std::string value = in.ConsumeRemainingBytesAsString();
  const auto strict = tryParseHttpDate(value);
  const auto anyCase = tryParseHttpDateAnyCase(value);
  if (strict) FUZZ_CHECK(anyCase == strict);
  FUZZ_CHECK(tryParseHttpDateAnyCase(upper(value)) == anyCase);
  FUZZ_CHECK(tryParseHttpDateAnyCase(lower(value)) == anyCase);
  FUZZ_CHECK(tryParseHttpDateAnyCase(mixCase(value, pattern)) == anyCase);
  FUZZ_CHECK(tryParseHttpDateAnyCase(" \t" + value + " ") == anyCase);
  if (anyCase) {
    FUZZ_CHECK(*anyCase >= -62167219200 && *anyCase <= 253402300799 + 1);  // years 0000-9999 (a leap second past)
    const std::string formatted = formatHttpDate(*anyCase);
    if (*anyCase <= 253402300799) FUZZ_CHECK(tryParseHttpDate(formatted) == anyCase);
  }
  // formatHttpDate clamps to 0000-9999 and always yields an IMF-fixdate that parses back to the clamped instant.
  const std::string f = formatHttpDate(instant);
  FUZZ_CHECK(f.size() == 29);
  const int64_t clamped = std::clamp<int64_t>(instant, -62167219200, 253402300799);
  FUZZ_CHECK(tryParseHttpDate(f) == clamped);
  FUZZ_CHECK(tryParseHttpDateAnyCase(mixCase(f, pattern)) == clamped);
}

// ---- age ----------------------------------------------------------------------------------------------------
void fuzzAge(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  // Instants reach the core as JS numbers, clamped by msFromDouble (the ABI's only way in).
  const auto instant = [&] { return abi::msFromDouble(in.ConsumeFloatingPoint<double>()); };
  const int64_t requestMs = instant(), responseMs = instant(), storedMs = instant(), nowMs = instant(),
                laterMs = instant();
  const std::optional<int64_t> dateS = in.ConsumeBool() ? std::optional(in.ConsumeIntegral<int64_t>()) : std::nullopt;
  const uint32_t initial = in.ConsumeIntegral<uint32_t>();
  const std::string value = in.ConsumeRemainingBytesAsString();

  const auto age = tryParseAge(value);
  if (age) FUZZ_CHECK(*age <= kDeltaSecondsCap);
  FUZZ_CHECK(tryParseAge(", " + value) == age);
  FUZZ_CHECK(tryParseAge(" ,\t," + value) == age);
  if (age) FUZZ_CHECK(tryParseAge(value + ", 7") == age && tryParseAge(value + ",x") == age);

  const uint32_t corrected = correctedInitialAgeS(AgeFacts{dateS, age, requestMs, responseMs});
  FUZZ_CHECK(corrected >= age.value_or(0));
  if (dateS && *dateS > -(int64_t{1} << 40) && *dateS < (int64_t{1} << 40) && responseMs / 1000 - *dateS > 0) {
    FUZZ_CHECK(uint64_t{corrected} >= std::min<uint64_t>(uint64_t(responseMs / 1000 - *dateS), UINT32_MAX));
  }
  const uint32_t now = currentAgeS(initial, storedMs, nowMs);
  FUZZ_CHECK(now >= initial);
  if (nowMs <= storedMs) FUZZ_CHECK(now == initial);
  if (laterMs >= nowMs) FUZZ_CHECK(currentAgeS(initial, storedMs, laterMs) >= now);
}

// ---- IP addresses -------------------------------------------------------------------------------------------
// inet_pton's reading of `text` as 16 bytes (IPv4 as ::ffff:a.b.c.d), or nullopt.
std::optional<std::array<uint8_t, 16>> ptonBytes(const std::string& text) {
  std::array<uint8_t, 16> out{};
  if (text.find(':') == std::string::npos) {
    uint8_t v4[4];
    if (inet_pton(AF_INET, text.c_str(), v4) != 1) return std::nullopt;
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, v4, 4);
    return out;
  }
  if (inet_pton(AF_INET6, text.c_str(), out.data()) != 1) return std::nullopt;
  return out;
}

void fuzzIp(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const uint64_t pattern = in.ConsumeIntegral<uint64_t>();
  const std::string text = in.ConsumeRemainingBytesAsString();
  const auto canonical = tryCanonicalIp(text);
  FUZZ_CHECK(tryCanonicalIp(mixCase(text, pattern)) == canonical);
  FUZZ_CHECK(tryCanonicalIp(" " + text + "\t") == canonical);
  // glibc's inet_pton as an independent reader: same acceptance (for text without surrounding OWS and NULs,
  // which the C string would cut), same address.
  const bool plain = text.find('\0') == std::string::npos && !text.empty() && text.front() != ' ' &&
                     text.front() != '\t' && text.back() != ' ' && text.back() != '\t';
  const auto reference = plain ? ptonBytes(text) : std::nullopt;
  if (plain && text.size() <= 45) FUZZ_CHECK(canonical.has_value() == reference.has_value());
  if (!canonical) return;
  FUZZ_CHECK(!canonical->empty() && canonical->size() <= 39);
  FUZZ_CHECK(tryCanonicalIp(*canonical) == canonical);
  for (char c : *canonical) FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' || c == '.');
  const auto canonicalBytes = ptonBytes(*canonical);
  FUZZ_CHECK(canonicalBytes.has_value());
  if (reference) FUZZ_CHECK(*canonicalBytes == *reference);
  // IPv4-mapped addresses are spelled as the IPv4 address they map; no other IPv6 is.
  const bool mapped = canonicalBytes->at(10) == 0xff && canonicalBytes->at(11) == 0xff &&
                      std::all_of(canonicalBytes->begin(), canonicalBytes->begin() + 10, [](uint8_t x) { return x == 0; });
  FUZZ_CHECK(mapped == (canonical->find(':') == std::string::npos));
  if (!mapped) {
    // RFC 5952 as glibc's inet_ntop writes it (it differs only for the IPv4-compatible ::a.b.c.d form).
    char buf[INET6_ADDRSTRLEN];
    FUZZ_CHECK(inet_ntop(AF_INET6, canonicalBytes->data(), buf, sizeof buf) != nullptr);
    if (std::string(buf).find('.') == std::string::npos) FUZZ_CHECK(*canonical == buf);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t* rest = data + 1;
  const size_t n = size - 1;
  switch (data[0] % 8) {
    case 0: fuzzRange(rest, n); break;
    case 1: fuzzIfRange(fuzz::asView(rest, n)); break;
    case 2: fuzzStructured(rest, n); break;
    case 3: fuzzVariant(fuzz::asView(rest, n)); break;
    case 4: fuzzEtags(rest, n); break;
    case 5: fuzzDate(rest, n); break;
    case 6: fuzzAge(rest, n); break;
    default: fuzzIp(rest, n); break;
  }
  return 0;
}
