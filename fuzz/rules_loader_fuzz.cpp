// Fuzzes the rules-file loader. Invariants: a config exactly when there are no problems; every problem has a
// JSON pointer ("" or starting with '/') and a non-empty, valid UTF-8 message; a loaded config's indexes are in
// range (rules and default name existing classes) and matching a path against it is safe; loading is deterministic.
#include <string>

#include "fuzz_support.h"
#include "rules_loader.h"

using namespace edge_cache;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::asView(data, size);
  const RulesLoadResult r = loadRules(text);
  FUZZ_CHECK(r.config.has_value() == r.problems.empty());
  for (const RulesProblem& p : r.problems) {
    FUZZ_CHECK(p.path.empty() || p.path[0] == '/');
    FUZZ_CHECK(!p.message.empty());
    FUZZ_CHECK(fuzz::isValidUtf8(p.message) && fuzz::isValidUtf8(p.path));
  }
  const RulesLoadResult again = loadRules(text);
  FUZZ_CHECK(again.problems.size() == r.problems.size());
  for (size_t i = 0; i < r.problems.size(); ++i)
    FUZZ_CHECK(again.problems[i].path == r.problems[i].path && again.problems[i].message == r.problems[i].message);
  if (!r.config) return 0;

  const RulesConfig& cfg = *r.config;
  FUZZ_CHECK(!cfg.classes.empty() && cfg.defaultClassIndex < cfg.classes.size());
  for (const Rule& rule : cfg.rules) {
    FUZZ_CHECK(rule.classIndex < cfg.classes.size());
    FUZZ_CHECK(rule.pastDateParam.empty() || rule.pastClassIndex < cfg.classes.size());
    FUZZ_CHECK(rule.recentTradingDays <= kMaxRecentTradingDays);
    FUZZ_CHECK(rule.recentTradingDays == 0 || (!rule.pastDateParam.empty() && rule.recentClassIndex < cfg.classes.size()));
  }
  Captures captures;
  for (const char* path : {"/", "/v1/x", "/v2/aggs/ticker/AAPL/range/1/day/2024-01-01/2024-01-31", "/a/b/c/d/e/f"}) {
    const Rule* rule = matchRule(cfg, kMethodGet, path, captures);
    FUZZ_CHECK(rule == nullptr || (rule >= cfg.rules.data() && rule < cfg.rules.data() + cfg.rules.size()));
  }
  return 0;
}
