#include "abi/abi_codec.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "abi/abi_layout.h"

using namespace edge_cache;
using namespace edge_cache::abi;
using namespace std::literals;

namespace {

// Regions are heap buffers of exactly `capacity` bytes, so a read past the region is a heap overflow that the
// sanitizer build reports, not a quiet read of a neighbour.
using Region = std::vector<uint8_t>;

Region bytes(std::initializer_list<uint8_t> b) { return Region(b); }

// A packed field list, built by hand from the layout (abi_layout.h), not with writeFields.
void appendU32(Region& r, uint32_t v) {
  for (int i = 0; i < 4; ++i) r.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void appendPrefixed(Region& r, std::string_view s) {
  appendU32(r, static_cast<uint32_t>(s.size()));
  r.insert(r.end(), s.begin(), s.end());
}

std::string describe(const HeaderFields& fields) {
  std::string out;
  for (const HeaderField& f : fields) out += std::string(f.name) + "=" + std::string(f.value) + ";";
  return out;
}

}  // namespace

TEST_CASE("abi: u32 and f64 slots are little-endian and unaligned") {
  Region r(13, 0);
  wr32(r.data(), 1, 0x04030201u);
  CHECK(r[1] == 1);
  CHECK(r[2] == 2);
  CHECK(r[3] == 3);
  CHECK(r[4] == 4);
  CHECK(rd32(r.data(), 1) == 0x04030201u);
  wrf64(r.data(), 5, 1795446000000.5);
  CHECK(rdf64(r.data(), 5) == 1795446000000.5);
}

TEST_CASE("abi: msFromDouble clamps what an int64 cannot hold") {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  struct Case {
    double in;
    int64_t out;
  };
  const Case cases[] = {
      {0.0, 0},
      {1795446000000.0, 1795446000000},
      {1795446000000.9, 1795446000000},  // toward zero
      {-1.5, -1},
      {-1795446000000.0, -1795446000000},
      {std::nan(""), 0},
      {kInf, 4'600'000'000'000'000'000},
      {-kInf, -4'600'000'000'000'000'000},
      {1e300, 4'600'000'000'000'000'000},
      {-1e300, -4'600'000'000'000'000'000},
      {9.3e18, 4'600'000'000'000'000'000},  // beyond int64: undefined if converted
  };
  for (const Case& c : cases) {
    CAPTURE(c.in);
    CHECK(msFromDouble(c.in) == c.out);
  }
}

TEST_CASE("abi: putString and putPrefixed write only what fits") {
  struct Case {
    uint32_t capacity, cursor;
    std::string_view s;
    bool putOk, prefixedOk;
  };
  const Case cases[] = {
      {16, 0, "hello", true, true},
      {9, 0, "hello", true, true},      // 4 + 5 exactly
      {8, 0, "hello", true, false},     // the string fits, with its length it does not
      {5, 0, "hello", true, false},
      {4, 0, "hello", false, false},
      {16, 11, "hello", true, false},
      {16, 12, "hello", false, false},
      {16, 16, "", true, false},        // an empty string fits at the end; its length does not
      {16, 12, "", true, true},
      {16, 17, "", false, false},       // a cursor past the region
      {16, UINT32_MAX, "x", false, false},
      {0, 0, "", true, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.capacity);
    CAPTURE(c.cursor);
    CAPTURE(c.s);
    Region r(c.capacity, 0xEE);
    uint32_t cursor = c.cursor;
    CHECK(putString(r.data(), c.capacity, cursor, c.s) == c.putOk);
    CHECK(cursor == (c.putOk ? c.cursor + c.s.size() : c.cursor));
    if (c.putOk && !c.s.empty()) {
      CHECK(std::string_view(reinterpret_cast<const char*>(r.data() + c.cursor), c.s.size()) == c.s);
    }
    Region p(c.capacity, 0xEE);
    cursor = c.cursor;
    CHECK(putPrefixed(p.data(), c.capacity, cursor, c.s) == c.prefixedOk);
    CHECK(cursor == (c.prefixedOk ? c.cursor + 4 + c.s.size() : c.cursor));
    // A refused write leaves the region untouched.
    if (!c.prefixedOk) CHECK(p == Region(c.capacity, 0xEE));
  }
}

TEST_CASE("abi: readPrefixed refuses every length that leaves the region") {
  struct Case {
    std::string_view label;
    Region region;
    uint32_t cursor;
    bool ok;
    std::string_view value;
    uint32_t cursorAfter;
  };
  const Case cases[] = {
      {"a string", bytes({3, 0, 0, 0, 'a', 'b', 'c'}), 0, true, "abc", 7},
      {"an empty string", bytes({0, 0, 0, 0}), 0, true, "", 4},
      {"at an unaligned cursor", bytes({9, 2, 0, 0, 0, 'h', 'i', 9}), 1, true, "hi", 7},
      {"the length runs past the region", bytes({4, 0, 0, 0, 'a', 'b', 'c'}), 0, false, "", 0},
      {"a huge length", bytes({0xFF, 0xFF, 0xFF, 0xFF, 'a'}), 0, false, "", 0},
      {"a length just past the region", bytes({0xFC, 0xFF, 0xFF, 0xFF}), 0, false, "", 0},
      {"the length field is cut short", bytes({1, 0, 0}), 0, false, "", 0},
      {"the cursor at the end", bytes({0, 0, 0, 0}), 4, false, "", 4},
      {"the cursor past the end", bytes({0, 0, 0, 0}), 5, false, "", 5},
      {"the cursor far past the end", bytes({0, 0, 0, 0}), UINT32_MAX, false, "", UINT32_MAX},
      {"an empty region", Region{}, 0, false, "", 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    uint32_t cursor = c.cursor;
    std::string_view out = "unchanged";
    const bool ok = readPrefixed(c.region.data(), static_cast<uint32_t>(c.region.size()), cursor, out);
    CHECK(ok == c.ok);
    if (ok) {
      CHECK(out == c.value);
      CHECK(cursor == c.cursorAfter);
    } else {
      CHECK(cursor == c.cursor);
    }
  }
}

TEST_CASE("abi: readPrefixed of a truncated region fails at every cut") {
  // Every prefix of a valid encoding shorter than the whole is refused; the whole is read.
  Region whole;
  appendPrefixed(whole, "hello world");
  for (size_t cut = 0; cut <= whole.size(); ++cut) {
    CAPTURE(cut);
    const Region region(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut));
    uint32_t cursor = 0;
    std::string_view out;
    CHECK(readPrefixed(region.data(), static_cast<uint32_t>(region.size()), cursor, out) == (cut == whole.size()));
  }
}

TEST_CASE("abi: readFields reads count × (name, value) and nothing past the region") {
  Region list;
  appendPrefixed(list, "content-type");
  appendPrefixed(list, "text/plain");
  appendPrefixed(list, "x-empty");
  appendPrefixed(list, "");
  appendPrefixed(list, "");
  appendPrefixed(list, "v");
  const uint32_t size = static_cast<uint32_t>(list.size());
  struct Case {
    std::string_view label;
    uint32_t capacity, count;
    bool ok;
    std::string_view fields;
  };
  const Case cases[] = {
      {"all three", size, 3, true, "content-type=text/plain;x-empty=;=v;"},
      {"the first two", size, 2, true, "content-type=text/plain;x-empty=;"},
      {"none", size, 0, true, ""},
      {"one more than there is", size, 4, false, ""},
      // A count that cannot fit (each field takes at least 8 bytes) is refused before anything is read.
      {"a count too large for the region", size, size / 8 + 1, false, ""},
      {"a huge count", size, UINT32_MAX, false, ""},
      {"the last value cut short", size - 1, 3, false, ""},
      {"the last value's length cut short", size - 6, 3, false, ""},
      {"an empty region", 0, 1, false, ""},
      {"an empty region, no fields", 0, 0, true, ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const Region region(list.begin(), list.begin() + c.capacity);
    uint32_t cursor = 0;
    HeaderFields out = {{"stale", "entry"}};
    CHECK(readFields(region.data(), c.capacity, cursor, c.count, out) == c.ok);
    CHECK(describe(out) == c.fields);  // a failure leaves no half-read list
  }
}

TEST_CASE("abi: readFields of a truncated list fails at every cut") {
  Region list;
  for (int i = 0; i < 5; ++i) {
    appendPrefixed(list, "x-field-" + std::to_string(i));
    appendPrefixed(list, std::string(static_cast<size_t>(i) * 7, 'v'));
  }
  for (size_t cut = 0; cut <= list.size(); ++cut) {
    CAPTURE(cut);
    const Region region(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(cut));
    uint32_t cursor = 0;
    HeaderFields out;
    const bool ok = readFields(region.data(), static_cast<uint32_t>(cut), cursor, 5, out);
    CHECK(ok == (cut == list.size()));
    CHECK(out.size() == (ok ? 5u : 0u));
  }
}

TEST_CASE("abi: writeFields then readFields round-trips") {
  struct Case {
    std::string_view label;
    StoredHeaders fields;
  };
  const Case cases[] = {
      {"none", {}},
      {"one", {{"etag", "\"v1\""}}},
      {"empty name and value", {{"", ""}, {"x", ""}, {"", "y"}}},
      {"repeated names, order kept", {{"link", "<a>"}, {"x", "1"}, {"link", "<b>"}}},
      {"bytes of any value", {{"x-bin", std::string("\0\xff\r\n\x80"sv)}, {"x-utf8", "h\xc3\xa9llo"}}},
      {"a long value", {{"x-long", std::string(40000, 'z')}}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    size_t need = 0;
    for (const auto& [n, v] : c.fields) need += 8 + n.size() + v.size();
    // Exactly the room needed: fits. One byte less: refused.
    Region region(need, 0);
    uint32_t cursor = 0;
    const bool written = writeFields(region.data(), static_cast<uint32_t>(need), cursor, c.fields);
    CHECK(written);
    if (!written) continue;
    CHECK(cursor == need);
    uint32_t readCursor = 0;
    HeaderFields back;
    CHECK(readFields(region.data(), static_cast<uint32_t>(need), readCursor, static_cast<uint32_t>(c.fields.size()),
                     back));
    CHECK(readCursor == need);
    CHECK(back.size() == c.fields.size());
    for (size_t i = 0; i < back.size() && i < c.fields.size(); ++i) {
      CHECK(back[i].name == c.fields[i].first);
      CHECK(back[i].value == c.fields[i].second);
    }
    if (need > 0) {
      Region small(need - 1, 0);
      uint32_t smallCursor = 0;
      CHECK_FALSE(writeFields(small.data(), static_cast<uint32_t>(need - 1), smallCursor, c.fields));
      CHECK(smallCursor <= need - 1);
    }
  }
}

TEST_CASE("abi: readStringSlots reads present slots in order and refuses lengths past the region") {
  // lengths at offset 0 (3 slots), strings packed from offset 12.
  Region region;
  appendU32(region, 3);
  appendU32(region, kAbsent);
  appendU32(region, 2);
  region.insert(region.end(), {'a', 'b', 'c', 'x', 'y'});
  const uint32_t size = static_cast<uint32_t>(region.size());
  {
    std::array<std::string_view, 3> values{};
    std::array<bool, 3> present{};
    uint32_t cursor = 12;
    CHECK(readStringSlots(region.data(), size, 0, 3, cursor, values, present));
    CHECK(values[0] == "abc");
    CHECK_FALSE(present[1]);
    CHECK(values[2] == "xy");
    CHECK(present[0]);
    CHECK(present[2]);
    CHECK(cursor == size);
  }
  {
    // Fewer slots in the array than on the wire: the extra ones are ignored, their strings not consumed.
    std::array<std::string_view, 1> values{};
    std::array<bool, 1> present{};
    uint32_t cursor = 12;
    CHECK(readStringSlots(region.data(), size, 0, 3, cursor, values, present));
    CHECK(values[0] == "abc");
    CHECK(cursor == 15);
  }
  struct Case {
    std::string_view label;
    uint32_t capacity, lengthsOff, slots, cursor;
  };
  const Case refused[] = {
      {"strings cut short", size - 1, 0, 3, 12},
      {"lengths past the region", size, 12, 3, 12},
      {"lengths offset past the region", size, size + 1, 1, 12},
      {"lengths offset at UINT32_MAX", size, UINT32_MAX, 1, 12},
      {"more slots than the region holds", size, 0, UINT32_MAX, 12},
      {"cursor past the region", size, 0, 3, size + 1},
      {"cursor at UINT32_MAX", size, 0, 3, UINT32_MAX},
  };
  for (const Case& c : refused) {
    CAPTURE(c.label);
    std::array<std::string_view, 3> values{};
    std::array<bool, 3> present{};
    uint32_t cursor = c.cursor;
    const uint32_t capacity = std::min(c.capacity, size);
    const Region cut(region.begin(), region.begin() + capacity);
    CHECK_FALSE(readStringSlots(cut.data(), capacity, c.lengthsOff, c.slots, cursor, values, present));
  }
}

TEST_CASE("abi: isAscii looks at every byte") {
  for (size_t n = 0; n <= 24; ++n) {
    CAPTURE(n);
    Region ascii(n, 'a');
    CHECK(isAscii(ascii.data(), static_cast<uint32_t>(n)));
    for (size_t at = 0; at < n; ++at) {
      CAPTURE(at);
      Region one = ascii;
      one[at] = 0x80;
      CHECK_FALSE(isAscii(one.data(), static_cast<uint32_t>(n)));
    }
  }
  const Region controls = bytes({0, 1, 0x7F, '\n'});
  CHECK(isAscii(controls.data(), 4));
}
