#include "variant.h"

#include "header_list.h"

namespace edge_cache {

std::string normalizeVariantValue(std::string_view name, std::string_view value) {
  const bool caseless = name == "accept" || name == "accept-charset" || name == "accept-language";
  std::string out;
  out.reserve(value.size());
  size_t start = 0;
  bool quoted = false;
  bool first = true;
  for (size_t i = 0; i <= value.size(); ++i) {
    if (i < value.size() && value[i] == '"') quoted = !quoted;
    if (i < value.size() && (value[i] != ',' || quoted)) continue;
    const std::string_view element = trimOws(value.substr(start, i - start));
    start = i + 1;
    if (element.empty()) continue;  // empty list elements carry nothing (RFC 9110 §5.6.1)
    if (!first) out.push_back(',');
    first = false;
    for (char c : element) out.push_back(caseless && c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

bool variantFieldMatches(std::string_view name, std::string_view stored, std::optional<std::string_view> request) {
  if (stored == kVariantAbsent) return !request.has_value();
  if (!request) return false;
  return normalizeVariantValue(name, stored) == normalizeVariantValue(name, *request);
}

}  // namespace edge_cache
