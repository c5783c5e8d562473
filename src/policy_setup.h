#pragma once
// Builds the PolicyContext an instance runs with, once, from the shim's configuration: the origin, the
// shard count and an optional CACHE_RULES override. A broken override never takes the worker down: the
// embedded rules stay in force and the problems are reported (status "degraded" in /health).
#include <string>
#include <string_view>
#include <vector>

#include "abi/abi_layout.h"
#include "policy_context.h"
#include "rules_loader.h"
#include "upstream_setup.h"

namespace edge_cache {

struct PolicySetup {
  PolicyContext ctx;
  abi::ConfigureStatus status = abi::ConfigureStatus::Ok;
  std::string rulesSource;             // "embedded" or "override"
  std::vector<RulesProblem> problems;  // of the rejected override (or of the embedded rules if Fatal)
  std::string rulesDigest;             // sha256 prefix of the rules text in force
  UpstreamSettings upstreamSettings;   // ORIGIN_URLS and the names of the secrets set (upstream_setup.h)
  std::vector<std::string> upstreamProblems;
};

// configJson: {"originBase": "https://api.example.com", "shards": 4, "rules": "<rules JSON text>"|null,
//              "authExemptPaths": ["/auth"], "mountPath": "/cache" (MOUNT_PATH), "originPath": "/api" (BACKEND_URL's path),
//              "originUrls": {"<origin>": "<url>"}, "secretsPresent": ["FMP_API_KEY", ...]}
PolicySetup setupPolicy(std::string_view configJson, std::string_view embeddedRules);

// The report the shim reads once (and /health shows): rules status and problems, the names behind the
// ABI's numeric codes (reasons, classes, rules, sessions) and the extra request headers to send.
std::string policyReportJson(const PolicySetup& setup);

}  // namespace edge_cache
