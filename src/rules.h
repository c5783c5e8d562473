#pragma once
// The cache rules model: TTL classes, and rules mapping (method, path) to a class. Filled by rules_loader from
// config/cache-rules.json (format: docs/rules.md); read by the policy, which decides what a request gets.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "path_pattern.h"
#include "upstream_config.h"

namespace edge_cache {

// Where entries of a class may be stored; same values as abi::TierBit.
enum TierBit : uint32_t { kTierMemory = 1, kTierEdge = 2, kTierDurableObject = 4, kTierKv = 8 };
// Same values as abi::Method, so a request's method converts by value.
enum MethodBit : uint32_t {
  kMethodGet = 1,
  kMethodHead = 2,
  kMethodPost = 4,
  kMethodPut = 8,
  kMethodPatch = 16,
  kMethodDelete = 32,
  kMethodOptions = 64
};

// The bit of an upper-case HTTP method name (methods are case-sensitive); 0 for any other, which no rule matches.
constexpr uint32_t methodBitFromName(std::string_view name) {
  if (name == "GET") return kMethodGet;
  if (name == "HEAD") return kMethodHead;
  if (name == "POST") return kMethodPost;
  if (name == "PUT") return kMethodPut;
  if (name == "PATCH") return kMethodPatch;
  if (name == "DELETE") return kMethodDelete;
  if (name == "OPTIONS") return kMethodOptions;
  return 0;
}

// The bit of a tier as named in the rules file ("memory", "edge", "do", "kv"); 0 for any other name.
constexpr uint32_t tierBitFromName(std::string_view name) {
  if (name == "memory") return kTierMemory;
  if (name == "edge") return kTierEdge;
  if (name == "do") return kTierDurableObject;
  if (name == "kv") return kTierKv;
  return 0;
}

struct TtlClass {
  std::string name;   // "PERMANENT", "REALTIME", ...
  uint32_t ttlS = 0;  // 0 = not cached (NONE)
  uint32_t staleWhileRevalidateS = 0, staleIfErrorS = 0;
  uint32_t negativeTtlS = 0;   // TTL for 404 responses (0 = 404 not cached)
  uint32_t tiers = 0;          // TierBit mask where entries of this class may be stored
  bool marketAware = false;    // REALTIME: short ttl while trading, fresh until next open when closed
  uint32_t closedMaxTtlS = 0;  // cap for the closed-market freshness of marketAware classes (> 0 for them)
  bool followOrigin = false;   // use the origin's Cache-Control (ORIGIN class)
  // followOrigin only: an origin response without explicit freshness but with Last-Modified is fresh for a
  // tenth of its age at the origin (RFC 9111 §4.2.2), at most heuristicMaxTtlS.
  bool heuristicFreshness = false;
  uint32_t heuristicMaxTtlS = 0;
  // How long an entry past its stale windows may still answer when the origin cannot be reached at all
  // (connection refused, reset or timed out — not a 5xx), unless the origin forbade stale answers. RFC 9111
  // §4.2.4 lets a disconnected cache do so. Default: a day for followOrigin classes; rule classes have their
  // staleIfError for both.
  uint32_t staleIfUnreachableS = 0;
  // How long a browser may reuse an answer without asking the worker (Cache-Control: max-age to clients),
  // never longer than the entry's remaining freshness here. 0 (default): the browser revalidates every time
  // (no-cache), so the worker answers a repeat with a 304 from its tiers. A class whose data a few minutes old
  // in a browser is acceptable may say so.
  uint32_t browserTtlS = 0;
};

inline constexpr uint32_t kDefaultFollowOriginStaleIfUnreachableS = 86400;

// The longest heuristic freshness unless a class says otherwise: a day, as RFC 9111 §4.2.2 advises (beyond it
// clients were once warned).
inline constexpr uint32_t kDefaultHeuristicMaxTtlS = 86400;

// The longest "recent" window a rule's pastDate may name, in trading days (six weeks of trading).
inline constexpr uint16_t kMaxRecentTradingDays = 30;

struct Rule {
  std::string name;  // stable id shown in reasons: "rule:<name>"
  uint32_t methods = kMethodGet | kMethodHead;
  PathPattern pattern;
  uint16_t classIndex = 0;
  // Optional date condition: if capture `pastDateParam` is a date (YYYY-MM-DD or epoch ms) strictly before the
  // market's today → pastClassIndex.
  std::string pastDateParam;  // empty = no condition
  uint16_t pastClassIndex = 0;
  // Optional refinement of the date condition ("pastDate.recent"): a past date on or after the
  // recentTradingDays-th NYSE trading day before the market's today → recentClassIndex instead. A chart asks for
  // ranges ending at the previous close for about a day only, so those keys need not go to scarce tiers (KV).
  uint16_t recentTradingDays = 0;  // 0 = no refinement; at most kMaxRecentTradingDays
  uint16_t recentClassIndex = 0;
  std::vector<std::string> varyHeaders;  // lower-case request header names that are part of the key for this rule
  std::vector<std::string> tags;         // purge tag templates, may reference captures: "ticker:{ticker}"
  // The route's data is the same for every client the origin authorises: a response to a credentialed request is
  // shared even without public / s-maxage / must-revalidate (RFC 9111 §3.5). Auth is still checked per request.
  bool sharedAcrossCredentials = false;
  // Credential query parameters (keys.credentialParams) this route's origin needs: forwarded, never keyed.
  // Every other credential parameter is dropped before the origin, like any parameter the key does not hold.
  std::vector<std::string> forwardCredentialParams;
  // The upstream this route's requests go to (index into RulesConfig::origins), and the path asked of it, with
  // `{capture}` references ("/v3/profile/{ticker}"); no origin: BACKEND_URL and the request's own path.
  uint32_t originIndex = kNoOrigin;
  std::string originPath;  // empty: the request's path
  static constexpr uint32_t kNoOrigin = 0xFFFFFFFF;
};

// What a credential is (issue #14): request header fields, cookies and query parameters. A request that carries
// any of them is credentialed: its response is shared only as RFC 9111 §3.5 allows, and every auth mode judges it.
struct KeyConfig {
  std::string bypassParam = "nocache";        // "" disables it
  std::vector<std::string> ignoredParams;     // exact names, or a prefix ending with '*' ("utm_*")
  std::vector<std::string> credentialParams;  // exact names (compared case-insensitively by the normaliser)
  // Lower-case request header names that carry credentials; they reach the origin (it judges them).
  std::vector<std::string> credentialHeaders = {"authorization"};
  // Cookie names that are credentials. Absent: any cookie is one (the Cookie field as a whole).
  std::optional<std::vector<std::string>> credentialCookies;
  uint32_t maxKeyBytes = 480;
};

struct LimitsConfig {
  uint32_t maxUrlBytes = 8192;
  uint32_t maxHeaderBytes = 16384;
};

struct MarketConfig {
  bool extendedHours = true;  // REALTIME data changes during pre/after-hours too
};

// Request limits per client for one bucket (docs/rules.md, "Rate limits"), counted in fixed windows: the clock
// minute and the UTC day. 0 = that window is not limited.
struct RateLimitWindows {
  uint32_t perMinute = 0;
  uint32_t perDay = 0;
  bool limited() const { return perMinute > 0 || perDay > 0; }
};

// Who may send how much. The core only validates and reports this (configure report, "rateLimits"); the shim
// picks a request's bucket from its decision (bypass flag, class) and counts in a Durable Object, because the
// count is shared state and the core holds none.
struct RateLimitConfig {
  bool enabled = false;                           // false when the section is absent
  std::optional<RateLimitWindows> defaultLimits;  // requests no other bucket applies to; absent = not limited
  std::optional<RateLimitWindows> bypass;         // requests with the bypass parameter (they reach the origin)
  // Per TTL class (index into RulesConfig::classes), in file order; an entry with no window = not limited.
  std::vector<std::pair<uint16_t, RateLimitWindows>> classes;
  // Normalised paths never limited: exact ("/health"; one trailing slash of the request ignored) or, from an
  // entry written "/static/*", a prefix stored as "/static" that matches "/static" and everything below it.
  std::vector<std::string> exemptPaths;
  std::vector<std::string> exemptPrefixes;
};

struct RulesConfig {
  uint32_t version = 1;
  std::vector<TtlClass> classes;   // in file order; a class index is a position here
  std::vector<Rule> rules;         // first match wins
  uint16_t defaultClassIndex = 0;  // for unmatched requests
  KeyConfig keys;
  LimitsConfig limits;
  MarketConfig market;
  RateLimitConfig rateLimits;
  std::vector<std::string> warm;  // request paths (path?query) to warm on the cron
  // Request header fields (lower-case) the origin receives on cacheable fetches besides the built-in allow list
  // (request_forwarding.h): anything else a client sends never reaches the origin, so it cannot change what
  // is cached.
  std::vector<std::string> forwardRequestHeaders;
  std::vector<UpstreamOrigin> origins;  // the rules' `origins`, in file order (upstream_config.h)

  std::optional<uint16_t> findClass(std::string_view name) const {
    for (size_t i = 0; i < classes.size() && i <= UINT16_MAX; ++i)
      if (classes[i].name == name) return static_cast<uint16_t>(i);
    return std::nullopt;
  }
};

}  // namespace edge_cache
