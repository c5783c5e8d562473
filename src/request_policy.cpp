#include "request_policy.h"

#include <algorithm>
#include <charconv>

#include "byte_range.h"
#include "cache_control.h"
#include "cache_key.h"
#include "downstream_policy.h"
#include "header_list.h"
#include "market_calendar.h"
#include "market_ttl.h"
#include "mount_path.h"
#include "rule_matcher.h"
#include "upstream_route.h"
#include "url_normalizer.h"

namespace edge_cache {
namespace {

// Every window the loader accepts is remembered: no request recomputes the calendar.
static_assert(kMaxRecentTradingDays <= market::TradingDaysBeforeMemo::kRemembered);
// Rules hold methods as rules.h's bits and requests carry abi::Method: one encoding, so a request's method
// is matched against a rule's set by value (and methodBitFromName parses both).
static_assert(kMethodGet == static_cast<uint32_t>(abi::Method::Get) &&
              kMethodHead == static_cast<uint32_t>(abi::Method::Head) &&
              kMethodPost == static_cast<uint32_t>(abi::Method::Post) &&
              kMethodPut == static_cast<uint32_t>(abi::Method::Put) &&
              kMethodPatch == static_cast<uint32_t>(abi::Method::Patch) &&
              kMethodDelete == static_cast<uint32_t>(abi::Method::Delete) &&
              kMethodOptions == static_cast<uint32_t>(abi::Method::Options));

using abi::Action;
using abi::DecisionFlag;
using abi::LocalRoute;
using abi::Method;
using abi::RequestHeader;

constexpr uint32_t bit(Method m) { return static_cast<uint32_t>(m); }

Reason reasonForUrlError(UrlError e) {
  switch (e) {
    case UrlError::Empty: return Reason::UrlEmpty;
    case UrlError::NotOriginForm: return Reason::UrlNotOriginForm;
    case UrlError::TooLong: return Reason::UrlTooLong;
    case UrlError::BadPercentEncoding: return Reason::UrlBadPercentEncoding;
    case UrlError::ControlCharacter: return Reason::UrlControlCharacter;
    case UrlError::InvalidUtf8: return Reason::UrlInvalidUtf8;
    case UrlError::PathTraversal: return Reason::UrlPathTraversal;
    case UrlError::Fragment: return Reason::UrlFragment;
    case UrlError::None: break;
  }
  return Reason::UrlEmpty;
}

void reject(Decision& out, uint32_t status, Reason reason) {
  out.action = Action::Reject;
  out.httpStatus = status;
  out.reason = reason;
}

// Built-in endpoints answered by the worker itself. They shadow the same paths on the origin.
bool decideLocalRoute(std::string_view path, uint32_t method, Decision& out) {
  struct Route { std::string_view path; LocalRoute route; uint32_t methods; Reason reason; };
  static constexpr Route kRoutes[] = {
      {"/health", LocalRoute::Health, bit(Method::Get) | bit(Method::Head), Reason::LocalHealth},
      {"/api/v1/cache/health", LocalRoute::CacheHealth, bit(Method::Get) | bit(Method::Head), Reason::LocalAdmin},
      {"/api/v1/cache/metrics", LocalRoute::CacheMetrics, bit(Method::Get) | bit(Method::Head), Reason::LocalAdmin},
      {"/api/v1/cache/purge", LocalRoute::CachePurge, bit(Method::Post), Reason::LocalAdmin},
      {"/api/v1/cache/dashboard", LocalRoute::CacheDashboard, bit(Method::Get) | bit(Method::Head), Reason::LocalAdmin},
      {"/api/v1/cache/metrics/history", LocalRoute::CacheMetricsHistory, bit(Method::Get) | bit(Method::Head), Reason::LocalAdmin},
      {"/api/v1/cache/overview", LocalRoute::CacheOverview, bit(Method::Get) | bit(Method::Head), Reason::LocalAdmin},
  };
  for (const Route& r : kRoutes) {
    if (path != r.path) continue;
    if ((method & r.methods) == 0) {
      reject(out, 405, Reason::MethodUnsupported);
      out.localRoute = r.route;
      return true;
    }
    out.action = Action::ServeLocal;
    out.localRoute = r.route;
    out.reason = r.reason;
    out.httpStatus = 200;
    return true;
  }
  return false;
}

// A rule's past-date parameter: "YYYY-MM-DD", or all digits = epoch milliseconds (Polygon accepts both).
std::optional<market::CivilDate> tryParseDateParam(std::string_view value) {
  if (auto d = market::tryParseIsoDate(value)) return d;
  if (value.empty() || value.size() > 15) return std::nullopt;
  int64_t ms = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
  if (ec != std::errc() || p != value.data() + value.size() || ms < 0) return std::nullopt;
  return market::marketDate(ms);
}

// Client revalidation requests (no-cache, max-age=0) are noted but do not force an origin fetch: that
// would let any client defeat the cache. `?nocache=true` is the explicit, rate-limited way.
bool clientAsksNoCache(const RequestFacts& facts) {
  if (facts.has(RequestHeader::CacheControl)) {
    CacheControl cc = parseCacheControl(facts.header(RequestHeader::CacheControl));
    if (cc.noCache || (cc.maxAge && *cc.maxAge == 0)) return true;
  }
  return facts.has(RequestHeader::Pragma) && facts.header(RequestHeader::Pragma).find("no-cache") != std::string_view::npos;
}

void expandTags(const Rule& rule, const Captures& captures, std::string& out) {
  out.clear();
  for (const std::string& tmpl : rule.tags) {
    if (!out.empty()) out.push_back('\n');
    size_t i = 0;
    while (i < tmpl.size()) {
      if (tmpl[i] == '{') {
        size_t close = tmpl.find('}', i);
        if (close != std::string::npos) {
          out.append(captures.get(std::string_view(tmpl).substr(i + 1, close - i - 1)));
          i = close + 1;
          continue;
        }
      }
      out.push_back(tmpl[i++]);
    }
  }
}

void applyClass(const TtlClass& cls, uint32_t classIndex, Decision& out) {
  out.classIndex = classIndex;
  out.ttlS = cls.ttlS;
  out.staleWhileRevalidateS = cls.staleWhileRevalidateS;
  out.staleIfErrorS = cls.staleIfErrorS;
  out.negativeTtlS = cls.negativeTtlS;
  out.tiers = cls.tiers;
}

// Whether the request carries a credential (keys.credentialHeaders, credentialCookies, credentialParams).
// Header values never cross the ABI: the shim sends presence, and for the Cookie field the cookie names only
// when credentialCookies names some (request_facts.h).
bool carriesCredentials(const PolicyContext& ctx, const RequestFacts& facts, const NormalizedUrl& u) {
  if (u.hasCredentialParam) return true;
  constexpr auto cookieSlot = static_cast<uint32_t>(RequestHeader::Cookie);
  for (uint32_t slot : ctx.credentialSlots)
    if (slot != cookieSlot && slot < abi::kReqHeaderSlots && facts.headerPresent[slot]) return true;
  if (!facts.has(RequestHeader::Cookie)) return false;
  const auto& named = ctx.rules.keys.credentialCookies;
  if (!named) return true;  // any cookie is a credential
  // "a; b; sessionid": names only.
  std::string_view names = facts.header(RequestHeader::Cookie);
  while (!names.empty()) {
    const size_t semi = names.find(';');
    const std::string_view name = trimOws(names.substr(0, semi));
    if (std::find(named->begin(), named->end(), name) != named->end()) return true;
    if (semi == std::string_view::npos) break;
    names.remove_prefix(semi + 1);
  }
  return false;
}

// What a cacheable fetch asks the origin for: the key's path and query, plus the credential parameters the
// rule's origin needs (in request order) — nothing else the client sent (key/forward parity).
void cacheableOriginTarget(const NormalizedUrl& u, const Rule* rule, std::string& out) {
  out.assign(u.path);
  if (!u.keyQuery.empty()) {
    out.push_back('?');
    out.append(u.keyQuery);
  }
  if (!rule || rule->forwardCredentialParams.empty()) return;
  std::string_view creds = u.credentialQuery;
  while (!creds.empty()) {
    const size_t amp = creds.find('&');
    const std::string_view element = creds.substr(0, amp);
    const std::string_view name = element.substr(0, element.find('='));
    for (const std::string& wanted : rule->forwardCredentialParams) {
      if (!equalsIgnoreCase(wanted, name)) continue;
      out.push_back(out.find('?') == std::string::npos ? '?' : '&');
      out.append(element);
      break;
    }
    if (amp == std::string_view::npos) break;
    creds.remove_prefix(amp + 1);
  }
}

// The rate-limit bucket (rules' rateLimits, docs/rules.md): none for an exempt path or when limiting is off;
// requests that always reach the origin past the cache (?nocache, ranges passed through) the bypass bucket;
// a limited class's requests their class's; everything else — endpoints of the worker's own included — the
// default bucket.
uint32_t rateBucketFor(const RateLimitConfig& rl, const Decision& d, std::string_view path) {
  if (!rl.enabled) return abi::kNone;
  std::string_view p = path;
  if (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  if (std::find(rl.exemptPaths.begin(), rl.exemptPaths.end(), p) != rl.exemptPaths.end()) return abi::kNone;
  for (const std::string& prefix : rl.exemptPrefixes)
    if (p == prefix || (p.size() > prefix.size() && p.substr(0, prefix.size()) == prefix && p[prefix.size()] == '/'))
      return abi::kNone;
  const auto has = [](const std::optional<RateLimitWindows>& w) { return w && w->limited(); };
  const bool bypass = d.hasFlag(DecisionFlag::BypassParam) || d.reason == Reason::RangeRequest;
  if (bypass && has(rl.bypass)) return abi::kRateBucketBypass;
  if (d.classIndex != abi::kNone) {
    // A class listed without a window is explicitly not limited.
    for (const auto& [index, windows] : rl.classes)
      if (index == d.classIndex) return windows.limited() ? abi::kRateBucketFirstClass + d.classIndex : abi::kNone;
  }
  return has(rl.defaultLimits) ? abi::kRateBucketDefault : abi::kNone;
}

void decideAction(const PolicyContext& ctx, const RequestFacts& facts, Decision& out);

}  // namespace

void decideRequest(const PolicyContext& ctx, const RequestFacts& facts, Decision& out) {
  decideAction(ctx, facts, out);
  if (out.action == Action::Reject || out.localRoute == LocalRoute::Preflight) return;
  if (out.originTarget == facts.target) out.setFlag(DecisionFlag::OriginTargetUnchanged);
  // A verdict of the origin on a credential covers what one origin decision covers: the rule, or for a request
  // no rule matched, its key alone (never "every unmatched path"; a request without a key gets no scope).
  if (out.ruleIndex == abi::kNone) out.setFlag(DecisionFlag::AuthScopeKey);
  out.rateBucket = ctx.rateLimitsSwitchedOff ? abi::kNone : rateBucketFor(ctx.rules.rateLimits, out, out.url.path);
  if (out.action == Action::ServeLocal) return;
  const DownstreamDecision downstream = decideDownstream(ctx, out);
  out.downstream = downstream.flags;
  out.browserTtlS = downstream.browserTtlS;
}

namespace {
void decideAction(const PolicyContext& ctx, const RequestFacts& facts, Decision& out) {
  out.action = Action::Bypass;
  out.reason = Reason::None;
  out.httpStatus = 0;
  out.localRoute = LocalRoute::None;
  out.classIndex = abi::kNone;
  out.ruleIndex = abi::kNone;
  out.ttlS = out.staleWhileRevalidateS = out.staleIfErrorS = out.negativeTtlS = 0;
  out.tiers = 0;
  out.flags = 0;
  out.marketSession = 0;
  out.key.clear();
  out.originTarget.clear();
  out.tags.clear();
  out.rangeFirst = out.rangeLast = out.rangeSuffix = abi::kNone;
  out.rateBucket = abi::kNone;
  out.downstream = 0;
  out.browserTtlS = 0;
  out.originIndex = abi::kNone;

  const RulesConfig& rules = ctx.rules;
  if (facts.totalHeaderBytes > rules.limits.maxHeaderBytes) return reject(out, 431, Reason::HeadersTooLarge);
  if (facts.method == 0) return reject(out, 405, Reason::MethodUnsupported);

  UrlOptions opts;
  opts.bypassParam = rules.keys.bypassParam;
  opts.ignoredParams = rules.keys.ignoredParams;
  opts.credentialParams = rules.keys.credentialParams;
  opts.maxUrlBytes = rules.limits.maxUrlBytes;
  if (UrlError error = normalizeRequestTargetInto(facts.target, opts, out.url); error != UrlError::None) {
    return reject(out, error == UrlError::TooLong ? 414 : 400, reasonForUrlError(error));
  }
  // Below the mount, everything (rules, keys, the worker's own endpoints, the origin target) sees the path as the
  // origin knows it. Decided on the normalised path, so "/cach%65/x" is inside and "/cache%2Fx" outside.
  const MountConfig& mount = ctx.mount;
  const bool mountRefused = !mount.problem.empty();
  if (!mountRefused && !stripMountPrefix(mount.prefix, out.url.path)) return reject(out, 404, Reason::MountOutsidePrefix);
  const NormalizedUrl& u = out.url;
  out.originTarget = u.path;
  if (!u.originQuery.empty()) {
    out.originTarget.push_back('?');
    out.originTarget.append(u.originQuery);
  }
  if (u.bypassRequested) out.setFlag(DecisionFlag::BypassParam);
  if (carriesCredentials(ctx, facts, u)) out.setFlag(DecisionFlag::Credentials);
  if (authExempt(ctx, u.path)) out.setFlag(DecisionFlag::AuthExempt);
  if (facts.has(RequestHeader::IfNoneMatch) || facts.has(RequestHeader::IfModifiedSince)) {
    out.setFlag(DecisionFlag::Conditional);
  }
  if (clientAsksNoCache(facts)) out.setFlag(DecisionFlag::ClientNoCache);

  if (facts.method == bit(Method::Options) && facts.has(RequestHeader::Origin) &&
      facts.has(RequestHeader::AccessControlRequestMethod)) {
    out.action = Action::ServeLocal;
    out.localRoute = LocalRoute::Preflight;
    out.reason = Reason::LocalPreflight;
    out.httpStatus = 204;
    return;
  }
  if (decideLocalRoute(u.path, facts.method, out)) return;
  if (mountRefused) return reject(out, 503, Reason::MountInvalid);

  const bool isGet = facts.method == bit(Method::Get);
  const bool isHead = facts.method == bit(Method::Head);
  if (!isGet && !isHead) {
    // Upstream routes are read only: nothing is passed through to an upstream (it would spend its quota uncached).
    if (routesToUpstream(ctx, u.path)) return reject(out, 405, Reason::UpstreamMethodNotAllowed);
    out.reason = Reason::MethodNotCacheable;
    return;
  }
  if (isHead) out.setFlag(DecisionFlag::Head);
  // One byte range of a GET is served from the stored complete response; several ranges or another unit go
  // to the origin as they are. HEAD ignores Range (RFC 9110 §14.2).
  if (facts.has(RequestHeader::Range) && isGet) {
    const std::optional<ByteRangeSpec> range = tryParseSingleByteRange(facts.header(RequestHeader::Range));
    // An upstream route answers several ranges with the whole response (RFC 9110 §14.2 lets a server ignore
    // Range): a pass-through would reach the upstream uncounted.
    if (!range && !routesToUpstream(ctx, u.path)) {
      out.reason = Reason::RangeRequest;
      return;
    }
    const auto clamp = [](uint64_t v) { return static_cast<uint32_t>(std::min<uint64_t>(v, abi::kNone - 1)); };
    if (range) {
      out.setFlag(DecisionFlag::Range);
      if (range->suffixLength) {
        out.rangeSuffix = clamp(*range->suffixLength);
      } else {
        out.rangeFirst = clamp(range->first);
        if (range->last) out.rangeLast = clamp(*range->last);
      }
    }
  }

  // Rules are matched as GET: HEAD is answered from GET entries.
  Captures captures;
  const Rule* rule = matchRule(rules, bit(Method::Get), u.path, captures);
  uint32_t classIndex = rules.defaultClassIndex;
  Reason reason = Reason::DefaultFollowOrigin;
  if (rule) {
    out.ruleIndex = static_cast<uint32_t>(rule - rules.rules.data());
    classIndex = rule->classIndex;
    reason = Reason::RuleClass;
    if (!rule->pastDateParam.empty()) {
      // Captures come from the normalised path, where escaped digits and '-' are already decoded: an
      // escape left in one is some other byte, and no date, so the capture is parsed as it is.
      const std::optional<market::CivilDate> date = tryParseDateParam(captures.get(rule->pastDateParam));
      if (date) {
        const market::MarketState& state = ctx.marketStateMemo.at(facts.nowMs);
        const market::CivilDate today = state.marketDate;
        if (*date < today) {
          // A date is decided past only inside the calendar's coverage (a clock far off could make today's
          // data look final): otherwise the rule's own class applies. A date before a covered today is
          // bounded by the coverage's start only.
          if (!state.covered || *date < market::kCoverageFirst) {
            reason = Reason::RuleDateOutsideCalendar;
          } else {
            classIndex = rule->pastClassIndex;
            reason = Reason::RulePastDate;
            out.setFlag(DecisionFlag::PastDate);
            // Within the last N trading days (and the closed days since): as final as any past date, but a
            // frontend asks for ranges ending at the previous close for about a day only, so the rule may
            // keep them out of tiers with scarce writes (KV).
            if (rule->recentTradingDays > 0 &&
                *date >= ctx.tradingDaysBeforeMemo.nthBefore(today, rule->recentTradingDays)) {
              classIndex = rule->recentClassIndex;
              reason = Reason::RuleRecentPastDate;
            }
          }
        }
      }
    }
  }
  if (classIndex >= rules.classes.size()) {
    out.reason = Reason::DefaultNotCached;
    return;
  }
  const TtlClass& cls = rules.classes[classIndex];
  applyClass(cls, classIndex, out);
  const bool upstream = rule && rule->originIndex != Rule::kNoOrigin;
  if (cls.ttlS == 0 && !cls.followOrigin) {
    out.reason = reason == Reason::RuleDateOutsideCalendar ? reason
                 : rule                                    ? Reason::RuleNotCached
                                                           : Reason::DefaultNotCached;
    // An upstream route's uncached class still goes through the fetch path below: the quota counts its calls.
    if (!upstream) return;
    reason = out.reason;
  }
  if (!rule) reason = cls.followOrigin ? Reason::DefaultFollowOrigin : Reason::RuleClass;
  if (cls.followOrigin) out.setFlag(DecisionFlag::FollowOrigin);

  if (cls.marketAware) {
    MarketTtl mt = marketAwareTtl(ctx.marketStateMemo.at(facts.nowMs), facts.nowMs, cls.ttlS, cls.closedMaxTtlS,
                                  rules.market.extendedHours);
    out.ttlS = mt.ttlS;
    out.marketSession = static_cast<uint32_t>(mt.session) + 1;
    if (mt.reason != Reason::MarketOpen && mt.reason != Reason::MarketOutsideCalendar) {
      out.setFlag(DecisionFlag::MarketClosedTtl);
    }
    // Why a past date did not decide the class says more than the session does.
    if (reason != Reason::RuleDateOutsideCalendar) reason = mt.reason;
  }
  out.reason = reason;

  // The key: the origin (never the request's Host), the normalised path and filtered query, and the
  // values of the request headers this rule varies on. Nothing else a client sends can change it.
  std::array<std::pair<std::string_view, std::string_view>, abi::kReqHeaderSlots> vary{};
  size_t varyCount = 0;
  if (rule) {
    const auto& slots = ctx.ruleVarySlots[out.ruleIndex];
    for (size_t i = 0; i < slots.size() && varyCount < vary.size(); ++i) {
      vary[varyCount++] = {rule->varyHeaders[i], facts.headerValues[slots[i]]};
    }
  }
  // An upstream route's key starts with the upstream's origin and holds the query the upstream is asked for: the
  // client's value of the credential parameter is in neither.
  std::string_view keyBase = ctx.originBase;
  std::string_view keyQuery = u.keyQuery;
  if (upstream) {
    out.originIndex = rule->originIndex;
    if (!upstreamReady(ctx, rule->originIndex)) return reject(out, 503, Reason::UpstreamSecretMissing);
    if (ctx.authMode == PolicyContext::AuthMode::Origin) {
      if (!rules.origins[rule->originIndex].publicAccess) return reject(out, 503, Reason::UpstreamNoJudge);
      out.setFlag(DecisionFlag::AuthExempt);
    }
    keyQuery = buildUpstreamTarget(rules.origins[rule->originIndex], *rule, captures, u, out.originTarget);
    keyBase = ctx.upstreams[rule->originIndex].keyBase;
  }
  KeyParts parts{keyBase, u.path, keyQuery, std::span(vary.data(), varyCount)};
  if (buildCacheKeyInto(parts, rules.keys.maxKeyBytes, out.key)) out.setFlag(DecisionFlag::KeyHashed);
  if (rule) expandTags(*rule, captures, out.tags);

  out.action = u.bypassRequested ? Action::Refresh : Action::Lookup;
  if (u.bypassRequested) out.reason = Reason::BypassParam;
  if (!upstream) cacheableOriginTarget(u, rule, out.originTarget);
}
}  // namespace

}  // namespace edge_cache
