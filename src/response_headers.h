#pragma once
// Which of an origin response's header fields the worker stores with an entry and which it forwards to the
// client (RFC 9111 §3.1, RFC 9110 §7.6.1). A shared cache keeps every end-to-end field it received; it drops
// hop-by-hop fields, the fields the Connection field lists, and the fields the worker sets itself; a qualified
// `private="f"` / `no-cache="f"` keeps the response storable without the named fields.
#include <cstdint>
#include <string_view>
#include <vector>

#include "cache_control.h"
#include "header_fields.h"

namespace edge_cache {

// Bit set per field; same values as abi::HeaderDisposition.
enum HeaderDispositionBit : uint8_t { kHeaderForward = 1, kHeaderStore = 2 };

struct ResponseHeaderOptions {
  // The origin's body object reaches the client as is (a pass-through): the runtime encodes it again per
  // Content-Encoding, which must go with it. Buffered bodies are stored and sent decoded, so it is dropped.
  bool keepContentEncoding = false;
};

struct ResponseHeaderPlan {
  std::vector<uint8_t> dispositions;  // one HeaderDispositionBit set per input field, in input order
  uint32_t storedBytes = 0;           // name + value bytes of the fields to store
  uint32_t storedCount = 0;
  bool addDate = false;               // the origin sent no valid Date: the cache adds one (RFC 9110 §6.6.1)
};

// Why a field is never forwarded nor stored, as a short stable name, or "" when it passes. Exposed for tests
// and the explain tool.
std::string_view droppedFieldReason(std::string_view lowerName);

// cc: the response's parsed Cache-Control (for the qualified private / no-cache field names).
void planResponseHeaders(const HeaderFields& fields, const CacheControl& cc, const ResponseHeaderOptions& options,
                         ResponseHeaderPlan& out);

// The Connection field's listed names, lower-cased (from every Connection field present).
std::vector<std::string> connectionListedNames(const HeaderFields& fields);

}  // namespace edge_cache
