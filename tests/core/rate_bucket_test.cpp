// The rate-limit bucket on the request decision (kDecRateBucket): docs/rules.md "Rate limits" and issue #14 —
// bypass for requests that always reach the origin past the cache (?nocache, and Range requests passed through),
// else the request's TTL class when rateLimits.classes names it (none when it is listed without windows), else
// default; nothing for exempt paths, rejections and preflights. The worker's own endpoints are limited (#14).
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "policy_test_support.h"
#include "request_policy.h"

using namespace edge_cache;
using namespace edge_cache::test;
using abi::RequestHeader;

namespace {

constexpr uint32_t kDefault = abi::kRateBucketDefault;
constexpr uint32_t kBypass = abi::kRateBucketBypass;
constexpr uint32_t kNone = abi::kNone;

uint32_t classBucket(const PolicyContext& ctx, std::string_view cls) {
  const uint32_t index = classIndexOf(ctx, cls);
  CHECK(index != abi::kNone);
  return abi::kRateBucketFirstClass + index;
}

// Class A is limited, class B listed without windows (not limited), no bypass limits: ?nocache counts like any
// request of its class.
constexpr std::string_view kNoBypassRules = R"({"version": 1,
  "classes": {"A": {"ttl": "1h", "tiers": ["memory"]}, "B": {"ttl": "1h", "tiers": ["memory"]}, "NONE": {"ttl": 0},
              "ORIGIN": {"followOrigin": true, "tiers": ["memory"]}},
  "default": "ORIGIN",
  "rules": [{"name": "a", "path": "/a/*", "class": "A"}, {"name": "b", "path": "/b/*", "class": "B"},
            {"name": "static", "path": "/static/*", "class": "A"}],
  "rateLimits": {"default": {"perMinute": 100}, "classes": {"A": {"perMinute": 5}, "B": {}},
                 "exempt": ["/static/*", "/health"]}
})";

}  // namespace

TEST_CASE("rate bucket: the shipped limits") {
  const PolicyContext& ctx = shippedContext();
  const uint32_t realtime = classBucket(ctx, "REALTIME"), none = classBucket(ctx, "NONE");
  struct Case {
    std::string_view label;
    std::string_view target;
    uint32_t method;
    std::string_view range;  // "" = no Range field
    uint32_t bucket;
  };
  const Case cases[] = {
      {"a class without limits of its own", "/v3/reference/tickers/AAPL", kGet, "", kDefault},
      {"HEAD counts like GET", "/v3/reference/tickers/AAPL", kHead, "", kDefault},
      {"a limited class", "/v2/last/trade/AAPL", kGet, "", realtime},
      {"the uncached class is limited", "/v2/snapshot/locale/us", kGet, "", none},
      {"an uncached rule's GET", "/auth/login", kGet, "", none},
      {"the class a past date gets (PERMANENT, unlisted)", "/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-19", kGet, "", kDefault},
      {"today's open-close is NONE", "/v1/open-close/AAPL/2026-11-23", kGet, "", none},
      {"unmatched: the origin decides", "/v9/unknown", kGet, "", kDefault},
      // ?nocache always reaches the origin: the bypass bucket, whatever the class.
      {"?nocache", "/v3/reference/tickers/AAPL?nocache=true", kGet, "", kBypass},
      {"?nocache on a limited class", "/v2/last/trade/AAPL?nocache=1", kGet, "", kBypass},
      {"?nocache on an unmatched path", "/v9/unknown?a=1&nocache", kGet, "", kBypass},
      {"?nocache=false is no bypass", "/v2/last/trade/AAPL?nocache=false", kGet, "", realtime},
      // Ranges: one byte range is served from the stored response; several (or another unit) pass through.
      {"one byte range", "/v2/last/trade/AAPL", kGet, "bytes=0-99", realtime},
      {"several ranges pass through", "/v2/last/trade/AAPL", kGet, "bytes=0-1,5-6", kBypass},
      {"another unit passes through", "/v3/reference/tickers/AAPL", kGet, "items=0-9", kBypass},
      {"HEAD ignores Range", "/v2/last/trade/AAPL", kHead, "bytes=0-1,5-6", realtime},
      // Other methods reach no class.
      {"POST", "/v2/last/trade/AAPL", kPost, "", kDefault},
      {"DELETE", "/users/1", kDelete, "", kDefault},
      // The worker's own endpoints are limited like any request (#14: health and metrics).
      {"health", "/health", kGet, "", kDefault},
      {"cache health", "/api/v1/cache/health", kHead, "", kDefault},
      {"metrics", "/api/v1/cache/metrics", kGet, "", kDefault},
      {"purge", "/api/v1/cache/purge", kPost, "", kDefault},
      // Exempt paths (rateLimits.exempt), compared as normalised paths; one trailing slash ignored.
      {"exempt", "/v3/reference/tickers/types", kGet, "", kNone},
      {"exempt, v1", "/v1/reference/tickers/types?asset_class=stocks", kGet, "", kNone},
      {"exempt with a trailing slash", "/v3/reference/tickers/types/", kGet, "", kNone},
      {"exempt, escaped letters", "/v3/reference/tickers/%74ypes", kGet, "", kNone},
      {"exempt beats bypass", "/v3/reference/tickers/types?nocache=1", kGet, "", kNone},
      {"exempt beats a passed-through range", "/v3/reference/tickers/types", kGet, "bytes=0-1,3-4", kNone},
      {"not a prefix", "/v3/reference/tickers/typesx", kGet, "", kDefault},
      {"below an exact path is not exempt", "/v3/reference/tickers/types/x", kGet, "", kDefault},
      // Rejections are not counted (docs/rules.md), nor are preflights.
      {"rejected: 405 on health", "/health", kPost, "", kNone},
      {"rejected: bad target", "/a#frag", kGet, "", kNone},
      {"rejected: traversal", "/../etc/passwd", kGet, "", kNone},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    Req req(c.target, c.method);
    if (!c.range.empty()) req.header(RequestHeader::Range, c.range);
    const Decision d = decide(req, ctx);
    CHECK(d.rateBucket == c.bucket);
  }
  Req preflight("/v2/last/trade/AAPL", kOptions);
  preflight.header(RequestHeader::Origin, "https://app.example").header(RequestHeader::AccessControlRequestMethod, "GET");
  CHECK(decide(preflight, ctx).rateBucket == kNone);
}

