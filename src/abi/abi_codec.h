#pragma once
// Reading and writing the binary layout of abi_layout.h in a byte region: fixed little-endian slots, packed
// strings, and packed header-field lists. Plain C++ over (pointer, capacity) — no Wasm — so it is unit-tested
// natively and fuzzed (fuzz/abi_codec_fuzz.cpp). Every read is bounds-checked against the region: the bytes
// come from JS, and a bad length must be an error result, never a read past the region (a trap).
#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "header_fields.h"

namespace edge_cache::abi {

inline uint32_t rd32(const uint8_t* base, uint32_t off) {
  uint32_t v;
  std::memcpy(&v, base + off, 4);
  return v;
}
inline double rdf64(const uint8_t* base, uint32_t off) {
  double v;
  std::memcpy(&v, base + off, 8);
  return v;
}
inline void wr32(uint8_t* base, uint32_t off, uint32_t v) { std::memcpy(base + off, &v, 4); }
inline void wrf64(uint8_t* base, uint32_t off, double v) { std::memcpy(base + off, &v, 8); }

// A double from JS as a Unix-ms instant: NaN and values beyond ±2^62 (which an int64 conversion would make
// undefined) are clamped.
int64_t msFromDouble(double v);

// Appends `s` at `cursor`; false (cursor unchanged) when it does not fit in `capacity`.
bool putString(uint8_t* region, uint32_t capacity, uint32_t& cursor, std::string_view s);
// A u32 length (unaligned) then the bytes.
bool putPrefixed(uint8_t* region, uint32_t capacity, uint32_t& cursor, std::string_view s);
// A u32-length-prefixed string at `cursor` (unaligned); false when it does not fit in `capacity`.
bool readPrefixed(const uint8_t* region, uint32_t capacity, uint32_t& cursor, std::string_view& out);

// Reads `slots` lengths (u32, kAbsent = not present) at lengthsOff and the strings packed from `cursor`.
// Slots beyond N are ignored (their strings are not consumed: callers only pass N or fewer).
template <size_t N>
bool readStringSlots(const uint8_t* region, uint32_t capacity, uint32_t lengthsOff, uint32_t slots, uint32_t& cursor,
                     std::array<std::string_view, N>& values, std::array<bool, N>& present) {
  if (lengthsOff > capacity || slots > (capacity - lengthsOff) / 4) return false;
  for (uint32_t i = 0; i < slots && i < N; ++i) {
    const uint32_t len = rd32(region, lengthsOff + 4 * i);
    if (len == 0xFFFFFFFFu) continue;
    if (cursor > capacity || len > capacity - cursor) return false;
    values[i] = std::string_view(reinterpret_cast<const char*>(region + cursor), len);
    present[i] = true;
    cursor += len;
  }
  return true;
}

// A packed field list: `count` × (u32 name length, name, u32 value length, value), all unaligned.
bool readFields(const uint8_t* region, uint32_t capacity, uint32_t& cursor, uint32_t count, HeaderFields& out);
bool writeFields(uint8_t* region, uint32_t capacity, uint32_t& cursor, const StoredHeaders& fields);

// Eight bytes per step: a byte loop over the decision's ~250 bytes of strings was a tenth of a decision.
bool isAscii(const uint8_t* p, uint32_t n);

}  // namespace edge_cache::abi
