// Whole-file reads for configuration and logs; errors name the path.
#pragma once

#include <string>

#include "common/status.h"

namespace kairos {

// Reads a whole file. kIoError naming the path (and the OS reason) when it cannot be read.
Result<std::string> ReadFile(const std::string& path);

}  // namespace kairos