TEST_CASE("rate bucket: a class listed without windows is not limited; no bypass limits; prefix exemptions") {
  const PolicySetup s = setupPolicy(configJson(kNoBypassRules), embedded::kRulesJson);
  CHECK(s.rulesSource == "override");
  const PolicyContext& ctx = s.ctx;
  const uint32_t a = classBucket(ctx, "A");
  struct Case {
    std::string_view target;
    std::string_view range;
    uint32_t bucket;
  };
  const Case cases[] = {
      {"/a/x", "", a},
      {"/b/x", "", kNone},             // "B": {} — listed, no window
      {"/other", "", kDefault},
      // Without bypass limits, ?nocache and passed-through ranges count like any other request.
      {"/a/x?nocache=1", "", a},
      {"/b/x?nocache=1", "", kNone},
      {"/other?nocache=1", "", kDefault},
      {"/b/x", "bytes=0-1,4-5", kDefault},  // a pass-through gets no class: default
      // "/static/*" exempts /static, /static/ and below, not /staticx.
      {"/static", "", kNone},
      {"/static/", "", kNone},
      {"/static/a/b.css", "", kNone},
      {"/staticx", "", kDefault},
      {"/health", "", kNone},
      {"/health/", "", kNone},
  };
  for (const Case& c : cases) {
    CAPTURE(c.target);
    CAPTURE(c.range);
    Req req(c.target);
    if (!c.range.empty()) req.header(RequestHeader::Range, c.range);
    CHECK(decide(req, ctx).rateBucket == c.bucket);
  }
}

TEST_CASE("rate bucket: nothing is limited when limits are off, absent, or name no bucket a request falls in") {
  struct Case {
    std::string_view label;
    std::string_view rateLimits;  // "" = no rateLimits section
    std::string_view target;
    uint32_t bucket;
  };
  const Case cases[] = {
      {"no section", "", "/a/x", kNone},
      {"no section, ?nocache", "", "/a/x?nocache=1", kNone},
      {"disabled", R"({"enabled": false, "default": {"perMinute": 5}, "bypass": {"perMinute": 1}})", "/a/x", kNone},
      {"disabled, ?nocache", R"({"enabled": false, "default": {"perMinute": 5}, "bypass": {"perMinute": 1}})", "/a/x?nocache=1", kNone},
      {"bypass only: an ordinary request", R"({"bypass": {"perMinute": 1}})", "/a/x", kNone},
      {"bypass only: ?nocache", R"({"bypass": {"perMinute": 1}})", "/a/x?nocache=1", kBypass},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    std::string rules = R"({"version": 1, "classes": {"A": {"ttl": "1h", "tiers": ["memory"]}}, "default": "A",
      "rules": [{"name": "a", "path": "/a/*", "class": "A"}])";
    if (!c.rateLimits.empty()) rules += R"(, "rateLimits": )" + std::string(c.rateLimits);
    rules += "}";
    const PolicySetup s = setupPolicy(configJson(rules), embedded::kRulesJson);
    CHECK(s.rulesSource == "override");
    CHECK(decide(Req(c.target), s.ctx).rateBucket == c.bucket);
  }
}
