#include "response_policy.h"

#include <algorithm>

#include "cache_control.h"
#include "header_list.h"
#include "http_date.h"

namespace edge_cache {
namespace {

using abi::ResponseHeader;

StoreDecision refuse(Reason r) {
  StoreDecision d;
  d.reason = r;
  return d;
}

// Statuses that may be stored with the rule's TTL; 404/410 take the negative TTL; everything else
// (5xx, 206, redirects that may change, 304 — a revalidation answer, not an entry) is never stored.
enum class StatusKind { Positive, Negative, Never };
StatusKind statusKind(uint32_t status) {
  switch (status) {
    case 200: case 203: case 204: case 300: case 301: case 308: return StatusKind::Positive;
    case 404: case 410: return StatusKind::Negative;
    default: return StatusKind::Never;
  }
}

// Age is delta-seconds: a value too large to represent means "very old" (RFC 9111 §1.2.2), not 0.
uint32_t parseAgeS(std::string_view v) { return tryParseDeltaSeconds(trimOws(v)).value_or(0); }

// RFC 9213: a CDN-targeted field, when present, replaces Cache-Control for freshness at this cache.
// Cloudflare-CDN-Cache-Control is the most specific target, then CDN-Cache-Control.
// nullopt when neither is present (then Cache-Control, parsed once by the caller, applies).
std::optional<CacheControl> tryTargetedCacheControl(const ResponseFacts& f) {
  if (f.has(ResponseHeader::CloudflareCdnCacheControl)) {
    CacheControl cc = parseCacheControl(f.header(ResponseHeader::CloudflareCdnCacheControl));
    if (cc.present) return cc;
  }
  if (f.has(ResponseHeader::CdnCacheControl)) {
    CacheControl cc = parseCacheControl(f.header(ResponseHeader::CdnCacheControl));
    if (cc.present) return cc;
  }
  return std::nullopt;
}

}  // namespace

ResponseFacts responseFactsFor(const Decision& d, uint32_t status, int64_t nowMs) {
  ResponseFacts f;
  f.nowMs = nowMs;
  f.status = status;
  f.classIndex = d.classIndex;
  f.ruleIndex = d.ruleIndex;
  f.decisionFlags = d.flags;
  f.ttlS = d.ttlS;
  f.staleWhileRevalidateS = d.staleWhileRevalidateS;
  f.staleIfErrorS = d.staleIfErrorS;
  f.negativeTtlS = d.negativeTtlS;
  f.tiers = d.tiers;
  return f;
}

StoreDecision decideResponse(const PolicyContext& ctx, const ResponseFacts& f, uint32_t maxBodyBytes) {
  if (f.classIndex >= ctx.rules.classes.size()) return refuse(Reason::ClassNotCached);
  const TtlClass& cls = ctx.rules.classes[f.classIndex];
  const bool followOrigin = (f.decisionFlags & static_cast<uint32_t>(abi::DecisionFlag::FollowOrigin)) != 0;
  if (!followOrigin && f.ttlS == 0) return refuse(Reason::ClassNotCached);

  const StatusKind kind = statusKind(f.status);
  if (f.status == 206 || f.has(ResponseHeader::ContentRange)) return refuse(Reason::PartialContent);
  if (kind == StatusKind::Never) return refuse(Reason::StatusNotCacheable);

  // Privacy first, whatever the rules say: these are never stored.
  const CacheControl cc = parseCacheControl(f.header(ResponseHeader::CacheControl));
  const std::optional<CacheControl> cdn = tryTargetedCacheControl(f);
  const bool targeted = cdn.has_value();
  const CacheControl& tcc = targeted ? *cdn : cc;
  if (cc.noStore || tcc.noStore) return refuse(Reason::OriginNoStore);
  if (cc.isPrivate || tcc.isPrivate) return refuse(Reason::OriginPrivate);
  if (f.has(ResponseHeader::SetCookie)) return refuse(Reason::OriginSetCookie);
  if (f.has(ResponseHeader::Pragma) && f.header(ResponseHeader::Pragma).find("no-cache") != std::string_view::npos &&
      !cc.present) {
    return refuse(Reason::OriginNoCache);
  }

  // Vary: the response differs by request headers. Storable only if every one of them is part of the
  // key for this rule; Accept-Encoding is handled by the runtime (bodies are stored decoded).
  if (f.has(ResponseHeader::Vary)) {
    HeaderList vary = parseHeaderList(f.header(ResponseHeader::Vary));
    if (vary.wildcard) return refuse(Reason::OriginVaryStar);
    // An element we cannot read may name a header the response depends on: do not guess.
    if (!vary.valid) return refuse(Reason::OriginVaryUnkeyed);
    for (const std::string& name : vary.names) {
      if (name == "accept-encoding") continue;
      bool keyed = false;
      if (f.ruleIndex < ctx.rules.rules.size()) {
        const auto& keyedNames = ctx.rules.rules[f.ruleIndex].varyHeaders;
        keyed = std::find(keyedNames.begin(), keyedNames.end(), name) != keyedNames.end();
      }
      if (!keyed) return refuse(Reason::OriginVaryUnkeyed);
    }
  }
  if (maxBodyBytes > 0 && f.bodyLength != abi::kAbsent && f.bodyLength > maxBodyBytes) {
    return refuse(Reason::BodyTooLarge);
  }

  StoreDecision d;
  d.tiers = f.tiers ? f.tiers : cls.tiers;
  d.ageS = f.has(ResponseHeader::Age) ? parseAgeS(f.header(ResponseHeader::Age)) : 0;

  if (!followOrigin) {
    if (kind == StatusKind::Negative) {
      if (f.negativeTtlS == 0) return refuse(Reason::NegativeNotCached);
      d.ttlS = f.negativeTtlS;
      d.reason = Reason::StoreNegative;
    } else {
      d.ttlS = f.ttlS;
      d.reason = Reason::StoreRuleTtl;
    }
    d.staleWhileRevalidateS = f.staleWhileRevalidateS;
    d.staleIfErrorS = f.staleIfErrorS;
    d.storable = true;
    return d;
  }

  // Follow the origin (RFC 9111 §4.2.1): s-maxage, then max-age, then Expires − Date.
  if (tcc.noCache || (!targeted && cc.noCache)) return refuse(Reason::OriginNoCache);
  // A shared cache prefers s-maxage; a CDN-targeted field, when present, is the only source.
  std::optional<uint32_t> lifetime = tcc.sMaxAge ? tcc.sMaxAge : tcc.maxAge;
  if (!lifetime && !targeted && f.has(ResponseHeader::Expires)) {
    auto expires = tryParseHttpDate(f.header(ResponseHeader::Expires));
    auto date = f.has(ResponseHeader::Date) ? tryParseHttpDate(f.header(ResponseHeader::Date)) : std::nullopt;
    const int64_t base = date ? *date : f.nowMs / 1000;
    // An invalid Expires means "already expired" (RFC 9111 §5.3).
    lifetime = expires && *expires > base ? static_cast<uint32_t>(std::min<int64_t>(*expires - base, UINT32_MAX)) : 0;
  }
  if (!lifetime) return refuse(Reason::OriginNoFreshness);
  if (kind == StatusKind::Negative && cls.negativeTtlS > 0) lifetime = std::min(*lifetime, cls.negativeTtlS);
  if (*lifetime <= d.ageS) return refuse(Reason::OriginAlreadyStale);
  d.ttlS = *lifetime - d.ageS;
  const CacheControl& windows = targeted ? tcc : cc;
  const bool mustRevalidate = windows.mustRevalidate || windows.proxyRevalidate || cc.mustRevalidate || cc.proxyRevalidate;
  d.staleWhileRevalidateS = mustRevalidate ? 0 : windows.staleWhileRevalidate.value_or(cls.staleWhileRevalidateS);
  d.staleIfErrorS = mustRevalidate ? 0 : windows.staleIfError.value_or(cls.staleIfErrorS);
  d.reason = Reason::StoreOriginTtl;
  d.storable = true;
  return d;
}

}  // namespace edge_cache
