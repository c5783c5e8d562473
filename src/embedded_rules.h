#pragma once
// The shipped config/cache-rules.json, compiled into the module by cmake/embed_file.cmake, so the
// worker always has a valid policy even when the CACHE_RULES override is absent or broken.
#include <string_view>

namespace edge_cache::embedded {
extern const std::string_view kRulesJson;
}  // namespace edge_cache::embedded
