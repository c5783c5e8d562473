#pragma once
// Cache-Control (RFC 9111 §5.2) and CDN-Cache-Control (RFC 9213, same syntax) parsing. Parsing only:
// which directive wins, and how `malformed` is acted on, is cache policy's job.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace edge_cache {

// Largest delta-seconds kept; bigger values are capped to it (RFC 9111 §1.2.2).
inline constexpr uint32_t kDeltaSecondsCap = 2147483648u;

// delta-seconds (RFC 9111 §1.2.2): 1*DIGIT only (no sign, decimals or spaces), saturating at the cap however
// many digits there are; nullopt for anything else.
std::optional<uint32_t> tryParseDeltaSeconds(std::string_view v);

struct CacheControl {
  std::optional<uint32_t> maxAge, sMaxAge, staleWhileRevalidate, staleIfError, minFresh;
  bool maxStale = false; std::optional<uint32_t> maxStaleValue;   // max-stale may have no value (= any staleness)
  bool noStore = false, noCache = false, isPrivate = false, isPublic = false, mustRevalidate = false,
       proxyRevalidate = false, noTransform = false, immutable = false, onlyIfCached = false, mustUnderstand = false;
  // no-cache="field", private="field" (quoted or token form) seen at least once: policy treats them as
  // unqualified (conservative), they are only flagged here. noCache / isPrivate are set as well.
  bool noCacheQualified = false, privateQualified = false;
  // Whether no-cache / private also appeared without field names (or in a broken element): then the
  // directive applies to the whole response, whatever fields other occurrences name.
  bool noCacheWhole = false, privateWhole = false;
  // The field names of the qualified forms, lower-cased and comma-joined in order (a HeaderList parses them):
  // a shared cache may store such a response without those fields (RFC 9111 §5.2.2.4, §5.2.2.7).
  std::string noCacheFields, privateFields;
  bool malformed = false;    // any directive was malformed/duplicated-conflicting; parsing continues
  bool present = false;      // at least one element started with a directive name (known or not)
};

// Never fails; unknown directives are ignored (their values are still skipped correctly). Linear time.
//
// Syntax (RFC 9110 §5.6): elements are `name[=value]`, comma-separated, OWS around elements, empty elements
// ignored. Names are case-insensitive tokens. A value is a token or a quoted-string (backslash escapes are
// undone; commas inside quotes do not split). No whitespace is allowed around '='.
//
// A broken element (bad name byte, whitespace around '=', empty value, junk after the value, control byte,
// unterminated quote) sets `malformed` and is skipped to the next comma outside quotes. An unterminated quote
// ends parsing; directives before it are kept.
//
// Conservative treatment of bad directives (always with `malformed` set):
// - Restrictive flags (no-store, no-cache, private, must-revalidate, proxy-revalidate, no-transform) are
//   honoured even in a broken element or with an unexpected argument (`no-store=1` still means no-store).
// - Relaxing flags (public, immutable, only-if-cached, must-understand) are ignored if they carry an
//   argument or their element is broken.
// - delta-seconds directives need a value that is 1*DIGIT (token or quoted); otherwise they are not set.
//   `max-stale` alone is valid (any staleness).
// - Repeated directive with a different value (RFC 9111 §4.2.1), once in conflict it stays so:
//   max-age, s-maxage -> 0 (stale at once); stale-while-revalidate, stale-if-error -> 0 (no stale
//   serving); min-fresh -> the largest value (strictest); max-stale -> dropped (maxStale=false, no value).
//   Repeats with an equal value (`60` vs `"60"` are equal) are fine.
CacheControl parseCacheControl(std::string_view headerValue);

}  // namespace edge_cache
