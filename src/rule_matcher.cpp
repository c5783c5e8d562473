#include "rule_matcher.h"

namespace edge_cache {

const Rule* matchRule(const RulesConfig& cfg, uint32_t methodBit, std::string_view path, Captures& out) {
  for (const Rule& rule : cfg.rules)
    if ((rule.methods & methodBit) != 0 && matchPath(rule.pattern, path, out)) return &rule;
  out.clear();
  return nullptr;
}

}  // namespace edge_cache
