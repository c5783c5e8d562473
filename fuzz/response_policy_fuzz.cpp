// Fuzzes the store verdict over an origin response's whole field list (response_policy decideResponse, with
// response_headers' field plan) and the 304 path (not_modified matchNotModified / mergeNotModified), against the
// shipped rules and a followOrigin catch-all with heuristics, keyed and shared rules.
// The input describes the request's decision (a real one for a target from a list, or raw values), the status,
// the times, the body size and the fields (names and values from lists of the interesting ones, in any case, or
// raw bytes); the first `split` fields double as a stored entry's fields and the rest as a 304's.
// Invariants:
//   plan       one disposition per field; Store implies Forward; storedBytes / storedCount are the sums over the
//              Store fields; hop-by-hop fields (RFC 9110 §7.6.1), those any Connection field names and
//              Content-Length are never forwarded nor stored; Set-Cookie never gets Store; at most one valid Date
//              is kept, and addDate exactly when none is; Content-Encoding is forwarded only for a pass-through.
//   verdict    deterministic; a refused response has a refusal reason, ttl 0, no stale windows, no tiers and no
//              variant fields; a stored one has a store reason, tiers within the decision's (or class's), a final
//              status other than 206/304, fits maxBodyBytes and the envelope's header count; the Age it reports
//              is at least the origin's Age; a response with Set-Cookie is stored only when a cache-control
//              field names set-cookie; a credentialed request's response is stored only on a shared rule or with
//              public / s-maxage / must-revalidate in some cache-control field (RFC 9111 §3.5), and never
//              when the same response to an anonymous request is not; StoreToRevalidate keeps a validator, ttl 0,
//              memory only; variant names are lower-case tokens the rule does not key on, not Accept-Encoding;
//              a stored response is shareable.
//   304        a 304 without validators matches; a matching ETag is a weak match and never a strong 304 for a
//              weak stored tag; a stored valid ETag sent back matches; the merge keeps every stored field the 304
//              does not replace, in order, and takes exactly the 304's storable fields, in order per name.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "abi/abi_codec.h"
#include "cache_control.h"
#include "conditional_request.h"
#include "embedded_rules.h"
#include "entry_envelope.h"
#include "fuzz_support.h"
#include "header_fields.h"
#include "http_date.h"
#include "not_modified.h"
#include "policy_setup.h"
#include "request_policy.h"
#include "response_age.h"
#include "response_headers.h"
#include "response_policy.h"

using namespace edge_cache;
using abi::DecisionFlag;
using abi::ResponseHeader;

namespace {

constexpr int64_t kNowMs = 1795446000000;  // Mon 2026-11-23 10:00 New York

const PolicySetup& setupFor(bool shipped) {
  static const PolicySetup shippedSetup =
      setupPolicy(R"({"originBase": "https://api.example.com", "shards": 4})", embedded::kRulesJson);
  static const PolicySetup followSetup = [] {
    const char* rules = R"({"version": 1,
      "classes": {
        "ORIGIN": {"followOrigin": true, "heuristicMaxTtl": "7d", "negativeTtl": "1m", "staleWhileRevalidate": "30s",
                   "staleIfError": "1h", "staleIfUnreachable": "2h", "tiers": ["memory", "edge", "do"]},
        "PAGE": {"ttl": "1h", "negativeTtl": "1m", "staleIfError": "1d", "tiers": ["memory", "edge"]},
        "NONE": {"ttl": 0}
      },
      "default": "ORIGIN",
      "keys": {"credentialParams": ["apiKey"], "credentialCookies": ["sessionid"]},
      "rules": [
        {"name": "localized", "path": "/pages/*", "class": "PAGE", "vary": ["accept-language"]},
        {"name": "shared", "path": "/shared/*", "class": "ORIGIN", "sharedAcrossCredentials": true, "vary": ["accept"]},
        {"name": "none", "path": "/none/*", "class": "NONE"}
      ]})";
    nlohmann::json cfg = {{"originBase", "https://api.example.com"}, {"shards", 4}, {"rules", rules}};
    return setupPolicy(cfg.dump(), embedded::kRulesJson);
  }();
  const PolicySetup& s = shipped ? shippedSetup : followSetup;
  FUZZ_CHECK(s.status == abi::ConfigureStatus::Ok);
  return s;
}

constexpr std::string_view kTargets[] = {
    "/v3/reference/tickers/AAPL", "/v2/last/trade/AAPL", "/v9/unknown?a=1",    "/pages/a",
    "/shared/x",                  "/none/y",             "/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-19",
    "/v3/reference/tickers/types?apiKey=k"};

