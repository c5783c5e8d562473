#pragma once
// Which stored responses an unsafe request makes obsolete (RFC 9111 §4.4). After a non-error response
// (2xx or 3xx) to POST, PUT, PATCH or DELETE, the cache invalidates the target URI, and the URIs in the
// response's Location and Content-Location fields when their host is the target's own (a response must not be
// able to evict another site's entries). The result is purge records: the shim runs them through the purge
// machinery, so every tier and every isolate drops the entries.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy_context.h"

namespace edge_cache {

struct InvalidationFacts {
  uint32_t method = 0;            // abi::Method
  uint32_t status = 0;            // the origin's final status
  std::string_view target;        // the request's raw request-target ("/path?query"), as the client sent it (with
                                  // MOUNT_PATH's prefix: the origin's Location paths are put under it)
  std::string_view requestHost;   // the host the client addressed (the worker's own), lower-case, no port
  std::string_view location;      // "" when absent
  std::string_view contentLocation;
  int64_t nowMs = 0;              // for rules whose class depends on the date
};

struct PurgeRecord {
  enum class Kind : uint32_t { Key = 0, Prefix = 1 };
  Kind kind = Kind::Key;
  std::string value;
};

enum class InvalidationReason : uint32_t {
  None = 0,        // the records are the entries to drop
  SafeMethod = 1,  // GET, HEAD, OPTIONS never invalidate
  ErrorStatus = 2, // the origin refused or failed: nothing changed
};

struct InvalidationResult {
  InvalidationReason reason = InvalidationReason::None;
  std::vector<PurgeRecord> records;
};

// The host of an absolute URI ("http://Host:8080/x" -> "host"), or "" for a relative reference.
std::string hostOfUri(std::string_view uri);

// The origin-form target a Location / Content-Location value names, resolved against the request's target
// (RFC 3986 §5.2 for the forms origins send: absolute, network-path, absolute-path, relative-path); "" when it
// names another host or cannot be resolved.
std::string sameHostTarget(std::string_view reference, std::string_view requestTarget, std::string_view requestHost,
                           std::string_view originHost);

InvalidationResult decideInvalidation(const PolicyContext& ctx, const InvalidationFacts& facts);

}  // namespace edge_cache
