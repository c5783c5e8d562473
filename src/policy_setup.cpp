#include "policy_setup.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "decision_reason.h"
#include "market_calendar.h"
#include "mount_path.h"
#include "url_normalizer.h"
#include "sha256.h"

namespace edge_cache {
namespace {

bool installRules(PolicySetup& setup, std::string_view text, std::string_view source) {
  RulesLoadResult loaded = loadRules(text);
  if (!loaded.config) {
    setup.problems = std::move(loaded.problems);
    return false;
  }
  PolicyContext candidate;
  candidate.rules = std::move(*loaded.config);
  std::string problem;
  if (!assignVarySlots(candidate, &problem)) {
    setup.problems = {RulesProblem{"/rules", problem}};
    return false;
  }
  candidate.originBase = std::move(setup.ctx.originBase);
  candidate.shardCount = setup.ctx.shardCount;
  candidate.authExemptPaths = std::move(setup.ctx.authExemptPaths);
  candidate.authMode = setup.ctx.authMode;
  candidate.rateLimitsSwitchedOff = setup.ctx.rateLimitsSwitchedOff;
  candidate.mount = std::move(setup.ctx.mount);
  setup.upstreamProblems = applyUpstreamSettings(candidate, setup.upstreamSettings);
  setup.ctx = std::move(candidate);
  setup.rulesSource = std::string(source);
  setup.rulesDigest = sha256Hex(text).substr(0, 16);
  return true;
}

// What the shim needs to pick a request's bucket and count it (docs/rules.md, "Rate limits"): limits by bucket
// name ("default", "bypass", or a class name), windows omitted when not limited.
nlohmann::ordered_json rateLimitsJson(const RulesConfig& rules) {
  using json = nlohmann::ordered_json;
  const RateLimitConfig& rl = rules.rateLimits;
  const auto windows = [](const RateLimitWindows& w) {
    json out = json::object();
    if (w.perMinute > 0) out["perMinute"] = w.perMinute;
    if (w.perDay > 0) out["perDay"] = w.perDay;
    return out;
  };
  json out = {{"enabled", rl.enabled}};
  if (rl.defaultLimits) out["default"] = windows(*rl.defaultLimits);
  if (rl.bypass) out["bypass"] = windows(*rl.bypass);
  json classes = json::object();
  for (const auto& [index, w] : rl.classes)
    if (index < rules.classes.size()) classes[rules.classes[index].name] = windows(w);
  out["classes"] = std::move(classes);
  out["exempt"] = {{"paths", rl.exemptPaths}, {"prefixes", rl.exemptPrefixes}};
  return out;
}

// What a credential is (keys.credential*): the shim reads these values to tell credentials apart (auth verdicts,
// rate-limit identities) and sends the core only their presence (the slots) — or cookie names when cookies are
// named.
nlohmann::ordered_json credentialsJson(const PolicyContext& ctx) {
  using json = nlohmann::ordered_json;
  const KeyConfig& k = ctx.rules.keys;
  json out = {{"headers", k.credentialHeaders}, {"params", k.credentialParams}, {"slots", ctx.credentialSlots}};
  out["cookies"] = k.credentialCookies ? json(*k.credentialCookies) : json(nullptr);
  return out;
}

// Which request fields reach the origin (issue #14: forward exactly what the key describes). A cacheable fetch
// carries an allow list only: content negotiation, the credentials (the origin judges them), the fields the
// rules key on (per rule), and the rules' forwardRequestHeaders. A pass-through — never stored — carries what
// the client sent except hop-by-hop fields and the fields that name another host, URL, scheme or method to an
// origin (unkeyed inputs a poisoning attempt would use); the shim also drops the names the request's Connection
// field lists, and cf-* fields.
nlohmann::ordered_json forwardingJson(const PolicyContext& ctx) {
  using json = nlohmann::ordered_json;
  std::vector<std::string> cacheable = {"accept", "accept-language", "accept-charset"};
  const auto add = [&](const std::string& name) {
    if (std::find(cacheable.begin(), cacheable.end(), name) == cacheable.end()) cacheable.push_back(name);
  };
  for (const std::string& name : ctx.rules.keys.credentialHeaders) add(name);
  add("cookie");
  for (const std::string& name : ctx.rules.forwardRequestHeaders) add(name);
  json byRule = json::array();
  for (const Rule& r : ctx.rules.rules) byRule.push_back(r.varyHeaders);
  static const std::vector<std::string> kPassThroughDropped = {
      // hop-by-hop (RFC 9110 §7.6.1) and framing
      "host", "connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "trailer",
      "transfer-encoding", "upgrade", "content-length",
      // another host, URL, scheme or port than the one the origin is asked for
      "forwarded", "x-forwarded-host", "x-forwarded-server", "x-forwarded-scheme", "x-forwarded-proto",
      "x-forwarded-port", "x-forwarded-prefix", "x-forwarded-uri", "x-forwarded-path", "x-forwarded-ssl",
      "front-end-https", "x-url-scheme", "x-host", "x-original-url", "x-original-path", "x-original-host",
      "x-rewrite-url", "x-real-ip", "x-client-ip", "true-client-ip", "x-cluster-client-ip",
      // another method
      "x-http-method-override", "x-http-method", "x-method-override"};
  return {{"cacheable", cacheable}, {"byRule", std::move(byRule)}, {"passThroughDropped", kPassThroughDropped}};
}

// MOUNT_PATH ("mountPath", as the operator wrote it) and the path of BACKEND_URL ("originPath"): whether the
// backend's path lies under the mount is decided here, once; whether it is on the request's host, per request by
// the shim (the core never sees a host).
MountConfig mountFromConfig(const nlohmann::ordered_json& cfg) {
  const auto stringField = [&](const char* name) -> std::string {
    auto it = cfg.find(name);
    return it != cfg.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  MountConfig mount = parseMountPath(stringField("mountPath"));
  if (!mount.problem.empty() || mount.prefix.empty()) return mount;
  std::string originPath = stringField("originPath");
  if (originPath.empty() || originPath.front() != '/') originPath.insert(0, 1, '/');
  const UrlResult normalised = normalizeRequestTarget(originPath, UrlOptions{});
  // A backend path the normaliser refuses cannot be compared: it is held to be under the mount (refused on the
  // mount's host) rather than trusted.
  mount.backendUnderMount = !normalised.url || pathUnderMount(mount.prefix, normalised.url->path);
  return mount;
}

}  // namespace

PolicySetup setupPolicy(std::string_view configJson, std::string_view embeddedRules) {
  PolicySetup setup;
  const nlohmann::ordered_json cfg = nlohmann::ordered_json::parse(configJson, nullptr, false);
  std::string override;
  bool hasOverride = false;
  if (cfg.is_object()) {
    if (auto it = cfg.find("originBase"); it != cfg.end() && it->is_string()) setup.ctx.originBase = it->get<std::string>();
    if (auto it = cfg.find("shards"); it != cfg.end() && it->is_number_unsigned()) {
      setup.ctx.shardCount = std::max<uint32_t>(1, it->get<uint32_t>());
    }
    if (auto it = cfg.find("authMode"); it != cfg.end() && it->is_string()) {
      const std::string& mode = it->get_ref<const std::string&>();
      setup.ctx.authMode = mode == "none"     ? PolicyContext::AuthMode::None
                           : mode == "jwt"    ? PolicyContext::AuthMode::Jwt
                           : mode == "origin" ? PolicyContext::AuthMode::Origin
                                              : PolicyContext::AuthMode::Invalid;
    }
    if (auto it = cfg.find("rateLimit"); it != cfg.end() && it->is_string()) {
      setup.ctx.rateLimitsSwitchedOff = it->get_ref<const std::string&>() == "off";
    }
    // AUTH_EXEMPT_PATHS, as paths: "/auth/" and "/auth" both mean /auth and everything below it.
    if (auto it = cfg.find("authExemptPaths"); it != cfg.end() && it->is_array()) {
      for (const auto& p : *it) {
        if (!p.is_string()) continue;
        std::string path = p.get<std::string>();
        if (path.empty() || path.front() != '/') continue;
        while (path.size() > 1 && path.back() == '/') path.pop_back();
        setup.ctx.authExemptPaths.push_back(std::move(path));
      }
    }
    setup.ctx.mount = mountFromConfig(cfg);
    setup.upstreamSettings = parseUpstreamSettings(cfg);
    if (auto it = cfg.find("rules"); it != cfg.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
      override = it->get<std::string>();
      hasOverride = true;
    }
  }
  if (hasOverride) {
    if (installRules(setup, override, "override")) return setup;
    setup.status = abi::ConfigureStatus::RulesOverrideInvalid;
    std::vector<RulesProblem> overrideProblems = std::move(setup.problems);
    if (!installRules(setup, embeddedRules, "embedded")) setup.status = abi::ConfigureStatus::Fatal;
    else setup.problems = std::move(overrideProblems);
    return setup;
  }
  if (!installRules(setup, embeddedRules, "embedded")) setup.status = abi::ConfigureStatus::Fatal;
  return setup;
}

std::string policyReportJson(const PolicySetup& setup) {
  using json = nlohmann::ordered_json;
  json report;
  report["abiVersion"] = abi::kAbiVersion;
  report["coreVersion"] = EDGE_CACHE_VERSION;
  report["rules"] = {
      {"source", setup.rulesSource},
      {"status", setup.status == abi::ConfigureStatus::Ok ? "ok" : "degraded"},
      {"digest", setup.rulesDigest},
      {"classes", setup.ctx.rules.classes.size()},
      {"rules", setup.ctx.rules.rules.size()},
  };
  json problems = json::array();
  for (const RulesProblem& p : setup.problems) problems.push_back({{"path", p.path}, {"message", p.message}});
  report["rules"]["problems"] = std::move(problems);

  json reasons = json::array();
  for (uint32_t i = 0; i < static_cast<uint32_t>(Reason::Count); ++i) reasons.push_back(reasonName(static_cast<Reason>(i)));
  report["reasons"] = std::move(reasons);
  json classes = json::array();
  for (const TtlClass& c : setup.ctx.rules.classes) classes.push_back(c.name);
  report["classes"] = std::move(classes);
  json ruleNames = json::array();
  for (const Rule& r : setup.ctx.rules.rules) ruleNames.push_back(r.name);
  report["ruleNames"] = std::move(ruleNames);
  json sessions = json::array({""});
  for (auto s : {market::Session::PreMarket, market::Session::Regular, market::Session::AfterHours,
                 market::Session::Overnight, market::Session::Weekend, market::Session::Holiday}) {
    sessions.push_back(market::sessionName(s));
  }
  report["sessions"] = std::move(sessions);
  report["extraRequestHeaders"] = setup.ctx.extraRequestHeaders;
  // The request-header slots some rule varies on: the shim reads those headers (besides the fixed ones
  // the policy always reads) and no others.
  std::set<uint32_t> varySlots;
  for (const auto& slots : setup.ctx.ruleVarySlots) varySlots.insert(slots.begin(), slots.end());
  report["varySlots"] = varySlots;
  // Requests forwarded to the origin are held to maxHeaderBytes by the shim, which copies their headers.
  report["limits"] = {{"maxHeaderBytes", setup.ctx.rules.limits.maxHeaderBytes},
                      {"maxUrlBytes", setup.ctx.rules.limits.maxUrlBytes}};
  report["warm"] = setup.ctx.rules.warm;
  report["rateLimits"] = rateLimitsJson(setup.ctx.rules);
  report["credentials"] = credentialsJson(setup.ctx);
  report["forwarding"] = forwardingJson(setup.ctx);
  report["upstreams"] = upstreamsReportJson(setup.ctx, setup.upstreamProblems);
  report["originBase"] = setup.ctx.originBase;
  const MountConfig& mount = setup.ctx.mount;
  report["mount"] = {{"path", mount.prefix.empty() ? "/" : mount.prefix},
                     {"problem", mount.problem.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(mount.problem)},
                     {"backendUnderMount", mount.backendUnderMount}};
  report["shards"] = setup.ctx.shardCount;
  // Strings from a rejected override may hold invalid UTF-8: replace rather than abort (dump would throw).
  return report.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace edge_cache
