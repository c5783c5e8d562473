#pragma once
// Which rule a request's path falls under: run on every request, so it lives apart from the rules
// loader (startup-only JSON code, built for size in the Wasm module: see CMakeLists.txt).
#include <cstdint>
#include <string_view>

#include "path_pattern.h"
#include "rules.h"

namespace edge_cache {

// The first rule whose methods include `methodBit` and whose pattern matches `path` (normalised), or nullptr; `out`
// holds its captures (empty when none matched). No allocation.
const Rule* matchRule(const RulesConfig& cfg, uint32_t methodBit, std::string_view path, Captures& out);

}  // namespace edge_cache
