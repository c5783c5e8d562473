#include "rules_loader.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

using namespace edge_cache;

#ifndef EDGE_CACHE_SOURCE_DIR
#error "define EDGE_CACHE_SOURCE_DIR (the repository root) to read config/cache-rules.json"
#endif

namespace {

std::string readShippedRules() {
  std::ifstream in(EDGE_CACHE_SOURCE_DIR "/config/cache-rules.json", std::ios::binary);
  CHECK_MESSAGE(in.good(), "cannot read " EDGE_CACHE_SOURCE_DIR "/config/cache-rules.json");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A valid document around the parts a case changes: class "C" is cached, "NONE" is not, "C" is the default.
constexpr std::string_view kClasses = R"("C": {"ttl": "1h", "tiers": ["edge"]}, "NONE": {"ttl": 0})";

std::string makeDoc(std::string_view classes, std::string_view rules, std::string_view extra = "") {
  std::string doc = R"({"version": 1, "classes": {)";
  doc += classes;
  doc += R"(}, "default": "C", "rules": [)";
  doc += rules;
  doc += "]";
  if (!extra.empty()) doc += ", " + std::string(extra);
  return doc + "}";
}
std::string withRules(std::string_view rules) { return makeDoc(kClasses, rules); }
std::string withClass(std::string_view body) {
  return makeDoc(std::string(kClasses) + R"(, "X": )" + std::string(body), "");
}
std::string withTop(std::string_view extra) { return makeDoc(kClasses, "", extra); }
// A rule whose pastDate has the given "recent" object.
std::string recentRule(std::string_view recent) {
  return withRules(R"({"name": "r", "path": "/o/{d}", "class": "NONE", "pastDate": {"param": "d", "class": "C", "recent": )" +
                   std::string(recent) + "}}");
}

std::string listProblems(const RulesLoadResult& r) {
  std::string out;
  for (const auto& p : r.problems) out += p.path + ": " + p.message + "\n";
  return out;
}

std::string render(const Captures& c) {
  std::string out;
  for (size_t i = 0; i < c.size(); ++i) out += std::string(c.nameAt(i)) + "=" + std::string(c.valueAt(i)) + ";";
  return out;
}

}  // namespace

TEST_CASE("the shipped config/cache-rules.json loads without problems") {
  const RulesLoadResult r = loadRules(readShippedRules());
  CHECK_MESSAGE(r.problems.empty(), listProblems(r));
  CHECK(r.config.has_value());
  if (!r.config) return;
  const RulesConfig& cfg = *r.config;

  CHECK(cfg.version == 1);
  CHECK(cfg.classes.size() == 9);
  CHECK(cfg.rules.size() == 17);
  CHECK(cfg.classes[cfg.defaultClassIndex].name == "ORIGIN");

  struct ClassCase {
    std::string_view name;
    uint32_t ttl, swr, sie, negative, tiers;
    bool marketAware;
    uint32_t closedMax;
    bool followOrigin;
  };
  const uint32_t kAll = kTierMemory | kTierEdge | kTierDurableObject | kTierKv;
  const uint32_t kNoKv = kTierMemory | kTierEdge | kTierDurableObject;
  const ClassCase classes[] = {
      {"PERMANENT", 365 * 86400, 86400, 365 * 86400, 3600, kAll, false, 0, false},
      // As final as PERMANENT, but asked for about a day (ranges ending at the previous close): no KV write.
      {"RECENT_PAST", 365 * 86400, 86400, 365 * 86400, 3600, kNoKv, false, 0, false},
      {"WEEK", 7 * 86400, 86400, 30 * 86400, 3600, kAll, false, 0, false},
      {"DAY", 86400, 3600, 7 * 86400, 900, kNoKv, false, 0, false},  // KV writes are scarce: PERMANENT and WEEK only
      {"HOUR_6", 6 * 3600, 1800, 86400, 900, kNoKv, false, 0, false},
      {"MIN_15", 900, 60, 6 * 3600, 60, kNoKv, false, 0, false},
      {"REALTIME", 15, 30, 3600, 15, kNoKv, true, 3 * 86400, false},
      {"NONE", 0, 0, 0, 0, 0, false, 0, false},
      {"ORIGIN", 0, 0, 3600, 0, kNoKv, false, 0, true},
  };
  for (const auto& c : classes) {
    CAPTURE(c.name);
    const auto index = cfg.findClass(c.name);
    CHECK(index.has_value());
    if (!index) continue;
    const TtlClass& k = cfg.classes[*index];
    CHECK(k.name == c.name);
    CHECK(k.ttlS == c.ttl);
    CHECK(k.staleWhileRevalidateS == c.swr);
    CHECK(k.staleIfErrorS == c.sie);
    CHECK(k.negativeTtlS == c.negative);
    CHECK(k.tiers == c.tiers);
    CHECK(k.marketAware == c.marketAware);
    CHECK(k.closedMaxTtlS == c.closedMax);
    CHECK(k.followOrigin == c.followOrigin);
  }
  CHECK_FALSE(cfg.findClass("FOO").has_value());
  CHECK_FALSE(cfg.findClass("none").has_value());

  const Rule& aggs = cfg.rules[0];
  CHECK(aggs.name == "historical-aggs");
  CHECK(aggs.methods == (kMethodGet | kMethodHead));
  CHECK(aggs.pattern.source == "/v1/aggs/ticker/{ticker}/range/{mult}/{span}/{from}/{to}");
  CHECK(cfg.classes[aggs.classIndex].name == "REALTIME");
  CHECK(aggs.pastDateParam == "to");
  CHECK(cfg.classes[aggs.pastClassIndex].name == "PERMANENT");
  CHECK(aggs.recentTradingDays == 1);
  CHECK(cfg.classes[aggs.recentClassIndex].name == "RECENT_PAST");
  for (const Rule& rule : cfg.rules) {
    CAPTURE(rule.name);
    const bool dated = rule.name == "historical-aggs" || rule.name == "historical-aggs-v2" || rule.name == "open-close";
    CHECK(rule.pastDateParam.empty() == !dated);
    CHECK(rule.recentTradingDays == (dated ? 1 : 0));
    if (dated) CHECK(cfg.classes[rule.pastClassIndex].name == "PERMANENT");
    if (dated) CHECK(cfg.classes[rule.recentClassIndex].name == "RECENT_PAST");
  }
  CHECK(aggs.tags == std::vector<std::string>{"ticker:{ticker}"});
  CHECK(aggs.varyHeaders.empty());
  const Rule& auth = cfg.rules[14];
  CHECK(auth.name == "auth");
  CHECK(auth.methods == (kMethodGet | kMethodHead | kMethodPost | kMethodPut | kMethodPatch | kMethodDelete));
  CHECK(auth.pastDateParam.empty());

  CHECK(cfg.keys.bypassParam == "nocache");
  CHECK(cfg.keys.ignoredParams == std::vector<std::string>{"utm_*", "fbclid", "gclid", "_"});
  CHECK(cfg.keys.credentialParams == std::vector<std::string>{"apiKey", "api_key", "access_token", "token"});
  CHECK(cfg.keys.maxKeyBytes == 480);
  CHECK(cfg.limits.maxUrlBytes == 8192);
  CHECK(cfg.limits.maxHeaderBytes == 16384);
  CHECK(cfg.market.extendedHours);
  CHECK(cfg.warm == std::vector<std::string>{"/v3/reference/tickers/types", "/v3/reference/tickers/AAPL"});

  const RateLimitConfig& rl = cfg.rateLimits;
  CHECK(rl.enabled);
  CHECK(rl.defaultLimits.has_value());
  CHECK(rl.bypass.has_value());
  if (rl.defaultLimits && rl.bypass) {
    CHECK(rl.defaultLimits->perMinute == 600);
    CHECK(rl.defaultLimits->perDay == 100000);
    // nocache requests reach the origin: their limit is the stricter one.
    CHECK(rl.bypass->perMinute < rl.defaultLimits->perMinute);
    CHECK(rl.bypass->perDay < rl.defaultLimits->perDay);
  }
  CHECK(rl.classes.size() == 2);
}

TEST_CASE("matchRule on the shipped rules: first match wins, methods filter") {
  const RulesLoadResult r = loadRules(readShippedRules());
  CHECK(r.config.has_value());
  if (!r.config) return;
  struct Case {
    uint32_t method;
    std::string_view path;
    std::string_view rule;  // "" = no rule
    std::string_view captures = "";
  };
  const Case cases[] = {
      {kMethodGet, "/v3/reference/tickers/types", "ticker-types"},  // before the {ticker} rule
      {kMethodGet, "/v3/reference/tickers/types/", "ticker-types"},
      {kMethodGet, "/v3/reference/tickers/AAPL", "company-info", "ticker=AAPL;"},
      {kMethodHead, "/v3/reference/tickers/AAPL", "company-info", "ticker=AAPL;"},
      {kMethodPost, "/v3/reference/tickers/AAPL", ""},
      {kMethodOptions, "/v3/reference/tickers/AAPL", ""},
      {kMethodGet, "/v2/aggs/ticker/AAPL/range/1/day/2023-01-09/2023-01-10", "historical-aggs-v2",
       "ticker=AAPL;mult=1;span=day;from=2023-01-09;to=2023-01-10;"},
      {kMethodGet, "/v1/open-close/AAPL/2023-01-09", "open-close", "ticker=AAPL;date=2023-01-09;"},
      {kMethodGet, "/v2/snapshot/locale/us/markets/stocks/tickers", "snapshot"},
      {kMethodGet, "/v3/reference/options/contracts/O:AAPL230616C00150000", "options-contracts"},
      {kMethodGet, "/v1/conversion/AUD/USD", "conversion", "from=AUD;to=USD;"},
      {kMethodGet, "/v2/last/nbbo/AAPL", "last-quote", "ticker=AAPL;"},
      {kMethodPost, "/auth/login", "auth"},
      {kMethodDelete, "/users/42", "users"},
      {kMethodGet, "/api/auth/token", "api-auth"},
      {kMethodOptions, "/auth/login", ""},  // CORS preflights are not auth traffic
      {kMethodGet, "/admin/", ""},
      {kMethodGet, "/", ""},
      {0, "/v3/reference/tickers/types", ""},  // a method no rule lists
  };
  for (const auto& c : cases) {
    CAPTURE(c.method);
    CAPTURE(c.path);
    Captures out;
    const Rule* rule = matchRule(*r.config, c.method, c.path, out);
    CHECK(std::string_view(rule ? rule->name : "") == c.rule);
    CHECK(render(out) == c.captures);
  }
}

TEST_CASE("matchRule: first match wins among overlapping rules, per method") {
  const RulesLoadResult r = loadRules(withRules(R"(
    {"name": "post-item", "path": "/x/{id}", "class": "NONE", "methods": ["POST"]},
    {"name": "items", "path": "/x/*", "class": "C", "methods": ["GET", "HEAD", "POST"]},
    {"name": "catch-all", "path": "/*", "class": "NONE", "methods": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]})"));
  CHECK_MESSAGE(r.config.has_value(), listProblems(r));
  if (!r.config) return;
  struct Case {
    uint32_t method;
    std::string_view path;
    std::string_view rule;
  };
  const Case cases[] = {
      {kMethodPost, "/x/1", "post-item"}, {kMethodGet, "/x/1", "items"},   {kMethodPost, "/x/1/2", "items"},
      {kMethodPut, "/x/1", "catch-all"},  {kMethodGet, "/y", "catch-all"}, {kMethodOptions, "/", "catch-all"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.path);
    Captures out;
    const Rule* rule = matchRule(*r.config, c.method, c.path, out);
    CHECK(std::string_view(rule ? rule->name : "") == c.rule);
  }
}

TEST_CASE("loadRules: one problem per mistake, at its JSON pointer") {
  struct Case {
    std::string_view what;
    std::string doc;
    std::string_view path;
    std::string_view message;  // a fragment of the message
  };
  const Case cases[] = {
      // Document and top level.
      {"root not an object", "[]", "", "must be a JSON object, not an array"},
      {"unknown top-level field", withTop(R"("rule": [])"), "/rule",
       "unknown field \"rule\" (did you mean \"rules\"?)"},
      {"missing default", R"({"version": 1, "classes": {"C": {"ttl": 0}}, "rules": []})", "",
       "missing required field \"default\""},
      {"missing rules", R"({"version": 1, "classes": {"C": {"ttl": 0}}, "default": "C"})", "",
       "missing required field \"rules\""},
      {"version 2", R"({"version": 2, "classes": {"C": {"ttl": 0}}, "default": "C", "rules": []})", "/version",
       "unsupported version 2"},
      {"version as a string", R"({"version": "1", "classes": {"C": {"ttl": 0}}, "default": "C", "rules": []})",
       "/version", "expected a number, got a string"},
      {"duplicate key", R"({"version": 1, "version": 1, "classes": {"C": {"ttl": 0}}, "default": "C", "rules": []})",
       "/version", "duplicate field \"version\""},
      {"comment not a string", withTop(R"("$comment": 5)"), "/$comment", "expected a string, got a number"},
      {"unknown default class", R"({"version": 1, "classes": {"C": {"ttl": 0}}, "default": "NOPE", "rules": []})",
       "/default", "unknown class \"NOPE\""},
      {"default class in the wrong case",
       R"({"version": 1, "classes": {"C": {"ttl": 0}}, "default": "c", "rules": []})", "/default",
       "unknown class \"c\" (did you mean \"C\"?)"},
      {"classes not an object (references are then not checked)",
       R"({"version": 1, "classes": [], "default": "C", "rules": [{"name": "r", "path": "/a", "class": "D"}]})",
       "/classes", "expected an object, got an array"},
      // Classes.
      {"class field typo", withClass(R"({"ttl": "1h", "tll": "1h", "tiers": ["edge"]})"), "/classes/X/tll",
       "unknown field \"tll\" (did you mean \"ttl\"?)"},
      {"class not an object", withClass("5"), "/classes/X", "expected an object, got a number"},
      {"invalid class name", makeDoc(std::string(kClasses) + R"(, "my class": {"ttl": 0})", ""), "/classes/my class",
       "invalid class name \"my class\""},
      {"class name needing pointer escapes", makeDoc(std::string(kClasses) + R"(, "a/b~c": {"ttl": 0})", ""),
       "/classes/a~1b~0c", "invalid class name"},
      {"duplicate class", makeDoc(std::string(kClasses) + R"(, "C": {"ttl": 0})", ""), "/classes/C",
       "duplicate field \"C\""},
      {"missing ttl", withClass(R"({"tiers": ["edge"]})"), "/classes/X", "missing required field \"ttl\""},
      {"followOrigin with ttl", withClass(R"({"followOrigin": true, "ttl": "1h", "tiers": ["edge"]})"),
       "/classes/X/ttl", "takes its TTL from the origin"},
      {"followOrigin not a boolean", withClass(R"({"followOrigin": "yes", "tiers": ["edge"]})"),
       "/classes/X/followOrigin", "expected true or false, got a string"},
      {"unknown tier", withClass(R"({"ttl": "1h", "tiers": ["edge", "disk"]})"), "/classes/X/tiers/1",
       "unknown tier \"disk\" (tiers: memory, edge, do, kv)"},
      {"tier in the wrong case", withClass(R"({"ttl": "1h", "tiers": ["Edge"]})"), "/classes/X/tiers/0",
       "unknown tier \"Edge\" (did you mean \"edge\"?)"},
      {"duplicate tier", withClass(R"({"ttl": "1h", "tiers": ["edge", "edge"]})"), "/classes/X/tiers/1",
       "duplicate tier \"edge\""},
      {"tiers not an array", withClass(R"({"ttl": "1h", "tiers": "edge"})"), "/classes/X/tiers",
       "expected an array, got a string"},
      {"tier not a string", withClass(R"({"ttl": "1h", "tiers": ["edge", 2]})"), "/classes/X/tiers/1",
       "expected a string"},
      {"marketAware and followOrigin",
       withClass(R"({"followOrigin": true, "marketAware": true, "closedMaxTtl": "1d", "tiers": ["edge"]})"),
       "/classes/X/marketAware", "both marketAware and followOrigin"},
      {"marketAware with ttl 0", withClass(R"({"ttl": 0, "marketAware": true, "closedMaxTtl": "1d"})"),
       "/classes/X/marketAware", "needs a ttl above 0"},
      {"marketAware without closedMaxTtl", withClass(R"({"ttl": "15s", "marketAware": true, "tiers": ["edge"]})"),
       "/classes/X", "missing required field \"closedMaxTtl\""},
      {"closedMaxTtl without marketAware", withClass(R"({"ttl": "15s", "closedMaxTtl": "1d", "tiers": ["edge"]})"),
       "/classes/X/closedMaxTtl", "applies only to marketAware classes"},
      {"closedMaxTtl below ttl",
       withClass(R"({"ttl": "1h", "marketAware": true, "closedMaxTtl": "1m", "tiers": ["edge"]})"),
       "/classes/X/closedMaxTtl", "shorter (60s) than ttl (3600s)"},
      {"uncached class with tiers", withClass(R"({"ttl": 0, "tiers": ["edge"]})"), "/classes/X/tiers",
       "must not list tiers"},
      {"uncached class with staleIfError", withClass(R"({"ttl": 0, "staleIfError": "1h"})"), "/classes/X/staleIfError",
       "has no effect"},
      {"uncached class with negativeTtl", withClass(R"({"ttl": "0s", "negativeTtl": 60})"), "/classes/X/negativeTtl",
       "has no effect"},
      {"cached class without tiers", withClass(R"({"ttl": "1h"})"), "/classes/X", "needs at least one tier"},
      {"cached class with empty tiers", withClass(R"({"followOrigin": true, "tiers": []})"), "/classes/X/tiers",
       "needs at least one tier"},
      // Rules.
      {"rules not an array", R"({"version": 1, "classes": {"C": {"ttl": 0}}, "default": "C", "rules": {}})", "/rules",
       "expected an array, got an object"},
      {"rule not an object", withRules(R"("/a")"), "/rules/0", "expected an object, got a string"},
      {"rule field typo", withRules(R"({"name": "r", "path": "/a", "class": "C", "tag": []})"), "/rules/0/tag",
       "unknown field \"tag\" (did you mean \"tags\"?)"},
      {"missing name", withRules(R"({"path": "/a", "class": "C"})"), "/rules/0", "missing required field \"name\""},
      {"missing path", withRules(R"({"name": "r", "class": "C"})"), "/rules/0", "missing required field \"path\""},
      {"invalid rule name", withRules(R"({"name": "my rule", "path": "/a", "class": "C"})"), "/rules/0/name",
       "invalid rule name"},
      {"unknown class", withRules(R"({"name": "r", "path": "/a", "class": "FOO"})"), "/rules/0/class",
       "unknown class \"FOO\" (classes: C, NONE)"},
      {"class typo", withRules(R"({"name": "r", "path": "/a", "class": "NOEN"})"), "/rules/0/class",
       "unknown class \"NOEN\" (did you mean \"NONE\"?)"},
      {"class not a string", withRules(R"({"name": "r", "path": "/a", "class": 3})"), "/rules/0/class",
       "expected a string, got a number"},
      {"invalid pattern", withRules(R"({"name": "r", "path": "/a/{b", "class": "C"})"), "/rules/0/path",
       "invalid pattern \"/a/{b\" at offset 3: '{' without a matching '}'"},
      {"pattern without leading slash", withRules(R"({"name": "r", "path": "a", "class": "C"})"), "/rules/0/path",
       "at offset 0"},
      {"unknown method", withRules(R"({"name": "r", "path": "/a", "class": "C", "methods": ["GET", "get"]})"),
       "/rules/0/methods/1", "unknown method \"get\" (did you mean \"GET\"?)"},
      {"duplicate method", withRules(R"({"name": "r", "path": "/a", "class": "C", "methods": ["GET", "GET"]})"),
       "/rules/0/methods/1", "duplicate method \"GET\""},
      {"empty methods", withRules(R"({"name": "r", "path": "/a", "class": "C", "methods": []})"), "/rules/0/methods",
       "would never match"},
      {"pastDate param not a capture",
       withRules(R"({"name": "r", "path": "/o/{date}", "class": "NONE", "pastDate": {"param": "day", "class": "C"}})"),
       "/rules/0/pastDate/param", "\"day\" is not a capture of the path pattern (captures: date)"},
      {"pastDate param without captures",
       withRules(R"({"name": "r", "path": "/o", "class": "NONE", "pastDate": {"param": "day", "class": "C"}})"),
       "/rules/0/pastDate/param", "(it has none)"},
      {"pastDate unknown class",
       withRules(
           R"({"name": "r", "path": "/o/{date}", "class": "NONE", "pastDate": {"param": "date", "class": "FOREVER"}})"),
       "/rules/0/pastDate/class", "unknown class \"FOREVER\""},
      {"pastDate missing param",
       withRules(R"({"name": "r", "path": "/o/{date}", "class": "NONE", "pastDate": {"class": "C"}})"),
       "/rules/0/pastDate", "missing required field \"param\""},
      {"pastDate field typo",
       withRules(
           R"({"name": "r", "path": "/o/{d}", "class": "NONE", "pastDate": {"param": "d", "class": "C", "clas": "C"}})"),
       "/rules/0/pastDate/clas", "unknown field \"clas\""},
      {"pastDate.recent not an object",
       withRules(R"({"name": "r", "path": "/o/{d}", "class": "NONE", "pastDate": {"param": "d", "class": "C", "recent": 1}})"),
       "/rules/0/pastDate/recent", "expected an object, got a number"},
      {"pastDate.recent field typo", recentRule(R"({"tradingDay": 1, "tradingDays": 1, "class": "C"})"),
       "/rules/0/pastDate/recent/tradingDay", "unknown field \"tradingDay\" (did you mean \"tradingDays\"?)"},
      {"pastDate.recent unknown field", recentRule(R"({"tradingDays": 1, "class": "C", "calendarDays": 2})"),
       "/rules/0/pastDate/recent/calendarDays", "unknown field \"calendarDays\""},
      {"pastDate.recent comment not a string", recentRule(R"({"$comment": true, "tradingDays": 1, "class": "C"})"),
       "/rules/0/pastDate/recent/$comment", "expected a string, got a boolean"},
      {"pastDate.recent missing tradingDays", recentRule(R"({"class": "C"})"), "/rules/0/pastDate/recent",
       "missing required field \"tradingDays\""},
      {"pastDate.recent missing class", recentRule(R"({"tradingDays": 1})"), "/rules/0/pastDate/recent",
       "missing required field \"class\""},
      {"pastDate.recent tradingDays 0", recentRule(R"({"tradingDays": 0, "class": "C"})"),
       "/rules/0/pastDate/recent/tradingDays", "0 is out of range (1 to 30)"},
      {"pastDate.recent tradingDays 31", recentRule(R"({"tradingDays": 31, "class": "C"})"),
       "/rules/0/pastDate/recent/tradingDays", "31 is out of range (1 to 30)"},
      {"pastDate.recent tradingDays huge", recentRule(R"({"tradingDays": 4294967297, "class": "C"})"),
       "/rules/0/pastDate/recent/tradingDays", "out of range (1 to 30)"},
      {"pastDate.recent tradingDays negative", recentRule(R"({"tradingDays": -1, "class": "C"})"),
       "/rules/0/pastDate/recent/tradingDays", "must not be negative"},
      {"pastDate.recent tradingDays fractional", recentRule(R"({"tradingDays": 1.5, "class": "C"})"),
       "/rules/0/pastDate/recent/tradingDays", "must be a whole number"},
      {"pastDate.recent tradingDays as an exponent", recentRule(R"({"tradingDays": 1e0, "class": "C"})"),
       "/rules/0/pastDate/recent/tradingDays", "must be a whole number"},
      {"pastDate.recent tradingDays as a string", recentRule(R"({"tradingDays": "1", "class": "C"})"),
       "/rules/0/pastDate/recent/tradingDays", "expected a number, got a string"},
      {"pastDate.recent tradingDays as a duration", recentRule(R"({"tradingDays": "1d", "class": "C"})"),
       "/rules/0/pastDate/recent/tradingDays", "expected a number, got a string"},
      {"pastDate.recent unknown class", recentRule(R"({"tradingDays": 1, "class": "FOREVER"})"),
       "/rules/0/pastDate/recent/class", "unknown class \"FOREVER\" (classes: C, NONE)"},
      {"pastDate.recent class typo", recentRule(R"({"tradingDays": 1, "class": "NOEN"})"),
       "/rules/0/pastDate/recent/class", "unknown class \"NOEN\" (did you mean \"NONE\"?)"},
      {"pastDate.recent class not a string", recentRule(R"({"tradingDays": 1, "class": ["C"]})"),
       "/rules/0/pastDate/recent/class", "expected a string, got an array"},
      {"recent outside pastDate",
       withRules(R"({"name": "r", "path": "/o/{d}", "class": "NONE", "recent": {"tradingDays": 1, "class": "C"}})"),
       "/rules/0/recent", "unknown field \"recent\""},
      {"tag with unknown capture",
       withRules(R"({"name": "r", "path": "/t/{ticker}", "class": "C", "tags": ["t:{symbol}"]})"), "/rules/0/tags/0",
       "references {symbol}, which is not a capture of the path pattern (captures: ticker)"},
      {"tag with unbalanced brace",
       withRules(R"({"name": "r", "path": "/t/{ticker}", "class": "C", "tags": ["x", "t:{ticker"]})"),
       "/rules/0/tags/1", "'{' must be followed by a capture name and '}'"},
      {"tag with a comma", withRules(R"({"name": "r", "path": "/t", "class": "C", "tags": ["a,b"]})"),
       "/rules/0/tags/0", "invalid tag \"a,b\": ',', spaces"},
      {"tag with a lone closing brace", withRules(R"({"name": "r", "path": "/t", "class": "C", "tags": ["a}"]})"),
       "/rules/0/tags/0", "'}' without '{'"},
      {"empty tag", withRules(R"({"name": "r", "path": "/t", "class": "C", "tags": [""]})"), "/rules/0/tags/0",
       "empty tag"},
      {"vary header upper-case", withRules(R"({"name": "r", "path": "/t", "class": "C", "vary": ["Accept-Language"]})"),
       "/rules/0/vary/0", "must be lower-case: \"accept-language\""},
      {"vary header invalid", withRules(R"({"name": "r", "path": "/t", "class": "C", "vary": ["x y"]})"),
       "/rules/0/vary/0", "invalid header name"},
      {"vary header duplicate", withRules(R"({"name": "r", "path": "/t", "class": "C", "vary": ["accept", "accept"]})"),
       "/rules/0/vary/1", "duplicate header"},
      {"duplicate rule name",
       withRules(R"({"name": "r", "path": "/a", "class": "C"}, {"name": "r", "path": "/b", "class": "C"})"),
       "/rules/1/name", "duplicate rule name \"r\" (first at /rules/0)"},
      {"identical pattern shadowed",
       withRules(R"({"name": "a", "path": "/a/{x}", "class": "C"}, {"name": "b", "path": "/a/{y}", "class": "NONE"})"),
       "/rules/1", "rule \"b\" can never match: rule \"a\" (/rules/0) comes first"},
      {"superset pattern shadows",
       withRules(R"({"name": "by-ticker", "path": "/v3/reference/tickers/{ticker}", "class": "C"},
                    {"name": "types", "path": "/v3/reference/tickers/types", "class": "C"})"),
       "/rules/1", "rule \"types\" can never match: rule \"by-ticker\""},
      {"rest pattern shadows, method subset",
       withRules(R"({"name": "a", "path": "/auth/*", "class": "NONE", "methods": ["GET", "HEAD", "POST"]},
                    {"name": "b", "path": "/auth/login", "class": "NONE", "methods": ["POST"]})"),
       "/rules/1", "can never match"},
      // Keys, limits, market.
      {"keys field typo (model name)", withTop(R"("keys": {"ignoredParams": []})"), "/keys/ignoredParams",
       "unknown field \"ignoredParams\" (did you mean \"ignoreParams\"?)"},
      {"ignore every param", withTop(R"("keys": {"ignoreParams": ["utm_*", "*"]})"), "/keys/ignoreParams/1",
       "drop every parameter"},
      {"wildcard inside an ignored name", withTop(R"("keys": {"ignoreParams": ["utm_*x"]})"), "/keys/ignoreParams/0",
       "only allowed at the end"},
      {"wildcard in a credential name", withTop(R"("keys": {"credentialParams": ["api*"]})"),
       "/keys/credentialParams/0", "exact names only"},
      {"invalid param name", withTop(R"("keys": {"bypassParam": "no cache"})"), "/keys/bypassParam",
       "invalid parameter name"},
      {"empty ignored name", withTop(R"("keys": {"ignoreParams": [""]})"), "/keys/ignoreParams/0",
       "empty parameter name"},
      {"maxKeyBytes above KV's limit", withTop(R"("keys": {"maxKeyBytes": 600})"), "/keys/maxKeyBytes",
       "out of range (128 to 512)"},
      {"maxKeyBytes negative", withTop(R"("keys": {"maxKeyBytes": -1})"), "/keys/maxKeyBytes", "must not be negative"},
      {"maxUrlBytes too small", withTop(R"("limits": {"maxUrlBytes": 100})"), "/limits/maxUrlBytes", "out of range"},
      {"limits beyond the scratch region", withTop(R"("limits": {"maxUrlBytes": 60000, "maxHeaderBytes": 10000})"),
       "/limits", "must not exceed 65408"},
      {"extendedHours not a boolean", withTop(R"("market": {"extendedHours": "yes"})"), "/market/extendedHours",
       "expected true or false"},
      {"market field typo", withTop(R"("market": {"extendedHour": true})"), "/market/extendedHour",
       "(did you mean \"extendedHours\"?)"},
      // Warm.
      {"warm not an array", withTop(R"("warm": "/a")"), "/warm", "expected an array"},
      {"warm without leading slash", withTop(R"("warm": ["v3/x"])"), "/warm/0", "must start with a single '/'"},
      {"warm protocol-relative", withTop(R"("warm": ["//evil.example/x"])"), "/warm/0", "must start with a single '/'"},
      {"warm with a space", withTop(R"("warm": ["/a b"])"), "/warm/0", "invalid warm URL"},
      {"warm duplicate", withTop(R"("warm": ["/a", "/b", "/a"])"), "/warm/2", "duplicate warm URL \"/a\""},
      {"warm longer than the URL limit",
       withTop(R"("limits": {"maxUrlBytes": 256}, "warm": ["/)" + std::string(256, 'a') + "\"]"), "/warm/0",
       "longer than limits.maxUrlBytes (256)"},
      {"warm URL not cached",
       makeDoc(kClasses, R"({"name": "n", "path": "/n", "class": "NONE"})", R"("warm": ["/n?x=1"])"), "/warm/0",
       "warming \"/n?x=1\" stores nothing: rule \"n\" gives class \"NONE\""},
      {"warm URL not cached by any of its classes",
       makeDoc(kClasses,
               R"({"name": "oc", "path": "/oc/{d}", "class": "NONE",
                   "pastDate": {"param": "d", "class": "NONE", "recent": {"tradingDays": 2, "class": "NONE"}}})",
               R"("warm": ["/oc/2024-01-02"])"),
       "/warm/0", "warming \"/oc/2024-01-02\" stores nothing: rule \"oc\" gives class \"NONE\""},
      {"warm URL not cached by default",
       R"({"version": 1, "classes": {"NONE": {"ttl": 0}}, "default": "NONE", "rules": [], "warm": ["/x"]})", "/warm/0",
       "no rule matches, and the default gives class \"NONE\""},
      // Nesting.
      {"nesting too deep", withTop(R"("$comment": )" + std::string(40, '[') + std::string(40, ']')),
       "/$comment/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0", "nested deeper than 32 levels"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    CAPTURE(c.doc);
    const RulesLoadResult r = loadRules(c.doc);
    CHECK_FALSE(r.config.has_value());
    CHECK_MESSAGE(r.problems.size() == 1, listProblems(r));
    if (r.problems.empty()) continue;
    CHECK(r.problems[0].path == c.path);
    CHECK_MESSAGE(r.problems[0].message.find(c.message) != std::string::npos, r.problems[0].message);
  }
}

TEST_CASE("loadRules: durations") {
  struct Case {
    std::string_view value;  // JSON text of staleIfError in an otherwise valid class
    int64_t seconds;         // -1 = rejected
    std::string_view message = "";
  };
  const Case cases[] = {
      {"0", 0},
      {"3600", 3600},
      {R"("0s")", 0},
      {R"("15s")", 15},
      {R"("15m")", 900},
      {R"("6h")", 21600},
      {R"("365d")", 31536000},
      {R"("007m")", 420},
      {R"("3650d")", 315360000},
      {"315360000", 315360000},
      {R"("3651d")", -1, "longer than 10 years"},
      {"315360001", -1, "longer than 10 years"},
      {R"("99999999999999999999999s")", -1, "longer than 10 years"},
      {"99999999999999999999999", -1, "whole number"},  // too big for an integer: parsed as a float
      {R"("-1h")", -1, "must not be negative"},
      {"-5", -1, "invalid duration -5: must not be negative"},
      {"1.5", -1, "must be a whole number"},
      {"1e3", -1, "must be a whole number"},
      {R"("1.5h")", -1, "no decimals"},
      {R"("1w")", -1, "unknown unit \"w\""},
      {R"("1H")", -1, "unknown unit \"H\""},
      {R"("1 h")", -1, "unknown unit \" h\""},
      {R"("15")", -1, "needs a unit"},
      {R"("")", -1, "use seconds as a number"},
      {R"("h")", -1, "use seconds as a number"},
      {R"(" 1h")", -1, "use seconds as a number"},
      {R"("+1h")", -1, "use seconds as a number"},
      {"true", -1, "expected a duration"},
      {"null", -1, "expected a duration"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.value);
    const RulesLoadResult r =
        loadRules(withClass(R"({"ttl": "1h", "tiers": ["edge"], "staleIfError": )" + std::string(c.value) + "}"));
    if (c.seconds >= 0) {
      CHECK_MESSAGE(r.config.has_value(), listProblems(r));
      if (!r.config) continue;
      const auto x = r.config->findClass("X");
      CHECK(x.has_value());
      if (x) CHECK(r.config->classes[*x].staleIfErrorS == c.seconds);
    } else {
      CHECK_MESSAGE(r.problems.size() == 1, listProblems(r));
      if (r.problems.empty()) continue;
      CHECK(r.problems[0].path == "/classes/X/staleIfError");
      CHECK_MESSAGE(r.problems[0].message.find(c.message) != std::string::npos, r.problems[0].message);
    }
  }
}

TEST_CASE("loadRules: every problem is reported, in document order") {
  const std::string doc = R"({
    "version": 1,
    "classes": {
      "FAST": {"tll": "15s", "ttl": "15s", "tiers": ["memory", "disk"]},
      "NONE": {"ttl": 0, "tiers": ["edge"]}
    },
    "default": "SLOW",
    "rules": [
      {"name": "a", "path": "/a/{id}", "class": "FAST", "tags": ["a:{ID}"]},
      {"name": "a", "path": "/a/{x}", "class": "FASTER", "methods": ["GET", "FETCH"]},
      {"name": "c", "path": "/c*", "class": "NONE", "pastDate": {"param": "d", "class": "FAST"}}
    ],
    "warm": ["a"]
  })";
  const RulesLoadResult r = loadRules(doc);
  CHECK_FALSE(r.config.has_value());
  const std::string_view expected[] = {
      "/classes/FAST/tll",      // unknown field
      "/classes/FAST/tiers/1",  // unknown tier
      "/classes/NONE/tiers",    // uncached class with tiers
      "/default",               // unknown class
      "/rules/0/tags/0",        // unknown capture
      "/rules/1/class",         // unknown class
      "/rules/1/methods/1",     // unknown method
      "/rules/1/name",          // duplicate name
      "/rules/2/path",          // invalid pattern (its pastDate.param is then not checked)
      "/warm/0",                // not a path
  };
  CHECK_MESSAGE(r.problems.size() == std::size(expected), listProblems(r));
  for (size_t i = 0; i < std::min(r.problems.size(), std::size(expected)); ++i) {
    CAPTURE(i);
    CHECK(r.problems[i].path == expected[i]);
  }
}

TEST_CASE("loadRules: every problem of a pastDate.recent object is reported") {
  const RulesLoadResult r = loadRules(recentRule(R"({"days": 1, "tradingDays": 0, "class": "NOPE"})"));
  CHECK_FALSE(r.config.has_value());
  const std::string_view expected[] = {
      "/rules/0/pastDate/recent/days",         // unknown field
      "/rules/0/pastDate/recent/tradingDays",  // out of range
      "/rules/0/pastDate/recent/class",        // unknown class
  };
  CHECK_MESSAGE(r.problems.size() == std::size(expected), listProblems(r));
  for (size_t i = 0; i < std::min(r.problems.size(), std::size(expected)); ++i) {
    CAPTURE(i);
    CHECK(r.problems[i].path == expected[i]);
  }
}

TEST_CASE("loadRules: JSON syntax errors give line and column") {
  struct Case {
    std::string_view text;
    std::string_view position;
    std::string_view detail;
  };
  const Case cases[] = {
      {"", "line 1, column 1: ", "unexpected end of input"},
      {"{\n  \"version\": 1,\n  \"classes\": {,}\n}", "line 3, column 15: ", "unexpected ','"},
      {"{\"a\": 1,}", "line 1, column 9: ", "expected string literal"},
      {"{\"a\": tru }", "line 1, column 10: ", "invalid literal"},
      {"{\"a\": 1} x", "line 1, column 10: ", "expected end of input"},
      {"[1, 2", "line 1, column 6: ", "unexpected end of input"},
      {"{\"a\": \"\xC3\xA9\" x}", "line 1, column 11: ", ""},  // columns count characters, not bytes
      {"{\"a\": \"x\ny\"}", "line 1, column 9: ", "control character"},
      {"{\"a\": \"\xFF\"}", "line 1, column 8: ", "ill-formed UTF-8"},
      {"{\r\n\"a\" 1}", "line 2, column 5: ", "expected ':'"},
      {"{} // comment", "line 1, column 4: ", ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    const RulesLoadResult r = loadRules(c.text);
    CHECK_FALSE(r.config.has_value());
    CHECK_MESSAGE(r.problems.size() == 1, listProblems(r));
    if (r.problems.empty()) continue;
    CHECK(r.problems[0].path.empty());
    const std::string& m = r.problems[0].message;
    CHECK_MESSAGE(m.starts_with(c.position), m);
    CHECK_MESSAGE(m.find(c.detail) != std::string::npos, m);
    for (char ch : m) CHECK(static_cast<unsigned char>(ch) < 0x80);  // messages stay valid UTF-8 (ASCII here)
  }
}

TEST_CASE("loadRules: a full valid document is modelled exactly") {
  const std::string doc = R"({
    "$comment": "comments are allowed in every object",
    "rules": [
      {"name": "quotes.v1", "path": "/quotes/{symbol}/{day}", "class": "SHORT", "methods": ["GET", "HEAD", "OPTIONS"],
       "pastDate": {"param": "day", "class": "LONG", "recent": {"tradingDays": 5, "class": "NONE"}},
       "vary": ["accept-language", "x-tenant"], "tags": ["q", "q:{symbol}:{day}"],
       "$comment": "rules may come before classes"},
      {"name": "quotes-post", "path": "/quotes/{symbol}/{day}", "class": "NONE", "methods": ["POST"]}
    ],
    "classes": {
      "$comment": "not a class",
      "LONG": {"ttl": 86400, "tiers": ["kv", "do"]},
      "SHORT": {"ttl": "30s", "marketAware": true, "closedMaxTtl": "30s", "negativeTtl": "5s", "tiers": ["memory"]},
      "NONE": {"ttl": "0m"}
    },
    "default": "NONE",
    "keys": {"bypassParam": "", "ignoreParams": ["ref"], "credentialParams": [], "maxKeyBytes": 128},
    "limits": {"maxUrlBytes": 256, "maxHeaderBytes": 65152},
    "market": {"extendedHours": false},
    "warm": ["/quotes/AAPL/2024-01-02?adjusted=true"],
    "version": 1
  })";
  const RulesLoadResult r = loadRules(doc);
  CHECK_MESSAGE(r.problems.empty(), listProblems(r));
  CHECK(r.config.has_value());
  if (!r.config) return;
  const RulesConfig& cfg = *r.config;
  CHECK(cfg.classes.size() == 3);
  CHECK(cfg.classes[0].name == "LONG");  // file order
  CHECK(cfg.classes[0].tiers == (kTierKv | kTierDurableObject));
  CHECK(cfg.classes[1].name == "SHORT");
  CHECK(cfg.classes[1].marketAware);
  CHECK(cfg.classes[1].closedMaxTtlS == 30);
  CHECK(cfg.classes[1].negativeTtlS == 5);
  CHECK(cfg.defaultClassIndex == 2);
  CHECK(cfg.rules.size() == 2);
  const Rule& q = cfg.rules[0];
  CHECK(q.name == "quotes.v1");
  CHECK(q.methods == (kMethodGet | kMethodHead | kMethodOptions));
  CHECK(q.classIndex == 1);
  CHECK(q.pastDateParam == "day");
  CHECK(q.pastClassIndex == 0);
  CHECK(q.recentTradingDays == 5);
  CHECK(q.recentClassIndex == 2);
  CHECK(cfg.rules[1].pastDateParam.empty());
  CHECK(cfg.rules[1].recentTradingDays == 0);
  CHECK(q.varyHeaders == std::vector<std::string>{"accept-language", "x-tenant"});
  CHECK(q.tags == std::vector<std::string>{"q", "q:{symbol}:{day}"});
  CHECK(cfg.rules[1].methods == kMethodPost);
  CHECK(cfg.keys.bypassParam.empty());
  CHECK(cfg.keys.ignoredParams == std::vector<std::string>{"ref"});
  CHECK(cfg.keys.credentialParams.empty());
  CHECK(cfg.keys.maxKeyBytes == 128);
  CHECK(cfg.limits.maxUrlBytes == 256);
  CHECK(cfg.limits.maxHeaderBytes == 65152);
  CHECK_FALSE(cfg.market.extendedHours);
  CHECK(cfg.warm == std::vector<std::string>{"/quotes/AAPL/2024-01-02?adjusted=true"});
}

TEST_CASE("loadRules: defaults when optional sections are absent; rules that are not shadowed") {
  struct Case {
    std::string_view what;
    std::string doc;
  };
  const Case cases[] = {
      {"minimal", R"({"version": 1, "classes": {"NONE": {"ttl": 0}}, "default": "NONE", "rules": []})"},
      {"same pattern, other methods",
       withRules(
           R"({"name": "a", "path": "/a", "class": "C", "methods": ["GET"]}, {"name": "b", "path": "/a", "class": "C"})")},
      {"specific before general",
       withRules(R"({"name": "a", "path": "/a/b", "class": "C"}, {"name": "b", "path": "/a/{x}", "class": "C"},
                    {"name": "c", "path": "/a/*", "class": "C"}, {"name": "d", "path": "/*", "class": "C"})")},
      {"rest does not cover a longer literal prefix",
       withRules(R"({"name": "a", "path": "/a/{x}", "class": "C"}, {"name": "b", "path": "/a/*", "class": "C"})")},
      {"warm URL with a past-date class",
       makeDoc(kClasses,
               R"({"name": "oc", "path": "/oc/{date}", "class": "NONE", "pastDate": {"param": "date", "class": "C"}})",
               R"("warm": ["/oc/2024-01-02"])")},
      {"warm URL whose only cached class is the recent one",
       makeDoc(kClasses,
               R"({"name": "oc", "path": "/oc/{d}", "class": "NONE",
                   "pastDate": {"param": "d", "class": "NONE", "recent": {"tradingDays": 1, "class": "C"}}})",
               R"("warm": ["/oc/2024-01-02"])")},
      {"recent windows of 1 and 30 trading days, recent class not cached, $comment",
       withRules(R"({"name": "a", "path": "/a/{d}", "class": "NONE",
                     "pastDate": {"param": "d", "class": "C", "recent": {"$comment": "x", "tradingDays": 1, "class": "NONE"}}},
                    {"name": "b", "path": "/b/{d}", "class": "NONE",
                     "pastDate": {"param": "d", "class": "C", "recent": {"class": "C", "tradingDays": 30}}})")},
      {"14 distinct vary headers",
       withRules(R"({"name": "a", "path": "/a", "class": "C", "vary": ["h1", "h2", "h3", "h4", "h5", "h6", "h7"]},
                    {"name": "b", "path": "/b", "class": "C", "vary": ["h1", "h8", "h9", "h10", "h11", "h12", "h13", "h14"]})")},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    const RulesLoadResult r = loadRules(c.doc);
    CHECK_MESSAGE(r.problems.empty(), listProblems(r));
    CHECK(r.config.has_value());
  }
  const RulesLoadResult r = loadRules(cases[0].doc);
  if (!r.config) return;
  const RulesConfig defaults;
  CHECK(r.config->keys.bypassParam == defaults.keys.bypassParam);
  CHECK(r.config->keys.maxKeyBytes == 480);
  CHECK(r.config->limits.maxUrlBytes == 8192);
  CHECK(r.config->limits.maxHeaderBytes == 16384);
  CHECK(r.config->market.extendedHours);
  CHECK(r.config->warm.empty());

  const RulesLoadResult tooMany = loadRules(withRules(
      R"({"name": "a", "path": "/a", "class": "C", "vary": ["h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8"]},
         {"name": "b", "path": "/b", "class": "C", "vary": ["h9", "h10", "h11", "h12", "h13", "h14", "h15"]})"));
  CHECK_MESSAGE(tooMany.problems.size() == 1, listProblems(tooMany));
  if (!tooMany.problems.empty()) CHECK(tooMany.problems[0].path == "/rules/1/vary/6");
}

TEST_CASE("loadRules: hostile input never crashes and never yields a config") {
  const std::string cases[] = {
      "null",
      "0",
      "\"x\"",
      "true",
      "{",
      "}",
      "[",
      "{\"version\":",
      std::string(100000, '['),
      std::string("{\0}", 3),
      "{\"classes\": {\"C\": {\"ttl\": 18446744073709551615}}}",
      "{\"version\": -9223372036854775808}",
      "{\"version\": 1e400}",
      std::string("\xEF\xBB\xBF{}"),
  };
  for (const auto& text : cases) {
    CAPTURE(text.substr(0, 40));
    const RulesLoadResult r = loadRules(text);
    CHECK_FALSE(r.config.has_value());
    CHECK_FALSE(r.problems.empty());
  }
}

// ---- rateLimits ------------------------------------------------------------------------------------

TEST_CASE("loadRules: rateLimits problems, one per mistake, at its JSON pointer") {
  const auto rl = [](std::string_view section) { return withTop(R"("rateLimits": )" + std::string(section)); };
  struct Case {
    std::string_view what;
    std::string doc;
    std::string_view path;
    std::string_view message;
  };
  const Case cases[] = {
      {"not an object", rl("[]"), "/rateLimits", "expected an object, got an array"},
      {"field typo", rl(R"({"default": {"perMinute": 5}, "exempts": []})"), "/rateLimits/exempts",
       "unknown field \"exempts\" (did you mean \"exempt\"?)"},
      {"enabled not a boolean", rl(R"({"enabled": "yes", "default": {"perMinute": 5}})"), "/rateLimits/enabled",
       "expected true or false"},
      {"window typo", rl(R"({"default": {"perMinute": 5, "perDays": 9}})"), "/rateLimits/default/perDays",
       "unknown field \"perDays\" (did you mean \"perDay\"?)"},
      {"unknown window", rl(R"({"default": {"perHour": 5}})"), "/rateLimits/default/perHour", "unknown field"},
      {"zero", rl(R"({"default": {"perMinute": 0}})"), "/rateLimits/default/perMinute", "must be at least 1"},
      {"negative", rl(R"({"default": {"perMinute": -3}})"), "/rateLimits/default/perMinute", "must not be negative"},
      {"fraction", rl(R"({"default": {"perDay": 1.5}})"), "/rateLimits/default/perDay", "whole number"},
      {"string", rl(R"({"default": {"perDay": "100"}})"), "/rateLimits/default/perDay", "expected a number"},
      {"too large", rl(R"({"default": {"perMinute": 1000001}})"), "/rateLimits/default/perMinute",
       "out of range (1 to 1000000)"},
      {"minute above day", rl(R"({"default": {"perMinute": 600, "perDay": 500}})"), "/rateLimits/default/perMinute",
       "perMinute (600) is above perDay (500)"},
      {"default without windows", rl(R"({"default": {}, "bypass": {"perMinute": 1}})"), "/rateLimits/default",
       "sets no limit"},
      {"entry not an object", rl(R"({"default": 600})"), "/rateLimits/default", "expected an object, got a number"},
      {"bypass looser than default", rl(R"({"default": {"perMinute": 10}, "bypass": {"perMinute": 20}})"),
       "/rateLimits/bypass/perMinute", "perMinute of bypass (20) must not exceed the default's (10)"},
      {"bypass unlimited where default is limited",
       rl(R"({"default": {"perMinute": 10, "perDay": 100}, "bypass": {"perMinute": 2}})"), "/rateLimits/bypass",
       "perDay of bypass (no limit) must not exceed the default's (100)"},
      {"unknown class", rl(R"({"classes": {"CC": {"perMinute": 5}}})"), "/rateLimits/classes/CC",
       "unknown class \"CC\" (did you mean \"C\"?)"},
      {"class entry invalid", rl(R"({"classes": {"C": {"perMinute": 0}}})"), "/rateLimits/classes/C/perMinute",
       "must be at least 1"},
      {"classes not an object", rl(R"({"default": {"perMinute": 5}, "classes": ["C"]})"), "/rateLimits/classes",
       "expected an object"},
      {"nothing limited", rl(R"({"enabled": true, "classes": {"C": {}}})"), "/rateLimits", "no request is limited"},
      {"exempt not an array", rl(R"({"default": {"perMinute": 5}, "exempt": "/health"})"), "/rateLimits/exempt",
       "expected an array"},
      {"exempt with a capture", rl(R"({"default": {"perMinute": 5}, "exempt": ["/ok", "/t/{ticker}"]})"),
       "/rateLimits/exempt/1", "has a capture"},
      {"exempt everything", rl(R"({"default": {"perMinute": 5}, "exempt": ["/*"]})"), "/rateLimits/exempt/0",
       "exempts every path"},
      {"exempt not normalised", rl(R"({"default": {"perMinute": 5}, "exempt": ["/a/%2f"]})"), "/rateLimits/exempt/0",
       "invalid path \"/a/%2f\" at offset"},
      {"exempt with a query", rl(R"({"default": {"perMinute": 5}, "exempt": ["/health?x=1"]})"),
       "/rateLimits/exempt/0", "invalid path"},
      {"exempt duplicate", rl(R"({"default": {"perMinute": 5}, "exempt": ["/a", "/b/*", "/a"]})"),
       "/rateLimits/exempt/2", "duplicate exempt path \"/a\""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    CAPTURE(c.doc);
    const RulesLoadResult r = loadRules(c.doc);
    CHECK_FALSE(r.config.has_value());
    CHECK_MESSAGE(r.problems.size() == 1, listProblems(r));
    if (r.problems.empty()) continue;
    CHECK(r.problems[0].path == c.path);
    CHECK_MESSAGE(r.problems[0].message.find(c.message) != std::string::npos, r.problems[0].message);
  }
}

TEST_CASE("loadRules: rateLimits is modelled exactly; absent means disabled") {
  const std::string doc = withTop(R"("rateLimits": {
      "$comment": "per client",
      "default": {"perMinute": 600, "perDay": 100000},
      "bypass": {"perMinute": 10, "perDay": 500},
      "classes": {"NONE": {"perDay": 50}, "C": {}, "$comment": "C is cheap: not limited"},
      "exempt": ["/health", "/static/*", "/"]})");
  const RulesLoadResult r = loadRules(doc);
  CHECK_MESSAGE(r.problems.empty(), listProblems(r));
  CHECK(r.config.has_value());
  if (!r.config) return;
  const RateLimitConfig& rl = r.config->rateLimits;
  CHECK(rl.enabled);
  CHECK(rl.defaultLimits.has_value());
  if (rl.defaultLimits) {
    CHECK(rl.defaultLimits->perMinute == 600);
    CHECK(rl.defaultLimits->perDay == 100000);
  }
  CHECK(rl.bypass.has_value());
  if (rl.bypass) {
    CHECK(rl.bypass->perMinute == 10);
    CHECK(rl.bypass->perDay == 500);
  }
  CHECK(rl.classes.size() == 2);
  if (rl.classes.size() == 2) {
    CHECK(r.config->classes[rl.classes[0].first].name == "NONE");
    CHECK(rl.classes[0].second.perMinute == 0);  // not limited
    CHECK(rl.classes[0].second.perDay == 50);
    CHECK(r.config->classes[rl.classes[1].first].name == "C");
    CHECK_FALSE(rl.classes[1].second.limited());
  }
  CHECK(rl.exemptPaths == std::vector<std::string>{"/health", "/"});
  CHECK(rl.exemptPrefixes == std::vector<std::string>{"/static"});

  struct Case {
    std::string_view what;
    std::string doc;
    bool enabled;
  };
  const Case cases[] = {
      {"absent", withTop(""), false},
      {"disabled, nothing else", withTop(R"("rateLimits": {"enabled": false})"), false},
      {"disabled keeps its limits", withTop(R"("rateLimits": {"enabled": false, "default": {"perMinute": 5}})"), false},
      {"enabled by presence", withTop(R"("rateLimits": {"default": {"perDay": 5}})"), true},
      {"only a class limited", withTop(R"("rateLimits": {"classes": {"C": {"perMinute": 5}}})"), true},
      {"only bypass limited", withTop(R"("rateLimits": {"bypass": {"perMinute": 5}})"), true},
      {"bypass equal to the default",
       withTop(R"("rateLimits": {"default": {"perMinute": 5, "perDay": 9}, "bypass": {"perMinute": 5, "perDay": 9}})"),
       true},
      {"minute equal to day", withTop(R"("rateLimits": {"default": {"perMinute": 5, "perDay": 5}})"), true},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    const RulesLoadResult x = loadRules(c.doc);
    CHECK_MESSAGE(x.problems.empty(), listProblems(x));
    if (x.config) CHECK(x.config->rateLimits.enabled == c.enabled);
  }
}

// ---- Issue #14: what a credential is, what is forwarded, which routes share data across credentials ----------

TEST_CASE("loadRules: credential and forwarding fields, one problem per mistake") {
  struct Case {
    std::string_view what;
    std::string doc;
    std::string_view path;
    std::string_view message;  // a fragment of the message
  };
  const Case cases[] = {
      // keys.credentialHeaders: lower-case field names (the shim passes names lower-cased), no duplicates.
      {"credentialHeaders not an array", withTop(R"("keys": {"credentialHeaders": "authorization"})"),
       "/keys/credentialHeaders", "expected an array"},
      {"credentialHeaders in upper case", withTop(R"("keys": {"credentialHeaders": ["Authorization"]})"),
       "/keys/credentialHeaders/0", "lower-case field names only"},
      {"credentialHeaders with a space", withTop(R"("keys": {"credentialHeaders": ["authorization", "x api"]})"),
       "/keys/credentialHeaders/1", "invalid header name \"x api\""},
      {"credentialHeaders empty name", withTop(R"("keys": {"credentialHeaders": [""]})"), "/keys/credentialHeaders/0",
       "invalid header name"},
      {"credentialHeaders duplicate", withTop(R"("keys": {"credentialHeaders": ["x-key", "authorization", "x-key"]})"),
       "/keys/credentialHeaders/2", "duplicate header \"x-key\""},
      {"credentialHeaders not strings", withTop(R"("keys": {"credentialHeaders": [7]})"), "/keys/credentialHeaders/0",
       "expected a string"},
      // keys.credentialCookies: cookie-names are tokens (RFC 6265 §4.1.1).
      {"credentialCookies not an array", withTop(R"("keys": {"credentialCookies": "sid"})"), "/keys/credentialCookies",
       "expected an array"},
      {"credentialCookies with '='", withTop(R"("keys": {"credentialCookies": ["sid=1"]})"), "/keys/credentialCookies/0",
       "invalid cookie name \"sid=1\""},
      {"credentialCookies with ';'", withTop(R"("keys": {"credentialCookies": ["a", "sid;"]})"),
       "/keys/credentialCookies/1", "invalid cookie name"},
      {"credentialCookies with a space", withTop(R"("keys": {"credentialCookies": ["my sid"]})"),
       "/keys/credentialCookies/0", "invalid cookie name"},
      {"credentialCookies empty name", withTop(R"("keys": {"credentialCookies": [""]})"), "/keys/credentialCookies/0",
       "invalid cookie name"},
      {"credentialCookies duplicate", withTop(R"("keys": {"credentialCookies": ["sid", "sid"]})"),
       "/keys/credentialCookies/1", "duplicate cookie name \"sid\""},
      // forwardRequestHeaders (top level).
      {"forwardRequestHeaders not an array", withTop(R"("forwardRequestHeaders": "x-request-id")"),
       "/forwardRequestHeaders", "expected an array"},
      {"forwardRequestHeaders in upper case", withTop(R"("forwardRequestHeaders": ["X-Request-Id"])"),
       "/forwardRequestHeaders/0", "lower-case field names only"},
      {"forwardRequestHeaders duplicate", withTop(R"("forwardRequestHeaders": ["x-a", "x-a"])"),
       "/forwardRequestHeaders/1", "duplicate header \"x-a\""},
      {"forwardRequestHeaders misspelt", withTop(R"("forwardRequestHeader": ["x-a"])"), "/forwardRequestHeader",
       "unknown field"},
      // A rule's sharedAcrossCredentials and forwardCredentialParams.
      {"sharedAcrossCredentials not a boolean",
       withRules(R"({"name": "r", "path": "/r", "class": "C", "sharedAcrossCredentials": "yes"})"),
       "/rules/0/sharedAcrossCredentials", "expected true or false"},
      {"forwardCredentialParams not an array",
       makeDoc(kClasses, R"({"name": "r", "path": "/r", "class": "C", "forwardCredentialParams": "apiKey"})",
               R"("keys": {"credentialParams": ["apiKey"]})"),
       "/rules/0/forwardCredentialParams", "expected an array"},
      {"forwardCredentialParams names no credential parameter",
       withRules(R"({"name": "r", "path": "/r", "class": "C", "forwardCredentialParams": ["apiKey"]})"),
       "/rules/0/forwardCredentialParams/0", "\"apiKey\" is not one of keys.credentialParams"},
      {"forwardCredentialParams names an ordinary parameter",
       makeDoc(kClasses, R"({"name": "r", "path": "/r", "class": "C", "forwardCredentialParams": ["apiKey", "page"]})",
               R"("keys": {"credentialParams": ["apiKey"]})"),
       "/rules/0/forwardCredentialParams/1", "\"page\" is not one of keys.credentialParams"},
      {"forwardCredentialParams invalid name",
       makeDoc(kClasses, R"({"name": "r", "path": "/r", "class": "C", "forwardCredentialParams": ["a&b"]})",
               R"("keys": {"credentialParams": ["apiKey"]})"),
       "/rules/0/forwardCredentialParams/0", ""},
      // No rule may key on a credential: a key must never hold a secret.
      {"vary on Authorization", withRules(R"({"name": "r", "path": "/r", "class": "C", "vary": ["accept", "authorization"]})"),
       "/rules/0/vary/1", "\"authorization\" carries credentials"},
      {"vary on Cookie", withRules(R"({"name": "r", "path": "/r", "class": "C", "vary": ["cookie"]})"), "/rules/0/vary/0",
       "carries credentials"},
      {"vary on a configured credential header",
       makeDoc(kClasses, R"({"name": "r", "path": "/r", "class": "C", "vary": ["x-api-key"]})",
               R"("keys": {"credentialHeaders": ["authorization", "x-api-key"]})"),
       "/rules/0/vary/0", "\"x-api-key\" carries credentials"},
      {"vary on a credential header declared after the rules",
       R"({"version": 1, "classes": {"C": {"ttl": "1h", "tiers": ["edge"]}}, "default": "C",
           "rules": [{"name": "a", "path": "/a", "class": "C"}, {"name": "r", "path": "/r", "class": "C", "vary": ["x-token"]}],
           "keys": {"credentialHeaders": ["x-token"]}})",
       "/rules/1/vary/0", "carries credentials"},
      // Authorization carries credentials whatever keys.credentialHeaders lists (RFC 9110 §11.6.2): a key keyed
      // on it would hold a bearer token.
      {"vary on Authorization when credentialHeaders lists others",
       makeDoc(kClasses, R"({"name": "r", "path": "/r", "class": "C", "vary": ["authorization"]})",
               R"("keys": {"credentialHeaders": ["x-api-key"]})"),
       "/rules/0/vary/0", "carries credentials"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    CAPTURE(c.doc);
    const RulesLoadResult r = loadRules(c.doc);
    CHECK_FALSE(r.config.has_value());
    CHECK_MESSAGE(r.problems.size() == 1, listProblems(r));
    if (r.problems.empty()) continue;
    CHECK(r.problems[0].path == c.path);
    CHECK_MESSAGE(r.problems[0].message.find(c.message) != std::string::npos, r.problems[0].message);
  }
}

TEST_CASE("loadRules: credential and forwarding fields are modelled exactly") {
  const std::string doc = R"({"version": 1,
    "rules": [
      {"name": "market", "path": "/m/*", "class": "C", "sharedAcrossCredentials": true,
       "forwardCredentialParams": ["APIKEY", "sig"], "vary": ["accept-language"]},
      {"name": "private", "path": "/p/*", "class": "C", "sharedAcrossCredentials": false},
      {"name": "plain", "path": "/x/*", "class": "C"}
    ],
    "classes": {"C": {"ttl": "1h", "tiers": ["edge"]}},
    "default": "C",
    "keys": {"credentialParams": ["apiKey", "sig"], "credentialHeaders": ["authorization", "x-api-key"],
             "credentialCookies": ["sessionid", "__Host-auth"]},
    "forwardRequestHeaders": ["x-request-id", "accept-encoding"]
  })";
  const RulesLoadResult r = loadRules(doc);
  CHECK_MESSAGE(r.problems.empty(), listProblems(r));
  CHECK(r.config.has_value());
  if (!r.config) return;
  const RulesConfig& cfg = *r.config;
  CHECK(cfg.keys.credentialHeaders == std::vector<std::string>{"authorization", "x-api-key"});
  CHECK(cfg.keys.credentialCookies.has_value());
  if (cfg.keys.credentialCookies) CHECK(*cfg.keys.credentialCookies == std::vector<std::string>{"sessionid", "__Host-auth"});
  CHECK(cfg.keys.credentialParams == std::vector<std::string>{"apiKey", "sig"});
  CHECK(cfg.forwardRequestHeaders == std::vector<std::string>{"x-request-id", "accept-encoding"});
  CHECK(cfg.rules.size() == 3);
  if (cfg.rules.size() != 3) return;
  CHECK(cfg.rules[0].sharedAcrossCredentials);
  // Credential parameter names compare case-insensitively: APIKEY is apiKey.
  CHECK(cfg.rules[0].forwardCredentialParams == std::vector<std::string>{"APIKEY", "sig"});
  CHECK_FALSE(cfg.rules[1].sharedAcrossCredentials);
  CHECK_FALSE(cfg.rules[2].sharedAcrossCredentials);
  CHECK(cfg.rules[2].forwardCredentialParams.empty());

  // Absent: Authorization is the credential header, any cookie is a credential, nothing extra is forwarded.
  const RulesLoadResult minimal = loadRules(withRules(""));
  CHECK(minimal.config.has_value());
  if (!minimal.config) return;
  CHECK(minimal.config->keys.credentialHeaders == std::vector<std::string>{"authorization"});
  CHECK_FALSE(minimal.config->keys.credentialCookies.has_value());
  CHECK(minimal.config->forwardRequestHeaders.empty());
  // An empty cookie list is not an absent one: no cookie is a credential.
  const RulesLoadResult noCookies = loadRules(withTop(R"("keys": {"credentialCookies": []})"));
  CHECK(noCookies.config.has_value());
  if (noCookies.config) {
    CHECK(noCookies.config->keys.credentialCookies.has_value());
    if (noCookies.config->keys.credentialCookies) CHECK(noCookies.config->keys.credentialCookies->empty());
  }
}

TEST_CASE("loadRules: the shipped market-data rules share data across credentials; the others do not") {
  const RulesLoadResult r = loadRules(readShippedRules());
  CHECK(r.config.has_value());
  if (!r.config) return;
  for (const Rule& rule : r.config->rules) {
    CAPTURE(rule.name);
    const bool uncached = r.config->classes[rule.classIndex].ttlS == 0 && !r.config->classes[rule.classIndex].followOrigin;
    // snapshot, auth, api-auth, users: per-user or live data, never shared.
    const bool perUser = rule.name == "snapshot" || rule.name == "auth" || rule.name == "api-auth" || rule.name == "users";
    CHECK(rule.sharedAcrossCredentials == !perUser);
    if (perUser) CHECK(uncached);
    CHECK(rule.forwardCredentialParams.empty());
  }
  CHECK(r.config->keys.credentialHeaders == std::vector<std::string>{"authorization"});
  CHECK(r.config->keys.credentialParams == std::vector<std::string>{"apiKey", "api_key", "access_token", "token"});
}

TEST_CASE("loadRules: class options heuristic, heuristicMaxTtl and staleIfUnreachable") {
  struct Problem {
    std::string_view what;
    std::string_view body;  // class X
    std::string_view path;
    std::string_view message;
  };
  const Problem problems[] = {
      {"heuristic on a rule class", R"({"ttl": "1h", "tiers": ["edge"], "heuristic": true})", "/classes/X/heuristic",
       "applies only to followOrigin classes"},
      {"heuristicMaxTtl on a rule class", R"({"ttl": "1h", "tiers": ["edge"], "heuristicMaxTtl": "1h"})",
       "/classes/X/heuristicMaxTtl", "applies only to followOrigin classes"},
      {"heuristicMaxTtl without heuristic",
       R"({"followOrigin": true, "tiers": ["edge"], "heuristic": false, "heuristicMaxTtl": "1h"})",
       "/classes/X/heuristicMaxTtl", "has no effect"},
      {"heuristic not a boolean", R"({"followOrigin": true, "tiers": ["edge"], "heuristic": "on"})",
       "/classes/X/heuristic", "expected true or false"},
      {"heuristicMaxTtl not a duration", R"({"followOrigin": true, "tiers": ["edge"], "heuristicMaxTtl": "1w"})",
       "/classes/X/heuristicMaxTtl", "unknown unit"},
      {"staleIfUnreachable negative", R"({"followOrigin": true, "tiers": ["edge"], "staleIfUnreachable": -1})",
       "/classes/X/staleIfUnreachable", "must not be negative"},
      {"staleIfUnreachable too long", R"({"ttl": "1h", "tiers": ["edge"], "staleIfUnreachable": "3651d"})",
       "/classes/X/staleIfUnreachable", "longer than 10 years"},
      // Like staleIfError: a class that is never stored must not look as if it were.
      {"staleIfUnreachable on an uncached class", R"({"ttl": 0, "staleIfUnreachable": "1h"})",
       "/classes/X/staleIfUnreachable", "has no effect"},
  };
  for (const Problem& p : problems) {
    CAPTURE(p.what);
    const RulesLoadResult r = loadRules(withClass(p.body));
    CHECK_FALSE(r.config.has_value());
    CHECK_MESSAGE(r.problems.size() == 1, listProblems(r));
    if (r.problems.empty()) continue;
    CHECK(r.problems[0].path == p.path);
    CHECK_MESSAGE(r.problems[0].message.find(p.message) != std::string::npos, r.problems[0].message);
  }

  struct Value {
    std::string_view what;
    std::string_view body;
    bool heuristic;
    uint32_t heuristicMaxTtlS, staleIfUnreachableS;
  };
  const Value values[] = {
      // followOrigin: heuristics on, capped at a day (RFC 9111 §4.2.2), stale for a day when the origin is
      // unreachable (§4.2.4), unless the class says otherwise.
      {"followOrigin defaults", R"({"followOrigin": true, "tiers": ["edge"]})", true, 86400, 86400},
      {"heuristic off", R"({"followOrigin": true, "tiers": ["edge"], "heuristic": false})", false, 86400, 86400},
      {"heuristic cap", R"({"followOrigin": true, "tiers": ["edge"], "heuristic": true, "heuristicMaxTtl": "7d"})", true,
       604800, 86400},
      {"no stale when unreachable", R"({"followOrigin": true, "tiers": ["edge"], "staleIfUnreachable": 0})", true, 86400, 0},
      {"stale for 2h when unreachable", R"({"followOrigin": true, "tiers": ["edge"], "staleIfUnreachable": "2h"})", true,
       86400, 7200},
      // Rule classes: no heuristics; staleIfUnreachable only when set.
      {"rule class defaults", R"({"ttl": "1h", "tiers": ["edge"]})", false, 86400, 0},
      {"rule class stale when unreachable", R"({"ttl": "1h", "tiers": ["edge"], "staleIfUnreachable": "1d"})", false,
       86400, 86400},
  };
  for (const Value& v : values) {
    CAPTURE(v.what);
    const RulesLoadResult r = loadRules(withClass(v.body));
    CHECK_MESSAGE(r.problems.empty(), listProblems(r));
    if (!r.config) continue;
    const auto x = r.config->findClass("X");
    CHECK(x.has_value());
    if (!x) continue;
    const TtlClass& cls = r.config->classes[*x];
    CHECK(cls.heuristicFreshness == v.heuristic);
    CHECK(cls.heuristicMaxTtlS == v.heuristicMaxTtlS);
    CHECK(cls.staleIfUnreachableS == v.staleIfUnreachableS);
  }
  // The shipped ORIGIN class: no guessing (heuristic false), a day of stale answers when the origin is down.
  const RulesLoadResult shipped = loadRules(readShippedRules());
  if (!shipped.config) return;
  const auto origin = shipped.config->findClass("ORIGIN");
  CHECK(origin.has_value());
  if (!origin) return;
  CHECK_FALSE(shipped.config->classes[*origin].heuristicFreshness);
  CHECK(shipped.config->classes[*origin].staleIfUnreachableS == 86400);
}
