#include "decision_reason.h"

#include <array>

namespace edge_cache {
namespace {
constexpr std::array<std::string_view, static_cast<size_t>(Reason::Count)> kNames = {
    "none",
    "rule:class",
    "rule:past-date",
    "rule:not-cached",
    "default:follow-origin",
    "default:not-cached",
    "market:open",
    "market:closed-until-open",
    "market:closed-capped",
    "request:nocache",
    "method:not-cacheable",
    "method:unsupported",
    "request:range",
    "local:health",
    "local:preflight",
    "local:admin",
    "url:empty",
    "url:not-origin-form",
    "url:too-long",
    "url:bad-percent-encoding",
    "url:control-character",
    "url:invalid-utf8",
    "url:path-traversal",
    "url:fragment",
    "request:headers-too-large",
    "store:rule-ttl",
    "store:origin-ttl",
    "store:negative",
    "origin:no-store",
    "origin:private",
    "origin:set-cookie",
    "origin:vary-star",
    "origin:vary-unkeyed",
    "origin:no-cache",
    "origin:no-freshness",
    "origin:already-stale",
    "status:not-cacheable",
    "status:negative-not-cached",
    "class:not-cached",
    "status:partial-content",
    "body:too-large",
    "entry:fresh",
    "entry:stale-while-revalidate",
    "entry:stale-if-error",
    "entry:expired",
    "rule:recent-past-date",
    "store:heuristic",
    "store:to-revalidate",
    "entry:too-large",
    "origin:must-understand",
    "origin:status-invalid",
    "credentials:not-shared",
    "entry:variant-mismatch",
    "rule:date-outside-calendar",
    "market:outside-calendar",
    "entry:stale-if-unreachable",
    "mount:outside-prefix",
    "mount:invalid",
    "upstream:secret-missing",
    "upstream:method-not-allowed",
    "upstream:within-quota",
    "upstream:quota-exhausted",
    "upstream:reserve-kept",
    "upstream:quota-unavailable",
    "upstream:error-status",
    "upstream:error-body",
    "upstream:no-judge",
};
}  // namespace

std::string_view reasonName(Reason r) {
  auto i = static_cast<size_t>(r);
  return i < kNames.size() ? kNames[i] : std::string_view("unknown");
}

}  // namespace edge_cache
