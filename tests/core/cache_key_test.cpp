#include "cache_key.h"

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "sha256.h"

using namespace edge_cache;

namespace {

using Vary = std::pair<std::string_view, std::string_view>;

bool isUtf8Boundary(const std::string& s, size_t i) { return i >= s.size() || (uint8_t(s[i]) & 0xC0) != 0x80; }

}  // namespace

TEST_CASE("buildCacheKey: short keys are the readable concatenation") {
  const Vary accept[] = {{"accept", "application/json"}};
  const Vary two[] = {{"accept", " \ttext/csv \t"}, {"accept-language", "fr"}};
  const Vary empty[] = {{"x-tier", ""}};
  struct Case {
    KeyParts parts;
    const char* key;
  };
  const Case cases[] = {
      {{"https://api.example.com", "/v1/q", "", {}}, "https://api.example.com/v1/q"},
      {{"https://api.example.com", "/v1/q", "a=1&b=2", {}}, "https://api.example.com/v1/q?a=1&b=2"},
      {{"https://api.example.com:8443", "/", "", accept}, "https://api.example.com:8443/\naccept:application/json"},
      {{"https://a.test", "/x", "s=1", two}, "https://a.test/x?s=1\naccept:text/csv\naccept-language:fr"},
      {{"https://a.test", "/x", "", empty}, "https://a.test/x\nx-tier:"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.key);
    CacheKey k = buildCacheKey(c.parts);
    CHECK(k.key == c.key);
    CHECK_FALSE(k.hashed);
  }
}

TEST_CASE("buildCacheKey: exactly maxBytes is kept, one more is hashed") {
  const std::string path = "/" + std::string(480 - 14 - 1, 'p');
  KeyParts parts{"https://a.test", path, "", {}};
  CacheKey fits = buildCacheKey(parts);
  CHECK(fits.key.size() == 480);
  CHECK_FALSE(fits.hashed);
  const std::string longer = path + "q";
  parts.path = longer;
  CacheKey over = buildCacheKey(parts);
  CHECK(over.hashed);
  CHECK(over.key.size() == 480);
  const std::string full = "https://a.test" + longer;
  CHECK(over.key == full.substr(0, 480 - 72) + "#sha256=" + sha256Hex(full));
}

TEST_CASE("buildCacheKey: long keys are hashed, bounded, prefix-preserving and deterministic") {
  struct Case {
    size_t pathBytes;
    size_t maxBytes;
  };
  const Case cases[] = {{600, 480}, {5000, 480}, {300, 200}, {100, 72}, {100, 10}};
  for (const auto& c : cases) {
    CAPTURE(c.pathBytes);
    CAPTURE(c.maxBytes);
    const std::string path = "/" + std::string(c.pathBytes, 'a');
    const Vary vary[] = {{"accept", "application/json"}};
    KeyParts parts{"https://api.example.com", path, "x=1", vary};
    const std::string full = "https://api.example.com" + path + "?x=1\naccept:application/json";
    CacheKey k = buildCacheKey(parts, c.maxBytes);
    CHECK(k.hashed);
    CHECK(k.key.size() == std::max<size_t>(c.maxBytes, 72));
    const size_t prefix = k.key.size() - 72;
    CHECK(k.key.compare(0, prefix, full, 0, prefix) == 0);
    CHECK(k.key.substr(prefix) == "#sha256=" + sha256Hex(full));
    CHECK(buildCacheKey(parts, c.maxBytes).key == k.key);
    // Keys differing only after the cut still differ.
    const std::string otherPath = path + "b";
    KeyParts other = parts;
    other.path = otherPath;
    CacheKey k2 = buildCacheKey(other, c.maxBytes);
    CHECK(k2.hashed);
    CHECK(k2.key != k.key);
    CHECK(k2.key.substr(0, prefix) == k.key.substr(0, prefix));
  }
}

