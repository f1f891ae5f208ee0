#include "server/static_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "server/http_json.h"
#include "server/routes.h"

namespace kairos {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kNoCache = "no-cache";
constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
// The console loads only its own files; inline style attributes are set by the chart library.
constexpr std::string_view kCsp =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

StaticFile Error(unsigned status, ErrorCode code, std::string_view message) {
  StaticFile f;
  f.status = status;
  f.content_type = "application/json";
  f.headers.emplace_back("Cache-Control", "no-store");
  f.body = ErrorJson(code, message);
  return f;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// True when `path` is `prefix` itself or lies below it ("/v1" and "/v1/...", not "/v1x").
bool Under(std::string_view path, std::string_view prefix) {
  return StartsWith(path, prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/');
}

bool ReadWhole(const fs::path& p, std::string* out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return false;
  *out = std::move(ss).str();
  return true;
}

// The decoded path relative to the console directory ("" for "/"), or false when it is not a
// plain relative path: "..", ".", dot-files, backslashes, NUL, empty segments.
bool CleanRelative(std::string_view raw, std::string* rel) {
  std::string decoded;
  if (!PercentDecode(raw, &decoded)) return false;
  if (decoded.empty() || decoded[0] != '/') return false;
  rel->clear();
  std::string_view rest = std::string_view(decoded).substr(1);
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    if (seg.empty() || seg[0] == '.') return false;
    for (char c : seg) {
      if (c == '\\' || c == '\0' || static_cast<unsigned char>(c) < 0x20) return false;
    }
    if (!rel->empty()) rel->push_back('/');
    rel->append(seg);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
    if (rest.empty()) return false;  // a trailing slash names a directory
  }
  return true;
}

}  // namespace

ConsoleFiles::ConsoleFiles(std::string dir) : dir_(std::move(dir)) {}

std::string ConsoleFiles::Locate(const std::string& configured, const std::string& workspace_dir,
                                 const std::string& exe_path) {
  if (!configured.empty()) {
    fs::path p(configured);
    if (p.is_relative() && !workspace_dir.empty()) p = fs::path(workspace_dir) / p;
    return p.lexically_normal().string();
  }
  std::error_code ec;
  fs::path exe = fs::weakly_canonical(fs::path(exe_path), ec);
  if (ec) exe = fs::path(exe_path);
  return (exe.parent_path() / ".." / "web" / "dist").lexically_normal().string();
}

bool ConsoleFiles::Serves(std::string_view method, std::string_view path) {
  if (method != "GET") return false;
  for (std::string_view p : {"/v1", "/metrics", "/healthz", "/readyz", "/o"}) {
    if (Under(path, p)) return false;
  }
  return !path.empty() && path[0] == '/';
}

bool ConsoleFiles::Built() const {
  std::error_code ec;
  return !dir_.empty() && fs::is_regular_file(fs::path(dir_) / "index.html", ec);
}

std::string_view ConsoleFiles::ContentTypeFor(std::string_view name) {
  const size_t dot = name.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  struct Type {
    std::string_view ext, type;
  };
  static constexpr Type kTypes[] = {
      {"html", "text/html; charset=utf-8"},  {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"}, {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},          {"map", "application/json"},
      {"svg", "image/svg+xml"},              {"png", "image/png"},
      {"jpg", "image/jpeg"},                 {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},                  {"webp", "image/webp"},
      {"ico", "image/x-icon"},               {"woff2", "font/woff2"},
      {"woff", "font/woff"},                 {"txt", "text/plain; charset=utf-8"},
      {"webmanifest", "application/manifest+json"},
  };
  for (const Type& t : kTypes) {
    if (t.ext == ext) return t.type;
  }
  return "application/octet-stream";
}

StaticFile ConsoleFiles::Get(std::string_view path) const {
  if (!Built()) {
    return Error(404, ErrorCode::kNotFound,
                 "the console is not built (no index.html in " + dir_ +
                     "): build the project (npm runs during the build) or set console.dir in "
                     "kairos.yaml");
  }
  std::string rel;
  if (!CleanRelative(path, &rel)) {
    return Error(400, ErrorCode::kInvalidArgument, "not a valid console path");
  }
  const fs::path root(dir_);
  std::error_code ec;
  const fs::path canonical_root = fs::canonical(root, ec);
  if (ec) return Error(500, ErrorCode::kIoError, "the console directory cannot be read: " + dir_);

  const bool asset = StartsWith(rel, "assets/");
  fs::path file = rel.empty() ? root / "index.html" : root / rel;
  bool is_index = rel.empty() || rel == "index.html";
  if (!rel.empty() && !fs::is_regular_file(file, ec)) {
    if (asset) return Error(404, ErrorCode::kNotFound, "no console file /" + rel);
    // A client-side route (/customers/s0001): the app decides what to show.
    file = root / "index.html";
    is_index = true;
  }
  // Symlinks must not lead out of the directory.
  const fs::path resolved = fs::canonical(file, ec);
  if (ec) return Error(404, ErrorCode::kNotFound, "no console file /" + rel);
  const auto [root_end, _] = std::mismatch(canonical_root.begin(), canonical_root.end(), resolved.begin(), resolved.end());
  if (root_end != canonical_root.end()) {
    return Error(400, ErrorCode::kInvalidArgument, "not a valid console path");
  }

  StaticFile f;
  if (!ReadWhole(resolved, &f.body)) return Error(500, ErrorCode::kIoError, "cannot read console file /" + rel);
  f.content_type = std::string(ContentTypeFor(resolved.filename().string()));
  f.headers.emplace_back("Cache-Control", std::string(asset ? kImmutable : kNoCache));
  f.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (is_index) {
    f.headers.emplace_back("Content-Security-Policy", std::string(kCsp));
    f.headers.emplace_back("Referrer-Policy", "no-referrer");
  }
  return f;
}

}  // namespace kairos