constexpr std::string_view kNames[] = {
    "cache-control", "cdn-cache-control", "cloudflare-cdn-cache-control", "expires", "date", "age", "etag",
    "last-modified", "vary", "set-cookie", "set-cookie2", "pragma", "content-range", "connection", "keep-alive",
    "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
    "content-length", "content-encoding", "content-type", "location", "x-custom", "x-secret", "cache-status", "cf-ray",
    "access-control-allow-origin", "proxy-authentication-info", "x-cache-key"};

constexpr std::string_view kValues[] = {
    "max-age=60", "public, max-age=60", "s-maxage=30", "private", "private=\"x-secret, set-cookie\"",
    "no-cache=\"set-cookie\"", "no-cache", "no-store", "must-understand, no-store", "must-revalidate", "max-age=0",
    "stale-while-revalidate=30, stale-if-error=60", "max-age=?1", "Mon, 23 Nov 2026 15:00:00 GMT",
    "mon, 23 nov 2026 14:00:00 gmt", "Thu, 01 Jan 1970 00:00:00 GMT", "Sun, 01 Nov 2026 00:00:00 GMT",
    "\"v1\"", "W/\"v1\"", "\"v2\"", "7200, 0", "5", "*", "accept-language", "accept, x-tenant", "accept-encoding",
    "x-custom, x-secret", "keep-alive, x-custom", "sessionid=1", "bytes 0-1/2", "close", "chunked", "gzip", "",
    "Set-Cookie", "x-custom"};

