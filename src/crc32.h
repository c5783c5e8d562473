#pragma once

#include <cstdint>
#include <string_view>

namespace edge_cache {

// IEEE 802.3 CRC-32 (the zlib/PNG/gzip one: reflected polynomial 0xEDB88320, init and final XOR 0xFFFFFFFF).
// `seed` is a previous result, so crc32(b, crc32(a)) == crc32(a + b), like zlib's crc32(crc, buf, len).
// It detects corruption, not tampering: it is not a MAC.
uint32_t crc32(std::string_view data, uint32_t seed = 0);

}  // namespace edge_cache
