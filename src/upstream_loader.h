#pragma once
// Loads the rules' `origins` section and the rules' `origin` / `originPath` fields (docs/rules.md, "Origins"),
// in the rules loader's strict style: every mistake is a problem with the JSON pointer to it, unknown fields
// included. Startup-only code (built for size in the module, like rules_loader.cpp).
#include <nlohmann/json.hpp>
#include <vector>

#include "rules.h"
#include "rules_loader.h"

namespace edge_cache {

// Fills cfg.origins from root["origins"] (when present) and each rule's originIndex / originPath from
// root["rules"][i]; cfg.rules must already be loaded (their patterns give the captures originPath may use).
void loadUpstreams(const nlohmann::ordered_json& root, RulesConfig& cfg, std::vector<RulesProblem>& problems);

// The origin's URL as the worker appends targets to it: an absolute http(s) URL without query or fragment, its
// scheme and host in lower case and no trailing '/'. Empty when `text` is not such a URL (`why` says why).
std::string normalizeUpstreamUrl(std::string_view text, std::string* why = nullptr);

}  // namespace edge_cache
