#include "crc32.h"

#include <doctest/doctest.h>

#include <string>

using edge_cache::crc32;

TEST_CASE("crc32: known IEEE/zlib vectors") {
  struct Case {
    std::string input;
    uint32_t expected;
  };
  const Case cases[] = {
      {"", 0x00000000u},
      {"a", 0xE8B7BE43u},
      {"abc", 0x352441C2u},
      {"123456789", 0xCBF43926u},
      {"The quick brown fox jumps over the lazy dog", 0x414FA339u},
      {std::string(1, '\0'), 0xD202EF8Du},
      {std::string(1, '\xFF'), 0xFF000000u},
      {std::string(32, '\0'), 0x190A55ADu},
      {std::string(32, '\xFF'), 0xFF6CAB0Bu},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    CHECK(crc32(c.input) == c.expected);
  }
}

TEST_CASE("crc32: the seed chains like zlib, at every split point") {
  const std::string data = "123456789";
  for (size_t split = 0; split <= data.size(); ++split) {
    CAPTURE(split);
    const std::string_view v = data;
    CHECK(crc32(v.substr(split), crc32(v.substr(0, split))) == 0xCBF43926u);
  }
}

TEST_CASE("crc32: every single-bit flip changes the checksum") {
  std::string data = "edge-cache envelope";
  const uint32_t original = crc32(data);
  for (size_t bit = 0; bit < data.size() * 8; ++bit) {
    CAPTURE(bit);
    data[bit / 8] = static_cast<char>(data[bit / 8] ^ (1 << (bit % 8)));
    CHECK(crc32(data) != original);
    data[bit / 8] = static_cast<char>(data[bit / 8] ^ (1 << (bit % 8)));
  }
  CHECK(crc32(data) == original);
}
