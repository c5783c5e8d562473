#include "header_fields.h"

#include <doctest/doctest.h>

#include <optional>
#include <string_view>

using namespace edge_cache;

TEST_CASE("findHeader: the first field of a name, compared case-insensitively") {
  const HeaderFields views = {{"Content-Type", "text/plain"}, {"link", "<a>"}, {"LINK", "<b>"}, {"x-empty", ""}};
  const StoredHeaders owned = {{"content-type", "text/plain"}, {"link", "<a>"}, {"Link", "<b>"}, {"x-empty", ""}};
  struct Case {
    std::string_view name;
    std::optional<std::string_view> value;
  };
  const Case cases[] = {
      {"content-type", "text/plain"},
      {"CONTENT-TYPE", "text/plain"},
      {"link", "<a>"},        // the first of repeated fields
      {"x-empty", ""},        // present with an empty value is not absent
      {"x-missing", std::nullopt},
      {"content-typ", std::nullopt},
      {"", std::nullopt},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CHECK(findHeader(views, c.name) == c.value);
    CHECK(findHeader(owned, c.name) == c.value);
  }
}

TEST_CASE("viewsOf: one view per owned field, in order") {
  const StoredHeaders owned = {{"a", "1"}, {"b", ""}, {"a", "2"}};
  const HeaderFields views = viewsOf(owned);
  CHECK(views.size() == 3);
  for (size_t i = 0; i < views.size() && i < owned.size(); ++i) {
    CHECK(views[i].name == owned[i].first);
    CHECK(views[i].value == owned[i].second);
    CHECK(views[i].name.data() == owned[i].first.data());  // views, not copies
  }
  CHECK(viewsOf(StoredHeaders{}).empty());
}
