// kairos keys create|list|revoke: API keys of a workspace (keys.json), usable while serve runs.
// Every create and revoke is written to the workspace's audit log.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <filesystem>

#include "app/commands.h"
#include "common/clock.h"
#include "common/time_format.h"
#include "schema/json_write.h"
#include "server/api_keys.h"
#include "server/audit_log.h"

namespace kairos::app {
namespace {

Status CheckWorkspace(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(dir) / "kairos.yaml", ec)) {
    return NotFound(dir + ": not a Kairos workspace (no kairos.yaml; see kairos init)");
  }
  return Status::Ok();
}

Status Audit(const std::string& workspace, std::string action, std::string target,
             std::string outcome, TimestampMs now) {
  AuditEntry e;
  e.actor = CliActor();
  e.action = std::move(action);
  e.target = std::move(target);
  e.outcome = std::move(outcome);
  return AuditLog(AuditLog::PathIn(workspace)).Append(e, now);
}

template <typename Writer>
void WriteRecord(Writer& w, const ApiKeyRecord& k) {
  json::Key(w, "id");
  json::String(w, k.id);
  json::Key(w, "name");
  json::String(w, k.name);
  json::Key(w, "role");
  json::String(w, RoleName(k.role));
  json::Key(w, "created");
  json::Time(w, k.created_ms);
  json::Key(w, "revoked");
  if (k.revoked_ms != 0) {
    json::Time(w, k.revoked_ms);
  } else {
    w.Null();
  }
  json::Key(w, "rate_per_second");
  w.Double(k.rate_per_second);
}

}  // namespace

int RunKeysCreate(const KeysArgs& args) {
  if (Status s = CheckWorkspace(args.workspace); !s.ok()) return Fail(s.message());
  std::optional<Role> role = ParseRole(args.role);
  if (!role) return Fail("--role must be viewer, decision, operator or admin, got \"" + args.role + "\"");
  SystemClock clock;
  const TimestampMs now = clock.Now();
  auto created = KeyFile::Create(KeyFile::PathIn(args.workspace), *role, args.name,
                                 args.rate_limit, now);
  if (!created.ok()) return Fail(created.status().message());
  // The key exists only once it is audited: a key nobody can account for is revoked again.
  if (Status s = Audit(args.workspace, "keys.create", created->record.id,
                       "ok: role " + std::string(RoleName(*role)), now);
      !s.ok()) {
    (void)KeyFile::Revoke(KeyFile::PathIn(args.workspace), created->record.id, now);
    return Fail(s.message() + " (the key was revoked again)");
  }
  if (args.json) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.StartObject();
    json::Key(w, "key");
    json::String(w, created->key);
    WriteRecord(w, created->record);
    w.EndObject();
    std::printf("%s\n", sb.GetString());
  } else {
    std::printf("%s\n", created->key.c_str());
    std::fprintf(stderr,
                 "Created key %s (%s, role %s). It is shown only now: store it in a secret "
                 "manager.\n",
                 created->record.id.c_str(), created->record.name.c_str(),
                 std::string(RoleName(*role)).c_str());
  }
  return 0;
}

int RunKeysList(const KeysArgs& args) {
  if (Status s = CheckWorkspace(args.workspace); !s.ok()) return Fail(s.message());
  auto keys = KeyFile::Load(KeyFile::PathIn(args.workspace));
  if (!keys.ok()) return Fail(keys.status().message());
  if (args.json) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.StartObject();
    json::Key(w, "keys");
    w.StartArray();
    for (const ApiKeyRecord& k : *keys) {
      w.StartObject();
      WriteRecord(w, k);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    std::printf("%s\n", sb.GetString());
    return 0;
  }
  std::printf("%-12s  %-9s  %-20s  %-20s  %s\n", "ID", "ROLE", "CREATED", "REVOKED", "NAME");
  for (const ApiKeyRecord& k : *keys) {
    std::printf("%-12s  %-9s  %-20s  %-20s  %s\n", k.id.c_str(),
                std::string(RoleName(k.role)).c_str(), FormatRfc3339(k.created_ms).c_str(),
                k.revoked_ms != 0 ? FormatRfc3339(k.revoked_ms).c_str() : "-", k.name.c_str());
  }
  return 0;
}

int RunKeysRevoke(const KeysArgs& args) {
  if (Status s = CheckWorkspace(args.workspace); !s.ok()) return Fail(s.message());
  SystemClock clock;
  const TimestampMs now = clock.Now();
  auto revoked = KeyFile::Revoke(KeyFile::PathIn(args.workspace), args.id, now);
  Status audited = Audit(args.workspace, "keys.revoke", args.id,
                         revoked.ok() ? "ok" : "refused: " + revoked.status().message(), now);
  if (!revoked.ok()) return Fail(revoked.status().message());
  if (!audited.ok()) return Fail(audited.message() + " (the key is revoked)");
  if (args.json) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.StartObject();
    WriteRecord(w, *revoked);
    w.EndObject();
    std::printf("%s\n", sb.GetString());
  } else {
    std::printf("Revoked key %s (%s)\n", revoked->id.c_str(), revoked->name.c_str());
  }
  return 0;
}

}  // namespace kairos::app
