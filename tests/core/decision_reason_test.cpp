#include "decision_reason.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "url_normalizer.h"

using namespace edge_cache;

namespace {

constexpr uint32_t kCount = static_cast<uint32_t>(Reason::Count);

bool isKebab(std::string_view s) {
  if (s.empty() || s.front() == '-' || s.back() == '-') return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return s.find("--") == std::string_view::npos;
}

}  // namespace

TEST_CASE("reason names: one per code, non-empty, unique, \"prefix:name\"") {
  std::set<std::string_view> seen;
  for (uint32_t i = 0; i < kCount; ++i) {
    const std::string_view name = reasonName(static_cast<Reason>(i));
    CAPTURE(i);
    CAPTURE(name);
    CHECK(!name.empty());
    CHECK(name != "unknown");
    CHECK(seen.insert(name).second);
    // Reason::None is the "no decision yet" sentinel; every real reason names where it comes from.
    if (i == static_cast<uint32_t>(Reason::None)) {
      CHECK(name == "none");
      continue;
    }
    const size_t colon = name.find(':');
    CHECK(colon != std::string_view::npos);
    if (colon == std::string_view::npos) continue;
    CHECK(name.find(':', colon + 1) == std::string_view::npos);
    CHECK(isKebab(name.substr(0, colon)));
    CHECK(isKebab(name.substr(colon + 1)));
  }
  CHECK(seen.size() == kCount);
}

TEST_CASE("reason names: the table is aligned with the enum") {
  // Names are a stable contract (x-cache-reason, logs, the shim's table): pin every one.
  struct Case {
    Reason reason;
    std::string_view name;
  };
  const Case cases[] = {
      {Reason::None, "none"},
      {Reason::RuleClass, "rule:class"},
      {Reason::RulePastDate, "rule:past-date"},
      {Reason::RuleNotCached, "rule:not-cached"},
      {Reason::DefaultFollowOrigin, "default:follow-origin"},
      {Reason::DefaultNotCached, "default:not-cached"},
      {Reason::MarketOpen, "market:open"},
      {Reason::MarketClosedUntilOpen, "market:closed-until-open"},
      {Reason::MarketClosedCapped, "market:closed-capped"},
      {Reason::BypassParam, "request:nocache"},
      {Reason::MethodNotCacheable, "method:not-cacheable"},
      {Reason::MethodUnsupported, "method:unsupported"},
      {Reason::RangeRequest, "request:range"},
      {Reason::LocalHealth, "local:health"},
      {Reason::LocalPreflight, "local:preflight"},
      {Reason::LocalAdmin, "local:admin"},
      {Reason::UrlEmpty, "url:empty"},
      {Reason::UrlNotOriginForm, "url:not-origin-form"},
      {Reason::UrlTooLong, "url:too-long"},
      {Reason::UrlBadPercentEncoding, "url:bad-percent-encoding"},
      {Reason::UrlControlCharacter, "url:control-character"},
      {Reason::UrlInvalidUtf8, "url:invalid-utf8"},
      {Reason::UrlPathTraversal, "url:path-traversal"},
      {Reason::UrlFragment, "url:fragment"},
      {Reason::HeadersTooLarge, "request:headers-too-large"},
      {Reason::StoreRuleTtl, "store:rule-ttl"},
      {Reason::StoreOriginTtl, "store:origin-ttl"},
      {Reason::StoreNegative, "store:negative"},
      {Reason::OriginNoStore, "origin:no-store"},
      {Reason::OriginPrivate, "origin:private"},
      {Reason::OriginSetCookie, "origin:set-cookie"},
      {Reason::OriginVaryStar, "origin:vary-star"},
      {Reason::OriginVaryUnkeyed, "origin:vary-unkeyed"},
      {Reason::OriginNoCache, "origin:no-cache"},
      {Reason::OriginNoFreshness, "origin:no-freshness"},
      {Reason::OriginAlreadyStale, "origin:already-stale"},
      {Reason::StatusNotCacheable, "status:not-cacheable"},
      {Reason::NegativeNotCached, "status:negative-not-cached"},
      {Reason::ClassNotCached, "class:not-cached"},
      {Reason::PartialContent, "status:partial-content"},
      {Reason::BodyTooLarge, "body:too-large"},
      {Reason::EntryFresh, "entry:fresh"},
      {Reason::EntryStaleWhileRevalidate, "entry:stale-while-revalidate"},
      {Reason::EntryStaleIfError, "entry:stale-if-error"},
      {Reason::EntryExpired, "entry:expired"},
      {Reason::RuleRecentPastDate, "rule:recent-past-date"},
      {Reason::StoreHeuristic, "store:heuristic"},
      {Reason::StoreToRevalidate, "store:to-revalidate"},
      {Reason::EntryTooLarge, "entry:too-large"},
      {Reason::OriginMustUnderstand, "origin:must-understand"},
      {Reason::OriginStatusInvalid, "origin:status-invalid"},
      {Reason::CredentialsNotShared, "credentials:not-shared"},
      {Reason::EntryVariantMismatch, "entry:variant-mismatch"},
      {Reason::RuleDateOutsideCalendar, "rule:date-outside-calendar"},
      {Reason::MarketOutsideCalendar, "market:outside-calendar"},
      {Reason::EntryStaleIfUnreachable, "entry:stale-if-unreachable"},
      {Reason::MountOutsidePrefix, "mount:outside-prefix"},
      {Reason::MountInvalid, "mount:invalid"},
      {Reason::UpstreamSecretMissing, "upstream:secret-missing"},
      {Reason::UpstreamMethodNotAllowed, "upstream:method-not-allowed"},
      {Reason::UpstreamWithinQuota, "upstream:within-quota"},
      {Reason::UpstreamQuotaExhausted, "upstream:quota-exhausted"},
      {Reason::UpstreamReserveKept, "upstream:reserve-kept"},
      {Reason::UpstreamQuotaUnavailable, "upstream:quota-unavailable"},
      {Reason::UpstreamErrorStatus, "upstream:error-status"},
      {Reason::UpstreamErrorBody, "upstream:error-body"},
      {Reason::UpstreamNoJudge, "upstream:no-judge"},
  };
  CHECK(std::size(cases) == kCount);  // a new Reason needs a pinned name here
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CHECK(reasonName(c.reason) == c.name);
  }
}

TEST_CASE("reason names: url reasons match the normaliser's error names") {
  // The request policy maps each UrlError to a Reason; both name the same failure the same way.
  struct Case {
    UrlError error;
    Reason reason;
  };
  const Case cases[] = {
      {UrlError::Empty, Reason::UrlEmpty},
      {UrlError::NotOriginForm, Reason::UrlNotOriginForm},
      {UrlError::TooLong, Reason::UrlTooLong},
      {UrlError::BadPercentEncoding, Reason::UrlBadPercentEncoding},
      {UrlError::ControlCharacter, Reason::UrlControlCharacter},
      {UrlError::InvalidUtf8, Reason::UrlInvalidUtf8},
      {UrlError::PathTraversal, Reason::UrlPathTraversal},
      {UrlError::Fragment, Reason::UrlFragment},
  };
  for (const Case& c : cases) {
    CAPTURE(urlErrorName(c.error));
    CHECK(reasonName(c.reason) == urlErrorName(c.error));
  }
}

TEST_CASE("reason names: codes outside the table are \"unknown\", never out of bounds") {
  const uint32_t codes[] = {kCount, kCount + 1, 1000, 0xFFFFFFFFu};
  for (uint32_t code : codes) {
    CAPTURE(code);
    CHECK(reasonName(static_cast<Reason>(code)) == "unknown");
  }
}
