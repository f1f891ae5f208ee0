// Helpers for reading YAML configuration with errors that point at file:line:column.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

#include "common/file_util.h"  // ReadFile, used with ParseYaml
#include "common/status.h"

namespace kairos {

// "file:line:column: message" (1-based line and column, from the node's mark).
Status YamlError(std::string_view file, const YAML::Node& node, std::string_view message);
Status YamlError(std::string_view file, const YAML::Mark& mark, std::string_view message);

// Parses text into a node; a syntax error becomes "file:line:column: <yaml-cpp message>".
Result<YAML::Node> ParseYaml(std::string_view text, std::string_view file);


// Rejects keys of a map that are not in `allowed` (catches typos such as "windos").
Status CheckKeys(std::string_view file, const YAML::Node& map,
                 std::initializer_list<std::string_view> allowed, std::string_view what);

// Scalar readers: an error when the node is not a scalar of the requested kind.
Result<std::string> YamlString(std::string_view file, const YAML::Node& node, std::string_view what);
Result<int64_t> YamlInt(std::string_view file, const YAML::Node& node, std::string_view what);
Result<double> YamlNumber(std::string_view file, const YAML::Node& node, std::string_view what);
Result<bool> YamlBool(std::string_view file, const YAML::Node& node, std::string_view what);
// Durations such as "48h" (or a plain integer of milliseconds).
Result<int64_t> YamlDurationMs(std::string_view file, const YAML::Node& node, std::string_view what);
// Sizes such as "64MiB", "1GiB", "512KiB" or plain bytes.
Result<int64_t> YamlBytes(std::string_view file, const YAML::Node& node, std::string_view what);

}  // namespace kairos
