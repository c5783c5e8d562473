#pragma once
// A 304 (Not Modified) that the origin sent to the worker's own conditional request: does it validate the
// stored entry (RFC 9111 §4.3.4), and what are the entry's header fields afterwards (§3.2).
#include <string_view>

#include "cache_control.h"
#include "header_fields.h"

namespace edge_cache {

enum class NotModifiedMatch : uint32_t {
  Matches = 0,          // the 304 is about the stored response: freshen it
  EtagMismatch = 1,     // the 304 names another representation: the stored one must not be freshened
  LastModifiedMismatch = 2,
};

// The 304's validators against the stored ones. A strong ETag in the 304 must equal a strong stored ETag; a weak
// one must match the stored ETag weakly; without an ETag, a Last-Modified in the 304 must equal the stored one.
// A 304 without validators answers the conditional request the worker built from this entry: it matches.
NotModifiedMatch matchNotModified(const StoredHeaders& stored, const HeaderFields& notModified);

// The stored fields updated with the 304's (§3.2): each storable field of the 304 replaces the stored fields of
// that name (in the first one's place), new names are appended. Fields the cache never stores (hop-by-hop, those
// the 304's Connection lists, the worker's own, Content-Length) are not taken, and neither is Content-Encoding:
// the stored body is decoded. `notModifiedCc` is the 304's parsed Cache-Control (qualified private / no-cache
// field names are not taken either).
StoredHeaders mergeNotModified(const StoredHeaders& stored, const HeaderFields& notModified,
                               const CacheControl& notModifiedCc);

}  // namespace edge_cache
