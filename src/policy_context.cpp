#include "policy_context.h"

#include <algorithm>

#include "abi/abi_layout.h"
#include "cache_key.h"

namespace edge_cache {

bool assignVarySlots(PolicyContext& ctx, std::string* problem) {
  ctx.extraRequestHeaders.clear();
  ctx.ruleVarySlots.assign(ctx.rules.rules.size(), {});
  ctx.credentialSlots.clear();
  // Headers the ABI already carries in fixed slots are reused rather than sent twice.
  auto fixedSlot = [](const std::string& name) -> uint32_t {
    if (name == "accept") return static_cast<uint32_t>(abi::RequestHeader::Accept);
    if (name == "origin") return static_cast<uint32_t>(abi::RequestHeader::Origin);
    if (name == "authorization") return static_cast<uint32_t>(abi::RequestHeader::Authorization);
    if (name == "cookie") return static_cast<uint32_t>(abi::RequestHeader::Cookie);
    return abi::kNone;
  };
  auto slotOf = [&](const std::string& name, uint32_t& slot) {
    slot = fixedSlot(name);
    if (slot != abi::kNone) return true;
    auto it = std::find(ctx.extraRequestHeaders.begin(), ctx.extraRequestHeaders.end(), name);
    if (it == ctx.extraRequestHeaders.end()) {
      if (abi::kReqHeaderFirstExtra + ctx.extraRequestHeaders.size() >= abi::kReqHeaderSlots) {
        if (problem) *problem = "too many distinct varyHeaders and credentialHeaders (at most " +
                                std::to_string(abi::kReqHeaderSlots - abi::kReqHeaderFirstExtra) + ")";
        return false;
      }
      ctx.extraRequestHeaders.push_back(name);
      it = ctx.extraRequestHeaders.end() - 1;
    }
    slot = abi::kReqHeaderFirstExtra + static_cast<uint32_t>(it - ctx.extraRequestHeaders.begin());
    return true;
  };
  for (size_t r = 0; r < ctx.rules.rules.size(); ++r) {
    for (const std::string& name : ctx.rules.rules[r].varyHeaders) {
      uint32_t slot = 0;
      if (!slotOf(name, slot)) return false;
      ctx.ruleVarySlots[r].push_back(slot);
    }
  }
  for (const std::string& name : ctx.rules.keys.credentialHeaders) {
    uint32_t slot = 0;
    if (!slotOf(name, slot)) return false;
    ctx.credentialSlots.push_back(slot);
  }
  return true;
}

bool authExempt(const PolicyContext& ctx, std::string_view path) {
  for (const std::string& p : ctx.authExemptPaths) {
    if (path == p || (path.size() > p.size() && path.substr(0, p.size()) == p && (p == "/" || path[p.size()] == '/'))) {
      return true;
    }
  }
  return false;
}

uint32_t shardFor(const PolicyContext& ctx, std::string_view key) { return shardForKey(key, ctx.shardCount); }

}  // namespace edge_cache
