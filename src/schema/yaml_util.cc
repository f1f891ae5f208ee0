#include "schema/yaml_util.h"

#include <charconv>
#include <cmath>

#include "common/time_format.h"

namespace kairos {

Status YamlError(std::string_view file, const YAML::Mark& mark, std::string_view message) {
  std::string out(file);
  if (mark.line >= 0) {
    // Appended piece by piece: `":" + std::to_string(...)` trips GCC 12's -Wrestrict at -O3.
    out += ':';
    out += std::to_string(mark.line + 1);
    out += ':';
    out += std::to_string(mark.column + 1);
  }
  out += ": ";
  out += message;
  return InvalidArgument(std::move(out));
}

Status YamlError(std::string_view file, const YAML::Node& node, std::string_view message) {
  return YamlError(file, node.Mark(), message);
}

Result<YAML::Node> ParseYaml(std::string_view text, std::string_view file) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    return YamlError(file, e.mark, e.msg);
  } catch (const YAML::Exception& e) {
    return YamlError(file, e.mark, e.msg);
  }
}

Status CheckKeys(std::string_view file, const YAML::Node& map,
                 std::initializer_list<std::string_view> allowed, std::string_view what) {
  if (!map.IsMap()) return YamlError(file, map, std::string(what) + " must be a mapping");
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
    bool ok = false;
    for (auto a : allowed) ok = ok || key == a;
    if (!ok) {
      std::string known;
      for (auto a : allowed) {
        if (!known.empty()) known += ", ";
        known += a;
      }
      return YamlError(file, kv.first,
                       "unknown key \"" + key + "\" in " + std::string(what) + " (known: " + known + ")");
    }
  }
  return Status::Ok();
}

Result<std::string> YamlString(std::string_view file, const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) return YamlError(file, node, std::string(what) + " must be a string");
  return node.Scalar();
}

Result<int64_t> YamlInt(std::string_view file, const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) return YamlError(file, node, std::string(what) + " must be an integer");
  const std::string& s = node.Scalar();
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return YamlError(file, node, std::string(what) + " must be an integer, got \"" + s + "\"");
  }
  return v;
}

Result<double> YamlNumber(std::string_view file, const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) return YamlError(file, node, std::string(what) + " must be a number");
  const std::string& s = node.Scalar();
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) {
    return YamlError(file, node, std::string(what) + " must be a number, got \"" + s + "\"");
  }
  return v;
}

Result<bool> YamlBool(std::string_view file, const YAML::Node& node, std::string_view what) {
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
  }
  return YamlError(file, node, std::string(what) + " must be true or false");
}

Result<int64_t> YamlDurationMs(std::string_view file, const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) return YamlError(file, node, std::string(what) + " must be a duration like 48h");
  auto r = ParseDurationMs(node.Scalar());
  if (!r.ok()) return YamlError(file, node, std::string(what) + ": " + r.status().message());
  return r;
}

Result<int64_t> YamlBytes(std::string_view file, const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) return YamlError(file, node, std::string(what) + " must be a size like 64MiB");
  const std::string& s = node.Scalar();
  int64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  std::string_view unit(p, s.data() + s.size() - p);
  int64_t mult = 0;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "KiB") mult = int64_t{1} << 10;
  else if (unit == "MiB") mult = int64_t{1} << 20;
  else if (unit == "GiB") mult = int64_t{1} << 30;
  else if (unit == "TiB") mult = int64_t{1} << 40;
  if (ec != std::errc() || p == s.data() || n < 0 || mult == 0 || n > (int64_t{1} << 50) / mult) {
    return YamlError(file, node,
                     std::string(what) + " must be a size like 512KiB, 64MiB or 8GiB, got \"" + s + "\"");
  }
  return n * mult;
}

}  // namespace kairos
