#include "abi/abi_codec.h"

namespace edge_cache::abi {

int64_t msFromDouble(double v) {
  constexpr double kLimit = 4.6e18;  // < 2^62
  if (!(v == v)) return 0;           // NaN
  if (v > kLimit) return static_cast<int64_t>(kLimit);
  if (v < -kLimit) return -static_cast<int64_t>(kLimit);
  return static_cast<int64_t>(v);
}

bool putString(uint8_t* region, uint32_t capacity, uint32_t& cursor, std::string_view s) {
  if (cursor > capacity || s.size() > capacity - cursor) return false;
  if (!s.empty()) std::memcpy(region + cursor, s.data(), s.size());
  cursor += static_cast<uint32_t>(s.size());
  return true;
}

bool putPrefixed(uint8_t* region, uint32_t capacity, uint32_t& cursor, std::string_view s) {
  if (cursor > capacity || capacity - cursor < 4 || s.size() > capacity - cursor - 4) return false;
  wr32(region, cursor, static_cast<uint32_t>(s.size()));
  cursor += 4;
  return putString(region, capacity, cursor, s);
}

bool readPrefixed(const uint8_t* region, uint32_t capacity, uint32_t& cursor, std::string_view& out) {
  if (cursor > capacity || capacity - cursor < 4) return false;
  const uint32_t len = rd32(region, cursor);
  if (len > capacity - cursor - 4) return false;
  out = std::string_view(reinterpret_cast<const char*>(region + cursor + 4), len);
  cursor += 4 + len;
  return true;
}

bool readFields(const uint8_t* region, uint32_t capacity, uint32_t& cursor, uint32_t count, HeaderFields& out) {
  out.clear();
  // Each field takes at least 8 bytes: a count that cannot fit is refused before anything is reserved.
  if (cursor > capacity || count > (capacity - cursor) / 8) return false;
  out.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    HeaderField f;
    if (!readPrefixed(region, capacity, cursor, f.name) || !readPrefixed(region, capacity, cursor, f.value)) {
      out.clear();
      return false;
    }
    out.push_back(f);
  }
  return true;
}

bool writeFields(uint8_t* region, uint32_t capacity, uint32_t& cursor, const StoredHeaders& fields) {
  for (const auto& [name, value] : fields) {
    if (!putPrefixed(region, capacity, cursor, name) || !putPrefixed(region, capacity, cursor, value)) return false;
  }
  return true;
}

bool isAscii(const uint8_t* p, uint32_t n) {
  uint64_t high = 0;
  uint32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    high |= w;
  }
  for (; i < n; ++i) high |= p[i];
  return (high & 0x8080808080808080ull) == 0;
}

}  // namespace edge_cache::abi
