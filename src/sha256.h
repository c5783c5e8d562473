#pragma once
// SHA-256 (FIPS 180-4) for cache-key digests, and FNV-1a 64 for cheap, build-stable shard selection.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace edge_cache {

// Incremental hasher, so a digest can be computed over pieces without concatenating them first.
class Sha256 {
public:
  Sha256();
  void update(std::string_view data);
  // Pads and returns the digest; the object must not be updated afterwards (reset() starts over).
  std::array<uint8_t, 32> finish();
  void reset();

private:
  void compress(const uint8_t* block);
  uint32_t state_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t totalBytes_ = 0;
};

std::array<uint8_t, 32> sha256(std::string_view data);
// Lower-case hex, 64 characters.
std::string sha256Hex(std::string_view data);
// FNV-1a, 64-bit. Its values name Durable Objects (via shardForKey), so they must never change.
uint64_t fnv1a64(std::string_view data);

}  // namespace edge_cache
