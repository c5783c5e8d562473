#include "response_headers.h"

#include <algorithm>

#include "header_list.h"
#include "http_date.h"

namespace edge_cache {
namespace {

struct Dropped {
  std::string_view name;
  std::string_view reason;
};

// Fields that never reach the client from the origin's response, nor an entry. Sorted by name is not needed:
// the list is short and only the miss path reads it.
constexpr Dropped kDropped[] = {
    // Hop-by-hop (RFC 9110 §7.6.1): they describe one connection, not the response.
    {"connection", "hop-by-hop"}, {"keep-alive", "hop-by-hop"}, {"proxy-connection", "hop-by-hop"},
    {"proxy-authenticate", "hop-by-hop"}, {"proxy-authorization", "hop-by-hop"}, {"te", "hop-by-hop"},
    {"trailer", "hop-by-hop"}, {"transfer-encoding", "hop-by-hop"}, {"upgrade", "hop-by-hop"},
    // Like Proxy-Authenticate, it concerns the proxy the response came through: never stored (RFC 9111 §3.1).
    {"proxy-authentication-info", "hop-by-hop"},
    // The runtime frames the body itself.
    {"content-length", "framing"},
    // Set by the worker on every response it answers (an origin's value would contradict the worker's).
    {"age", "worker-owned"}, {"cache-status", "worker-owned"}, {"cache-age", "worker-owned"},
    {"x-cache-tier", "worker-owned"}, {"x-cache-reason", "worker-owned"}, {"x-cache-key", "worker-owned"},
    {"x-cache-store", "worker-owned"}, {"x-worker-version", "worker-owned"},
    {"x-worker-environment", "worker-owned"},
    // Targeted at Cloudflare's caches (RFC 9213): consumed here. What Cloudflare's cache in front of the
    // worker may keep is the worker's decision (Workers Cache), not a copy of the origin's instructions to it.
    // CDN-Cache-Control goes on to caches downstream, as RFC 9213 §2 expects of a CDN.
    {"cloudflare-cdn-cache-control", "targeted-at-this-cache"},
};

bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && equalsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

bool listed(const std::vector<std::string>& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return equalsIgnoreCase(n, name); });
}

}  // namespace

std::string_view droppedFieldReason(std::string_view name) {
  for (const Dropped& d : kDropped)
    if (equalsIgnoreCase(d.name, name)) return d.reason;
  // The worker answers CORS itself (cors.js); Cloudflare's own fields from an origin behind Cloudflare
  // describe that hop.
  if (startsWithIgnoreCase(name, "access-control-")) return "worker-owned-cors";
  if (startsWithIgnoreCase(name, "cf-")) return "cloudflare-hop";
  return "";
}

std::vector<std::string> connectionListedNames(const HeaderFields& fields) {
  std::vector<std::string> names;
  for (const HeaderField& f : fields) {
    if (!equalsIgnoreCase(f.name, "connection")) continue;
    HeaderList list = parseHeaderList(f.value);
    for (std::string& n : list.names) names.push_back(std::move(n));
  }
  return names;
}

void planResponseHeaders(const HeaderFields& fields, const CacheControl& cc, const ResponseHeaderOptions& options,
                         ResponseHeaderPlan& out) {
  out.dispositions.assign(fields.size(), 0);
  out.storedBytes = 0;
  out.storedCount = 0;
  const std::vector<std::string> connectionListed = connectionListedNames(fields);
  const std::vector<std::string> privateFields =
      cc.privateQualified && !cc.privateWhole ? parseHeaderList(cc.privateFields).names : std::vector<std::string>{};
  const std::vector<std::string> noCacheFields =
      cc.noCacheQualified && !cc.noCacheWhole ? parseHeaderList(cc.noCacheFields).names : std::vector<std::string>{};
  bool validDate = false;
  for (size_t i = 0; i < fields.size(); ++i) {
    const HeaderField& f = fields[i];
    if (!droppedFieldReason(f.name).empty() || listed(connectionListed, f.name)) continue;
    if (equalsIgnoreCase(f.name, "content-encoding")) {
      if (options.keepContentEncoding) out.dispositions[i] = kHeaderForward;
      continue;
    }
    uint8_t d = kHeaderForward | kHeaderStore;
    // Per-client fields: forwarded to the client that caused the fetch, never kept for others.
    if (equalsIgnoreCase(f.name, "set-cookie") || equalsIgnoreCase(f.name, "set-cookie2") ||
        listed(privateFields, f.name) || listed(noCacheFields, f.name)) {
      d = kHeaderForward;
    }
    if (equalsIgnoreCase(f.name, "date")) {
      if (validDate || !tryParseHttpDateAnyCase(f.value)) {
        // A second or unparsable Date is not kept: the cache adds a valid one.
        continue;
      }
      validDate = true;
    }
    out.dispositions[i] = d;
    if (d & kHeaderStore) {
      out.storedBytes += static_cast<uint32_t>(std::min<size_t>(f.name.size() + f.value.size(), UINT32_MAX / 2));
      ++out.storedCount;
    }
  }
  out.addDate = !validDate;
}

}  // namespace edge_cache
