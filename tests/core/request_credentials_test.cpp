// The request decision's credential model and auth facets (issue #14): what makes a request credentialed
// (keys.credentialHeaders, credentialCookies, credentialParams -> the Credentials flag), AUTH_EXEMPT_PATHS (the
// AuthExempt flag, matched on path segments), and the scope an origin verdict covers (AuthScopeKey).
// Expectations come from the issue's text and the contracts in rules.h / policy_context.h / abi_layout.h.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy_test_support.h"
#include "request_policy.h"

using namespace edge_cache;
using namespace edge_cache::test;
using abi::Action;
using abi::DecisionFlag;
using abi::RequestHeader;

namespace {

// Credentials named explicitly: a custom header besides Authorization, two cookie names, one parameter.
constexpr std::string_view kCredentialRules = R"({"version": 1,
  "classes": {"PAGE": {"ttl": "1h", "tiers": ["memory"]}, "NONE": {"ttl": 0},
              "ORIGIN": {"followOrigin": true, "tiers": ["memory"]}},
  "default": "ORIGIN",
  "keys": {"credentialHeaders": ["authorization", "x-api-key"], "credentialCookies": ["sessionid", "auth_token"],
           "credentialParams": ["apiKey"]},
  "rules": [{"name": "page", "path": "/pages/*", "class": "PAGE"}, {"name": "none", "path": "/none/*", "class": "NONE"}]
})";

const PolicySetup& credentialSetup() {
  static const PolicySetup setup = setupPolicy(configJson(kCredentialRules), embedded::kRulesJson);
  return setup;
}

// The configure JSON with AUTH_EXEMPT_PATHS as the shim passes it (already split on commas).
std::string configWithExempt(const std::vector<nlohmann::json>& paths, std::string_view rules = {}) {
  nlohmann::json cfg = {{"originBase", std::string(kOriginBase)}, {"shards", kShards}, {"authExemptPaths", paths}};
  if (!rules.empty()) cfg["rules"] = std::string(rules);
  return cfg.dump();
}

}  // namespace

TEST_CASE("credentials: shipped keys — Authorization, any cookie, the credential parameters") {
  struct Case {
    std::string_view label;
    std::string_view target;
    std::string_view authorization;  // "-" = absent
    std::string_view cookie;         // "-" = absent
    bool credentials;
    uint32_t method = kGet;
  };
  const Case cases[] = {
      {"nothing", "/v3/reference/tickers/AAPL", "-", "-", false},
      {"Authorization", "/v3/reference/tickers/AAPL", "Bearer abc", "-", true},
      // Presence is what counts: the shim never sends the value across the ABI.
      {"Authorization present, value not sent", "/v3/reference/tickers/AAPL", "", "-", true},
      // Without keys.credentialCookies any cookie is a credential (the Cookie field as a whole).
      {"any cookie", "/v3/reference/tickers/AAPL", "-", "theme=dark", true},
      {"an empty Cookie field is still a Cookie field", "/v9/page", "-", "", true},
      {"apiKey", "/v3/reference/tickers/AAPL?apiKey=k", "-", "-", true},
      {"credential parameter names are case-insensitive", "/v3/reference/tickers/AAPL?APIKEY=k", "-", "-", true},
      {"api_key", "/v9/page?a=1&api_key=k", "-", "-", true},
      {"access_token", "/v9/page?access_token=t", "-", "-", true},
      {"token without a value", "/v9/page?token", "-", "-", true},
      {"an escaped name is the same parameter", "/v9/page?%74oken=t", "-", "-", true},
      {"another parameter", "/v9/page?tokens=1&apiKeyx=2&utm_source=x", "-", "-", false},
      {"a credential-looking value", "/v9/page?q=apiKey", "-", "-", false},
      {"on a pass-through too", "/v2/snapshot/x?apiKey=k", "-", "-", true},
      {"on a POST too", "/users/1?token=t", "-", "-", true, kPost},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    Req req(c.target, c.method);
    if (c.authorization != "-") req.header(RequestHeader::Authorization, c.authorization);
    if (c.cookie != "-") req.header(RequestHeader::Cookie, c.cookie);
    const Decision d = decide(req);
    CHECK(d.action != Action::Reject);
    CHECK(d.hasFlag(DecisionFlag::Credentials) == c.credentials);
  }
}

