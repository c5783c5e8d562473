#include "sha256.h"

#include <doctest/doctest.h>

#include <string>

using namespace edge_cache;

namespace {

std::string toHex(const std::array<uint8_t, 32>& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : d) s += kHex[b >> 4], s += kHex[b & 0xF];
  return s;
}

}  // namespace

TEST_CASE("sha256: NIST FIPS 180-4 vectors") {
  struct Case { std::string input; const char* hex; };
  const Case cases[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
       "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
      {std::string(1000000, 'a'), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input.size());
    CHECK(sha256Hex(c.input) == c.hex);
    CHECK(toHex(sha256(c.input)) == c.hex);
  }
}

// Lengths around the padding edges (55/56 bytes fit or spill the length field; 64 is a whole block).
TEST_CASE("sha256: padding boundaries") {
  struct Case { size_t n; const char* hex; };
  const Case cases[] = {
      {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
      {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
      {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
      {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
      {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
      {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
      {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
      {128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.n);
    CHECK(sha256Hex(std::string(c.n, 'a')) == c.hex);
  }
}

TEST_CASE("sha256: incremental updates match one-shot for every chunk size") {
  std::string data;
  for (int i = 0; i < 300; ++i) data += char('a' + i % 26 + (i % 7 == 0 ? 128 - 'a' : 0));
  const auto expected = sha256(data);
  for (size_t chunk = 1; chunk <= 130; ++chunk) {
    CAPTURE(chunk);
    Sha256 h;
    for (size_t pos = 0; pos < data.size(); pos += chunk) h.update(std::string_view(data).substr(pos, chunk));
    CHECK(h.finish() == expected);
  }
  Sha256 h;
  h.update("garbage");
  h.finish();
  h.reset();
  h.update("a");
  h.update("");
  h.update("bc");
  CHECK(toHex(h.finish()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("fnv1a64: reference vectors") {
  struct Case { const char* input; uint64_t hash; };
  const Case cases[] = {
      {"", 0xcbf29ce484222325ull},
      {"a", 0xaf63dc4c8601ec8cull},
      {"foobar", 0x85944171f73967e8ull},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    CHECK(fnv1a64(c.input) == c.hash);
  }
}
