#pragma once
// What the worker tells the caches after it — the browser (Cache-Control) and Cloudflare's Workers Cache in
// front of the worker (Cloudflare-CDN-Cache-Control) — for one request. Separate from what the worker's own
// tiers keep (response_policy.h): a browser must never be left to guess (heuristic freshness would replay a
// last-trade price for weeks, issue #17), and Workers Cache answers without running the worker, so it may only
// keep what needs no per-request check (issue #20). The numbers that depend on the entry (remaining
// freshness, age) are the entry evaluation's; the shim writes the fields.
#include <cstdint>

#include "policy_context.h"
#include "request_policy.h"

namespace edge_cache {

struct DownstreamDecision {
  uint32_t flags = 0;        // abi::DownstreamFlag bits
  uint32_t browserTtlS = 0;  // the class's browserTtl (capped by the shim to the entry's remaining freshness)
};

// For a Lookup, Refresh or Bypass decision (others get no downstream fields).
DownstreamDecision decideDownstream(const PolicyContext& ctx, const Decision& d);

}  // namespace edge_cache
