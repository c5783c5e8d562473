#pragma once
// The request side of an upstream route (issue #15): what a rule with an `origin` asks its upstream for — the
// rule's originPath with the request's captures, and the key's query without any client-supplied value for the
// origin's credential parameter (the worker adds its own, from the secret, and nothing else may stand in for
// it) — and the same URL as an operator may see it, the secret masked (`explain`).
#include <cstdint>
#include <string>
#include <string_view>

#include "path_pattern.h"
#include "policy_context.h"
#include "rules.h"
#include "url_normalizer.h"

namespace edge_cache {

// Writes the upstream target ("/v3/profile/AAPL?period=annual") into `out` and returns the query part of it (a
// view into `out`, "" when none): the query the cache key holds, so the key and the upstream request describe the
// same resource.
std::string_view buildUpstreamTarget(const UpstreamOrigin& origin, const Rule& rule, const Captures& captures,
                                     const NormalizedUrl& url, std::string& out);

// Whether a request for `path` (normalised) would go to an upstream: then it is never passed through to
// BACKEND_URL (a write method is refused, a multi-range request is answered in full).
bool routesToUpstream(const PolicyContext& ctx, std::string_view path);

// Whether the origin can be called: its secret, if it needs one, is set.
bool upstreamReady(const PolicyContext& ctx, uint32_t originIndex);

// The upstream URL of a decision with the credential shown as `<secret NAME>`, and the header it travels in
// ("X-Api-Key: <secret NEWSAPI_KEY>", "" for a query credential or none). For `explain`.
struct MaskedUpstreamRequest {
  std::string url;
  std::string header;
};
MaskedUpstreamRequest maskedUpstreamRequest(const PolicyContext& ctx, uint32_t originIndex, std::string_view originTarget);

}  // namespace edge_cache
