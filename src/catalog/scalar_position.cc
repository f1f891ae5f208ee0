#include "catalog/scalar_position.h"

#include <algorithm>
#include <string>

#include "schema/yaml_util.h"

namespace kairos {

TextPosition LocateInScalar(std::string_view text, const YAML::Node& node, size_t offset) {
  const YAML::Mark mark = node.Mark();
  const std::string& value = node.Scalar();
  TextPosition fallback{mark.line + 1, mark.column + 1 + static_cast<int>(offset)};
  if (mark.pos < 0 || static_cast<size_t>(mark.pos) >= text.size()) return fallback;
  size_t p = static_cast<size_t>(mark.pos);
  const char first = text[p];
  if (first == '"' || first == '\'') {
    ++fallback.column;
    ++p;
  } else if (first == '|' || first == '>') {
    p = text.find('\n', p);
    if (p == std::string_view::npos) return fallback;
    ++p;
  }
  offset = std::min(offset, value.size());
  for (size_t i = 0; i < offset + 1 && i < value.size(); ++i) {
    const char v = value[i];
    for (;; ++p) {
      if (p >= text.size()) return fallback;
      const char s = text[p];
      if (s == v || ((v == ' ' || v == '\n') && s == '\n')) break;
      const bool skippable =
          s == ' ' || s == '\t' || s == '\n' || s == '\r' || s == '\\' || s == '"' || s == '\'';
      if (!skippable) return fallback;
    }
    if (i == offset) break;
    ++p;
  }
  // p is now the source position of value[offset] (or just past the last character). Count
  // lines from the mark only: a catalog has many rules and the file may be large.
  TextPosition pos;
  pos.line = mark.line + 1;
  for (size_t i = static_cast<size_t>(mark.pos); i < p; ++i) pos.line += text[i] == '\n';
  const size_t newline = p == 0 ? std::string_view::npos : text.rfind('\n', p - 1);
  const size_t line_start = newline == std::string_view::npos ? 0 : newline + 1;
  pos.column = static_cast<int>(p - line_start) + 1;
  return pos;
}

Result<std::shared_ptr<const expr::Expr>> CompileScalar(std::string_view text, std::string_view file,
                                                        const YAML::Node& node,
                                                        const expr::Environment& env,
                                                        std::string_view what) {
  if (!node.IsScalar()) return YamlError(file, node, std::string(what) + " must be an expression");
  expr::CompileError err;
  auto e = expr::Expr::Compile(node.Scalar(), env, expr::Type::kNull, &err);
  if (e == nullptr) {
    const TextPosition pos = LocateInScalar(text, node, err.offset);
    return InvalidArgument(std::string(file) + ":" + std::to_string(pos.line) + ":" +
                           std::to_string(pos.column) + ": " + std::string(what) + ": " + err.message);
  }
  return e;
}

}  // namespace kairos
