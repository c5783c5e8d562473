// edge-cache-explain: what the worker would decide for a URL at a given time, from the same core the
// Wasm module is built from. For operators checking rules before a deploy:
//   edge-cache-explain /v1/aggs/ticker/AAPL/range/1/day/2024-01-01/2024-01-31 --at 2026-11-23T15:00:00Z
//   edge-cache-explain https://api.example.com/v2/last/trade/AAPL --at 2026-11-28T12:30 --rules my-rules.json
//   edge-cache-explain /v3/reference/tickers/AAPL --response "Cache-Control: private"
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absolute_url.h"
#include "embedded_rules.h"
#include "market_calendar.h"
#include "policy_setup.h"
#include "request_policy.h"
#include "response_policy.h"
#include "upstream_quota.h"
#include "upstream_route.h"

using namespace edge_cache;

namespace {

constexpr const char* kUsage =
    "usage: edge-cache-explain <url-or-path> [--at <ISO-8601 time>] [--rules <file>] [--origin <scheme://host>]\n"
    "                          [--method GET] [--header 'Name: value']... [--response 'Name: value']...\n"
    "                          [--status 200] [--shards N] [--mount /prefix] [--json]\n"
    "  <url>      a path (/v1/x?y=1) or an http(s) URL, whose origin is then the backend's\n"
    "  --at       2026-11-23T15:00:00Z, with an offset (+01:00), or without one = New York local time;\n"
    "             default: now\n"
    "  --origin   the backend (BACKEND_URL); only its origin enters keys, as in the worker\n"
    "  --mount    MOUNT_PATH: the URL is the client's, with the prefix the worker is mounted under\n"
    "  --response origin response headers: also explain whether the response would be stored\n";

int fail(const std::string& message) {
  std::cerr << "edge-cache-explain: " << message << "\n";
  return 2;
}

bool parseInt(std::string_view s, int& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// ISO-8601: YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|±HH:MM]. No offset means New York wall time.
std::optional<int64_t> parseIsoInstant(std::string_view s, std::string& zoneNote) {
  if (s.size() < 10) return std::nullopt;
  auto date = market::tryParseIsoDate(s.substr(0, 10));
  if (!date) return std::nullopt;
  int hour = 0, minute = 0, second = 0, millis = 0;
  size_t i = 10;
  if (i < s.size() && (s[i] == 'T' || s[i] == ' ')) {
    if (s.size() < i + 6 || s[i + 3] != ':') return std::nullopt;
    if (!parseInt(s.substr(i + 1, 2), hour) || !parseInt(s.substr(i + 4, 2), minute)) return std::nullopt;
    i += 6;
    if (i < s.size() && s[i] == ':') {
      if (s.size() < i + 3 || !parseInt(s.substr(i + 1, 2), second)) return std::nullopt;
      i += 3;
      if (i < s.size() && s[i] == '.') {
        size_t j = i + 1;
        while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
        if (j == i + 1) return std::nullopt;
        std::string frac(s.substr(i + 1, std::min<size_t>(3, j - i - 1)));
        while (frac.size() < 3) frac.push_back('0');
        parseInt(frac, millis);
        i = j;
      }
    }
  }
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const int secondOfDay = hour * 3600 + minute * 60 + second;
  if (i == s.size()) {
    zoneNote = "no offset given: read as New York local time";
    return market::fromNewYork(*date, secondOfDay) + millis;
  }
  int offsetMinutes = 0;
  if (s[i] == 'Z' && i + 1 == s.size()) {
    offsetMinutes = 0;
  } else if ((s[i] == '+' || s[i] == '-') && s.size() == i + 6 && s[i + 3] == ':') {
    int oh = 0, om = 0;
    if (!parseInt(s.substr(i + 1, 2), oh) || !parseInt(s.substr(i + 4, 2), om) || oh > 23 || om > 59) return std::nullopt;
    offsetMinutes = (s[i] == '-' ? -1 : 1) * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  const int64_t utcSeconds = market::daysFromCivil(*date) * 86400 + secondOfDay - int64_t{offsetMinutes} * 60;
  return utcSeconds * 1000 + millis;
}

std::string formatUtc(int64_t ms) {
  const int64_t s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const int64_t days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
  const auto d = market::civilFromDays(days);
  const int64_t sod = s - days * 86400;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", d.year, d.month, d.day, static_cast<int>(sod / 3600),
                static_cast<int>(sod / 60 % 60), static_cast<int>(sod % 60));
  return buf;
}

std::string formatNewYork(int64_t ms) {
  const auto ny = market::toNewYork(ms);
  static const char* kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d %s, %s", ny.date.year, ny.date.month, ny.date.day,
                ny.secondOfDay / 3600, ny.secondOfDay / 60 % 60, ny.secondOfDay % 60, ny.dst ? "EDT" : "EST",
                kDays[market::weekday(ny.date)]);
  return buf;
}

std::string isoDate(market::CivilDate d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

std::string coverage() { return isoDate(market::kCoverageFirst) + " to " + isoDate(market::kCoverageLast); }

std::string humanDuration(uint32_t s) {
  if (s == 0) return "0";
  std::string out = std::to_string(s) + " s";
  if (s % 86400 == 0) out += " (" + std::to_string(s / 86400) + "d)";
  else if (s >= 3600) out += " (" + std::to_string(s / 3600) + "h" + std::to_string(s / 60 % 60) + "m)";
  else if (s >= 60) out += " (" + std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s)";
  return out;
}

std::string tierNames(uint32_t mask) {
  std::string out;
  const std::pair<uint32_t, const char*> names[] = {{kTierMemory, "memory"}, {kTierEdge, "edge"}, {kTierDurableObject, "do"}, {kTierKv, "kv"}};
  for (auto [bit, name] : names) {
    if (mask & bit) out += (out.empty() ? "" : ", ") + std::string(name);
  }
  return out.empty() ? "(none)" : out;
}

std::string flagNames(uint32_t flags) {
  using abi::DecisionFlag;
  const std::pair<DecisionFlag, const char*> names[] = {
      {DecisionFlag::FollowOrigin, "follow-origin"}, {DecisionFlag::BypassParam, "nocache-param"},
      {DecisionFlag::Credentials, "credentials"},    {DecisionFlag::ClientNoCache, "client-no-cache"},
      {DecisionFlag::MarketClosedTtl, "market-closed-ttl"}, {DecisionFlag::KeyHashed, "key-hashed"},
      {DecisionFlag::Head, "head"},                  {DecisionFlag::Conditional, "conditional"},
      {DecisionFlag::PastDate, "past-date"}};
  std::string out;
  for (auto [f, name] : names) {
    if (flags & static_cast<uint32_t>(f)) out += (out.empty() ? "" : ", ") + std::string(name);
  }
  return out.empty() ? "(none)" : out;
}

const char* actionName(abi::Action a) {
  switch (a) {
    case abi::Action::Lookup: return "LOOKUP (serve from cache, fetch on miss)";
    case abi::Action::Refresh: return "REFRESH (skip the cache read, fetch and store)";
    case abi::Action::Bypass: return "BYPASS (pass through, never stored)";
    case abi::Action::Reject: return "REJECT";
    case abi::Action::ServeLocal: return "LOCAL (answered by the worker)";
  }
  return "?";
}

bool splitHeader(const std::string& h, std::string& name, std::string& value) {
  const size_t colon = h.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  name = h.substr(0, colon);
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  value = h.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, at, rulesFile, origin, mount, method = "GET";
  std::vector<std::string> requestHeaders, responseHeaders;
  int status = 200;
  uint32_t shards = 4;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](const char* what) -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      (void)what;
      return std::string(argv[++i]);
    };
    std::optional<std::string> v;
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--at" || a == "--rules" || a == "--origin" || a == "--method" || a == "--header" ||
               a == "--response" || a == "--status" || a == "--shards" || a == "--mount") {
      if (!(v = next(a.c_str()))) return fail(a + " needs a value\n" + kUsage);
      if (a == "--at") at = *v;
      else if (a == "--rules") rulesFile = *v;
      else if (a == "--origin") origin = *v;
      else if (a == "--mount") mount = *v;
      else if (a == "--method") method = *v;
      else if (a == "--header") requestHeaders.push_back(*v);
      else if (a == "--response") responseHeaders.push_back(*v);
      else if (a == "--status" && !parseInt(*v, status)) return fail("--status needs a number");
      else if (a == "--shards") {
        int n = 0;
        if (!parseInt(*v, n) || n < 1) return fail("--shards needs a positive number");
        shards = static_cast<uint32_t>(n);
      }
    } else if (!a.empty() && a[0] == '-') {
      return fail("unknown option " + a + "\n" + kUsage);
    } else if (url.empty()) {
      url = a;
    } else {
      return fail("only one URL at a time\n" + std::string(kUsage));
    }
  }
  if (url.empty()) return fail(std::string("no URL given\n") + kUsage);

  // A full URL gives the origin; a path uses --origin (default: the production backend). Either origin is
  // serialised as the worker serialises BACKEND_URL's, so the key shown is the worker's.
  if (!origin.empty()) {
    const AbsoluteUrlResult parsed = tryParseAbsoluteUrl(origin);
    if (!parsed.url) return fail("malformed --origin (" + std::string(absoluteUrlErrorMessage(parsed.error)) + "): " + origin);
    origin = parsed.url->origin;
  }
  std::string target = url;
  if (url[0] != '/') {
    const AbsoluteUrlResult parsed = tryParseAbsoluteUrl(url);
    if (!parsed.url) return fail("malformed URL (" + std::string(absoluteUrlErrorMessage(parsed.error)) + "): " + url);
    if (origin.empty()) origin = parsed.url->origin;
    target = parsed.url->target;
  }
  if (origin.empty()) origin = "https://api.financialdata.online";

  int64_t nowMs = 0;
  std::string zoneNote;
  if (at.empty()) {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);  // the tool, not the core, reads the clock
    nowMs = int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
  } else {
    auto parsed = parseIsoInstant(at, zoneNote);
    if (!parsed) return fail("malformed time for --at (want e.g. 2026-11-23T15:00:00Z): " + at);
    nowMs = *parsed;
  }

  std::string rulesText;
  if (!rulesFile.empty()) {
    std::ifstream in(rulesFile, std::ios::binary);
    if (!in) return fail("cannot read rules file " + rulesFile);
    std::stringstream ss;
    ss << in.rdbuf();
    rulesText = ss.str();
  }
  nlohmann::json cfg = {{"originBase", origin}, {"shards", shards}};
  // Local development points upstreams elsewhere (ORIGIN_URLS): explain shows the same URLs when it is set.
  if (const char* urls = std::getenv("ORIGIN_URLS"); urls && *urls) {
    const nlohmann::json parsed = nlohmann::json::parse(urls, nullptr, false);
    if (!parsed.is_discarded()) cfg["originUrls"] = parsed;
  }
  if (!rulesFile.empty()) cfg["rules"] = rulesText;
  if (!mount.empty()) cfg["mountPath"] = mount;
  PolicySetup setup = setupPolicy(cfg.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), embedded::kRulesJson);
  if (!setup.ctx.mount.problem.empty()) return fail("malformed --mount: " + setup.ctx.mount.problem);
  if (!rulesFile.empty() && setup.rulesSource != "override") {
    std::cerr << "edge-cache-explain: " << rulesFile << " is invalid:\n";
    for (const auto& p : setup.problems) std::cerr << "  " << rulesFile << ":" << p.path << ": " << p.message << "\n";
    return 1;
  }

  RequestFacts facts;
  facts.nowMs = nowMs;
  facts.method = methodBitFromName(method);
  facts.target = target;
  std::vector<std::pair<std::string, std::string>> headerStore;
  for (const auto& h : requestHeaders) {
    std::string n, val;
    if (!splitHeader(h, n, val)) return fail("malformed --header (want 'Name: value'): " + h);
    headerStore.emplace_back(n, val);
  }
  static const char* kFixed[] = {"cache-control", "pragma", "authorization", "cookie", "if-none-match",
                                 "if-modified-since", "range", "origin", "access-control-request-method", "accept"};
  for (const auto& [n, val] : headerStore) {
    facts.totalHeaderBytes += static_cast<uint32_t>(n.size() + val.size() + 4);
    for (uint32_t slot = 0; slot < abi::kReqHeaderFirstExtra; ++slot) {
      if (n == kFixed[slot]) facts.setHeader(slot, val);
    }
    for (size_t e = 0; e < setup.ctx.extraRequestHeaders.size(); ++e) {
      if (n == setup.ctx.extraRequestHeaders[e]) facts.setHeader(abi::kReqHeaderFirstExtra + static_cast<uint32_t>(e), val);
    }
  }

  Decision d;
  decideRequest(setup.ctx, facts, d);
  const auto& rules = setup.ctx.rules;
  const market::MarketState ms = market::marketStateAt(nowMs);

  nlohmann::ordered_json out;
  out["url"] = target;
  out["origin"] = origin;
  if (!setup.ctx.mount.prefix.empty()) out["mount"] = setup.ctx.mount.prefix;
  out["at"] = {{"utc", formatUtc(nowMs)}, {"newYork", formatNewYork(nowMs)}};
  if (!zoneNote.empty()) out["at"]["note"] = zoneNote;
  out["market"] = {{"session", std::string(market::sessionName(ms.session))},
                   {"nextRegularOpen", formatNewYork(ms.nextRegularOpenMs)},
                   {"calendar", ms.covered ? "covered (" + coverage() + ")"
                                           : "outside the calendar's coverage (" + coverage() +
                                                 "): sessions and holidays unknown, nothing decided from the date"}};
  out["rules"] = {{"source", setup.rulesSource}, {"digest", setup.rulesDigest}};
  out["action"] = actionName(d.action);
  out["reason"] = std::string(reasonName(d.reason));
  if (d.action == abi::Action::Reject) out["status"] = d.httpStatus;
  out["rule"] = d.ruleIndex < rules.rules.size() ? rules.rules[d.ruleIndex].name : "(none: default)";
  out["class"] = d.classIndex < rules.classes.size() ? rules.classes[d.classIndex].name : "(none)";
  out["ttl"] = humanDuration(d.ttlS);
  out["staleWhileRevalidate"] = humanDuration(d.staleWhileRevalidateS);
  out["staleIfError"] = humanDuration(d.staleIfErrorS);
  out["negativeTtl"] = humanDuration(d.negativeTtlS);
  out["tiers"] = tierNames(d.tiers);
  out["key"] = d.key;
  out["shard"] = shardFor(setup.ctx, d.key);
  out["originTarget"] = d.originTarget;
  out["tags"] = d.tags;
  out["flags"] = flagNames(d.flags);
  // An upstream route (rules' "origins"): where the request goes, the secret masked, and what it would spend.
  if (d.originIndex < rules.origins.size()) {
    const UpstreamOrigin& o = rules.origins[d.originIndex];
    const MaskedUpstreamRequest m = maskedUpstreamRequest(setup.ctx, d.originIndex, d.originTarget);
    nlohmann::ordered_json up;
    up["origin"] = o.name;
    up["url"] = m.url;
    if (!m.header.empty()) up["header"] = m.header;
    if (o.credential.place != UpstreamCredential::Place::None)
      up["secret"] = o.credential.secret + " (never in keys, logs or responses; not checked here)";
    std::string quota;
    const QuotaAsk ask = quotaAsk(o.quota, abi::UpstreamPurpose::Client, nowMs);
    const QuotaAsk background = quotaAsk(o.quota, abi::UpstreamPurpose::Background, nowMs);
    for (uint32_t i = 0; i < ask.count; ++i) {
      const QuotaWindow& w = ask.windows[i];
      const bool day = w.kind == abi::QuotaWindowKind::Day;
      quota += (quota.empty() ? "" : "; ") + std::to_string(w.limit) + (day ? " a day" : " a minute");
      if (day) {
        quota += std::string(" (") + (o.quota.dayZone == QuotaDayZone::NewYork ? "New York" : "UTC") + " day from " +
                 formatUtc(w.startMs) + ", resets " + formatUtc(w.resetAtMs) + "; background refreshes and warming stop at " +
                 std::to_string(background.windows[i].cap) + ")";
      }
    }
    const bool fetches = d.action == abi::Action::Lookup || d.action == abi::Action::Refresh;
    up["quota"] = quota.empty() ? "not limited" : quota;
    up["spends"] = !fetches ? "nothing (not fetched)"
                   : d.action == abi::Action::Refresh ? "1 call (the cache is not read)"
                                                       : "1 call on a miss or an expired entry; nothing on a hit";
    if (!o.errorBodyKeys.empty()) {
      std::string keys;
      for (const std::string& k : o.errorBodyKeys) keys += (keys.empty() ? "" : ", ") + k;
      up["errorBodyKeys"] = keys + " (a 2xx JSON body with one of them at the top is an error: not stored, stale served)";
    }
    out["upstream"] = std::move(up);
  }
  if (d.reason == Reason::RuleDateOutsideCalendar) {
    out["note"] = std::string(ms.covered ? "the request's date is" : "the market's today is") +
                  " outside the calendar's coverage (" + coverage() + "): the rule's own class applies, not its pastDate class";
  }

  if (!responseHeaders.empty() && (d.action == abi::Action::Lookup || d.action == abi::Action::Refresh)) {
    ResponseFacts rf = responseFactsFor(d, static_cast<uint32_t>(status), nowMs);
    static const char* kResponse[] = {"cache-control", "cdn-cache-control", "cloudflare-cdn-cache-control", "expires", "date", "age",
                                      "etag", "last-modified", "vary", "set-cookie", "pragma", "content-range"};
    std::vector<std::pair<std::string, std::string>> store;
    for (const auto& h : responseHeaders) {
      std::string n, val;
      if (!splitHeader(h, n, val)) return fail("malformed --response (want 'Name: value'): " + h);
      store.emplace_back(n, val);
    }
    for (const auto& [n, val] : store) {
      for (uint32_t slot = 0; slot < abi::kResHeaderSlots; ++slot) {
        if (n == kResponse[slot]) rf.setHeader(static_cast<abi::ResponseHeader>(slot), val);
      }
    }
    const StoreDecision sd = decideResponse(setup.ctx, rf, 0);
    out["store"] = {{"storable", sd.storable}, {"reason", std::string(reasonName(sd.reason))}, {"ttl", humanDuration(sd.ttlS)},
                    {"staleWhileRevalidate", humanDuration(sd.staleWhileRevalidateS)},
                    {"staleIfError", humanDuration(sd.staleIfErrorS)}, {"tiers", tierNames(sd.tiers)}};
  }

  if (json) {
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    for (auto it = out.begin(); it != out.end(); ++it) {
      if (it->is_object()) {
        std::cout << it.key() << ":\n";
        for (auto jt = it->begin(); jt != it->end(); ++jt) {
          std::cout << "  " << jt.key() << std::string(jt.key().size() < 22 ? 22 - jt.key().size() : 1, ' ')
                    << (jt->is_string() ? jt->get<std::string>() : jt->dump()) << "\n";
        }
      } else {
        std::cout << it.key() << std::string(it.key().size() < 24 ? 24 - it.key().size() : 1, ' ')
                  << (it->is_string() ? it->get<std::string>() : it->dump()) << "\n";
      }
    }
  }
  if (d.action == abi::Action::Reject) {
    std::cerr << "edge-cache-explain: the worker would reject this request with " << d.httpStatus << " ("
              << reasonName(d.reason) << ")\n";
    return 3;
  }
  return 0;
}
