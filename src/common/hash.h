// Stable hashing: values that are persisted (event-id fingerprints) or that decide placement
// (subscriber → partition) must not change between builds, so no std::hash here.
#pragma once

#include <cstdint>
#include <string_view>

namespace kairos {

// 64-bit FNV-1a followed by a murmur3-style finalizer (fast for short ids, well mixed).
inline uint64_t StableHash64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// 32-bit key of a name kept in interaction histories (action ids, group, issue and channel
// names, decision ids): stable across builds, restarts and catalog reloads.
inline uint32_t HistoryKey(std::string_view s) { return static_cast<uint32_t>(StableHash64(s)); }

}  // namespace kairos
