#include "server/audit_log.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/file_util.h"
#include "schema/json_write.h"

namespace kairos {

std::string AuditLog::PathIn(const std::string& workspace_dir) {
  return (std::filesystem::path(workspace_dir) / "audit.log").string();
}

Status AuditLog::Append(const AuditEntry& e, TimestampMs now) const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  json::Key(w, "ts");
  json::Time(w, now);
  json::Key(w, "actor");
  json::String(w, e.actor);
  if (!e.role.empty()) {
    json::Key(w, "role");
    json::String(w, e.role);
  }
  json::Key(w, "action");
  json::String(w, e.action);
  json::Key(w, "target");
  json::String(w, e.target);
  json::Key(w, "outcome");
  json::String(w, e.outcome);
  if (!e.detail_json.empty()) {
    rapidjson::Document detail;
    detail.Parse(e.detail_json.data(), e.detail_json.size());
    if (!detail.HasParseError()) {
      json::Key(w, "detail");
      detail.Accept(w);
    }
  }
  w.EndObject();
  std::string line(buf.GetString(), buf.GetSize());
  line.push_back('\n');

  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return IoError(path_ + ": cannot open the audit log: " + std::strerror(errno));
  Status status = Status::Ok();
  if (::flock(fd, LOCK_EX) != 0) {
    status = IoError(path_ + ": cannot lock the audit log: " + std::strerror(errno));
  } else {
    size_t done = 0;
    while (done < line.size()) {
      ssize_t n = ::write(fd, line.data() + done, line.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        status = IoError(path_ + ": cannot write the audit log: " + std::strerror(errno));
        break;
      }
      done += static_cast<size_t>(n);
    }
    if (status.ok() && ::fsync(fd) != 0) {
      status = IoError(path_ + ": cannot sync the audit log: " + std::strerror(errno));
    }
  }
  ::close(fd);
  return status;
}

Result<std::vector<std::string>> AuditLog::Tail(size_t limit) const {
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) return std::vector<std::string>{};
  KAIROS_ASSIGN_OR_RETURN(std::string text, ReadFile(path_));
  std::vector<std::string> out;
  size_t end = text.size();
  while (end > 0 && out.size() < limit) {
    if (text[end - 1] == '\n') --end;
    size_t start = text.rfind('\n', end == 0 ? 0 : end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    if (end > start) out.emplace_back(text.substr(start, end - start));
    end = start;
  }
  return out;
}

std::string SubscriberRef(std::string_view subscriber_id) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(subscriber_id.data(), subscriber_id.size(), digest, &len, EVP_sha256(),
                 nullptr) != 1) {
    return "sha256:?";
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kDigits[digest[i] >> 4]);
    out.push_back(kDigits[digest[i] & 15]);
  }
  return out;
}

std::string CliActor() {
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_name != nullptr) {
    return std::string("cli:") + pw->pw_name;
  }
  return "cli:uid" + std::to_string(::getuid());
}

}  // namespace kairos