TEST_CASE("credentials: configured headers, cookie names (the Cookie slot carries names only) and parameters") {
  const PolicySetup& s = credentialSetup();
  CHECK(s.status == abi::ConfigureStatus::Ok);
  // x-api-key needs an extra slot; Authorization keeps its fixed one.
  CHECK(s.ctx.extraRequestHeaders == std::vector<std::string>{"x-api-key"});
  const uint32_t apiKeySlot = abi::kReqHeaderFirstExtra;
  CHECK(s.ctx.credentialSlots ==
        std::vector<uint32_t>{static_cast<uint32_t>(RequestHeader::Authorization), apiKeySlot});

  struct Case {
    std::string_view label;
    std::string_view target;
    std::string_view cookieNames;  // "-" = no Cookie field
    bool authorization, apiKeyHeader;
    bool credentials;
  };
  const Case cases[] = {
      {"nothing", "/pages/a", "-", false, false, false},
      {"Authorization", "/pages/a", "-", true, false, true},
      {"the configured header", "/pages/a", "-", false, true, true},
      {"a named cookie among others", "/pages/a", "a; sessionid; b", false, false, true},
      {"the other named cookie", "/pages/a", "auth_token", false, false, true},
      {"names are trimmed", "/pages/a", " theme ;  sessionid  ", false, false, true},
      {"cookies, none of them a credential", "/pages/a", "a; theme; b", false, false, false},
      {"an empty Cookie field", "/pages/a", "", false, false, false},
      // Cookie names are case-sensitive tokens (RFC 6265 §4.2.2 / §5.4); only exact names count.
      {"another case", "/pages/a", "SessionID", false, false, false},
      {"a longer name", "/pages/a", "sessionid2; xsessionid", false, false, false},
      {"empty elements", "/pages/a", ";; ;", false, false, false},
      {"the configured parameter", "/pages/a?apiKey=k", "-", false, false, true},
      // credentialParams replaced the shipped list: token is an ordinary (keyed) parameter here.
      {"a parameter the shipped rules list", "/pages/a?token=t", "-", false, false, false},
      {"several kinds at once", "/pages/a?apiKey=k", "sessionid", true, true, true},
      {"unmatched path", "/elsewhere", "sessionid", false, false, true},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    Req req(c.target);
    if (c.cookieNames != "-") req.header(RequestHeader::Cookie, c.cookieNames);
    if (c.authorization) req.header(RequestHeader::Authorization, "");
    if (c.apiKeyHeader) req.slot(apiKeySlot, "");
    const Decision d = decide(req, s.ctx);
    CHECK(d.action == Action::Lookup);
    CHECK(d.hasFlag(DecisionFlag::Credentials) == c.credentials);
    // A credential never changes the key.
    CHECK(d.key == decide(Req(c.target), s.ctx).key);
  }
}

// A credentialHeaders list without "authorization" adds headers; Authorization stays a credential (RFC 9111 §3.5
// names it), so a list can never make a bearer token anonymous.
TEST_CASE("credentials: absent lists mean Authorization and any cookie; an empty cookie list names no cookie") {
  struct Case {
    std::string_view label;
    std::string_view keys;
    bool authorizationCounts, anyCookieCounts;
  };
  const Case cases[] = {
      {"defaults", R"({})", true, true},
      {"another header besides Authorization", R"({"credentialHeaders": ["authorization", "x-api-key"]})", true, true},
      {"a list without Authorization still counts it", R"({"credentialHeaders": ["x-api-key"]})", true, true},
      {"named cookies", R"({"credentialCookies": ["sid"]})", true, false},
      {"no credential cookies", R"({"credentialCookies": []})", true, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const std::string rules = R"({"version": 1, "classes": {"ORIGIN": {"followOrigin": true, "tiers": ["memory"]}},
      "default": "ORIGIN", "rules": [], "keys": )" + std::string(c.keys) + "}";
    const PolicySetup s = setupPolicy(configJson(rules), embedded::kRulesJson);
    CHECK(s.rulesSource == "override");
    Req auth("/x");
    auth.header(RequestHeader::Authorization, "");
    Req cookie("/x");
    cookie.header(RequestHeader::Cookie, "sessionid");
    CHECK(decide(auth, s.ctx).hasFlag(DecisionFlag::Credentials) == c.authorizationCounts);
    CHECK(decide(cookie, s.ctx).hasFlag(DecisionFlag::Credentials) == c.anyCookieCounts);
    CHECK_FALSE(decide(Req("/x"), s.ctx).hasFlag(DecisionFlag::Credentials));
  }
}

