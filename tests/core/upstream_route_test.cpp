// Upstream routes through the request decision (src/upstream_route.h, src/request_policy.cpp): which origin, what
// it is asked for, what the key holds, and what never reaches an upstream.
#include "upstream_route.h"

#include <doctest/doctest.h>

#include "policy_test_support.h"

using namespace edge_cache;
using namespace edge_cache::test;

namespace {

constexpr std::string_view kRules = R"({"version": 1,
  "origins": {
    "fmp": {"url": "https://financialmodelingprep.com/api", "credential": {"query": "apikey", "secret": "FMP_API_KEY"},
            "quota": {"perDay": 250}},
    "news": {"url": "https://newsapi.org", "credential": {"header": "X-Api-Key", "secret": "NEWSAPI_KEY"}, "quota": {"perDay": 100}},
    "open": {"url": "https://open.example.org/v1/", "public": true}
  },
  "classes": {"DAY": {"ttl": "1d", "staleIfError": "7d", "tiers": ["memory", "edge"]}, "NONE": {"ttl": 0},
              "ORIGIN": {"followOrigin": true, "tiers": ["edge"]}},
  "default": "ORIGIN",
  "rules": [
    {"name": "fmp-profile", "path": "/fmp/profile/{ticker}", "origin": "fmp", "originPath": "/v3/profile/{ticker}", "class": "DAY"},
    {"name": "news", "path": "/news/top", "origin": "news", "originPath": "/v2/top-headlines", "class": "DAY"},
    {"name": "news-live", "path": "/news/live", "origin": "news", "originPath": "/v2/everything", "class": "NONE"},
    {"name": "open", "path": "/open/*", "origin": "open", "class": "DAY"},
    {"name": "backend", "path": "/v3/reference/tickers/{ticker}", "class": "DAY"}
  ]})";

PolicySetup setupWith(nlohmann::json extra) {
  nlohmann::json cfg = {{"originBase", std::string(kOriginBase)}, {"shards", kShards}, {"rules", std::string(kRules)}};
  for (auto& [k, v] : extra.items()) cfg[k] = v;
  return setupPolicy(cfg.dump(), embedded::kRulesJson);
}

const PolicySetup& allSecrets() {
  static const PolicySetup s = setupWith({{"secretsPresent", {"FMP_API_KEY", "NEWSAPI_KEY"}}});
  return s;
}

}  // namespace

TEST_CASE("upstream routes: origin, upstream target and key") {
  const PolicyContext& ctx = allSecrets().ctx;
  CHECK(allSecrets().rulesSource == "override");
  if (!(allSecrets().rulesSource == "override")) return;
  struct Case {
    std::string_view target;
    uint32_t origin;  // index, kNone = backend
    abi::Action action;
    std::string_view originTarget, key;
  };
  const Case cases[] = {
      {"/fmp/profile/AAPL", 0, abi::Action::Lookup, "/v3/profile/AAPL", "https://financialmodelingprep.com/fmp/profile/AAPL"},
      // The client's value of the credential parameter is dropped from the upstream request and the key, in any case.
      {"/fmp/profile/AAPL?apikey=stolen&period=annual", 0, abi::Action::Lookup, "/v3/profile/AAPL?period=annual",
       "https://financialmodelingprep.com/fmp/profile/AAPL?period=annual"},
      {"/fmp/profile/AAPL?APIKEY=x&%61pikey=y", 0, abi::Action::Lookup, "/v3/profile/AAPL",
       "https://financialmodelingprep.com/fmp/profile/AAPL"},
      {"/fmp/profile/AAPL?b=2&a=1&nocache=true", 0, abi::Action::Refresh, "/v3/profile/AAPL?a=1&b=2",
       "https://financialmodelingprep.com/fmp/profile/AAPL?a=1&b=2"},
      // A header credential leaves the query alone.
      {"/news/top?country=us&apikey=1", 1, abi::Action::Lookup, "/v2/top-headlines?apikey=1&country=us",
       "https://newsapi.org/news/top?apikey=1&country=us"},
      // A class that is not cached still goes through the counted fetch path.
      {"/news/live?q=x", 1, abi::Action::Lookup, "/v2/everything?q=x", "https://newsapi.org/news/live?q=x"},
      // No originPath: the request's path, under the origin's path prefix (the shim appends it to the URL).
      {"/open/a/b?z=1", 2, abi::Action::Lookup, "/open/a/b?z=1", "https://open.example.org/open/a/b?z=1"},
      // Rules without an origin: BACKEND_URL as before.
      {"/v3/reference/tickers/AAPL?apikey=k", abi::kNone, abi::Action::Lookup, "/v3/reference/tickers/AAPL?apikey=k",
       "https://api.example.com/v3/reference/tickers/AAPL?apikey=k"},
      {"/elsewhere", abi::kNone, abi::Action::Lookup, "/elsewhere", "https://api.example.com/elsewhere"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.target);
    const Decision d = decide(Req(c.target), ctx);
    CHECK(d.originIndex == c.origin);
    CHECK(d.action == c.action);
    CHECK(d.originTarget == c.originTarget);
    CHECK(d.key == c.key);
  }
}

