#include "policy_setup.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "decision_reason.h"
#include "market_calendar.h"
#include "policy_context.h"
#include "policy_test_support.h"
#include "request_policy.h"

using namespace edge_cache;
using namespace edge_cache::test;
using abi::ConfigureStatus;
using nlohmann::json;

namespace {

// A small valid override: company info for one minute, everything else uncached.
constexpr std::string_view kOverrideRules = R"({"version": 1,
  "classes": {"SHORT": {"ttl": "1m", "tiers": ["memory"]}, "NONE": {"ttl": 0}},
  "default": "NONE",
  "rules": [{"name": "tickers", "path": "/v3/reference/tickers/{ticker}", "class": "SHORT"}]
})";

bool isLowerHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

json parseReport(const PolicySetup& setup) {
  const std::string text = policyReportJson(setup);
  json report = json::parse(text, nullptr, false);
  CHECK_MESSAGE(!report.is_discarded(), text);
  CHECK(report.is_object());
  return report;
}

std::vector<std::string> strings(const json& array) {
  std::vector<std::string> out;
  if (!array.is_array()) return out;
  for (const json& v : array)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("setup: the shipped rules are in force without an override") {
  const PolicySetup& s = shippedSetup();
  CHECK(s.status == ConfigureStatus::Ok);
  CHECK(s.rulesSource == "embedded");
  CHECK(s.problems.empty());
  CHECK(s.ctx.originBase == kOriginBase);
  CHECK(s.ctx.shardCount == kShards);
  CHECK(s.ctx.rules.classes.size() == 9);
  CHECK(s.ctx.rules.rules.size() == 17);
  CHECK(classNameOf(s.ctx, s.ctx.rules.defaultClassIndex) == "ORIGIN");
  CHECK(s.ctx.extraRequestHeaders.empty());
  CHECK(s.ctx.ruleVarySlots.size() == s.ctx.rules.rules.size());
  for (const auto& slots : s.ctx.ruleVarySlots) CHECK(slots.empty());
  CHECK(s.rulesDigest.size() == 16);
  CHECK(isLowerHex(s.rulesDigest));
}

TEST_CASE("setup: configuration fields") {
  struct Case {
    std::string_view label;
    std::string config;
    ConfigureStatus status;
    std::string_view source;
    std::string_view originBase;
    uint32_t shards;
  };
  const Case cases[] = {
      {"origin and shards", configJson(), ConfigureStatus::Ok, "embedded", kOriginBase, 4},
      {"64 shards", configJson({}, "https://x.test", 64), ConfigureStatus::Ok, "embedded", "https://x.test", 64},
      {"0 shards means 1", R"({"originBase": "https://x.test", "shards": 0})", ConfigureStatus::Ok, "embedded", "https://x.test", 1},
      {"negative shards ignored", R"({"shards": -3})", ConfigureStatus::Ok, "embedded", "", 1},
      {"string shards ignored", R"({"shards": "4"})", ConfigureStatus::Ok, "embedded", "", 1},
      {"fractional shards ignored", R"({"shards": 2.5})", ConfigureStatus::Ok, "embedded", "", 1},
      {"non-string origin ignored", R"({"originBase": 42, "shards": 2})", ConfigureStatus::Ok, "embedded", "", 2},
      {"rules null: no override", R"({"shards": 2, "rules": null})", ConfigureStatus::Ok, "embedded", "", 2},
      {"rules empty: no override", R"({"shards": 2, "rules": ""})", ConfigureStatus::Ok, "embedded", "", 2},
      {"rules not a string: no override", R"({"shards": 2, "rules": {"version": 1}})", ConfigureStatus::Ok, "embedded", "", 2},
      {"empty object", "{}", ConfigureStatus::Ok, "embedded", "", 1},
      {"non-JSON config", "originBase=https://x.test", ConfigureStatus::Ok, "embedded", "", 1},
      {"truncated JSON config", R"({"originBase": "https://x.test", "shards": 4)", ConfigureStatus::Ok, "embedded", "", 1},
      {"empty config", "", ConfigureStatus::Ok, "embedded", "", 1},
      {"array config", "[1, 2]", ConfigureStatus::Ok, "embedded", "", 1},
      {"valid override", configJson(kOverrideRules), ConfigureStatus::Ok, "override", kOriginBase, 4},
      {"invalid override", configJson("{not json"), ConfigureStatus::RulesOverrideInvalid, "embedded", kOriginBase, 4},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const PolicySetup s = setupPolicy(c.config, embedded::kRulesJson);
    CHECK(s.status == c.status);
    CHECK(s.rulesSource == c.source);
    CHECK(s.ctx.originBase == c.originBase);
    CHECK(s.ctx.shardCount == c.shards);
    // Whatever the configuration, some valid rules are in force.
    CHECK(!s.ctx.rules.classes.empty());
    CHECK(s.ctx.ruleVarySlots.size() == s.ctx.rules.rules.size());
    CHECK(s.problems.empty() == (c.status == ConfigureStatus::Ok));
  }
}

TEST_CASE("setup: a valid override replaces the embedded rules") {
  const PolicySetup s = setupPolicy(configJson(kOverrideRules), embedded::kRulesJson);
  CHECK(s.status == ConfigureStatus::Ok);
  CHECK(s.rulesSource == "override");
  CHECK(s.problems.empty());
  CHECK(s.ctx.rules.classes.size() == 2);
  CHECK(s.ctx.rules.rules.size() == 1);
  CHECK(s.rulesDigest != shippedSetup().rulesDigest);
  CHECK(s.rulesDigest == setupPolicy(configJson(kOverrideRules, "https://other.test", 2), embedded::kRulesJson).rulesDigest);

  struct Case {
    std::string_view target;
    abi::Action action;
    uint32_t ttlS;
    std::string_view rule;
    Reason reason;
  };
  const Case cases[] = {
      {"/v3/reference/tickers/AAPL", abi::Action::Lookup, 60, "tickers", Reason::RuleClass},
      {"/v3/reference/tickers/types", abi::Action::Lookup, 60, "tickers", Reason::RuleClass},  // no ticker-types rule now
      {"/v2/last/trade/AAPL", abi::Action::Bypass, 0, "", Reason::DefaultNotCached},
      {"/health", abi::Action::ServeLocal, 0, "", Reason::LocalHealth},  // built in, not a rule
  };
  for (const Case& c : cases) {
    CAPTURE(c.target);
    const Decision d = decide(Req(c.target), s.ctx);
    CHECK(d.action == c.action);
    CHECK(d.ttlS == c.ttlS);
    CHECK(ruleNameOf(s.ctx, d.ruleIndex) == c.rule);
    CHECK(reasonName(d.reason) == reasonName(c.reason));
  }
}

TEST_CASE("setup: an invalid override keeps the embedded rules and reports where it is wrong") {
  struct Case {
    std::string_view label;
    std::string_view rules;
    std::string_view firstPath;           // JSON pointer of the first problem
    std::string_view messageContains;
  };
  const Case cases[] = {
      {"syntax error", "{not json", "", "line 1, column"},
      {"not an object", "[]", "", "object"},
      {"unsupported version", R"({"version": 2, "classes": {"C": {"ttl": "1h", "tiers": ["edge"]}}, "default": "C", "rules": []})", "/version", "version"},
      {"unknown default class", R"({"version": 1, "classes": {"C": {"ttl": "1h", "tiers": ["edge"]}}, "default": "D", "rules": []})", "/default", "unknown class"},
      {"typo in a class", R"({"version": 1, "classes": {"C": {"tll": "1h", "tiers": ["edge"]}}, "default": "C", "rules": []})", "/classes/C/tll", "ttl"},
      {"unknown rule class", R"({"version": 1, "classes": {"C": {"ttl": "1h", "tiers": ["edge"]}}, "default": "C", "rules": [{"name": "x", "path": "/x", "class": "FOO"}]})", "/rules/0/class", "FOO"},
      {"bad pattern", R"({"version": 1, "classes": {"C": {"ttl": "1h", "tiers": ["edge"]}}, "default": "C", "rules": [{"name": "x", "path": "/a/{b", "class": "C"}]})", "/rules/0/path", "offset 3"},
      {"upper-case vary header", R"({"version": 1, "classes": {"C": {"ttl": "1h", "tiers": ["edge"]}}, "default": "C", "rules": [{"name": "x", "path": "/x", "class": "C", "vary": ["Accept-Language"]}]})", "/rules/0/vary/0", "lower-case"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const PolicySetup s = setupPolicy(configJson(c.rules), embedded::kRulesJson);
    CHECK(s.status == ConfigureStatus::RulesOverrideInvalid);
    CHECK(s.rulesSource == "embedded");
    CHECK(s.rulesDigest == shippedSetup().rulesDigest);
    CHECK(s.ctx.rules.rules.size() == 17);
    CHECK(s.ctx.originBase == kOriginBase);
    CHECK(s.ctx.shardCount == kShards);
    CHECK(!s.problems.empty());
    if (s.problems.empty()) continue;
    CHECK(s.problems.front().path == c.firstPath);
    CAPTURE(s.problems.front().message);
    CHECK(s.problems.front().message.find(c.messageContains) != std::string::npos);
    // The embedded rules really decide: company info is still DAY.
    const Decision d = decide(Req("/v3/reference/tickers/AAPL"), s.ctx);
    CHECK(classNameOf(s.ctx, d.classIndex) == "DAY");
  }
}

TEST_CASE("setup: broken embedded rules are fatal, whatever the override") {
  struct Case {
    std::string_view label;
    std::string config;
    ConfigureStatus status;
    std::string_view source;
  };
  const Case cases[] = {
      {"no override", configJson(), ConfigureStatus::Fatal, ""},
      {"invalid override", configJson("{"), ConfigureStatus::Fatal, ""},
      {"valid override still serves", configJson(kOverrideRules), ConfigureStatus::Ok, "override"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const PolicySetup s = setupPolicy(c.config, R"({"version": 1})");
    CHECK(s.status == c.status);
    CHECK(s.rulesSource == c.source);
    CHECK(s.problems.empty() == (c.status == ConfigureStatus::Ok));
  }
}

TEST_CASE("setup: the report names every code the ABI carries") {
  const PolicySetup& s = shippedSetup();
  const json report = parseReport(s);
  CHECK(report.value("abiVersion", 0u) == abi::kAbiVersion);
  CHECK(report.value("originBase", std::string()) == kOriginBase);
  CHECK(report.value("shards", 0u) == kShards);
  CHECK(report.contains("coreVersion"));

  const std::vector<std::string> reasons = strings(report.value("reasons", json()));
  CHECK(reasons.size() == static_cast<size_t>(Reason::Count));
  for (size_t i = 0; i < reasons.size(); ++i) {
    CAPTURE(i);
    CHECK(reasons[i] == reasonName(static_cast<Reason>(i)));
  }

  const std::vector<std::string> classes = strings(report.value("classes", json()));
  CHECK(classes == std::vector<std::string>{"PERMANENT", "RECENT_PAST", "WEEK", "DAY", "HOUR_6", "MIN_15", "REALTIME", "NONE", "ORIGIN"});
  const std::vector<std::string> ruleNames = strings(report.value("ruleNames", json()));
  CHECK(ruleNames.size() == s.ctx.rules.rules.size());
  for (size_t i = 0; i < ruleNames.size() && i < s.ctx.rules.rules.size(); ++i) CHECK(ruleNames[i] == s.ctx.rules.rules[i].name);
  CHECK(report.contains("extraRequestHeaders"));
  CHECK(report.value("extraRequestHeaders", json()).is_array());
  CHECK(strings(report.value("extraRequestHeaders", json())).empty());
  CHECK(strings(report.value("warm", json())) == std::vector<std::string>{"/v3/reference/tickers/types", "/v3/reference/tickers/AAPL"});

  // kDecMarketSession is Session + 1, 0 when not market-aware: the report's table is indexed the same way.
  const std::vector<std::string> sessions = strings(report.value("sessions", json()));
  CHECK(sessions.size() == 7);
  if (sessions.size() == 7) {
    CHECK(sessions[0].empty());
    using market::Session;
    for (Session ss : {Session::PreMarket, Session::Regular, Session::AfterHours, Session::Overnight, Session::Weekend, Session::Holiday}) {
      CHECK(sessions[static_cast<size_t>(ss) + 1] == market::sessionName(ss));
    }
  }

  const json rules = report.value("rules", json());
  CHECK(rules.value("source", std::string()) == "embedded");
  CHECK(rules.value("status", std::string()) == "ok");
  CHECK(rules.value("digest", std::string()) == s.rulesDigest);
  CHECK(rules.value("classes", 0u) == 9);
  CHECK(rules.value("rules", 0u) == 17);
  CHECK(rules.value("problems", json()).is_array());
  CHECK(rules.value("problems", json()).empty());
}

TEST_CASE("setup: the report of a rejected override is degraded and carries the problems") {
  struct Case {
    std::string_view label;
    std::string_view rules;
    std::string_view path;
  };
  const Case cases[] = {
      {"syntax error", "{\"version\": 1,,}", ""},
      {"unknown class", R"({"version": 1, "classes": {"C": {"ttl": "1h", "tiers": ["edge"]}}, "default": "C", "rules": [{"name": "x", "path": "/x", "class": "FOO"}]})", "/rules/0/class"},
      {"non-ASCII in a bad class name", R"({"version": 1, "classes": {"C\u00e9\u0000": {"ttl": "1h", "tiers": ["edge"]}}, "default": "C", "rules": []})", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const PolicySetup s = setupPolicy(configJson(c.rules), embedded::kRulesJson);
    CHECK(s.status == ConfigureStatus::RulesOverrideInvalid);
    const json report = parseReport(s);
    const json rules = report.value("rules", json());
    CHECK(rules.value("status", std::string()) == "degraded");
    CHECK(rules.value("source", std::string()) == "embedded");
    const json problems = rules.value("problems", json());
    CHECK(problems.is_array());
    CHECK(problems.size() == s.problems.size());
    CHECK(!problems.empty());
    for (const json& p : problems) {
      CHECK(p.is_object());
      CHECK(p.value("message", std::string()).size() > 0);
      CHECK(p.contains("path"));
    }
    if (!c.path.empty() && !problems.empty()) CHECK(problems[0].value("path", std::string()) == c.path);
    // The embedded rules' names are what the shim gets.
    CHECK(strings(report.value("ruleNames", json())).size() == 17);
  }
}

TEST_CASE("setup: varyHeaders get extra request header slots and enter the key") {
  const PolicySetup& s = varySetup();
  CHECK(s.status == ConfigureStatus::Ok);
  CHECK(s.rulesSource == "override");
  CHECK(s.ctx.extraRequestHeaders == std::vector<std::string>{"accept-language", "x-tenant"});
  const uint32_t first = abi::kReqHeaderFirstExtra;
  const uint32_t accept = static_cast<uint32_t>(abi::RequestHeader::Accept);
  CHECK(s.ctx.ruleVarySlots.size() == 3);
  if (s.ctx.ruleVarySlots.size() == 3) {
    CHECK(s.ctx.ruleVarySlots[0] == std::vector<uint32_t>{first});             // localized: accept-language
    CHECK(s.ctx.ruleVarySlots[1] == std::vector<uint32_t>{accept});            // negotiated: the fixed Accept slot
    CHECK(s.ctx.ruleVarySlots[2] == std::vector<uint32_t>{first, first + 1});  // tenant: shares accept-language
  }
  const json report = parseReport(s);
  CHECK(strings(report.value("extraRequestHeaders", json())) == std::vector<std::string>{"accept-language", "x-tenant"});
  CHECK(strings(report.value("ruleNames", json())) == std::vector<std::string>{"localized", "negotiated", "tenant"});

  struct Case {
    std::string_view label;
    std::string_view target;
    std::string_view acceptLanguage;  // "" = not sent
    std::string_view tenant;
    std::string_view accept;
    std::string_view key;             // minus the origin base
  };
  const Case cases[] = {
      {"language set", "/pages/home", "fr-CH", "", "", "/pages/home\naccept-language:fr-CH"},
      {"language trimmed", "/pages/home", "  fr-CH\t", "", "", "/pages/home\naccept-language:fr-CH"},
      {"language absent", "/pages/home", "", "", "", "/pages/home\naccept-language:"},
      {"unrelated headers ignored", "/pages/home?b=1&a=2", "en", "acme", "text/html", "/pages/home?a=2&b=1\naccept-language:en"},
      {"fixed Accept slot", "/data/7", "de", "", "application/json", "/data/7\naccept:application/json"},
      {"two headers in rule order", "/tenant/acme", "en-US", "t-42", "", "/tenant/acme\naccept-language:en-US\nx-tenant:t-42"},
      {"unmatched path: no vary", "/other", "fr", "acme", "text/html", "/other"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    Req req(c.target);
    if (!c.acceptLanguage.empty()) req.slot(first, c.acceptLanguage);
    if (!c.tenant.empty()) req.slot(first + 1, c.tenant);
    if (!c.accept.empty()) req.header(abi::RequestHeader::Accept, c.accept);
    const Decision d = decide(req, s.ctx);
    CHECK(d.action == abi::Action::Lookup);
    CHECK(d.key == std::string(kOriginBase) + std::string(c.key));
    CHECK(d.originTarget.find('\n') == std::string::npos);
  }
  // Different languages, different entries.
  Req fr("/pages/home"), de("/pages/home");
  fr.slot(first, "fr");
  de.slot(first, "de");
  CHECK(decide(fr, s.ctx).key != decide(de, s.ctx).key);
}

TEST_CASE("setup: assignVarySlots fits the ABI's header slots") {
  const size_t capacity = abi::kReqHeaderSlots - abi::kReqHeaderFirstExtra;
  CHECK(capacity == 14);
  struct Case {
    std::string_view label;
    std::vector<std::vector<std::string>> varyPerRule;
    bool ok;
    size_t extras;
  };
  auto names = [](size_t n) {
    std::vector<std::string> v;
    for (size_t i = 0; i < n; ++i) v.push_back("x-h" + std::to_string(i));
    return v;
  };
  const Case cases[] = {
      {"none", {{}, {}}, true, 0},
      {"fixed slots only", {{"accept", "origin"}}, true, 0},
      {"shared across rules", {{"x-a"}, {"x-a", "x-b"}, {"x-b"}}, true, 2},
      {"exactly the capacity", {names(14)}, true, 14},
      {"capacity plus fixed slots", {names(14), {"accept"}}, true, 14},
      {"one too many", {names(15)}, false, 0},
      {"one too many over two rules", {names(7), {"y-0", "y-1", "y-2", "y-3", "y-4", "y-5", "y-6", "y-7"}}, false, 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    PolicyContext ctx;
    for (const auto& vary : c.varyPerRule) {
      Rule r;
      r.name = "r";
      r.varyHeaders = vary;
      ctx.rules.rules.push_back(std::move(r));
    }
    std::string problem;
    const bool ok = assignVarySlots(ctx, &problem);
    CHECK(ok == c.ok);
    CHECK(problem.empty() == c.ok);
    if (!ok) {
      CHECK(problem.find("14") != std::string::npos);
      continue;
    }
    CHECK(ctx.extraRequestHeaders.size() == c.extras);
    CHECK(ctx.ruleVarySlots.size() == c.varyPerRule.size());
    for (size_t r = 0; r < ctx.ruleVarySlots.size(); ++r) {
      CHECK(ctx.ruleVarySlots[r].size() == c.varyPerRule[r].size());
      for (size_t i = 0; i < ctx.ruleVarySlots[r].size(); ++i) {
        const uint32_t slot = ctx.ruleVarySlots[r][i];
        const std::string& name = c.varyPerRule[r][i];
        CHECK(slot < abi::kReqHeaderSlots);
        if (name == "accept") CHECK(slot == static_cast<uint32_t>(abi::RequestHeader::Accept));
        else if (name == "origin") CHECK(slot == static_cast<uint32_t>(abi::RequestHeader::Origin));
        else if (slot >= abi::kReqHeaderFirstExtra && slot - abi::kReqHeaderFirstExtra < ctx.extraRequestHeaders.size())
          CHECK(ctx.extraRequestHeaders[slot - abi::kReqHeaderFirstExtra] == name);
        else FAIL_CHECK("slot out of the extra range: " << slot);
      }
    }
  }
  // A null problem pointer is allowed.
  PolicyContext ctx;
  Rule r;
  r.varyHeaders = names(15);
  ctx.rules.rules.push_back(std::move(r));
  CHECK_FALSE(assignVarySlots(ctx, nullptr));
}

// Issue #14: the report tells the shim what a credential is (it reads those fields to tell credentials apart and
// sends the core their presence) and what reaches the origin (an allow list for cacheable fetches, a drop list
// for pass-throughs).
TEST_CASE("setup: the report's credentials and forwarding sections") {
  const uint32_t authorizationSlot = static_cast<uint32_t>(abi::RequestHeader::Authorization);
  {
    const json report = parseReport(shippedSetup());
    const json credentials = report.value("credentials", json());
    CHECK(credentials.is_object());
    CHECK(strings(credentials.value("headers", json())) == std::vector<std::string>{"authorization"});
    CHECK(strings(credentials.value("params", json())) ==
          std::vector<std::string>{"apiKey", "api_key", "access_token", "token"});
    CHECK(credentials.value("slots", json()) == json::array({authorizationSlot}));
    CHECK(credentials.contains("cookies"));
    CHECK(credentials.value("cookies", json::array()).is_null());  // absent: any cookie is a credential

    const json forwarding = report.value("forwarding", json());
    CHECK(forwarding.is_object());
    const std::vector<std::string> cacheable = strings(forwarding.value("cacheable", json()));
    // Content negotiation and the credentials (the origin judges them) reach the origin on a cacheable fetch.
    for (const char* name : {"accept", "accept-language", "accept-charset", "authorization", "cookie"}) {
      CAPTURE(name);
      CHECK(std::count(cacheable.begin(), cacheable.end(), name) == 1);
    }
    // Unkeyed inputs an origin might reflect never do (F8): an allow list, so none of these is on it.
    const std::vector<std::string> dropped = strings(forwarding.value("passThroughDropped", json()));
    for (const char* name : {"host", "x-forwarded-host", "x-forwarded-uri", "x-forwarded-path", "x-original-path",
                             "x-forwarded-ssl", "front-end-https", "x-url-scheme", "x-real-ip", "x-forwarded-proto",
                             "x-original-url", "x-rewrite-url", "forwarded", "x-http-method-override", "connection",
                             "transfer-encoding", "upgrade", "te"}) {
      CAPTURE(name);
      CHECK(std::count(cacheable.begin(), cacheable.end(), name) == 0);
      // A pass-through (never stored) forwards what the client sent, less these.
      CHECK(std::count(dropped.begin(), dropped.end(), name) == 1);
    }
    for (const std::string& name : cacheable) CHECK(std::count(dropped.begin(), dropped.end(), name) == 0);
    // One entry per rule: the fields it keys on (none in the shipped rules).
    const json byRule = forwarding.value("byRule", json());
    CHECK(byRule.is_array());
    CHECK(byRule.size() == shippedContext().rules.rules.size());
    for (const json& vary : byRule) CHECK(vary == json::array());
  }
  {
    constexpr std::string_view kRules = R"({"version": 1,
      "classes": {"PAGE": {"ttl": "1h", "tiers": ["memory"]}},
      "default": "PAGE",
      "keys": {"credentialHeaders": ["authorization", "x-api-key"], "credentialCookies": ["sessionid"],
               "credentialParams": ["sig"]},
      "forwardRequestHeaders": ["x-request-id", "accept"],
      "rules": [{"name": "a", "path": "/a/*", "class": "PAGE", "vary": ["accept-language", "x-tenant"]},
                {"name": "b", "path": "/b/*", "class": "PAGE"}]
    })";
    const PolicySetup s = setupPolicy(configJson(kRules), embedded::kRulesJson);
    CHECK(s.rulesSource == "override");
    const json report = parseReport(s);
    const json credentials = report.value("credentials", json());
    CHECK(strings(credentials.value("headers", json())) == std::vector<std::string>{"authorization", "x-api-key"});
    CHECK(strings(credentials.value("params", json())) == std::vector<std::string>{"sig"});
    CHECK(strings(credentials.value("cookies", json())) == std::vector<std::string>{"sessionid"});
    // The custom header gets an extra slot, after the vary headers, and the shim is told to read it.
    const std::vector<std::string> extra = strings(report.value("extraRequestHeaders", json()));
    CHECK(extra == std::vector<std::string>{"accept-language", "x-tenant", "x-api-key"});
    CHECK(credentials.value("slots", json()) == json::array({authorizationSlot, abi::kReqHeaderFirstExtra + 2}));

    const json forwarding = report.value("forwarding", json());
    const std::vector<std::string> cacheable = strings(forwarding.value("cacheable", json()));
    for (const char* name : {"accept", "accept-language", "accept-charset", "authorization", "x-api-key", "cookie",
                             "x-request-id"}) {
      CAPTURE(name);
      CHECK(std::count(cacheable.begin(), cacheable.end(), name) == 1);  // listed once, even when named twice
    }
    CHECK(std::count(cacheable.begin(), cacheable.end(), "x-tenant") == 0);  // only where a rule keys on it
    const json byRule = forwarding.value("byRule", json());
    CHECK(byRule == json::array({json::array({"accept-language", "x-tenant"}), json::array()}));
  }
}