TEST_CASE("AUTH_EXEMPT_PATHS: a path and everything below it, on segment boundaries") {
  // The shim's default AUTH_EXEMPT_PATHS ("/auth/,/api/auth/") and a few more, as written by operators.
  const PolicySetup s =
      setupPolicy(configWithExempt({"/auth/", "/api/auth/", "/public", "/docs//", "relative", 42, ""}), embedded::kRulesJson);
  CHECK(s.status == abi::ConfigureStatus::Ok);
  // Trailing slashes go; entries that are not absolute paths are ignored.
  CHECK(s.ctx.authExemptPaths == std::vector<std::string>{"/auth", "/api/auth", "/public", "/docs"});
  struct Case {
    std::string_view target;
    bool exempt;
  };
  const Case cases[] = {
      {"/auth", true},
      {"/auth/", true},
      {"/auth/login", true},
      {"/auth/login?next=/x", true},
      {"/api/auth/token", true},
      {"/public", true},
      {"/public/", true},
      {"/public/a/b", true},
      {"/docs/index", true},
      // Not a segment boundary.
      {"/publicity", false},
      {"/authority", false},
      {"/auth-admin", false},
      {"/api/authx", false},
      // Only the normalised path counts: dot segments are resolved first, an escaped '/' is not a separator.
      {"/public/../private", false},
      {"/auth/./../users/1", false},
      {"/x/../public/y", true},
      {"/%70ublic/y", true},       // an escaped unreserved letter is the letter
      {"/public%2Fx", false},
      {"/Public/x", false},        // paths are case-sensitive
      {"/api", false},
      {"/", false},
      {"/v3/reference/tickers/AAPL", false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.target);
    const Decision d = decide(Req(c.target), s.ctx);
    CHECK(d.action != Action::Reject);
    CHECK(d.hasFlag(DecisionFlag::AuthExempt) == c.exempt);
    CHECK(authExempt(s.ctx, d.url.path) == c.exempt);
  }
  // Without AUTH_EXEMPT_PATHS nothing is exempt; "/" exempts everything.
  CHECK_FALSE(decide(Req("/auth/login")).hasFlag(DecisionFlag::AuthExempt));
  const PolicySetup all = setupPolicy(configWithExempt({"/"}), embedded::kRulesJson);
  CHECK(decide(Req("/anything/at/all"), all.ctx).hasFlag(DecisionFlag::AuthExempt));
  CHECK(decide(Req("/"), all.ctx).hasFlag(DecisionFlag::AuthExempt));
  // An override keeps the configured paths.
  const PolicySetup withOverride = setupPolicy(configWithExempt({"/public/"}, kCredentialRules), embedded::kRulesJson);
  CHECK(withOverride.rulesSource == "override");
  CHECK(decide(Req("/public/x"), withOverride.ctx).hasFlag(DecisionFlag::AuthExempt));
}

TEST_CASE("AuthScopeKey: an origin verdict covers the rule, or the key alone when no rule matched") {
  const PolicyContext& ctx = shippedContext();
  // rule: the verdict covers the matched rule; key: this request's key only; none: no key and no rule, so there
  // is nothing a verdict could be remembered for.
  enum class Scope { Rule, Key, None };
  struct Case {
    std::string_view label;
    std::string_view target;
    uint32_t method;
    Scope scope;
  };
  const Case cases[] = {
      {"a rule", "/v3/reference/tickers/AAPL", kGet, Scope::Rule},
      {"a rule that is not cached", "/auth/login", kGet, Scope::Rule},
      {"HEAD on a rule", "/v2/last/trade/AAPL", kHead, Scope::Rule},
      {"a rule's refresh", "/v3/reference/tickers/AAPL?nocache=1", kGet, Scope::Rule},
      {"unmatched", "/no-such-route", kGet, Scope::Key},
      {"unmatched with a query", "/private?id=7", kGet, Scope::Key},
      {"unmatched refresh", "/private?nocache=1", kGet, Scope::Key},
      {"unmatched HEAD", "/private", kHead, Scope::Key},
      {"POST", "/v3/reference/tickers/AAPL", kPost, Scope::None},
      {"DELETE on an unmatched path", "/private", kDelete, Scope::None},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const Decision d = decide(Req(c.target, c.method), ctx);
    switch (c.scope) {
      case Scope::Rule:
        CHECK(d.ruleIndex != abi::kNone);
        CHECK_FALSE(d.hasFlag(DecisionFlag::AuthScopeKey));
        break;
      case Scope::Key:
        CHECK(d.ruleIndex == abi::kNone);
        CHECK(d.hasFlag(DecisionFlag::AuthScopeKey));
        CHECK(!d.key.empty());
        break;
      case Scope::None:
        CHECK(d.ruleIndex == abi::kNone);
        CHECK(d.key.empty());
        break;
    }
  }
  // Two unmatched paths never share a scope: their keys differ; one path with two queries neither.
  CHECK(decide(Req("/no-such-route"), ctx).key != decide(Req("/private"), ctx).key);
  CHECK(decide(Req("/private?id=1"), ctx).key != decide(Req("/private?id=2"), ctx).key);
  // Rejections and preflights carry no scope.
  CHECK_FALSE(decide(Req("/x#frag"), ctx).hasFlag(DecisionFlag::AuthScopeKey));
  Req preflight("/no-such-route", kOptions);
  preflight.header(RequestHeader::Origin, "https://app.example").header(RequestHeader::AccessControlRequestMethod, "GET");
  const Decision p = decide(preflight, ctx);
  CHECK(p.localRoute == abi::LocalRoute::Preflight);
  CHECK_FALSE(p.hasFlag(DecisionFlag::AuthScopeKey));
}
