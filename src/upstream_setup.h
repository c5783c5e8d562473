#pragma once
// The deployment's side of the upstreams (issue #15), applied when the rules are installed: ORIGIN_URLS (a JSON
// object {"<origin>": "<url>"}) overrides origins' URLs for local development and tests, and which secrets are
// set decides which routes can be served (the shim sends the NAMES of the set vars, never a value). Also the
// configure report's "upstreams" section, which the shim, /health and the metrics read.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "policy_context.h"

namespace edge_cache {

struct UpstreamSettings {
  std::vector<std::pair<std::string, std::string>> urlOverrides;  // from the config's "originUrls"
  bool urlOverridesInvalid = false;                               // "originUrls" was given but not an object of strings
  // From the config's "secretsPresent"; absent (explain, tests): every secret counts as set.
  std::optional<std::vector<std::string>> secretsPresent;
};

UpstreamSettings parseUpstreamSettings(const nlohmann::ordered_json& config);

// Fills ctx.upstreams (one per ctx.rules.origins entry). Returns the problems of the overrides (an unknown origin
// name, an invalid URL: that override is ignored), for the report.
std::vector<std::string> applyUpstreamSettings(PolicyContext& ctx, const UpstreamSettings& settings);

// {"origins": [{name, url, credential: {query|header, secret, secretSet}, quota, timeoutMs, errorBodyKeys, rules}],
//  "problems": [...]}
nlohmann::ordered_json upstreamsReportJson(const PolicyContext& ctx, const std::vector<std::string>& problems);

}  // namespace edge_cache
