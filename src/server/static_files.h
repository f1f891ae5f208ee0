// ConsoleFiles: the operator console's built files (web/dist), served by `kairos serve` at "/".
//
// index.html is sent with `Cache-Control: no-cache` (so a new build is picked up at once), the
// content-hashed files under /assets/ with a year-long immutable cache. Any other GET path that
// is not a file (and not an API path) is a client-side route of the console and gets index.html.
// A missing asset is a 404 (never index.html: a script tag must not receive HTML). Paths are
// percent-decoded and confined to the directory: "..", backslashes, NUL and dot-files are
// refused, and the resolved file must lie inside the directory (no symlink escapes).
//
// Files are read from disk on each request (the OS caches them; the console is a handful of
// files), so a rebuild while the server runs is served without a restart. Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kairos {

struct StaticFile {
  unsigned status = 200;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // Cache-Control and friends
  std::string body;
};

class ConsoleFiles {
 public:
  // `dir` holds index.html and assets/; it may not exist (the console was not built).
  explicit ConsoleFiles(std::string dir);

  // Where the console is: `configured` (kairos.yaml console.dir, relative to the workspace
  // `workspace_dir`) when set, else <directory of `exe_path`>/../web/dist.
  static std::string Locate(const std::string& configured, const std::string& workspace_dir,
                            const std::string& exe_path);

  // True for the requests the console answers: a GET of anything outside the API's own
  // namespaces (/v1/, /metrics, /healthz, /readyz, /o/).
  static bool Serves(std::string_view method, std::string_view path);

  // The response for `path` (the request target without its query, still percent-encoded).
  // 404 JSON when the console is not built or an asset is missing; 400 for a path that tries to
  // leave the directory.
  StaticFile Get(std::string_view path) const;

  const std::string& dir() const { return dir_; }
  // True when index.html exists (checked on each call).
  bool Built() const;

  static std::string_view ContentTypeFor(std::string_view file_name);

 private:
  std::string dir_;
};

}  // namespace kairos
