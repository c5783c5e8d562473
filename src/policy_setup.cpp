#include "policy_setup.h"

#include <nlohmann/json.hpp>
#include <set>

#include "decision_reason.h"
#include "market_calendar.h"
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
  report["originBase"] = setup.ctx.originBase;
  report["shards"] = setup.ctx.shardCount;
  // Strings from a rejected override may hold invalid UTF-8: replace rather than abort (dump would throw).
  return report.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace edge_cache
