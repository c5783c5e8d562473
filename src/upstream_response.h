#pragma once
// Which upstream answers are errors (issue #15): a 429 or a 5xx, and a 2xx that is an error in disguise — some
// APIs answer over-quota or bad-key with HTTP 200 and a JSON object such as {"Information": "...rate limit..."}
// (Alpha Vantage). An origin lists such top-level keys in `errorBodyKeys`; a response carrying one is never
// stored, and a stale entry answers instead when there is one.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "abi/abi_layout.h"
#include "decision_reason.h"

namespace edge_cache {

struct UpstreamResponseVerdict {
  abi::UpstreamResponse verdict = abi::UpstreamResponse::Ok;
  Reason reason = Reason::None;
  uint32_t marker = abi::kNone;  // index into errorBodyKeys for ErrorBody
};

// `body` is read only for a 2xx and when errorBodyKeys is not empty.
UpstreamResponseVerdict judgeUpstreamResponse(const std::vector<std::string>& errorBodyKeys, uint32_t status,
                                              std::string_view body);

// The index of the first of `keys` that is a member name of the top-level JSON object in `body`, or kNone (also
// when the body is not a JSON object, or not well-formed up to the member: nothing is guessed). Member names are
// compared after JSON unescaping; nested objects are not searched.
uint32_t findTopLevelKey(const std::vector<std::string>& keys, std::string_view body);

}  // namespace edge_cache