TEST_CASE("buildCacheKey: the prefix is cut on a UTF-8 boundary") {
  // "é" is 2 bytes, "€" 3: each shift of the ASCII pad puts the cut at a different byte of a character.
  struct Case {
    const char* ch;
    size_t pad;
  };
  const Case cases[] = {
      {"\xC3\xA9", 0},         {"\xC3\xA9", 1},         {"\xE2\x82\xAC", 0},     {"\xE2\x82\xAC", 1},
      {"\xE2\x82\xAC", 2},     {"\xF0\x9F\x98\x80", 0}, {"\xF0\x9F\x98\x80", 1}, {"\xF0\x9F\x98\x80", 2},
      {"\xF0\x9F\x98\x80", 3},
  };
  int cutBack = 0;
  for (const auto& c : cases) {
    CAPTURE(c.ch);
    CAPTURE(c.pad);
    std::string value(c.pad, 'v');
    while (value.size() < 600) value += c.ch;
    const Vary vary[] = {{"x-name", value}};
    KeyParts parts{"https://a.test", "/", "", vary};
    const std::string full = "https://a.test/\nx-name:" + value;
    CacheKey k = buildCacheKey(parts);
    CHECK(k.hashed);
    CHECK(k.key.size() <= 480);
    CHECK(k.key.size() >= 480 - 3);
    cutBack += k.key.size() < 480;
    const size_t prefix = k.key.size() - 72;
    CHECK(isUtf8Boundary(full, prefix));
    CHECK(k.key.compare(0, prefix, full, 0, prefix) == 0);
    CHECK(k.key.substr(prefix) == "#sha256=" + sha256Hex(full));
  }
  CHECK(cutBack >= 6);  // most cases really land inside a character
}

TEST_CASE("shardForKey: pinned values (they name Durable Objects and must never change)") {
  struct Case {
    const char* key;
    uint32_t shards;
    uint32_t shard;
  };
  // Computed with an independent Python implementation of FNV-1a 64 + MurmurHash3's fmix64, then pinned.
  const Case cases[] = {
      {"https://api.example.com/v1/quote?sym=AAPL", 8, 3},
      {"https://api.example.com/v1/quote?sym=AAPL", 16, 3},
      {"https://api.example.com/v1/quote?sym=AAPL", 4, 3},
      {"https://api.example.com/v1/quote?sym=AAPL", 3, 2},
      {"https://api.example.com/v1/quote?sym=AAPL", 1000, 963},
      {"https://api.example.com/v1/quote?sym=GOOG", 8, 5},
      {"https://api.example.com/v1/quote?sym=GOOG", 1000, 701},
      {"https://api.example.com/v1/history?from=2024-01-01&sym=AAPL\naccept:application/json", 8, 1},
      {"https://api.example.com/v1/history?from=2024-01-01&sym=AAPL\naccept:application/json", 3, 2},
      {"", 8, 6},
      {"https://api.example.com/", 1, 0},
      {"https://api.example.com/", 0, 0},
  };
  for (const auto& c : cases) {
    CAPTURE(c.key);
    CAPTURE(c.shards);
    CHECK(shardForKey(c.key, c.shards) == c.shard);
  }
}

TEST_CASE("shardForKey: 10k keys spread within 20% of uniform over 8 shards") {
  struct Case {
    const char* prefix;
  };
  const Case cases[] = {{"https://api.example.com/v1/item/"}, {"https://api.example.com/v1/quote?sym=S"},
                        {"https://a.test/p?page="}, {"https://a.test/q?sym=AAPL&d=2024-01-"}};
  for (const auto& c : cases) {
    CAPTURE(c.prefix);
    uint32_t counts[8] = {}, outOfRange = 0;
    for (int i = 0; i < 10000; ++i) {
      uint32_t s = shardForKey(std::string(c.prefix) + std::to_string(i), 8);
      s < 8 ? ++counts[s] : ++outOfRange;
    }
    CHECK(outOfRange == 0);
    for (uint32_t n : counts) {
      CHECK(n >= 1000);
      CHECK(n <= 1500);
    }
  }
}

TEST_CASE("shardForKey: keys differing in one letter spread over power-of-two shard counts") {
  // Plain fnv1a64 % 8 put sym=A, sym=I, sym=Q, sym=Y on one shard; the finaliser must break that up.
  for (uint32_t shards : {4u, 8u, 16u}) {
    CAPTURE(shards);
    bool seen[16] = {};
    uint32_t distinct = 0;
    for (char c = 'A'; c <= 'Z'; ++c) {
      uint32_t s = shardForKey(std::string("https://api.example.com/v1/quote?sym=") + c, shards);
      if (!seen[s]) ++distinct;
      seen[s] = true;
    }
    CHECK(distinct >= shards * 3 / 4);
  }
}