TEST_CASE("upstream routes: a missing secret refuses the routes that need it, naming the origin") {
  const PolicySetup noFmp = setupWith({{"secretsPresent", {"NEWSAPI_KEY", "UNRELATED"}}});
  struct Case {
    std::string_view target;
    abi::Action action;
    uint32_t status, origin;
    Reason reason;
  };
  const Case cases[] = {
      {"/fmp/profile/AAPL", abi::Action::Reject, 503, 0, Reason::UpstreamSecretMissing},
      {"/news/top", abi::Action::Lookup, 0, 1, Reason::RuleClass},
      {"/open/x", abi::Action::Lookup, 0, 2, Reason::RuleClass},  // needs no secret
      {"/v3/reference/tickers/AAPL", abi::Action::Lookup, 0, abi::kNone, Reason::RuleClass},
  };
  for (const Case& c : cases) {
    CAPTURE(c.target);
    const Decision d = decide(Req(c.target), noFmp.ctx);
    CHECK(d.action == c.action);
    CHECK(d.httpStatus == c.status);
    CHECK(d.originIndex == c.origin);
    CHECK(d.reason == c.reason);
  }
  // Without the secretsPresent fact (explain), every secret counts as set.
  CHECK(decide(Req("/fmp/profile/AAPL"), setupWith(nlohmann::json::object()).ctx).action == abi::Action::Lookup);
}

TEST_CASE("upstream routes: nothing is passed through to an upstream") {
  const PolicyContext& ctx = allSecrets().ctx;
  struct Case {
    std::string_view target;
    uint32_t method;
    std::string_view range;
    abi::Action action;
    uint32_t status;
    Reason reason;
  };
  const Case cases[] = {
      {"/fmp/profile/AAPL", kPost, "", abi::Action::Reject, 405, Reason::UpstreamMethodNotAllowed},
      {"/news/top", kDelete, "", abi::Action::Reject, 405, Reason::UpstreamMethodNotAllowed},
      {"/v3/reference/tickers/AAPL", kPost, "", abi::Action::Bypass, 0, Reason::MethodNotCacheable},
      // Several ranges: answered in full from the cache path, not passed through.
      {"/fmp/profile/AAPL", kGet, "bytes=0-1,5-6", abi::Action::Lookup, 0, Reason::RuleClass},
      {"/v3/reference/tickers/AAPL", kGet, "bytes=0-1,5-6", abi::Action::Bypass, 0, Reason::RangeRequest},
      {"/fmp/profile/AAPL", kGet, "bytes=0-9", abi::Action::Lookup, 0, Reason::RuleClass},
      {"/fmp/profile/AAPL", kHead, "", abi::Action::Lookup, 0, Reason::RuleClass},
  };
  for (const Case& c : cases) {
    CAPTURE(c.target);
    CAPTURE(c.range);
    Req req(c.target, c.method);
    if (!c.range.empty()) req.header(abi::RequestHeader::Range, c.range);
    const Decision d = decide(req, ctx);
    CHECK(d.action == c.action);
    CHECK(d.httpStatus == c.status);
    CHECK(d.reason == c.reason);
  }
  CHECK(routesToUpstream(ctx, "/fmp/profile/X"));
  CHECK_FALSE(routesToUpstream(ctx, "/fmp/other"));
  CHECK_FALSE(routesToUpstream(shippedContext(), "/v3/reference/tickers/AAPL"));
}

