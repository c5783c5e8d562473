// The rules' `origins` section and a rule's `origin` / `originPath` (src/upstream_loader.h): what loads, and every
// mistake reported at its JSON pointer.
#include "upstream_loader.h"

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

using namespace edge_cache;

namespace {

std::string doc(std::string_view origins, std::string_view rules) {
  std::string d = R"({"version": 1, "classes": {"C": {"ttl": "1h", "tiers": ["memory"]}}, "default": "C", )";
  if (!origins.empty()) d += R"("origins": )" + std::string(origins) + ", ";
  return d + R"("rules": [)" + std::string(rules) + "]}";
}

constexpr std::string_view kFmp =
    R"({"fmp": {"url": "https://financialmodelingprep.com/api/", "credential": {"query": "apikey", "secret": "FMP_API_KEY"},
        "quota": {"perMinute": 300, "perDay": 250, "dayStartsIn": "America/New_York"}, "timeoutMs": 5000,
        "errorBodyKeys": ["Error Message"]}})";
constexpr std::string_view kProfileRule =
    R"({"name": "fmp-profile", "path": "/fmp/profile/{ticker}", "origin": "fmp", "originPath": "/v3/profile/{ticker}", "class": "C"})";

std::string problemsOf(const RulesLoadResult& r) {
  std::string out;
  for (const auto& p : r.problems) out += p.path + ": " + p.message + "\n";
  return out;
}

}  // namespace

TEST_CASE("origins: the issue's example loads, with its defaults") {
  const RulesLoadResult r = loadRules(doc(kFmp, kProfileRule));
  CHECK_MESSAGE(r.config.has_value(), problemsOf(r));
  if (!(r.config.has_value())) return;
  CHECK(r.config->origins.size() == 1);
  if (!(r.config->origins.size() == 1)) return;
  const UpstreamOrigin& o = r.config->origins[0];
  CHECK(o.name == "fmp");
  CHECK(o.url == "https://financialmodelingprep.com/api");  // the trailing '/' goes: targets are appended
  CHECK(o.credential.place == UpstreamCredential::Place::Query);
  CHECK(o.credential.name == "apikey");
  CHECK(o.credential.secret == "FMP_API_KEY");
  CHECK(o.quota.perMinute == 300);
  CHECK(o.quota.perDay == 250);
  CHECK(o.quota.dayZone == QuotaDayZone::NewYork);
  CHECK(o.quota.reserve == 25);  // default: a tenth of perDay, rounded up
  CHECK(o.timeoutMs == 5000);
  CHECK(o.errorBodyKeys == std::vector<std::string>{"Error Message"});
  const Rule& rule = r.config->rules[0];
  CHECK(rule.originIndex == 0);
  CHECK(rule.originPath == "/v3/profile/{ticker}");
  CHECK(rule.sharedAcrossCredentials);  // the upstream never sees a client's credentials
}

