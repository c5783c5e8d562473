#include "downstream_policy.h"

namespace edge_cache {

DownstreamDecision decideDownstream(const PolicyContext& ctx, const Decision& d) {
  DownstreamDecision out;
  const auto flag = [&out](abi::DownstreamFlag f) { out.flags |= static_cast<uint32_t>(f); };
  const bool credentialed = d.hasFlag(abi::DecisionFlag::Credentials);
  if (credentialed) flag(abi::DownstreamFlag::BrowserPrivate);
  if (d.classIndex >= ctx.rules.classes.size()) return out;
  const TtlClass& cls = ctx.rules.classes[d.classIndex];
  if (cls.followOrigin) flag(abi::DownstreamFlag::BrowserOriginOwn);
  out.browserTtlS = cls.browserTtlS;

  // Workers Cache answers a request without running the worker: no auth check, no rate limit, no refresh, no
  // quota. So only a plain lookup of a cached class, with auth off and no rate limit, the same for every client
  // (no credentials, or a route whose data is shared across them), not a byte range, and not a route to an
  // upstream with a quota: its answers carry the worker's quota accounting (what the day has left decides
  // whether stale data answers and when refreshes happen), which a hit served without the worker bypasses.
  const bool cachedClass = cls.followOrigin || d.ttlS > 0;
  const bool sameForEveryone = !credentialed || (d.ruleIndex < ctx.rules.rules.size() &&
                                                 ctx.rules.rules[d.ruleIndex].sharedAcrossCredentials);
  const bool quotaGuarded = d.originIndex < ctx.rules.origins.size() && ctx.rules.origins[d.originIndex].quota.limited();
  if (d.action == abi::Action::Lookup && cachedClass && ctx.authMode == PolicyContext::AuthMode::None &&
      d.rateBucket == abi::kNone && sameForEveryone && !quotaGuarded && !d.hasFlag(abi::DecisionFlag::Range)) {
    flag(abi::DownstreamFlag::WorkersCacheEligible);
  }
  return out;
}

}  // namespace edge_cache
