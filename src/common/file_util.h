// Whole-file reads for configuration and logs; errors name the path.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace kairos {

// Reads a whole file. kIoError naming the path (and the OS reason) when it cannot be read.
Result<std::string> ReadFile(const std::string& path);

// Replaces `path` with `bytes` so that a crash leaves the old file or the new one, never a torn
// mix: written to path + ".tmp", fsynced, renamed over `path`, the folder synced.
Status WriteFileAtomic(const std::string& path, std::string_view bytes);

}  // namespace kairos