std::string mixCase(std::string_view s, uint32_t pattern) {
  std::string out(s);
  for (size_t i = 0; i < out.size(); ++i)
    if ((pattern >> (i % 32)) & 1 && out[i] >= 'a' && out[i] <= 'z') out[i] = static_cast<char>(out[i] - 'a' + 'A');
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}
bool same(std::string_view a, std::string_view b) { return lower(a) == lower(b); }
bool isTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 §7.6.1: Connection's options, and the hop-by-hop fields a proxy never forwards.
std::vector<std::string> connectionOptions(const HeaderFields& fields) {
  std::vector<std::string> out;
  for (const HeaderField& f : fields) {
    if (!same(f.name, "connection")) continue;
    std::string_view v = f.value;
    while (true) {
      const size_t comma = v.find(',');
      const std::string_view element = trim(v.substr(0, comma));
      if (!element.empty() && std::all_of(element.begin(), element.end(), isTokenChar)) out.push_back(lower(element));
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return out;
}
bool neverPassed(std::string_view name, const std::vector<std::string>& options) {
  static constexpr std::string_view kHopByHop[] = {"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
                                                   "proxy-authorization", "te", "trailer", "transfer-encoding",
                                                   "upgrade", "content-length"};
  const std::string n = lower(name);
  return std::find(std::begin(kHopByHop), std::end(kHopByHop), n) != std::end(kHopByHop) ||
         std::find(options.begin(), options.end(), n) != options.end();
}

void checkPlan(const HeaderFields& fields, const ResponseHeaderPlan& plan, bool keepContentEncoding) {
  FUZZ_CHECK(plan.dispositions.size() == fields.size());
  const std::vector<std::string> options = connectionOptions(fields);
  uint64_t bytes = 0;
  uint32_t count = 0, dates = 0;
  for (size_t i = 0; i < fields.size(); ++i) {
    const uint8_t d = plan.dispositions[i];
    const HeaderField& f = fields[i];
    FUZZ_CHECK((d & ~(kHeaderForward | kHeaderStore)) == 0);
    FUZZ_CHECK(!(d & kHeaderStore) || (d & kHeaderForward));
    if (neverPassed(f.name, options)) FUZZ_CHECK(d == 0);
    if (same(f.name, "set-cookie") || same(f.name, "set-cookie2")) FUZZ_CHECK(!(d & kHeaderStore));
    if (same(f.name, "content-encoding")) FUZZ_CHECK(!(d & kHeaderStore) && (!(d & kHeaderForward) || keepContentEncoding));
    if (same(f.name, "date") && (d & kHeaderStore)) {
      ++dates;
      FUZZ_CHECK(tryParseHttpDateAnyCase(f.value).has_value());
    }
    if (d & kHeaderStore) {
      bytes += f.name.size() + f.value.size();
      ++count;
    }
  }
  FUZZ_CHECK(dates <= 1);
  FUZZ_CHECK(plan.addDate == (dates == 0));
  FUZZ_CHECK(plan.storedCount == count);
  FUZZ_CHECK(plan.storedBytes == bytes);  // inputs here are far below the saturation point
}

bool isStoreReason(Reason r) {
  return r == Reason::StoreRuleTtl || r == Reason::StoreOriginTtl || r == Reason::StoreNegative ||
         r == Reason::StoreHeuristic || r == Reason::StoreToRevalidate;
}

bool sameVerdict(const StoreDecision& a, const StoreDecision& b) {
  return a.storable == b.storable && a.reason == b.reason && a.ttlS == b.ttlS &&
         a.staleWhileRevalidateS == b.staleWhileRevalidateS && a.staleIfErrorS == b.staleIfErrorS && a.tiers == b.tiers &&
         a.staleIfUnreachableS == b.staleIfUnreachableS && a.ageS == b.ageS && a.shareable == b.shareable &&
         a.variantNames == b.variantNames && a.headers.dispositions == b.headers.dispositions &&
         a.headers.storedBytes == b.headers.storedBytes && a.headers.addDate == b.headers.addDate;
}

// Whether any cache-control field (plain or targeted) mentions `word`, case-insensitively.
bool anyCacheControlMentions(const HeaderFields& fields, std::string_view word) {
  for (const HeaderField& f : fields) {
    if (!same(f.name, "cache-control") && !same(f.name, "cdn-cache-control") &&
        !same(f.name, "cloudflare-cdn-cache-control"))
      continue;
    if (lower(f.value).find(word) != std::string::npos) return true;
  }
  return false;
}

// `real`: the facts carry a decision decideRequest made (raw facts may name a class that is not cached with a TTL).
void checkVerdict(const PolicyContext& ctx, const ResponseFacts& f, uint32_t maxBodyBytes, const StoreDecision& d,
                  bool real) {
  checkPlan(f.fields, d.headers, f.keepContentEncoding);
  FUZZ_CHECK(sameVerdict(d, decideResponse(ctx, f, maxBodyBytes)));
  if (!d.storable) {
    FUZZ_CHECK(d.reason != Reason::None && !isStoreReason(d.reason));
    FUZZ_CHECK(d.ttlS == 0 && d.staleWhileRevalidateS == 0 && d.staleIfErrorS == 0 && d.staleIfUnreachableS == 0);
    FUZZ_CHECK(d.tiers == 0 && d.variantNames.empty());
    if (d.shareable) FUZZ_CHECK(f.status >= 500 && f.status <= 599);
  } else {
    FUZZ_CHECK(isStoreReason(d.reason));
    FUZZ_CHECK(d.shareable);
    FUZZ_CHECK(f.status >= 200 && f.status <= 599 && f.status != 206 && f.status != 304);
    FUZZ_CHECK(!f.streamed);
    FUZZ_CHECK(f.classIndex < ctx.rules.classes.size());
    const uint32_t allowed = f.tiers ? f.tiers : ctx.rules.classes[f.classIndex].tiers;
    FUZZ_CHECK((d.tiers & ~allowed) == 0);
    if (real) FUZZ_CHECK(d.tiers != 0);
    FUZZ_CHECK(d.headers.storedCount <= kEnvelopeMaxHeaders);
    if (maxBodyBytes > 0) {
      const uint64_t body = f.bodyLength == abi::kAbsent ? 0 : f.bodyLength;
      FUZZ_CHECK(body + d.headers.storedBytes <= maxBodyBytes);
    }
    if (f.has(ResponseHeader::SetCookie)) FUZZ_CHECK(anyCacheControlMentions(f.fields, "set-cookie"));
    const bool sharedRule = f.ruleIndex < ctx.rules.rules.size() && ctx.rules.rules[f.ruleIndex].sharedAcrossCredentials;
    if ((f.decisionFlags & static_cast<uint32_t>(DecisionFlag::Credentials)) && !sharedRule) {
      FUZZ_CHECK(anyCacheControlMentions(f.fields, "public") || anyCacheControlMentions(f.fields, "s-maxage") ||
                 anyCacheControlMentions(f.fields, "must-revalidate"));
    }
    if (d.reason == Reason::StoreToRevalidate) {
      FUZZ_CHECK(d.ttlS == 0 && d.tiers == kTierMemory);
      FUZZ_CHECK(f.has(ResponseHeader::ETag) || f.has(ResponseHeader::LastModified));
    }
    if (f.has(ResponseHeader::Vary)) {
      // Vary: * (as the first Vary field lists it) is never stored (RFC 9111 §4.1).
      std::string_view v = f.header(ResponseHeader::Vary);
      while (true) {
        const size_t comma = v.find(',');
        FUZZ_CHECK(trim(v.substr(0, comma)) != "*");
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
      }
    }
    for (const std::string& name : d.variantNames) {
      FUZZ_CHECK(!name.empty() && name == lower(name) && std::all_of(name.begin(), name.end(), isTokenChar));
      FUZZ_CHECK(name != "accept-encoding");
      if (f.ruleIndex < ctx.rules.rules.size()) {
        const auto& keyed = ctx.rules.rules[f.ruleIndex].varyHeaders;
        FUZZ_CHECK(std::find(keyed.begin(), keyed.end(), name) == keyed.end());
      }
      FUZZ_CHECK(std::count(d.variantNames.begin(), d.variantNames.end(), name) == 1);
    }
    FUZZ_CHECK(d.variantNames.size() <= kEnvelopeMaxVariantHeaders);
  }
  if (f.has(ResponseHeader::Age)) {
    if (const auto age = tryParseAge(f.header(ResponseHeader::Age))) FUZZ_CHECK(d.ageS >= *age);
  }
  // RFC 9111 §3.5: credentials only ever take storage away.
  ResponseFacts anonymous = f;
  anonymous.decisionFlags &= ~static_cast<uint32_t>(DecisionFlag::Credentials);
  if (d.storable) FUZZ_CHECK(decideResponse(ctx, anonymous, maxBodyBytes).storable);
}

void checkNotModified(const HeaderFields& storedViews, const HeaderFields& notModified) {
  StoredHeaders stored;
  for (const HeaderField& f : storedViews) stored.emplace_back(std::string(f.name), std::string(f.value));
  const NotModifiedMatch match = matchNotModified(stored, notModified);
  const auto nmEtag = findHeader(notModified, "etag");
  const auto storedEtag = findHeader(stored, "etag");
  if (!nmEtag && !findHeader(notModified, "last-modified")) FUZZ_CHECK(match == NotModifiedMatch::Matches);
  if (match == NotModifiedMatch::Matches && nmEtag) {
    FUZZ_CHECK(storedEtag && etagsMatchWeakly(*nmEtag, *storedEtag));
    const auto weak = [](std::string_view t) { return trim(t).substr(0, 2) == "W/"; };
    FUZZ_CHECK(weak(*nmEtag) || !weak(*storedEtag));
  }
  if (storedEtag && etagsMatchWeakly(*storedEtag, *storedEtag)) {
    const HeaderFields echo = {{"ETag", *storedEtag}};
    FUZZ_CHECK(matchNotModified(stored, echo) == NotModifiedMatch::Matches);
  }

  const auto cc = findHeader(notModified, "cache-control");
  const CacheControl nmCc = parseCacheControl(cc.value_or(""));
  const StoredHeaders merged = mergeNotModified(stored, notModified, nmCc);
  ResponseHeaderPlan plan;
  planResponseHeaders(notModified, nmCc, ResponseHeaderOptions{}, plan);
  std::vector<std::string> taken;  // lower-case names the 304 replaces
  size_t takenCount = 0;
  for (size_t i = 0; i < notModified.size(); ++i) {
    if (!(plan.dispositions[i] & kHeaderStore)) continue;
    ++takenCount;
    const std::string n = lower(notModified[i].name);
    if (std::find(taken.begin(), taken.end(), n) == taken.end()) taken.push_back(n);
  }
  const auto isTaken = [&](std::string_view name) {
    return std::find(taken.begin(), taken.end(), lower(name)) != taken.end();
  };
  std::vector<std::pair<std::string, std::string>> keptBefore, keptAfter;
  for (const auto& f : stored)
    if (!isTaken(f.first)) keptBefore.push_back(f);
  for (const auto& f : merged)
    if (!isTaken(f.first)) keptAfter.push_back(f);
  FUZZ_CHECK(keptBefore == keptAfter);
  for (const std::string& name : taken) {
    std::vector<std::string_view> want, got;
    for (size_t i = 0; i < notModified.size(); ++i)
      if ((plan.dispositions[i] & kHeaderStore) && same(notModified[i].name, name)) want.push_back(notModified[i].value);
    for (const auto& f : merged)
      if (same(f.first, name)) got.push_back(f.second);
    FUZZ_CHECK(want == got);
  }
  FUZZ_CHECK(merged.size() == keptBefore.size() + takenCount);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const bool shipped = in.ConsumeBool();
  const PolicyContext& ctx = setupFor(shipped).ctx;

  ResponseFacts f;
  static constexpr uint32_t kStatuses[] = {100, 101, 103, 199, 200, 203, 204, 206, 300, 301, 302, 304, 307, 308,
                                           404, 405, 410, 414, 500, 501, 502, 503, 599, 600, 999};
  const uint32_t status = in.ConsumeBool() ? kStatuses[in.ConsumeIntegralInRange<size_t>(0, std::size(kStatuses) - 1)]
                                           : in.ConsumeIntegral<uint32_t>();
  const int64_t nowMs = in.ConsumeBool() ? kNowMs + in.ConsumeIntegralInRange<int64_t>(-(int64_t{1} << 40), int64_t{1} << 40)
                                         : abi::msFromDouble(in.ConsumeFloatingPoint<double>());
  const bool real = in.ConsumeBool();
  if (real) {
    // A real decision for a request, as the shim passes it on.
    const std::string_view target = kTargets[in.ConsumeIntegralInRange<size_t>(0, std::size(kTargets) - 1)];
    RequestFacts req;
    req.method = static_cast<uint32_t>(abi::Method::Get);
    req.nowMs = kNowMs;
    req.target = target;
    if (in.ConsumeBool()) req.setHeader(static_cast<uint32_t>(abi::RequestHeader::Authorization), "x");
    Decision decision;
    decideRequest(ctx, req, decision);
    f = responseFactsFor(decision, status, nowMs);
  } else {
    f.status = status;
    f.nowMs = nowMs;
    f.classIndex = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(0, 12) : abi::kNone;
    f.ruleIndex = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(0, 20) : abi::kNone;
    f.decisionFlags = in.ConsumeIntegral<uint32_t>();
    f.ttlS = in.ConsumeIntegral<uint32_t>();
    f.staleWhileRevalidateS = in.ConsumeIntegral<uint32_t>();
    f.staleIfErrorS = in.ConsumeIntegral<uint32_t>();
    f.negativeTtlS = in.ConsumeIntegral<uint32_t>();
    f.tiers = in.ConsumeIntegralInRange<uint32_t>(0, 15);
  }
  if (in.ConsumeBool()) f.decisionFlags ^= static_cast<uint32_t>(DecisionFlag::Credentials);
  f.requestTimeMs = in.ConsumeBool() ? 0 : nowMs - in.ConsumeIntegralInRange<int64_t>(-100000, 100000);
  f.bodyLength = in.ConsumeBool() ? abi::kAbsent : in.ConsumeIntegralInRange<uint32_t>(0, 1 << 21);
  f.keepContentEncoding = in.ConsumeBool();
  f.streamed = in.ConsumeIntegralInRange<int>(0, 7) == 0;
  const uint32_t maxBodyBytes = in.ConsumeBool() ? 1u << 20 : in.ConsumeIntegralInRange<uint32_t>(0, 4096);

  // Field storage: views must outlive the facts.
  std::vector<std::string> strings;
  const size_t count = in.ConsumeIntegralInRange<size_t>(0, 40);
  strings.reserve(2 * count);
  const uint32_t casePattern = in.ConsumeIntegral<uint32_t>();
  for (size_t i = 0; i < count && in.remaining_bytes() > 0; ++i) {
    strings.push_back(in.ConsumeBool() ? mixCase(kNames[in.ConsumeIntegralInRange<size_t>(0, std::size(kNames) - 1)],
                                                 casePattern >> (i % 8))
                                       : in.ConsumeRandomLengthString(24));
    const std::string& name = strings.back();
    strings.push_back(in.ConsumeBool() ? std::string(kValues[in.ConsumeIntegralInRange<size_t>(0, std::size(kValues) - 1)])
                                       : in.ConsumeRandomLengthString(80));
    f.addField(name, strings.back());
  }

  const StoreDecision d = decideResponse(ctx, f, maxBodyBytes);
  checkVerdict(ctx, f, maxBodyBytes, d, real);

  // The same fields as a stored entry's (the first `split`) and a 304's (the rest).
  const size_t split = f.fields.empty() ? 0 : in.ConsumeIntegralInRange<size_t>(0, f.fields.size());
  const HeaderFields storedPart(f.fields.begin(), f.fields.begin() + split);
  const HeaderFields notModifiedPart(f.fields.begin() + split, f.fields.end());
  checkNotModified(storedPart, notModifiedPart);
  return 0;
}
