#include "structured_field.h"

#include <doctest/doctest.h>

#include <string_view>

using namespace edge_cache;

// Expectations from RFC 8941 (Structured Field Values: Dictionary, §3.2 / §4.2.2) and RFC 9213 §2.1 (a targeted
// field is a Dictionary; a cache directive whose value violates the type its Cache-Control syntax implies makes
// the field invalid, and the cache ignores it).
TEST_CASE("structured fields: dictionaries and the typed cache directives of a targeted field") {
  struct Case {
    std::string_view value;
    bool dictionary;
    bool targeted;
  };
  const Case cases[] = {
      {"", true, true},  // an empty dictionary
      {"max-age=60", true, true},
      {"  max-age=60, public  ", true, true},
      {"max-age=60;foo=bar, s-maxage=0", true, true},
      {"public, must-revalidate, stale-if-error=3600", true, true},
      {"public=?1, no-store=?0", true, true},
      {"x=(\"a\" 1.5 ?0 :AAAA: tok/en);p, y=*tok", true, true},
      {"max-age=1.5", true, false},   // a Decimal where delta-seconds needs an Integer
      {"max-age=\"60\"", true, false},  // a String
      {"max-age", true, false},       // a bare key is Boolean true
      {"public=1", true, false},      // a flag must be a Boolean
      {"public=\"yes\"", true, false},
      // delta-seconds is 1*DIGIT (RFC 9111 §1.2.2): a negative Integer violates the implied constraint.
      {"max-age=-5", true, false},
      {"s-maxage=-13;a=1, public", true, false},
      {"stale-while-revalidate=-0", true, false},
      {"x-other=-5", true, true},     // any Integer for a directive this cache does not type
      {"max-age=1234567890123456", false, false},  // more than 15 digits
      {"Max-Age=60", false, false},   // keys are lower-case
      {"max-age=60,", false, false},  // a trailing comma
      {"max-age = 60", false, false},
      {"a=1;", false, false},
      {"a=?2", false, false},
      {"a=\"unterminated", false, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.value);
    CHECK(isValidSfDictionary(c.value) == c.dictionary);
    CHECK(isValidTargetedCacheControl(c.value) == c.targeted);
  }
}
