#include "header_list.h"

#include <unordered_set>

namespace edge_cache {
namespace {

char lowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool isOws(char c) { return c == ' ' || c == '\t'; }

}  // namespace

bool isTchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
  return true;
}

std::string toLowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lowerAscii(c);
  return out;
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && isOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && isOws(s.back())) s.remove_suffix(1);
  return s;
}

HeaderList parseHeaderList(std::string_view value) {
  HeaderList out;
  // Views into one lower-cased copy stay valid while `names` grows, so the seen-set can hold views.
  const std::string lowered = toLowerAscii(value);
  std::unordered_set<std::string_view> seen;
  std::string_view rest = lowered;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view element = trimOws(rest.substr(0, comma));
    if (element == "*") {
      out.wildcard = true;
    } else if (!element.empty()) {
      bool token = true;
      for (char c : element) token = token && isTchar(c);
      if (!token) out.valid = false;
      else if (seen.insert(element).second) out.names.emplace_back(element);
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace edge_cache
