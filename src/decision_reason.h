#pragma once
// Why the core decided what it did. Every decision, store verdict and freshness evaluation carries one,
// so an operator can read the reason in the x-cache-reason debug header, in logs and in `explain`.
// Codes cross the ABI as u32; the names are stable strings (the shim receives the table once, in the
// configure report), e.g. "origin:no-store", "market:closed-until-open".
#include <cstdint>
#include <string_view>

namespace edge_cache {

enum class Reason : uint32_t {
  None = 0,
  // Request decision
  RuleClass,               // a rule assigned the TTL class
  RulePastDate,            // a rule's past-date condition chose its pastDate class
  RuleNotCached,           // the rule's class is not cached (NONE)
  DefaultFollowOrigin,     // no rule matched: the origin's Cache-Control decides
  DefaultNotCached,        // no rule matched and the default class is not cached
  MarketOpen,              // market-aware class, session trading: short TTL
  MarketClosedUntilOpen,   // market-aware class, market closed: fresh until the next session opens
  MarketClosedCapped,      // ... capped by the class's closedMaxTtl
  BypassParam,             // ?nocache: skip the read, refresh from the origin
  MethodNotCacheable,      // POST/PUT/PATCH/DELETE: passed through
  MethodUnsupported,       // TRACE/CONNECT/unknown: rejected
  RangeRequest,            // Range requests are passed through, never stored
  LocalHealth,
  LocalPreflight,
  LocalAdmin,
  UrlEmpty,
  UrlNotOriginForm,
  UrlTooLong,
  UrlBadPercentEncoding,
  UrlControlCharacter,
  UrlInvalidUtf8,
  UrlPathTraversal,
  UrlFragment,
  HeadersTooLarge,
  // Response verdict
  StoreRuleTtl,            // stored with the rule's TTL
  StoreOriginTtl,          // stored with the origin's freshness lifetime
  StoreNegative,           // 404/410 stored with the class's negative TTL
  OriginNoStore,
  OriginPrivate,
  OriginSetCookie,
  OriginVaryStar,
  OriginVaryUnkeyed,       // Vary names a request header the rule does not key on
  OriginNoCache,
  OriginNoFreshness,       // follow-origin and the origin gave no lifetime
  OriginAlreadyStale,      // Age ≥ lifetime
  StatusNotCacheable,      // 5xx, 206, 3xx other than permanent, ...
  NegativeNotCached,       // 404 and the class has no negative TTL
  ClassNotCached,
  PartialContent,
  BodyTooLarge,
  // Entry freshness
  EntryFresh,
  EntryStaleWhileRevalidate,
  EntryStaleIfError,
  EntryExpired,
  // Request decision (appended: codes above are stable)
  RuleRecentPastDate,      // a past date within the rule's pastDate.recent window chose the recent class
  // Response verdict (appended)
  StoreHeuristic,          // stored with heuristic freshness (a tenth of the time since Last-Modified)
  StoreToRevalidate,       // stored stale, to be revalidated with its validators before every use
  EntryTooLarge,           // body and stored header fields together exceed the entry size limit
  OriginMustUnderstand,    // must-understand on a status this cache does not implement
  OriginStatusInvalid,     // not a final status (1xx) or outside 100-599
  CredentialsNotShared,    // a credentialed request's response without public / s-maxage / must-revalidate
  EntryVariantMismatch,    // the entry answered other values of the fields its Vary names
  // Request decision (appended)
  RuleDateOutsideCalendar, // a past date, or the market's today, is outside the calendar's coverage: the rule's own
                           // class, no pastDate class (market_calendar.h)
  MarketOutsideCalendar,   // market-aware class, the market's today outside the calendar's coverage: trading TTL
  // Entry freshness (appended)
  EntryStaleIfUnreachable, // stale beyond stale-if-error: usable only if the origin cannot be reached
  // Request decision (appended): MOUNT_PATH (mount_path.h)
  MountOutsidePrefix,      // the path is not under the worker's mount: 404, the rest of the host is the origin's
  MountInvalid,            // MOUNT_PATH was refused: 503 for everything but the worker's own endpoints
  // Upstream APIs (appended; issue #15, upstream_config.h)
  UpstreamSecretMissing,    // the route's origin needs a secret the worker does not have: 503
  UpstreamMethodNotAllowed, // an upstream route is read only (GET, HEAD): 405
  UpstreamWithinQuota,      // the call fits every window of the origin's quota: made
  UpstreamQuotaExhausted,   // a window is spent: stale entry, else 503 until it resets
  UpstreamReserveKept,      // a background refresh or warm-up stopped before the day's reserve
  UpstreamQuotaUnavailable, // the quota counter could not be asked: no call (a quota is never exceeded)
  UpstreamErrorStatus,      // the upstream answered 429 or 5xx
  UpstreamErrorBody,        // the upstream answered 2xx with an error marker in its JSON body (errorBodyKeys)
  UpstreamNoJudge,          // AUTH_MODE=origin and an upstream not declared public: nobody can judge the client: 503
  Count
};

std::string_view reasonName(Reason r);

}  // namespace edge_cache
