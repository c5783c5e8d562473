#pragma once
// Everything the policy needs that is fixed for the life of an instance: the rules in force, the
// origin the keys are built for, the shard count. Built once by policy_setup, read per request.
#include <cstdint>
#include <string>
#include <vector>

#include "market_calendar.h"
#include "mount_path.h"
#include "rules.h"

namespace edge_cache {

struct PolicyContext {
  RulesConfig rules;
  // scheme://host[:port] of the origin: part of every key, so two deployments in front of different
  // origins never share entries, and the request's Host header never enters a key.
  std::string originBase;
  uint32_t shardCount = 1;
  // Request headers named by rules' varyHeaders, in ABI slot order from abi::kReqHeaderFirstExtra.
  std::vector<std::string> extraRequestHeaders;
  // Per rule, the ABI slot of each of its varyHeaders (parallel to Rule::varyHeaders).
  std::vector<std::vector<uint32_t>> ruleVarySlots;
  // The ABI slot of each credential header (keys.credentialHeaders): the shim sends their presence only.
  std::vector<uint32_t> credentialSlots;
  // AUTH_EXEMPT_PATHS, normalised: a request path equal to one of these or below it ("/auth" covers "/auth" and
  // "/auth/x", never "/authority") is answered without credentials in the jwt and origin modes.
  std::vector<std::string> authExemptPaths;
  // AUTH_MODE: what the cache in front of the worker (Workers Cache) may keep depends on it — with any auth,
  // every request must reach the worker to be judged.
  enum class AuthMode : uint32_t { None = 0, Jwt = 1, Origin = 2, Invalid = 3 };
  AuthMode authMode = AuthMode::None;
  // RATE_LIMIT=off: no request is counted, whatever the rules' rateLimits say (no bucket is decided), so what
  // the rules would have limited may go to Workers Cache.
  bool rateLimitsSwitchedOff = false;
  // MOUNT_PATH: where the worker's paths start on its host (mount_path.h). Rules, keys, local endpoints and the
  // origin target all see the path below it.
  MountConfig mount;
  // Per rules.origins entry (same index): its URL in force, key base and secret presence (upstream_setup.h).
  std::vector<UpstreamRuntime> upstreams;
  // A cache of a pure function of the request's time, not configuration: mutable so that deciding stays
  // a read of the context. One instance serves one request at a time (Wasm is single-threaded).
  // The market state (hence today's market date) until its next session boundary or midnight.
  mutable market::MarketStateMemo marketStateMemo;
  // Likewise for the start of rules' pastDate.recent windows: the n-th trading day before today.
  mutable market::TradingDaysBeforeMemo tradingDaysBeforeMemo;
};

// The Durable Object shard that holds `key`. Not part of every decision: only requests that reach the
// shared tier need it, and hashing the key is a fifth of a decision's cost.
uint32_t shardFor(const PolicyContext& ctx, std::string_view key);

// Fills extraRequestHeaders, ruleVarySlots and credentialSlots from ctx.rules. Returns false (and names the header)
// when the rules vary on, or name as credentials, more headers than the ABI has slots for.
bool assignVarySlots(PolicyContext& ctx, std::string* problem);

// Whether a normalised request path is at or below one of ctx.authExemptPaths.
bool authExempt(const PolicyContext& ctx, std::string_view path);

}  // namespace edge_cache
