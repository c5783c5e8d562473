#pragma once
// An origin that sends interim (1xx) responses before its final one, as seen through workerd's fetch: the local
// runtime returns the first interim head as the response and hands everything after it — further interim heads,
// the final head and the final body, still framed — as that response's body (checked with workerd 1.20260426:
// a 103 Early Hints then a 200 arrives as status 103 with "HTTP/1.1 200 OK\r\n..." as its body). RFC 9110 §15.2:
// a client ignores interim responses it does not use, so the worker reads the final response from those bytes.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "header_fields.h"

namespace edge_cache {

enum class InterimError : uint32_t {
  None = 0,
  NoFinalResponse = 1,  // only interim heads, or bytes that are not an HTTP/1.x response head
  BadHead = 2,          // a status line or field line that does not parse
  BadFraming = 3,       // Content-Length / chunked framing that does not match the bytes
};

struct FinalResponse {
  uint32_t status = 0;
  HeaderFields fields;  // views into the input (framing fields included; the response policy drops them)
  std::string body;     // de-chunked when the head said chunked; empty for 204 and 304
};

struct InterimResult {
  std::optional<FinalResponse> response;
  InterimError error = InterimError::None;
};

// `bytes` is the body workerd returned for an interim response. Skips every further interim head (1xx except
// 101) and parses the final head and body.
InterimResult tryParseFinalResponse(std::string_view bytes);

// Chunked transfer coding (RFC 9112 §7.1): the decoded content, or nullopt when malformed. Chunk extensions
// and trailer fields are ignored.
std::optional<std::string> tryDecodeChunked(std::string_view bytes);

}  // namespace edge_cache
