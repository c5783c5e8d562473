// Fuzzes the ABI codec (src/abi/abi_codec.h): the reader of byte regions JS fills (lengths and packed field lists
// from another language, so any bytes) and the writers whose output JS reads. Every region is a heap buffer of
// exactly its capacity, so a read or write one byte past it is a heap overflow AddressSanitizer reports.
// Input byte 0 chooses the mode:
//   0: byte 1-4 = a start cursor, 5-8 = a field count, 9-12 = a string-slot offset and count, the rest = the
//      region: readFields, readPrefixed and readStringSlots over it;
//   1: the rest describes a field list, written with writeFields into regions of the exact size it needs (and one
//      byte less), then read back;
//   2: the rest is a region for isAscii and doubles for msFromDouble.
// Invariants: a read succeeds exactly when a walk of the layout (abi_layout.h, written here independently) stays
// inside the region; what it returns are views of the region at the walked offsets, and the cursor ends where the
// walk does; a failed readFields leaves no fields; write-then-read gives the fields back and a region one byte
// short refuses the write; isAscii agrees with a byte loop at every alignment; msFromDouble is NaN -> 0, clamped
// to +-4.6e18 and the truncation in between.
#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "abi/abi_codec.h"
#include "abi/abi_layout.h"
#include "fuzz_support.h"

using namespace edge_cache;

