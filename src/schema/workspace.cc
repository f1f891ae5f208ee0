#include "schema/workspace.h"

#include <filesystem>
#include <fstream>

namespace kairos {

namespace fs = std::filesystem;

std::string Workspace::StorePath() const {
  fs::path p(config.store.path);
  if (p.is_absolute()) return p.string();
  return (fs::path(dir) / p).string();
}

Result<Workspace> Workspace::Load(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return NotFound("workspace " + dir + " is not a folder (create one with: kairos init " + dir + ")");
  }
  Workspace ws;
  ws.dir = dir;
  const std::string config_path = (fs::path(dir) / "kairos.yaml").string();
  const std::string schema_path = (fs::path(dir) / "schema.yaml").string();
  if (fs::exists(config_path, ec)) {
    KAIROS_ASSIGN_OR_RETURN(ws.config, Config::Load(config_path));
  }
  if (!fs::exists(schema_path, ec)) {
    return NotFound(schema_path + ": missing (kairos init writes a default one)");
  }
  KAIROS_ASSIGN_OR_RETURN(ws.schema, Schema::Load(schema_path));
  return ws;
}

Status Workspace::Init(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir + ": " + ec.message());
  const std::pair<const char*, std::string_view> files[] = {{"kairos.yaml", DefaultConfigYaml()},
                                                            {"schema.yaml", DefaultSchemaYaml()}};
  for (const auto& [name, text] : files) {
    if (fs::exists(fs::path(dir) / name, ec)) {
      return Status(ErrorCode::kAlreadyExists, (fs::path(dir) / name).string() + " already exists; not overwriting");
    }
  }
  for (const auto& [name, text] : files) {
    const fs::path p = fs::path(dir) / name;
    std::ofstream out(p, std::ios::binary);
    out << text;
    out.close();
    if (!out) return IoError("cannot write " + p.string());
  }
  return Status::Ok();
}

}  // namespace kairos
