// Workspace: a folder holding kairos.yaml (config) and schema.yaml, plus the store's data.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "schema/config.h"
#include "schema/schema.h"

namespace kairos {

struct Workspace {
  std::string dir;
  Config config;
  std::shared_ptr<const Schema> schema;

  // Absolute or workspace-relative path of the store folder.
  std::string StorePath() const;

  // Loads and validates every file of the workspace. Errors are "file:line:column: message".
  static Result<Workspace> Load(const std::string& dir);
  // Writes the default commented kairos.yaml and schema.yaml into `dir` (created if missing).
  // Refuses to overwrite existing files.
  static Status Init(const std::string& dir);
};

}  // namespace kairos
