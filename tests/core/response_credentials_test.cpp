// RFC 9111 §3.5 by default (issue #14, F3): a shared cache stores a response to a request with credentials only
// when the response says it may — public, s-maxage or must-revalidate — or when the rule declares the route's data
// the same for every authorised client (sharedAcrossCredentials). Privacy directives still win.
#include <doctest/doctest.h>

#include <string_view>
#include <utility>
#include <vector>

#include "policy_test_support.h"
#include "response_policy.h"

using namespace edge_cache;
using namespace edge_cache::test;
using abi::RequestHeader;
using H = abi::ResponseHeader;

namespace {

constexpr std::string_view kRules = R"({"version": 1,
  "classes": {"PAGE": {"ttl": "1h", "negativeTtl": "1m", "tiers": ["memory"]},
              "ORIGIN": {"followOrigin": true, "tiers": ["memory", "edge"]}},
  "default": "ORIGIN",
  "keys": {"credentialParams": ["apiKey"]},
  "rules": [
    {"name": "page", "path": "/page/*", "class": "PAGE"},
    {"name": "shared-page", "path": "/shared-page/*", "class": "PAGE", "sharedAcrossCredentials": true},
    {"name": "shared-origin", "path": "/shared-origin/*", "class": "ORIGIN", "sharedAcrossCredentials": true}
  ]
})";

const PolicySetup& setup() {
  static const PolicySetup s = setupPolicy(configJson(kRules), embedded::kRulesJson);
  return s;
}

enum class Credential { None, Authorization, Cookie, Param };

using Headers = std::vector<std::pair<H, std::string_view>>;

StoreDecision respond(const PolicyContext& ctx, std::string_view path, Credential credential, uint32_t status,
                      const Headers& headers) {
  std::string target(path);
  if (credential == Credential::Param) target += "?apiKey=k";
  Req req(target);
  if (credential == Credential::Authorization) req.header(RequestHeader::Authorization, "");
  if (credential == Credential::Cookie) req.header(RequestHeader::Cookie, "session=1");
  Decision d;
  decideRequest(ctx, req.facts, d);
  CHECK(d.hasFlag(abi::DecisionFlag::Credentials) == (credential != Credential::None));
  ResponseFacts f = responseFactsFor(d, status, kMon1000);
  f.setHeader(H::Date, "Mon, 23 Nov 2026 15:00:00 GMT");
  for (const auto& [h, v] : headers) f.setHeader(h, v);
  f.bodyLength = 10;
  return decideResponse(ctx, f, 1 << 20);
}

}  // namespace

