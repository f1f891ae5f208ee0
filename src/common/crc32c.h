// CRC-32C (Castagnoli), the checksum of WAL records: the SSE4.2 instruction where the CPU has
// it (about 20 bytes per cycle), a table otherwise. Same result either way.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kairos {

// Extends `crc` (0 to start) over `n` bytes.
uint32_t Crc32c(uint32_t crc, const void* data, size_t n);

}  // namespace kairos
