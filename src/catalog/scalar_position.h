// Positions inside YAML scalars: where an expression's compile error is in the file.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <memory>
#include <string_view>

#include "common/status.h"
#include "expr/expr.h"

namespace kairos {

struct TextPosition {
  int line = 0;
  int column = 0;
};

// Where byte `offset` of a scalar's value is in the file text, as 1-based line and column.
//
// The value is aligned with the source from the scalar's mark: quotes, escapes' backslashes,
// indentation and line breaks that YAML folds are skipped, so offsets map correctly into
// quoted, plain multi-line and block (| and >) scalars. When the alignment fails (an escape
// such as \n that has no literal counterpart before the offset), the position falls back to
// the scalar's column + offset (+1 for the opening quote) on the scalar's first line.
TextPosition LocateInScalar(std::string_view text, const YAML::Node& node, size_t offset);

// Compiles the scalar `node` of the YAML file `file` (whose whole text is `text`) as an expression
// of any type; a compile error is "file:line:column: <what>: <message>" at the offending
// character. Callers check the type and which names it may read.
Result<std::shared_ptr<const expr::Expr>> CompileScalar(std::string_view text, std::string_view file,
                                                        const YAML::Node& node,
                                                        const expr::Environment& env,
                                                        std::string_view what);

}  // namespace kairos
