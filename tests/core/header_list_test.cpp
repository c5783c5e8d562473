#include "header_list.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace std::literals;
using edge_cache::parseHeaderList;

TEST_CASE("parseHeaderList: tokens, wildcard, validity") {
  struct Case {
    std::string_view input;
    std::vector<std::string> names;
    bool wildcard, valid;
  };
  const Case cases[] = {
      {"Accept-Encoding, Origin", {"accept-encoding", "origin"}, false, true},
      {" * ", {}, true, true},
      {"*", {}, true, true},
      {"Accept-Encoding, *, Origin", {"accept-encoding", "origin"}, true, true},
      {"**", {"**"}, false, true},  // a token, not the wildcard
      {"accept, ACCEPT", {"accept"}, false, true},
      {"b, a, B, c, A", {"b", "a", "c"}, false, true},
      {"a b", {}, false, false},
      {"a, b c, d", {"a", "d"}, false, false},
      {"", {}, false, true},
      {" \t ", {}, false, true},
      {" , ,, ", {}, false, true},
      {",,Origin,,", {"origin"}, false, true},
      {"\tUser-Agent\t,Cookie ", {"user-agent", "cookie"}, false, true},
      {"\"quoted\"", {}, false, false},
      {"a;b, c", {"c"}, false, false},
      {"x\x01y, ok", {"ok"}, false, false},
      {"x\0y, ok"sv, {"ok"}, false, false},
      {"Origin\r\n", {}, false, false},  // CR/LF are not OWS
      {"caf\xc3\xa9, ok", {"ok"}, false, false},
      {"!#$%&'*+-.^_`|~09AZaz", {"!#$%&'*+-.^_`|~09azaz"}, false, true},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    const auto list = parseHeaderList(c.input);
    CHECK(list.names == c.names);
    CHECK(list.wildcard == c.wildcard);
    CHECK(list.valid == c.valid);
  }
}

TEST_CASE("parseHeaderList: long input stays linear and de-duplicates") {
  std::string value;
  for (int i = 0; i < 20000; ++i) value += "h" + std::to_string(i % 5000) + ", ";  // ~150 KB
  const auto list = parseHeaderList(value);
  CHECK(list.valid);
  CHECK(list.names.size() == 5000);
  if (!list.names.empty()) {
    CHECK(list.names.front() == "h0");
    CHECK(list.names.back() == "h4999");
  }
  CHECK(parseHeaderList(std::string(100000, ',')).names.empty());
  CHECK_FALSE(parseHeaderList(std::string(100000, '\x01')).valid);
}

TEST_CASE("equalsIgnoreCase / toLowerAscii / trimOws") {
  struct EqCase { std::string_view a, b; bool equal; };
  const EqCase eq[] = {
      {"Vary", "vARY", true}, {"", "", true}, {"a", "", false}, {"abc", "abd", false},
      {"a-b", "A-B", true}, {"@", "`", false}, {"[", "{", false},  // neighbours of the letter ranges
      {"\xc3\xa9", "\xc3\x89", false},                               // no non-ASCII folding
  };
  for (const EqCase& c : eq) {
    CAPTURE(c.a);
    CAPTURE(c.b);
    CHECK(edge_cache::equalsIgnoreCase(c.a, c.b) == c.equal);
  }
  struct MapCase { std::string_view input, expected; };
  const MapCase lower[] = {{"Cache-Control", "cache-control"}, {"", ""}, {"AZ@[`{", "az@[`{"},
                           {"\xc3\x89", "\xc3\x89"}, {"A\0B"sv, "a\0b"sv}};
  for (const MapCase& c : lower) {
    CAPTURE(c.input);
    CHECK(edge_cache::toLowerAscii(c.input) == c.expected);
  }
  const MapCase trim[] = {{"  a b \t", "a b"}, {"", ""}, {" \t ", ""}, {"\ra\n", "\ra\n"}, {"x", "x"}};
  for (const MapCase& c : trim) {
    CAPTURE(c.input);
    CHECK(edge_cache::trimOws(c.input) == c.expected);
  }
}

TEST_CASE("isTchar matches RFC 9110 exactly") {
  const std::string_view tchars = "!#$%&'*+-.^_`|~0123456789"
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    CAPTURE(b);
    CHECK(edge_cache::isTchar(c) == (tchars.find(c) != std::string_view::npos));
  }
}
