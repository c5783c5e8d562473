#pragma once
// A client's conditional GET/HEAD answered from a stored response (RFC 9111 §4.3.2, RFC 9110 §13.1-13.2):
// 304 when the stored response's validators satisfy If-None-Match, or, without If-None-Match, when it has not
// been modified since If-Modified-Since. Only 2xx responses are validated (RFC 9110 §13.2.1).
#include <cstdint>
#include <optional>
#include <string_view>

namespace edge_cache {

// The stored response's validators and times.
struct StoredValidators {
  uint32_t status = 200;
  std::string_view etag;          // "" when none
  std::string_view lastModified;  // "" when none
  std::string_view date;          // "" when none
  int64_t storedAtMs = 0;         // when the response was received
};

// The client's preconditions (nullopt when the field is absent).
struct ClientConditions {
  std::optional<std::string_view> ifNoneMatch;
  std::optional<std::string_view> ifModifiedSince;
};

enum class ConditionalOutcome : uint32_t {
  Unconditional = 0,  // no precondition the cache evaluates: send the stored response
  NotModified = 1,    // answer 304 with the stored response's metadata
  Modified = 2,       // preconditions fail to match: send the stored response (200)
};

// Weak comparison (RFC 9110 §8.8.3.2): opaque-tags equal, either may be weak. Malformed tags never match.
bool etagsMatchWeakly(std::string_view a, std::string_view b);

// If-None-Match (a list of entity-tags, or "*"): true when one of them weakly matches `etag`; "*" matches any
// stored representation. False for a malformed list.
bool ifNoneMatchMatches(std::string_view ifNoneMatch, std::string_view etag);

ConditionalOutcome evaluateClientConditions(const ClientConditions& client, const StoredValidators& stored);

}  // namespace edge_cache