TEST_CASE("origins: header credentials, prefixes, reserves and absent sections") {
  struct Case {
    std::string_view origins, rules;
    UpstreamCredential::Place place;
    std::string_view name, prefix;
    uint32_t reserve;
  };
  const Case cases[] = {
      {R"({"news": {"url": "https://newsapi.org", "credential": {"header": "X-Api-Key", "secret": "NEWSAPI_KEY"}, "quota": {"perDay": 100}}})",
       R"({"name": "n", "path": "/news/*", "origin": "news", "class": "C"})", UpstreamCredential::Place::Header, "x-api-key", "", 10},
      {R"({"b": {"url": "http://127.0.0.1:9000", "credential": {"header": "Authorization", "prefix": "Bearer ", "secret": "B_TOKEN"}, "quota": {"perDay": 7, "reserve": 0}}})",
       R"({"name": "b", "path": "/b/{x}", "origin": "b", "class": "C"})", UpstreamCredential::Place::Header, "authorization", "Bearer ", 0},
      {R"({"open": {"url": "https://example.org/v1", "quota": {"perMinute": 20}}})",
       R"({"name": "o", "path": "/o", "origin": "open", "class": "C"})", UpstreamCredential::Place::None, "", "", 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.origins);
    const RulesLoadResult r = loadRules(doc(c.origins, c.rules));
    CHECK_MESSAGE(r.config.has_value(), problemsOf(r));
    if (!(r.config.has_value())) return;
    const UpstreamOrigin& o = r.config->origins[0];
    CHECK(o.credential.place == c.place);
    CHECK(o.credential.name == c.name);
    CHECK(o.credential.prefix == c.prefix);
    CHECK(o.quota.reserve == c.reserve);
    CHECK(r.config->rules[0].originIndex == 0);
    CHECK(r.config->rules[0].originPath.empty());
  }
  // A rules file without origins has none, and its rules go to BACKEND_URL.
  const RulesLoadResult plain = loadRules(doc("", R"({"name": "p", "path": "/p", "class": "C"})"));
  CHECK(plain.config.has_value());
  if (!(plain.config.has_value())) return;
  CHECK(plain.config->origins.empty());
  CHECK(plain.config->rules[0].originIndex == Rule::kNoOrigin);
}

TEST_CASE("origins: every mistake is a problem at its JSON pointer") {
  struct Case {
    std::string_view origins, rules, path, message;
  };
  const std::string_view rule = R"({"name": "r", "path": "/r/{id}", "origin": "o", "class": "C"})";
  const Case cases[] = {
      {R"([])", "", "/origins", "expected an object"},
      {R"({"O!": {"url": "https://x.org"}})", "", "/origins/O!", "invalid origin name"},
      {R"({"o": {}})", rule, "/origins/o", "missing required field \"url\""},
      {R"({"o": {"url": "https://x.org", "urll": 1}})", rule, "/origins/o/urll", "did you mean \"url\""},
      {R"({"o": {"url": "ftp://x.org"}})", rule, "/origins/o/url", "invalid origin URL"},
      {R"({"o": {"url": "https://x.org/api?key=1"}})", rule, "/origins/o/url", "no query or fragment"},
      {R"({"o": {"url": "https://x.org", "credential": {"secret": "K"}}})", rule, "/origins/o/credential", "missing \"query\""},
      {R"({"o": {"url": "https://x.org", "credential": {"query": "k", "header": "x-k", "secret": "K"}}})", rule,
       "/origins/o/credential", "not both"},
      {R"({"o": {"url": "https://x.org", "credential": {"query": "k"}}})", rule, "/origins/o/credential",
       "missing required field \"secret\""},
      {R"({"o": {"url": "https://x.org", "credential": {"query": "k", "secret": "my key"}}})", rule,
       "/origins/o/credential/secret", "invalid secret name"},
      {R"({"o": {"url": "https://x.org", "credential": {"query": "a&b", "secret": "K"}}})", rule,
       "/origins/o/credential/query", "invalid parameter name"},
      {R"({"o": {"url": "https://x.org", "credential": {"header": "Host", "secret": "K"}}})", rule,
       "/origins/o/credential/header", "cannot carry a credential"},
      {R"({"o": {"url": "https://x.org", "credential": {"query": "k", "prefix": "Bearer ", "secret": "K"}}})", rule,
       "/origins/o/credential/prefix", "applies only to a \"header\""},
      {R"({"o": {"url": "https://x.org", "quota": {}}})", rule, "/origins/o/quota", "needs \"perMinute\", \"perDay\""},
      {R"({"o": {"url": "https://x.org", "quota": {"perDay": 0}}})", rule, "/origins/o/quota/perDay", "out of range"},
      {R"({"o": {"url": "https://x.org", "quota": {"perDay": -5}}})", rule, "/origins/o/quota/perDay", "must not be negative"},
      {R"({"o": {"url": "https://x.org", "quota": {"perDay": 5, "dayStartsIn": "Europe/Paris"}}})", rule,
       "/origins/o/quota/dayStartsIn", "unsupported time zone"},
      {R"({"o": {"url": "https://x.org", "quota": {"perMinute": 5, "reserve": 1}}})", rule, "/origins/o/quota/reserve",
       "applies only with \"perDay\""},
      {R"({"o": {"url": "https://x.org", "quota": {"perDay": 5, "reserve": 6}}})", rule, "/origins/o/quota/reserve", "out of range"},
      {R"({"o": {"url": "https://x.org", "timeoutMs": 0}})", rule, "/origins/o/timeoutMs", "out of range"},
      {R"({"o": {"url": "https://x.org", "errorBodyKeys": ["Note", "Note"]}})", rule, "/origins/o/errorBodyKeys/1", "duplicate key"},
      {R"({"o": {"url": "https://x.org", "errorBodyKeys": "Note"}})", rule, "/origins/o/errorBodyKeys", "expected an array"},
      {R"({"o": {"url": "https://x.org"}})", R"({"name": "r", "path": "/r", "origin": "p", "class": "C"})", "/rules/0/origin",
       "unknown origin \"p\""},
      {"", R"({"name": "r", "path": "/r", "origin": "o", "class": "C"})", "/rules/0/origin", "the rules define no \"origins\""},
      {R"({"o": {"url": "https://x.org"}})", R"({"name": "r", "path": "/r", "originPath": "/x", "class": "C"})",
       "/rules/0/originPath", "applies only with \"origin\""},
      {R"({"o": {"url": "https://x.org"}})", R"({"name": "r", "path": "/r/{id}", "origin": "o", "originPath": "/x/{ticker}", "class": "C"})",
       "/rules/0/originPath", "{ticker}, which is not a capture"},
      {R"({"o": {"url": "https://x.org"}})", R"({"name": "r", "path": "/r/{id}", "origin": "o", "originPath": "x/{id}", "class": "C"})",
       "/rules/0/originPath", "starts with '/'"},
      {R"({"o": {"url": "https://x.org"}})", R"({"name": "r", "path": "/r/{id}", "origin": "o", "originPath": "/x?a=1", "class": "C"})",
       "/rules/0/originPath", "no query"},
      {R"({"o": {"url": "https://x.org"}})", R"({"name": "r", "path": "/r", "origin": "o", "methods": ["GET", "POST"], "class": "C"})",
       "/rules/0/methods", "GET and HEAD only"},
      {R"({"o": {"url": "https://x.org", "credential": {"header": "X-Key", "secret": "K"}}})",
       R"({"name": "r", "path": "/r", "origin": "o", "vary": ["x-key"], "class": "C"})", "/rules/0/vary/0", "a cache key must never hold it"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.origins);
    CAPTURE(c.rules);
    const RulesLoadResult r = loadRules(doc(c.origins, c.rules));
    CHECK_FALSE(r.config.has_value());
    bool found = false;
    for (const auto& p : r.problems) found = found || (p.path == c.path && p.message.find(c.message) != std::string::npos);
    CHECK_MESSAGE(found, "want " << c.path << ": ..." << c.message << "...; got\n" << problemsOf(r));
  }
}

TEST_CASE("origins: config/examples/market-apis.json loads") {
  std::ifstream in(EDGE_CACHE_SOURCE_DIR "/config/examples/market-apis.json", std::ios::binary);
  CHECK(in.good());
  if (!(in.good())) return;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const RulesLoadResult r = loadRules(text);
  CHECK_MESSAGE(r.config.has_value(), problemsOf(r));
  if (!(r.config.has_value())) return;
  CHECK(r.config->origins.size() == 3);
  if (!(r.config->origins.size() == 3)) return;
  CHECK(r.config->origins[0].name == "fmp");
  CHECK(r.config->origins[1].credential.place == UpstreamCredential::Place::Header);
  CHECK(r.config->origins[2].errorBodyKeys.size() == 3);
  for (const Rule& rule : r.config->rules) CHECK(rule.originIndex != Rule::kNoOrigin);
}

TEST_CASE("normalizeUpstreamUrl: the URL targets are appended to") {
  struct Case {
    std::string_view in, out;
  };
  const Case cases[] = {
      {"https://financialmodelingprep.com/api", "https://financialmodelingprep.com/api"},
      {"HTTPS://NewsAPI.org/", "https://newsapi.org"},
      {"http://127.0.0.1:8000/demo/av//", "http://127.0.0.1:8000/demo/av"},
      {"https://x.org:443", "https://x.org"},
      {"https://x.org/a?b", ""},
      {"https://x.org/#f", ""},
      {"mailto:x@y", ""},
      {"https://x.org/a b", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.in);
    CHECK(normalizeUpstreamUrl(c.in) == c.out);
  }
}
