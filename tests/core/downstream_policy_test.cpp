#include "downstream_policy.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "policy_test_support.h"

using namespace edge_cache;
using namespace edge_cache::test;
using abi::DownstreamFlag;
using abi::RequestHeader;

namespace {

// Classes of each kind, one rate-limited route, one route shared across credentials.
constexpr std::string_view kDownstreamRulesJson = R"({"version": 1,
  "classes": {
    "QUOTE": {"ttl": "15s", "browserTtl": "5s", "tiers": ["memory", "edge"]},
    "REF": {"ttl": "1d", "tiers": ["memory", "edge"]},
    "NONE": {"ttl": 0},
    "ORIGIN": {"followOrigin": true, "tiers": ["memory", "edge"]}
  },
  "default": "ORIGIN",
  "origins": {
    "paid": {"url": "https://paid.example.com/api", "quota": {"perDay": 100}},
    "free": {"url": "https://free.example.com/api"}
  },
  "keys": {"credentialParams": ["apiKey"]},
  "rateLimits": {"enabled": true, "default": {"perMinute": 60}, "classes": {"QUOTE": {"perMinute": 60}},
                 "exempt": ["/ref/*", "/shared/*", "/none/*", "/other/*", "/paid/*", "/free/*"]},
  "rules": [
    {"name": "quote", "path": "/quote/{t}", "class": "QUOTE"},
    {"name": "ref", "path": "/ref/{t}", "class": "REF"},
    {"name": "shared", "path": "/shared/{t}", "class": "REF", "sharedAcrossCredentials": true},
    {"name": "none", "path": "/none/{t}", "class": "NONE"},
    {"name": "paid", "path": "/paid/{t}", "class": "REF", "origin": "paid", "originPath": "/v1/{t}"},
    {"name": "free", "path": "/free/{t}", "class": "REF", "origin": "free", "originPath": "/v1/{t}"}
  ]
})";

PolicySetup setupWithAuth(std::string_view authMode, std::string_view rateLimit = "on") {
  nlohmann::json cfg = nlohmann::json::parse(configJson(kDownstreamRulesJson));
  cfg["authMode"] = std::string(authMode);
  cfg["rateLimit"] = std::string(rateLimit);
  return setupPolicy(cfg.dump(), embedded::kRulesJson);
}

const PolicySetup& authNone() {
  static const PolicySetup s = setupWithAuth("none");
  return s;
}
const PolicySetup& authNoneLimitsOff() {
  static const PolicySetup s = setupWithAuth("none", "off");
  return s;
}
const PolicySetup& authJwt() {
  static const PolicySetup s = setupWithAuth("jwt");
  return s;
}
const PolicySetup& authOrigin() {
  static const PolicySetup s = setupWithAuth("origin");
  return s;
}

constexpr uint32_t bit(DownstreamFlag f) { return static_cast<uint32_t>(f); }
constexpr uint32_t kEligible = bit(DownstreamFlag::WorkersCacheEligible);
constexpr uint32_t kPrivate = bit(DownstreamFlag::BrowserPrivate);
constexpr uint32_t kOriginOwn = bit(DownstreamFlag::BrowserOriginOwn);

}  // namespace

TEST_CASE("downstream: Workers Cache gets only what needs no per-request check; browsers are told what to keep") {
  struct Case {
    std::string_view label;
    const PolicySetup& (*setup)();
    std::string_view target;
    uint32_t method;
    std::string_view authorization;  // empty: none
    uint32_t flags;
    uint32_t browserTtlS;
  };
  const Case cases[] = {
      // Eligible: plain lookup, cached class, auth off, no rate limit, no credentials.
      {"public reference data, auth off", authNone, "/ref/AAPL", kGet, "", kEligible, 0},
      {"HEAD is a lookup of the same entry", authNone, "/ref/AAPL", kHead, "", kEligible, 0},
      {"followOrigin class (origin's CC kept)", authNone, "/other/x", kGet, "", kEligible | kOriginOwn, 0},
      // Rate limited: Workers Cache would answer past the limit.
      {"rate-limited class", authNone, "/quote/AAPL", kGet, "", 0, 5},
      {"rate-limited class, RATE_LIMIT=off", authNoneLimitsOff, "/quote/AAPL", kGet, "", kEligible, 5},
      // Not cached: nothing to offer.
      {"NONE class", authNone, "/none/x", kGet, "", 0, 0},
      // Auth on: Workers Cache would answer clients the origin refuses.
      {"AUTH_MODE=jwt", authJwt, "/ref/AAPL", kGet, "", 0, 0},
      {"AUTH_MODE=origin", authOrigin, "/ref/AAPL", kGet, "", 0, 0},
      {"AUTH_MODE=origin, credentialed", authOrigin, "/ref/AAPL", kGet, "Bearer t", kPrivate, 0},
      // Credentials: private to browsers; shared routes may still go to Workers Cache with auth off.
      {"credential header", authNone, "/ref/AAPL", kGet, "Bearer t", kPrivate, 0},
      {"credential query parameter", authNone, "/ref/AAPL?apiKey=k", kGet, "", kPrivate, 0},
      {"credentialed, sharedAcrossCredentials", authNone, "/shared/AAPL", kGet, "Bearer t", kPrivate | kEligible, 0},
      // Upstream APIs: a route whose upstream has a quota needs the worker's accounting on every request.
      {"upstream with a quota", authNone, "/paid/AAPL", kGet, "", 0, 0},
      {"upstream without a quota", authNone, "/free/AAPL", kGet, "", kEligible, 0},
      // A refresh (?nocache) runs the origin: never offered.
      {"bypass parameter", authNone, "/ref/AAPL?nocache=1", kGet, "", 0, 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    Req req(c.target, c.method);
    if (!c.authorization.empty()) req.header(RequestHeader::Authorization, c.authorization);
    const Decision d = decide(req, c.setup().ctx);
    CHECK(d.downstream == c.flags);
    CHECK(d.browserTtlS == c.browserTtlS);
  }
}

TEST_CASE("downstream: a byte range is never offered to Workers Cache") {
  Req req("/ref/AAPL");
  req.header(RequestHeader::Range, "bytes=0-9");
  const Decision d = decide(req, authNone().ctx);
  CHECK((d.downstream & kEligible) == 0);
}

TEST_CASE("downstream: the shipped rules rate-limit by default, so only exempt routes are offered") {
  PolicySetup s = [] {
    nlohmann::json cfg = nlohmann::json::parse(configJson());
    cfg["authMode"] = "none";
    return setupPolicy(cfg.dump(), embedded::kRulesJson);
  }();
  CHECK((decide(Req("/v3/reference/tickers/types"), s.ctx).downstream & kEligible) != 0);
  CHECK((decide(Req("/v3/reference/tickers/AAPL"), s.ctx).downstream & kEligible) == 0);
}

TEST_CASE("downstream: rejected and local answers carry no downstream fields") {
  CHECK(decide(Req("/ref/%ZZ"), authNone().ctx).downstream == 0);
  CHECK(decide(Req("/ref/AAPL", kPost), authNone().ctx).downstream == 0);
}

TEST_CASE("downstream: RATE_LIMIT=off decides no rate bucket at all") {
  CHECK(decide(Req("/quote/AAPL"), authNone().ctx).rateBucket != abi::kNone);
  CHECK(decide(Req("/quote/AAPL"), authNoneLimitsOff().ctx).rateBucket == abi::kNone);
  CHECK(decide(Req("/ref/AAPL?nocache=1"), authNoneLimitsOff().ctx).rateBucket == abi::kNone);
}
