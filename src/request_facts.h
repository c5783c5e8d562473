#pragma once
// What the shim tells the core about one request: plain data, decoded from the ABI's RequestFacts
// region (or built by tests and the explain tool). Views point into memory the caller keeps alive.
#include <array>
#include <cstdint>
#include <string_view>

#include "abi/abi_layout.h"

namespace edge_cache {

struct RequestFacts {
  int64_t nowMs = 0;
  uint32_t method = 0;  // abi::Method value; 0 for anything else
  std::string_view target;  // raw request-target, origin-form: "/path?query"
  uint32_t totalHeaderBytes = 0;
  std::array<std::string_view, abi::kReqHeaderSlots> headerValues{};
  std::array<bool, abi::kReqHeaderSlots> headerPresent{};

  bool has(abi::RequestHeader h) const { return headerPresent[static_cast<uint32_t>(h)]; }
  std::string_view header(abi::RequestHeader h) const { return headerValues[static_cast<uint32_t>(h)]; }
  void setHeader(uint32_t slot, std::string_view value) {
    if (slot < abi::kReqHeaderSlots) {
      headerValues[slot] = value;
      headerPresent[slot] = true;
    }
  }
};

}  // namespace edge_cache
