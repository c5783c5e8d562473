#pragma once
// Upstream APIs as data (issue #15): the rules' `origins` section — where each upstream lives, which secret
// authenticates the worker to it and where that secret goes, its quota, and which 200 bodies are errors in
// disguise. Filled by upstream_loader from the rules file (format: docs/rules.md, "Origins"); read by the request
// policy (which origin a rule's requests go to), upstream_quota (whether a call fits the budget) and
// upstream_body (which bodies are errors). Secret VALUES never appear here: only their names.
#include <cstdint>
#include <string>
#include <vector>

namespace edge_cache {

// Where the secret goes on the upstream request: a query parameter (FMP's `apikey`) or a header field
// (NewsAPI's `X-Api-Key`). The shim reads env[secret] and adds it there, and nowhere else.
struct UpstreamCredential {
  enum class Place : uint32_t { None = 0, Query = 1, Header = 2 };
  Place place = Place::None;
  std::string name;    // the parameter as written, or the header field name in lower case
  std::string secret;  // the worker secret (env var) holding the value: "FMP_API_KEY"
  std::string prefix;  // header credentials only: text before the value ("Bearer ")
};

// The clock the day budget follows: the upstream's own day. Only zones the core can compute without a tz
// database are accepted (market_calendar.h knows New York's DST rules).
enum class QuotaDayZone : uint32_t { Utc = 0, NewYork = 1 };

// Calls per window; 0 = that window is not limited. A call is one upstream request, whatever its answer.
struct UpstreamQuota {
  uint32_t perMinute = 0;
  uint32_t perDay = 0;
  QuotaDayZone dayZone = QuotaDayZone::Utc;
  // The last `reserve` calls of a day are for user-facing misses only: background refreshes
  // (stale-while-revalidate) and cron warming stop before them. Default: a tenth of perDay, rounded up.
  uint32_t reserve = 0;
  bool limited() const { return perMinute > 0 || perDay > 0; }
};

struct UpstreamOrigin {
  std::string name;  // "fmp": the id rules refer to, and the one metrics and logs use
  std::string url;   // "https://financialmodelingprep.com/api": the origin target is appended to it
  UpstreamCredential credential;
  UpstreamQuota quota;
  uint32_t timeoutMs = 0;  // 0: ORIGIN_TIMEOUT_MS
  // Top-level JSON keys that make a 200 an upstream error ("Information", "Note", "Error Message").
  std::vector<std::string> errorBodyKeys;
  // With AUTH_MODE=origin the judge of a client's credential is BACKEND_URL — but an upstream never sees the
  // client's credential (only the worker's key), so it accepts everyone: it cannot judge. Such routes are
  // refused (503) in that mode unless the rules declare the upstream's data public (`"public": true`): then
  // they are answered without credentials, as AUTH_EXEMPT_PATHS are. Other modes are unaffected (none: public
  // anyway; jwt: the worker verifies the token on every route).
  bool publicAccess = false;
};

// What the worker's configuration adds to an origin (upstream_setup.h): the URL in force — the rules' url, or
// the ORIGIN_URLS var's for local development and tests — the base of its cache keys, and whether its secret
// is set (a name-only fact: the value never enters the core).
struct UpstreamRuntime {
  std::string url;
  std::string keyBase;  // scheme://host[:port] of `url`, as BACKEND_URL's origin is for the backend's keys
  bool urlOverridden = false;
  bool secretPresent = true;
};

}  // namespace edge_cache