TEST_CASE("§3.5: a credentialed request's response is shared only when the origin says so, or the rule does") {
  const PolicySetup& s = setup();
  CHECK(s.rulesSource == "override");
  constexpr auto None = Credential::None, Auth = Credential::Authorization;
  struct Case {
    std::string_view label;
    std::string_view path;
    Credential credential;
    uint32_t status;
    Headers headers;
    bool storable;
    Reason reason;
  };
  const Case cases[] = {
      // followOrigin (no rule): the origin's directives decide.
      {"anonymous, max-age", "/other", None, 200, {{H::CacheControl, "max-age=60"}}, true, Reason::StoreOriginTtl},
      {"credentials, max-age only", "/other", Auth, 200, {{H::CacheControl, "max-age=60"}}, false, Reason::CredentialsNotShared},
      {"a cookie credential", "/other", Credential::Cookie, 200, {{H::CacheControl, "max-age=60"}}, false, Reason::CredentialsNotShared},
      {"a parameter credential", "/other", Credential::Param, 200, {{H::CacheControl, "max-age=60"}}, false, Reason::CredentialsNotShared},
      {"public", "/other", Auth, 200, {{H::CacheControl, "public, max-age=60"}}, true, Reason::StoreOriginTtl},
      {"s-maxage", "/other", Auth, 200, {{H::CacheControl, "s-maxage=60"}}, true, Reason::StoreOriginTtl},
      {"must-revalidate", "/other", Auth, 200, {{H::CacheControl, "max-age=60, must-revalidate"}}, true, Reason::StoreOriginTtl},
      // §3.5 names must-revalidate, not proxy-revalidate.
      {"proxy-revalidate is not enough", "/other", Auth, 200, {{H::CacheControl, "max-age=60, proxy-revalidate"}}, false,
       Reason::CredentialsNotShared},
      {"Expires alone is not enough", "/other", Auth, 200, {{H::Expires, "Mon, 23 Nov 2026 16:00:00 GMT"}}, false,
       Reason::CredentialsNotShared},
      {"a 404 too", "/other", Auth, 404, {{H::CacheControl, "max-age=60"}}, false, Reason::CredentialsNotShared},
      {"a public 404", "/other", Auth, 404, {{H::CacheControl, "public, max-age=60"}}, true, Reason::StoreOriginTtl},
      // Privacy first: public does not override private or no-store.
      {"public and private", "/other", Auth, 200, {{H::CacheControl, "public, private, max-age=60"}}, false, Reason::OriginPrivate},
      {"public and no-store", "/other", Auth, 200, {{H::CacheControl, "public, no-store"}}, false, Reason::OriginNoStore},
      // A rule class: its TTL, but §3.5 still applies unless the rule says the data is shared.
      {"rule, anonymous", "/page/a", None, 200, {}, true, Reason::StoreRuleTtl},
      {"rule, credentials", "/page/a", Auth, 200, {}, false, Reason::CredentialsNotShared},
      {"rule, credentials, the origin says public", "/page/a", Auth, 200, {{H::CacheControl, "public"}}, true, Reason::StoreRuleTtl},
      {"rule, credentials, s-maxage", "/page/a", Auth, 200, {{H::CacheControl, "s-maxage=5"}}, true, Reason::StoreRuleTtl},
      {"rule, credentials, 404", "/page/a", Auth, 404, {}, false, Reason::CredentialsNotShared},
      {"rule, credentials, public 404", "/page/a", Auth, 404, {{H::CacheControl, "public"}}, true, Reason::StoreNegative},
      // sharedAcrossCredentials: the same data for every authorised client (auth is checked per request).
      {"shared rule", "/shared-page/a", Auth, 200, {}, true, Reason::StoreRuleTtl},
      {"shared rule, cookie", "/shared-page/a", Credential::Cookie, 200, {}, true, Reason::StoreRuleTtl},
      {"shared rule, 404", "/shared-page/a", Auth, 404, {}, true, Reason::StoreNegative},
      {"shared rule, private", "/shared-page/a", Auth, 200, {{H::CacheControl, "private"}}, false, Reason::OriginPrivate},
      {"shared rule, Set-Cookie", "/shared-page/a", Auth, 200, {{H::SetCookie, "a=b"}}, false, Reason::OriginSetCookie},
      {"shared followOrigin rule", "/shared-origin/a", Auth, 200, {{H::CacheControl, "max-age=60"}}, true, Reason::StoreOriginTtl},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const StoreDecision d = respond(s.ctx, c.path, c.credential, c.status, c.headers);
    CHECK(d.storable == c.storable);
    CHECK(reasonName(d.reason) == reasonName(c.reason));
    // A refused response is each request's own: never handed to requests coalesced on the fetch.
    CHECK(d.shareable == c.storable);
    if (!c.storable) CHECK(d.ttlS == 0);
  }
}

TEST_CASE("§3.5: the shipped market-data rules are shared across credentials; unmatched paths are not") {
  const PolicyContext& ctx = shippedContext();
  struct Case {
    std::string_view path;
    bool storable;
  };
  const Case cases[] = {
      {"/v3/reference/tickers/AAPL", true},
      {"/v3/reference/tickers/types", true},
      {"/v2/last/trade/AAPL", true},
      {"/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-19", true},
      {"/v1/conversion/USD/EUR", true},
      {"/v9/unknown", false},  // ORIGIN: max-age alone is not enough with credentials
  };
  for (const Case& c : cases) {
    CAPTURE(c.path);
    for (const Credential credential : {Credential::Authorization, Credential::Cookie, Credential::Param}) {
      const StoreDecision d = respond(ctx, c.path, credential, 200, {{H::CacheControl, "max-age=60"}});
      CHECK(d.storable == c.storable);
      if (!c.storable) CHECK(reasonName(d.reason) == reasonName(Reason::CredentialsNotShared));
    }
    CHECK(respond(ctx, c.path, Credential::None, 200, {{H::CacheControl, "max-age=60"}}).storable);
  }
}
