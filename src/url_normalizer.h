#pragma once
// Request-target (origin-form "path?query") normalisation per RFC 3986 §6.2.2, so that equivalent URLs share one
// cache key, while hostile targets (traversal, control characters, malformed encodings) are rejected, not repaired.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edge_cache {

enum class UrlError {
  None,
  Empty,
  NotOriginForm,  // must start with '/'
  TooLong,
  BadPercentEncoding,
  ControlCharacter,  // raw or %00-%1F, %7F
  InvalidUtf8,
  PathTraversal,  // '..' would climb above root
  Fragment,       // '#' present
};

// Stable reason strings: "url:none", "url:empty", "url:not-origin-form", "url:too-long",
// "url:bad-percent-encoding", "url:control-character", "url:invalid-utf8", "url:path-traversal", "url:fragment".
std::string_view urlErrorName(UrlError e);

// Parameter names are matched against their normalised form (so "%61piKey" is "apiKey").
struct UrlOptions {
  // Removed from key and origin query; bypassRequested when its value is "", "1", "true" or "yes"
  // (value compared case-insensitively; the NAME match is exact and case-sensitive). Empty disables it.
  std::string_view bypassParam = "nocache";
  // Removed from the key only (tracking). Exact, case-sensitive names; an entry ending with '*' is a prefix ("utm_*").
  std::span<const std::string> ignoredParams;
  // Removed from the key (never keyed) and from the origin's query (a rule may forward some: request_policy);
  // names compared case-insensitively (ASCII).
  std::span<const std::string> credentialParams;
  size_t maxUrlBytes = 8192;
};

struct NormalizedUrl {
  // Normalised path; always starts with '/'.
  std::string path;
  // The query for the cache key ("" when none), no leading '?': every parameter but the bypass, ignored and
  // credential ones, percent-normalised, ordered by name (stably: repeats of a name keep their order).
  std::string keyQuery;
  // Every parameter but the bypass one, percent-normalised, in request order: what a pass-through (a request
  // never stored) forwards. A cacheable request forwards the key's query instead (request_policy).
  std::string originQuery;
  // The credential parameters, percent-normalised, in request order ("" when none).
  std::string credentialQuery;
  bool bypassRequested = false;
  bool hasCredentialParam = false;
};

// The key query's (name, value) pairs, still percent-encoded (normalised), in key order. A param without
// '=' has value "". Views into url.keyQuery.
std::vector<std::pair<std::string_view, std::string_view>> keyQueryParams(const NormalizedUrl& url);

// Normalises into `out`, reusing its buffers (the per-request path: no allocation once they have grown).
// On error `out` is emptied (its buffers keep their capacity).
UrlError normalizeRequestTargetInto(std::string_view target, const UrlOptions& opts, NormalizedUrl& out);

struct UrlResult {
  std::optional<NormalizedUrl> url;
  UrlError error = UrlError::None;
};

UrlResult normalizeRequestTarget(std::string_view target, const UrlOptions& opts);

// Percent-decodes a single path segment or query value for reading (e.g. a ticker or a date); nullopt on bad
// encoding. '+' is kept as is; no UTF-8 or control-character checks (normalised input has already passed them).
std::optional<std::string> tryPercentDecode(std::string_view s);

}  // namespace edge_cache