TEST_CASE("upstream routes: the upstream request as explain shows it, the secret masked") {
  const PolicyContext& ctx = allSecrets().ctx;
  struct Case {
    uint32_t origin;
    std::string_view target, url, header;
  };
  const Case cases[] = {
      {0, "/v3/profile/AAPL", "https://financialmodelingprep.com/api/v3/profile/AAPL?apikey=<secret FMP_API_KEY>", ""},
      {0, "/v3/profile/AAPL?period=annual",
       "https://financialmodelingprep.com/api/v3/profile/AAPL?period=annual&apikey=<secret FMP_API_KEY>", ""},
      {1, "/v2/top-headlines?country=us", "https://newsapi.org/v2/top-headlines?country=us", "x-api-key: <secret NEWSAPI_KEY>"},
      {2, "/open/x", "https://open.example.org/v1/open/x", ""},
      {abi::kNone, "/x", "", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.target);
    const MaskedUpstreamRequest m = maskedUpstreamRequest(ctx, c.origin, c.target);
    CHECK(m.url == c.url);
    CHECK(m.header == c.header);
  }
}

TEST_CASE("upstream routes: a rules file without origins decides exactly as before") {
  // The shipped rules (no origins) through the same paths: no decision names an upstream.
  for (std::string_view target : {"/v3/reference/tickers/AAPL", "/v2/last/trade/AAPL", "/elsewhere?apikey=1", "/health"}) {
    CAPTURE(target);
    CHECK(decide(Req(target)).originIndex == abi::kNone);
  }
  CHECK(decide(Req("/v3/reference/tickers/AAPL", kPost)).action == abi::Action::Bypass);
  Req ranges("/v3/reference/tickers/AAPL");
  ranges.header(abi::RequestHeader::Range, "bytes=0-1,5-6");
  CHECK(decide(ranges).reason == Reason::RangeRequest);
}

TEST_CASE("upstream routes: AUTH_MODE=origin cannot judge an upstream's clients unless the upstream is declared public") {
  struct Case {
    std::string_view authMode, target;
    abi::Action action;
    uint32_t status;
    Reason reason;
    bool authExempt;
  };
  const Case cases[] = {
      {"origin", "/fmp/profile/AAPL", abi::Action::Reject, 503, Reason::UpstreamNoJudge, false},
      {"origin", "/news/top", abi::Action::Reject, 503, Reason::UpstreamNoJudge, false},
      {"origin", "/open/x", abi::Action::Lookup, 0, Reason::RuleClass, true},  // "public": true
      {"origin", "/v3/reference/tickers/AAPL", abi::Action::Lookup, 0, Reason::RuleClass, false},  // the backend judges
      {"jwt", "/fmp/profile/AAPL", abi::Action::Lookup, 0, Reason::RuleClass, false},  // the worker verifies tokens
      {"none", "/fmp/profile/AAPL", abi::Action::Lookup, 0, Reason::RuleClass, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.authMode);
    CAPTURE(c.target);
    const PolicySetup s = setupWith({{"secretsPresent", {"FMP_API_KEY", "NEWSAPI_KEY"}}, {"authMode", std::string(c.authMode)}});
    const Decision d = decide(Req(c.target), s.ctx);
    CHECK(d.action == c.action);
    CHECK(d.httpStatus == c.status);
    CHECK(d.reason == c.reason);
    CHECK(d.hasFlag(abi::DecisionFlag::AuthExempt) == c.authExempt);
  }
}