namespace {

struct Region {
  std::unique_ptr<uint8_t[]> bytes;
  uint32_t capacity = 0;
  explicit Region(size_t n) : bytes(new uint8_t[n]), capacity(static_cast<uint32_t>(n)) {}
  Region(const uint8_t* data, size_t n) : Region(n) {
    if (n) std::memcpy(bytes.get(), data, n);
  }
};

uint32_t le32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

bool within(std::string_view v, const Region& r) {
  const auto* p = reinterpret_cast<const uint8_t*>(v.data());
  return v.empty() || (p >= r.bytes.get() && p + v.size() <= r.bytes.get() + r.capacity);
}

// The layout walked independently: `count` × (u32 length, bytes, u32 length, bytes) from `cursor`; the offsets of
// each string, or nullopt when the list leaves the region.
std::optional<std::vector<std::pair<uint64_t, uint32_t>>> walkFields(const Region& r, uint64_t cursor, uint32_t count) {
  std::vector<std::pair<uint64_t, uint32_t>> strings;
  for (uint64_t i = 0; i < 2ull * count; ++i) {
    if (cursor + 4 > r.capacity) return std::nullopt;
    const uint32_t len = le32(r.bytes.get() + cursor);
    cursor += 4;
    if (cursor + len > r.capacity) return std::nullopt;
    strings.emplace_back(cursor, len);
    cursor += len;
    if (strings.size() > r.capacity) return std::nullopt;  // cannot happen: each string costs 4 bytes
  }
  return strings;
}

void readArbitrary(const uint8_t* data, size_t size) {
  if (size < 12) return;
  const uint32_t start = le32(data) % 64 == 63 ? le32(data) : le32(data) % 64;  // mostly small, sometimes anything
  const uint32_t count = le32(data + 4) % 32 == 31 ? le32(data + 4) : le32(data + 4) % 32;
  const uint32_t slotsOff = le32(data + 8) % 64, slots = data[8] % 12;
  const Region r(data + 12, size - 12);

  uint32_t cursor = start;
  HeaderFields fields;
  fields.push_back({"stale", "entry"});
  const bool ok = abi::readFields(r.bytes.get(), r.capacity, cursor, count, fields);
  const auto walked = start <= r.capacity ? walkFields(r, start, count) : std::nullopt;
  FUZZ_CHECK(ok == walked.has_value());
  if (!ok) {
    FUZZ_CHECK(fields.empty());
  } else {
    FUZZ_CHECK(fields.size() == count);
    for (size_t i = 0; i < fields.size(); ++i) {
      for (int k = 0; k < 2; ++k) {
        const std::string_view v = k == 0 ? fields[i].name : fields[i].value;
        const auto [offset, length] = (*walked)[2 * i + k];
        FUZZ_CHECK(within(v, r));
        FUZZ_CHECK(v.size() == length);
        FUZZ_CHECK(v.empty() || reinterpret_cast<const uint8_t*>(v.data()) == r.bytes.get() + offset);
      }
    }
    const uint64_t end = walked->empty() ? start : walked->back().first + walked->back().second;
    FUZZ_CHECK(cursor == end && cursor <= r.capacity);
  }

  cursor = start;
  std::string_view one;
  const bool prefixed = abi::readPrefixed(r.bytes.get(), r.capacity, cursor, one);
  const bool fits = uint64_t{start} + 4 <= r.capacity && uint64_t{start} + 4 + le32(r.bytes.get() + start) <= r.capacity;
  FUZZ_CHECK(prefixed == fits);
  if (prefixed) FUZZ_CHECK(within(one, r) && cursor == start + 4 + one.size());

  std::array<std::string_view, 6> values{};
  std::array<bool, 6> present{};
  // The slots' lengths must lie in the region, and the strings of present slots (up to the 6 asked for) too.
  bool slotsFit = uint64_t{slotsOff} + 4ull * slots <= r.capacity;
  for (uint64_t i = 0, at = start; slotsFit && i < slots && i < 6; ++i) {
    const uint32_t len = le32(r.bytes.get() + slotsOff + 4 * i);
    if (len == abi::kAbsent) continue;
    slotsFit = at + len <= r.capacity;
    at += len;
  }
  cursor = start;
  const bool slotsOk = abi::readStringSlots(r.bytes.get(), r.capacity, slotsOff, slots, cursor, values, present);
  FUZZ_CHECK(slotsOk == slotsFit);
  if (slotsOk) {
    uint64_t expected = start;
    for (uint32_t i = 0; i < 6; ++i) {
      FUZZ_CHECK(within(values[i], r));
      if (i >= slots) {
        FUZZ_CHECK(!present[i]);
        continue;
      }
      const uint32_t len = le32(r.bytes.get() + slotsOff + 4 * i);
      FUZZ_CHECK(present[i] == (len != abi::kAbsent));
      if (!present[i]) continue;
      FUZZ_CHECK(values[i].size() == len && expected + len <= r.capacity);
      FUZZ_CHECK(len == 0 || reinterpret_cast<const uint8_t*>(values[i].data()) == r.bytes.get() + expected);
      expected += len;
    }
    FUZZ_CHECK(cursor == expected);
  }
}

void roundTrip(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const uint32_t start = in.ConsumeIntegralInRange<uint32_t>(0, 16);
  const uint32_t slack = in.ConsumeIntegralInRange<uint32_t>(0, 3);
  StoredHeaders fields;
  uint64_t needed = 0;
  for (size_t n = in.ConsumeIntegralInRange<size_t>(0, 40); n > 0 && in.remaining_bytes() > 0; --n) {
    fields.emplace_back(in.ConsumeRandomLengthString(32), in.ConsumeRandomLengthString(96));
    needed += 8 + fields.back().first.size() + fields.back().second.size();
  }
  const uint32_t exact = static_cast<uint32_t>(start + needed);

  Region r(exact + slack);
  std::memset(r.bytes.get(), 0xAB, r.capacity);
  uint32_t cursor = start;
  FUZZ_CHECK(abi::writeFields(r.bytes.get(), r.capacity, cursor, fields));
  FUZZ_CHECK(cursor == exact);
  for (uint32_t i = 0; i < start; ++i) FUZZ_CHECK(r.bytes[i] == 0xAB);  // nothing before the cursor
  for (uint32_t i = exact; i < r.capacity; ++i) FUZZ_CHECK(r.bytes[i] == 0xAB);  // nor after the list
  cursor = start;
  HeaderFields back;
  FUZZ_CHECK(abi::readFields(r.bytes.get(), r.capacity, cursor, static_cast<uint32_t>(fields.size()), back));
  FUZZ_CHECK(cursor == exact && back.size() == fields.size());
  for (size_t i = 0; i < fields.size(); ++i) FUZZ_CHECK(back[i].name == fields[i].first && back[i].value == fields[i].second);

  if (!fields.empty()) {
    // One byte short: the write is refused somewhere in the list, and nothing lands past the region (ASan).
    Region tight(exact - 1);
    cursor = start;
    FUZZ_CHECK(!abi::writeFields(tight.bytes.get(), tight.capacity, cursor, fields));
    FUZZ_CHECK(cursor <= tight.capacity);
    cursor = start;
    FUZZ_CHECK(!abi::readFields(r.bytes.get(), exact - 1, cursor, static_cast<uint32_t>(fields.size()), back));
  }
  // Strings: putString / putPrefixed fit exactly or not at all.
  const std::string s = in.ConsumeRemainingBytesAsString();
  Region exactString(s.size() + 4);
  cursor = 0;
  FUZZ_CHECK(abi::putPrefixed(exactString.bytes.get(), exactString.capacity, cursor, s) && cursor == s.size() + 4);
  cursor = 0;
  std::string_view read;
  FUZZ_CHECK(abi::readPrefixed(exactString.bytes.get(), exactString.capacity, cursor, read) && read == s);
  cursor = 1;
  FUZZ_CHECK(!abi::putPrefixed(exactString.bytes.get(), exactString.capacity, cursor, s) && cursor == 1);
  cursor = 4;
  FUZZ_CHECK(abi::putString(exactString.bytes.get(), exactString.capacity, cursor, s) && cursor == exactString.capacity);
  FUZZ_CHECK(!abi::putString(exactString.bytes.get(), exactString.capacity, cursor, "x") && cursor == exactString.capacity);
}

void asciiAndTimes(const uint8_t* data, size_t size) {
  const Region r(data, size);
  for (uint32_t offset = 0; offset < 8 && offset <= r.capacity; ++offset) {
    bool ascii = true;
    for (uint32_t i = offset; i < r.capacity; ++i) ascii = ascii && r.bytes[i] < 0x80;
    FUZZ_CHECK(abi::isAscii(r.bytes.get() + offset, r.capacity - offset) == ascii);
  }
  for (size_t i = 0; i + 8 <= size; i += 8) {
    double v;
    std::memcpy(&v, data + i, 8);
    const int64_t ms = abi::msFromDouble(v);
    constexpr double kLimit = 4.6e18;
    if (std::isnan(v)) FUZZ_CHECK(ms == 0);
    else if (v >= kLimit) FUZZ_CHECK(ms == static_cast<int64_t>(kLimit));
    else if (v <= -kLimit) FUZZ_CHECK(ms == -static_cast<int64_t>(kLimit));
    else FUZZ_CHECK(static_cast<double>(ms) == std::trunc(v));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  switch (data[0] % 3) {
    case 0: readArbitrary(data + 1, size - 1); break;
    case 1: roundTrip(data + 1, size - 1); break;
    default: asciiAndTimes(data + 1, size - 1); break;
  }
  return 0;
}
