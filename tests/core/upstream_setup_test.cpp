// The deployment's side of the upstreams (src/upstream_setup.h): ORIGIN_URLS overrides, secret presence, and the
// configure report's "upstreams" section.
#include "upstream_setup.h"

#include <doctest/doctest.h>

#include "policy_test_support.h"

using namespace edge_cache;
using namespace edge_cache::test;

namespace {
constexpr std::string_view kRules = R"({"version": 1,
  "origins": {
    "fmp": {"url": "https://financialmodelingprep.com/api", "credential": {"query": "apikey", "secret": "FMP_API_KEY"},
            "quota": {"perMinute": 300, "perDay": 250, "dayStartsIn": "America/New_York"}, "errorBodyKeys": ["Error Message"]},
    "news": {"url": "https://newsapi.org", "credential": {"header": "X-Api-Key", "prefix": "Key ", "secret": "NEWSAPI_KEY"}}
  },
  "classes": {"DAY": {"ttl": "1d", "tiers": ["memory"]}},
  "default": "DAY",
  "rules": [{"name": "fmp-profile", "path": "/fmp/profile/{t}", "origin": "fmp", "originPath": "/v3/profile/{t}", "class": "DAY"}]})";

PolicySetup setupWith(nlohmann::json extra) {
  nlohmann::json cfg = {{"originBase", std::string(kOriginBase)}, {"rules", std::string(kRules)}};
  for (auto& [k, v] : extra.items()) cfg[k] = v;
  return setupPolicy(cfg.dump(), embedded::kRulesJson);
}
}  // namespace

TEST_CASE("upstream settings: ORIGIN_URLS overrides, and what is wrong with it") {
  struct Case {
    const char* what;
    nlohmann::json originUrls;
    std::string_view fmpUrl, fmpKeyBase, newsUrl;
    bool fmpOverridden;
    std::string_view problem;
  };
  const Case cases[] = {
      {"none", nullptr, "https://financialmodelingprep.com/api", "https://financialmodelingprep.com", "https://newsapi.org", false, ""},
      {"demo origin", {{"fmp", "http://127.0.0.1:8000/fmp/api/"}, {"news", "http://127.0.0.1:8000/newsapi"}},
       "http://127.0.0.1:8000/fmp/api", "http://127.0.0.1:8000", "http://127.0.0.1:8000/newsapi", true, ""},
      {"unknown names are another rules file's", {{"av", "http://127.0.0.1:1/"}}, "https://financialmodelingprep.com/api",
       "https://financialmodelingprep.com", "https://newsapi.org", false, ""},
      {"an invalid URL is reported and ignored", {{"fmp", "ftp://x"}}, "https://financialmodelingprep.com/api",
       "https://financialmodelingprep.com", "https://newsapi.org", false, "the URL for origin \"fmp\" is invalid"},
      {"not an object", nlohmann::json::array({"x"}), "https://financialmodelingprep.com/api", "https://financialmodelingprep.com",
       "https://newsapi.org", false, "ORIGIN_URLS must be a JSON object"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    nlohmann::json extra = nlohmann::json::object();
    if (!c.originUrls.is_null()) extra["originUrls"] = c.originUrls;
    const PolicySetup s = setupWith(extra);
    CHECK(s.rulesSource == "override");
    if (!(s.rulesSource == "override")) return;
    CHECK(s.ctx.upstreams.size() == 2);
    if (!(s.ctx.upstreams.size() == 2)) return;
    CHECK(s.ctx.upstreams[0].url == c.fmpUrl);
    CHECK(s.ctx.upstreams[0].keyBase == c.fmpKeyBase);
    CHECK(s.ctx.upstreams[0].urlOverridden == c.fmpOverridden);
    CHECK(s.ctx.upstreams[1].url == c.newsUrl);
    if (c.problem.empty()) {
      CHECK(s.upstreamProblems.empty());
    } else {
      CHECK(s.upstreamProblems.size() == 1);
      if (!(s.upstreamProblems.size() == 1)) return;
      CHECK(s.upstreamProblems[0].find(c.problem) != std::string::npos);
    }
  }
}

TEST_CASE("upstream settings: the report names secrets, never holds values, and says which are set") {
  const PolicySetup s = setupWith({{"secretsPresent", {"NEWSAPI_KEY"}}});
  const auto report = nlohmann::json::parse(policyReportJson(s));
  const auto& origins = report["upstreams"]["origins"];
  CHECK(origins.size() == 2);
  if (!(origins.size() == 2)) return;
  CHECK(origins[0]["name"] == "fmp");
  CHECK(origins[0]["credential"]["query"] == "apikey");
  CHECK(origins[0]["credential"]["secret"] == "FMP_API_KEY");
  CHECK(origins[0]["credential"]["secretSet"] == false);
  CHECK(origins[0]["quota"]["perMinute"] == 300);
  CHECK(origins[0]["quota"]["perDay"] == 250);
  CHECK(origins[0]["quota"]["dayStartsIn"] == "America/New_York");
  CHECK(origins[0]["quota"]["reserve"] == 25);
  CHECK(origins[0]["errorBodyKeys"] == nlohmann::json::array({"Error Message"}));
  CHECK(origins[0]["rules"] == nlohmann::json::array({"fmp-profile"}));
  CHECK(origins[1]["credential"]["header"] == "x-api-key");
  CHECK(origins[1]["credential"]["prefix"] == "Key ");
  CHECK(origins[1]["credential"]["secretSet"] == true);
  CHECK(origins[1]["quota"] == nlohmann::json::object());
  CHECK(origins[1]["rules"] == nlohmann::json::array());
  // The shipped rules have no origins: an empty section.
  const auto shipped = nlohmann::json::parse(policyReportJson(shippedSetup()));
  CHECK(shipped["upstreams"]["origins"] == nlohmann::json::array());
}
