#pragma once
// A message's header fields as the runtime hands them over: (name, value) views in arrival order. workerd
// gives names lower-cased and joins repeated fields with ", " (Set-Cookie excepted), so a name appears once
// there; the helpers here still work on any case and on repeats (tests, the explain tool, a 304's fields).
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edge_cache {

struct HeaderField {
  std::string_view name;
  std::string_view value;
};
using HeaderFields = std::vector<HeaderField>;

// Owned fields: what a stored entry holds, and what a 304 merge produces.
using StoredHeaders = std::vector<std::pair<std::string, std::string>>;

// The first field with this name (ASCII case-insensitive), or nullopt.
std::optional<std::string_view> findHeader(const HeaderFields& fields, std::string_view name);
std::optional<std::string_view> findHeader(const StoredHeaders& fields, std::string_view name);

// Views over owned fields (valid while `stored` is unchanged).
HeaderFields viewsOf(const StoredHeaders& stored);

}  // namespace edge_cache
