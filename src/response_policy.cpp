#include "response_policy.h"

#include <algorithm>

#include "cache_control.h"
#include "entry_envelope.h"
#include "header_list.h"
#include "http_date.h"
#include "response_age.h"
#include "structured_field.h"

namespace edge_cache {
namespace {

using abi::ResponseHeader;

// Rule classes (the market-data policy) store what a proxy of a data API answers for good: the rule's TTL
// for success, the negative TTL for 404/410, nothing else (5xx, 206, redirects that may change, 304 — a
// revalidation answer, not an entry). followOrigin classes follow RFC 9111 instead (below).
enum class StatusKind { Positive, Negative, Never };
StatusKind ruleStatusKind(uint32_t status) {
  switch (status) {
    case 200: case 203: case 204: case 300: case 301: case 308: return StatusKind::Positive;
    case 404: case 410: return StatusKind::Negative;
    default: return StatusKind::Never;
  }
}

// Statuses whose caching requirements this cache implements: must-understand lets it ignore no-store for these.
bool understoodStatus(uint32_t status) { return heuristicallyCacheable(status) || status == 302 || status == 307; }

// The cache reads dates case-insensitively (RFC 9111 §4.2).
std::optional<int64_t> dateOf(const ResponseFacts& f, ResponseHeader h) {
  return f.has(h) ? tryParseHttpDateAnyCase(f.header(h)) : std::nullopt;
}

bool namedIn(const std::string& fields, std::string_view name) {
  for (const std::string& n : parseHeaderList(fields).names)
    if (equalsIgnoreCase(n, name)) return true;
  return false;
}

}  // namespace

bool heuristicallyCacheable(uint32_t status) {
  switch (status) {
    case 200: case 203: case 204: case 206: case 300: case 301: case 308:
    case 404: case 405: case 410: case 414: case 501:
      return true;
    default:
      return false;
  }
}

void ResponseFacts::addField(std::string_view name, std::string_view value) {
  fields.push_back({name, value});
  for (size_t slot = 0; slot < kResponseSlotNames.size(); ++slot) {
    if (headerPresent[slot] || !equalsIgnoreCase(kResponseSlotNames[slot], name)) continue;
    headerValues[slot] = value;
    headerPresent[slot] = true;
    return;
  }
}

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

namespace {
StoreDecision decideStorage(const PolicyContext& ctx, const ResponseFacts& f, uint32_t maxBodyBytes);

// The directives this cache follows (RFC 9213 §2.2): the most specific targeted field present and valid —
// Cloudflare-CDN-Cache-Control, then CDN-Cache-Control — replaces Cache-Control (and Expires) entirely;
// without one, Cache-Control. A targeted field is a Structured Field Dictionary: one that does not parse as
// one, or whose max-age is not an Integer, is ignored (§2.1).
struct Directives {
  CacheControl cc;
  bool targeted = false;
};
Directives directivesOf(const ResponseFacts& f) {
  for (ResponseHeader h : {ResponseHeader::CloudflareCdnCacheControl, ResponseHeader::CdnCacheControl}) {
    if (!f.has(h) || !isValidTargetedCacheControl(f.header(h))) continue;
    CacheControl cc = parseCacheControl(f.header(h));
    if (cc.present) return {std::move(cc), true};
  }
  return {parseCacheControl(f.header(ResponseHeader::CacheControl)), false};
}
}  // namespace

StoreDecision decideResponse(const PolicyContext& ctx, const ResponseFacts& f, uint32_t maxBodyBytes) {
  StoreDecision d = decideStorage(ctx, f, maxBodyBytes);
  const CacheControl cc = parseCacheControl(f.header(ResponseHeader::CacheControl));
  d.shareable = d.storable || (f.status >= 500 && f.status <= 599 && !f.has(ResponseHeader::SetCookie) && !cc.isPrivate);
  const bool followOrigin = (f.decisionFlags & static_cast<uint32_t>(abi::DecisionFlag::FollowOrigin)) != 0;
  d.downstreamOriginCacheControl = f.has(ResponseHeader::CacheControl) && (followOrigin || cc.noStore || cc.isPrivate);
  return d;
}

namespace {
StoreDecision decideStorage(const PolicyContext& ctx, const ResponseFacts& f, uint32_t maxBodyBytes) {
  StoreDecision d;
  const Directives directives = directivesOf(f);
  const CacheControl& cc = directives.cc;
  const bool targeted = directives.targeted;
  // Which fields a client is sent and an entry keeps: needed even when nothing is stored.
  planResponseHeaders(f.fields, cc, ResponseHeaderOptions{f.keepContentEncoding}, d.headers);
  d.ageS = correctedInitialAgeS(AgeFacts{
      dateOf(f, ResponseHeader::Date),
      f.has(ResponseHeader::Age) ? tryParseAge(f.header(ResponseHeader::Age)) : std::nullopt,
      f.requestTimeMs > 0 ? f.requestTimeMs : f.nowMs, f.nowMs});
  const auto refuse = [&d](Reason r) {
    d.storable = false;
    d.reason = r;
    d.ttlS = d.staleWhileRevalidateS = d.staleIfErrorS = d.staleIfUnreachableS = d.tiers = 0;
    d.variantNames.clear();
    return d;
  };

  if (f.status < 200 || f.status > 599) return refuse(Reason::OriginStatusInvalid);
  if (f.classIndex >= ctx.rules.classes.size()) return refuse(Reason::ClassNotCached);
  const TtlClass& cls = ctx.rules.classes[f.classIndex];
  const bool followOrigin = (f.decisionFlags & static_cast<uint32_t>(abi::DecisionFlag::FollowOrigin)) != 0;
  if (!followOrigin && f.ttlS == 0) return refuse(Reason::ClassNotCached);
  if (f.streamed) return refuse(Reason::BodyTooLarge);  // streamed because too large to buffer
  // The worker never asks for a range on a cacheable fetch: a 206 is an origin's mistake, not an entry.
  if (f.status == 206) return refuse(Reason::PartialContent);
  if (f.status == 304) return refuse(Reason::StatusNotCacheable);
  const StatusKind ruleKind = ruleStatusKind(f.status);
  if (!followOrigin && ruleKind == StatusKind::Never) return refuse(Reason::StatusNotCacheable);

  // Privacy first, whatever the rules say: these are never stored.
  // must-understand (RFC 9111 §5.2.2.3): a cache that implements the status's requirements ignores
  // no-store; one that does not must not store at all.
  if (cc.mustUnderstand && !understoodStatus(f.status)) return refuse(Reason::OriginMustUnderstand);
  if (cc.noStore && !cc.mustUnderstand) return refuse(Reason::OriginNoStore);
  // private="field" names fields not to keep (planResponseHeaders leaves them out); a bare private is whole.
  if (cc.isPrivate && (cc.privateWhole || !cc.privateQualified)) return refuse(Reason::OriginPrivate);
  // Set-Cookie is a per-client field (a deliberate deviation from RFC 9111 §3.1, docs/conformance.md): a
  // response carrying one is stored only when the origin itself says the cookie is not to be shared.
  if (f.has(ResponseHeader::SetCookie) && !namedIn(cc.privateFields, "set-cookie") &&
      !namedIn(cc.noCacheFields, "set-cookie")) {
    return refuse(Reason::OriginSetCookie);
  }
  // RFC 9111 §3.5: a response to a request with credentials (Authorization, a credential cookie or parameter)
  // is shared only when the origin said so — public, s-maxage or must-revalidate — or the rule declares the
  // route's data the same for every client the origin authorises.
  const bool credentialed = (f.decisionFlags & static_cast<uint32_t>(abi::DecisionFlag::Credentials)) != 0;
  const bool sharedRule = f.ruleIndex < ctx.rules.rules.size() && ctx.rules.rules[f.ruleIndex].sharedAcrossCredentials;
  if (credentialed && !sharedRule && !cc.isPublic && !cc.sMaxAge && !cc.mustRevalidate) {
    return refuse(Reason::CredentialsNotShared);
  }
  if (!targeted && f.has(ResponseHeader::Pragma) &&
      f.header(ResponseHeader::Pragma).find("no-cache") != std::string_view::npos && !cc.present) {
    return refuse(Reason::OriginNoCache);
  }

  // Vary (RFC 9111 §4.1): the response was selected by request fields. Those the rule keys on are part of
  // the key already; Accept-Encoding is handled by the runtime (bodies are stored decoded); every other one
  // is a variant field, whose request values are kept with the entry and compared on every use.
  if (f.has(ResponseHeader::Vary)) {
    HeaderList vary = parseHeaderList(f.header(ResponseHeader::Vary));
    if (vary.wildcard) return refuse(Reason::OriginVaryStar);
    // An element we cannot read may name a field the response depends on: do not guess.
    if (!vary.valid) return refuse(Reason::OriginVaryUnkeyed);
    for (std::string& name : vary.names) {
      if (name == "accept-encoding") continue;
      if (f.ruleIndex < ctx.rules.rules.size()) {
        const auto& keyedNames = ctx.rules.rules[f.ruleIndex].varyHeaders;
        if (std::find(keyedNames.begin(), keyedNames.end(), name) != keyedNames.end()) continue;
      }
      d.variantNames.push_back(std::move(name));
    }
    if (d.variantNames.size() > kEnvelopeMaxVariantHeaders) return refuse(Reason::OriginVaryUnkeyed);
  }
  if (maxBodyBytes > 0 && f.bodyLength != abi::kAbsent && f.bodyLength > maxBodyBytes) {
    return refuse(Reason::BodyTooLarge);
  }
  // The stored fields count toward the entry's size, and must fit the envelope.
  const uint64_t entryBytes = uint64_t{f.bodyLength == abi::kAbsent ? 0 : f.bodyLength} + d.headers.storedBytes;
  if ((maxBodyBytes > 0 && entryBytes > maxBodyBytes) || d.headers.storedCount > kEnvelopeMaxHeaders) {
    return refuse(Reason::EntryTooLarge);
  }

  d.tiers = f.tiers ? f.tiers : cls.tiers;

  if (!followOrigin) {
    // The rule's TTL is this cache's own promise for data whose origin says nothing: it counts from arrival.
    if (ruleKind == StatusKind::Negative) {
      if (f.negativeTtlS == 0) return refuse(Reason::NegativeNotCached);
      d.ttlS = f.negativeTtlS;
      d.reason = Reason::StoreNegative;
    } else {
      d.ttlS = f.ttlS;
      d.reason = Reason::StoreRuleTtl;
    }
    d.staleWhileRevalidateS = f.staleWhileRevalidateS;
    d.staleIfErrorS = f.staleIfErrorS;
    d.staleIfUnreachableS = cls.staleIfUnreachableS;
    d.storable = true;
    return d;
  }

  // Follow the origin (RFC 9111 §4.2.1): s-maxage, then max-age, then Expires − Date; failing those, a
  // heuristic (§4.2.2). A targeted field, when present, is the only source of explicit freshness.
  const bool hasValidator = f.has(ResponseHeader::ETag) || f.has(ResponseHeader::LastModified);
  // Stored stale, used only after a 304 from the origin: the response costs no body transfer next time.
  const auto storeToRevalidate = [&](Reason otherwise) {
    if (!hasValidator || !heuristicallyCacheable(f.status)) return refuse(otherwise);
    d.ttlS = d.staleWhileRevalidateS = d.staleIfErrorS = 0;
    // Nothing to serve without the origin: only this isolate's memory keeps it (a slower tier would spend
    // writes on an entry that is never fresh).
    d.tiers &= static_cast<uint32_t>(abi::TierBit::Memory);
    if (d.tiers == 0) return refuse(otherwise);
    d.reason = Reason::StoreToRevalidate;
    d.storable = true;
    return d;
  };
  if (cc.noCache && (cc.noCacheWhole || !cc.noCacheQualified)) return storeToRevalidate(Reason::OriginNoCache);

  std::optional<uint32_t> lifetime = cc.sMaxAge ? cc.sMaxAge : cc.maxAge;
  if (!lifetime && !targeted && f.has(ResponseHeader::Expires)) {
    const auto expires = tryParseHttpDateAnyCase(f.header(ResponseHeader::Expires));
    const auto date = dateOf(f, ResponseHeader::Date);
    const int64_t base = date ? *date : f.nowMs / 1000;
    // An invalid Expires means "already expired" (RFC 9111 §5.3).
    lifetime = expires && *expires > base ? static_cast<uint32_t>(std::min<int64_t>(*expires - base, UINT32_MAX)) : 0;
  }
  Reason stored = Reason::StoreOriginTtl;
  if (!lifetime && cls.heuristicFreshness && (heuristicallyCacheable(f.status) || cc.isPublic)) {
    const auto lastModified = dateOf(f, ResponseHeader::LastModified);
    const auto date = dateOf(f, ResponseHeader::Date);
    const int64_t base = date ? *date : f.nowMs / 1000;
    if (lastModified && *lastModified < base) {
      lifetime = static_cast<uint32_t>(std::min<int64_t>((base - *lastModified) / 10, cls.heuristicMaxTtlS));
      stored = Reason::StoreHeuristic;
    }
  }
  if (!lifetime) return storeToRevalidate(Reason::OriginNoFreshness);
  const bool negative = f.status == 404 || f.status == 410;
  if (negative && cls.negativeTtlS > 0) lifetime = std::min(*lifetime, cls.negativeTtlS);
  if (*lifetime <= d.ageS) return storeToRevalidate(Reason::OriginAlreadyStale);
  d.ttlS = *lifetime - d.ageS;
  // must-revalidate / proxy-revalidate forbid stale answers; s-maxage implies proxy-revalidate (§5.2.2.10)
  // unless the origin grants a stale window explicitly.
  const bool mustRevalidate = cc.mustRevalidate || cc.proxyRevalidate;
  const bool impliedRevalidate = cc.sMaxAge.has_value();
  const auto window = [&](const std::optional<uint32_t>& explicitS, uint32_t classS) -> uint32_t {
    if (mustRevalidate) return 0;
    if (explicitS) return *explicitS;
    return impliedRevalidate ? 0 : classS;
  };
  d.staleWhileRevalidateS = window(cc.staleWhileRevalidate, cls.staleWhileRevalidateS);
  d.staleIfErrorS = window(cc.staleIfError, cls.staleIfErrorS);
  // A disconnected cache may serve stale (RFC 9111 §4.2.4) unless must-revalidate, proxy-revalidate or
  // s-maxage (which implies proxy-revalidate) forbid it.
  d.staleIfUnreachableS = mustRevalidate || impliedRevalidate ? 0 : cls.staleIfUnreachableS;
  d.reason = stored;
  d.storable = true;
  return d;
}

}  // namespace

}  // namespace edge_cache
