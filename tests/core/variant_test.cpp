#include "variant.h"

#include <doctest/doctest.h>

#include <optional>
#include <string_view>

using namespace edge_cache;

TEST_CASE("normalizeVariantValue: whitespace, empty elements and case where the field allows (RFC 9111 §4.1)") {
  struct Case {
    std::string_view name, value, expected;
  };
  const Case cases[] = {
      {"x-weather", "nice", "nice"},
      {"x-weather", "", ""},
      {"x-weather", "   ", ""},
      // Whitespace around list elements is not part of them; element order is kept.
      {"x-list", "a, b", "a,b"},
      {"x-list", "a ,\tb", "a,b"},
      {"x-list", "  a  ", "a"},
      {"x-list", "b, a", "b,a"},
      // Empty elements carry nothing (RFC 9110 §5.6.1).
      {"x-list", "a,,b, ,", "a,b"},
      {",", ",", ""},
      // Commas inside quoted strings do not split.
      {"x-list", "\"a, b\" , c", "\"a, b\",c"},
      {"x-list", "x=\"1,2\",y", "x=\"1,2\",y"},
      // Whitespace inside an element stays.
      {"x-list", "a b", "a b"},
      {"cookie", "a=1;  b=2", "a=1;  b=2"},
      // Case-insensitive by definition: Accept, Accept-Charset, Accept-Language (RFC 9110 §12.5).
      {"accept", "Text/HTML, Application/JSON", "text/html,application/json"},
      {"accept-charset", "UTF-8, ISO-8859-1;q=0.5", "utf-8,iso-8859-1;q=0.5"},
      {"accept-language", "en-US, fr-CH;q=0.8", "en-us,fr-ch;q=0.8"},
      // Other fields keep their case.
      {"x-weather", "BAD", "BAD"},
      {"authorization", "Bearer AbC", "Bearer AbC"},
      {"user-agent", "Mozilla/5.0", "Mozilla/5.0"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CAPTURE(c.value);
    CHECK(normalizeVariantValue(c.name, c.value) == c.expected);
  }
}

TEST_CASE("variantFieldMatches: stored selecting field against the request's (RFC 9111 §4.1)") {
  const std::optional<std::string_view> absent;
  struct Case {
    std::string_view label, name, stored;
    std::optional<std::string_view> request;
    bool match;
  };
  const Case cases[] = {
      {"equal", "x-weather", "nice", "nice", true},
      {"different", "x-weather", "nice", "bad", false},
      {"values are case-sensitive", "x-weather", "BAD", "bad", false},
      // Absence matches only absence; an empty value is present.
      {"absent in both", "x-moon-phase", kVariantAbsent, absent, true},
      {"absent, then present", "x-moon-phase", kVariantAbsent, "full", false},
      {"absent, then present and empty", "x-moon-phase", kVariantAbsent, "", false},
      {"present and empty, then absent", "x-moon-phase", "", absent, false},
      {"present and empty in both", "x-moon-phase", "", "", true},
      {"present, then absent", "x-weather", "nice", absent, false},
      // Transformations that keep the value's meaning: whitespace, combined field lines, case where defined.
      {"whitespace around elements", "accept-language", "en, fr", " en,fr ", true},
      {"two field lines combined", "x-list", "a, b", "a,b", true},
      {"empty elements", "x-list", "a,b", "a, ,b,", true},
      {"Accept-Language case", "accept-language", "en-US", "en-us", true},
      {"Accept case", "accept", "text/HTML", "TEXT/html", true},
      {"Accept-Charset case", "accept-charset", "UTF-8", "utf-8", true},
      // Not the same value.
      {"different order", "x-list", "a,b", "b,a", false},
      {"an extra element", "accept-language", "en", "en, fr", false},
      {"different q-value", "accept-language", "en;q=0.5", "en;q=0.6", false},
      {"quoted comma is not a separator", "x-list", "\"a,b\"", "\"a\",\"b\"", false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    CHECK(variantFieldMatches(c.name, c.stored, c.request) == c.match);
  }
}
