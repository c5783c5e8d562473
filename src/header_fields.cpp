#include "header_fields.h"

#include "header_list.h"

namespace edge_cache {

std::optional<std::string_view> findHeader(const HeaderFields& fields, std::string_view name) {
  for (const HeaderField& f : fields)
    if (equalsIgnoreCase(f.name, name)) return f.value;
  return std::nullopt;
}

std::optional<std::string_view> findHeader(const StoredHeaders& fields, std::string_view name) {
  for (const auto& [n, v] : fields)
    if (equalsIgnoreCase(n, name)) return std::string_view(v);
  return std::nullopt;
}

HeaderFields viewsOf(const StoredHeaders& stored) {
  HeaderFields out;
  out.reserve(stored.size());
  for (const auto& [n, v] : stored) out.push_back({n, v});
  return out;
}

}  // namespace edge_cache
