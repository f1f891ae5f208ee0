// kairos ingest: bulk-loads NDJSON (plain or gzip) through the same engine path as the server.
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "app/commands.h"
#include "common/clock.h"
#include "ingest/engine.h"
#include "schema/workspace.h"

namespace kairos::app {

namespace {

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};

// Progress on a terminal only: "\r[#####.....]  45%  1.2M events  520k/s".
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled) {}
  void Update(double fraction, int64_t events, double seconds) {
    if (!enabled_) return;
    const int width = 30;
    const int filled = static_cast<int>(fraction * width);
    std::fprintf(stderr, "\r[%s%s] %3d%%  %.2fM events  %.0fk/s ", std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), static_cast<int>(fraction * 100), events / 1e6,
                 seconds > 0 ? events / seconds / 1e3 : 0.0);
    std::fflush(stderr);
  }
  void Done() {
    if (enabled_) std::fprintf(stderr, "\n");
  }

 private:
  bool enabled_;
};

void WriteReject(std::ofstream& out, const std::string& file, const Rejection& r) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("file");
  w.String(file.c_str());
  w.Key("line");
  w.Int64(r.line);
  w.Key("code");
  w.String(std::string(ErrorCodeName(r.code)).c_str());
  w.Key("error");
  w.String(r.error.c_str());
  if (!r.field.empty()) {
    w.Key("field");
    w.String(r.field.c_str());
  }
  w.EndObject();
  out << sb.GetString() << '\n';
}

}  // namespace

int RunIngest(const IngestArgs& args) {
  auto ws = Workspace::Load(args.workspace);
  if (!ws.ok()) return Fail(ws.status().message());
  SystemClock clock;
  auto engine_or = Engine::Open(*ws, &clock);
  if (!engine_or.ok()) return Fail(engine_or.status().message());
  Engine& engine = **engine_or;

  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  Progress progress(StderrIsTerminal() && !args.json);
  std::ofstream rejects;
  int64_t accepted = 0, duplicates = 0, rejected = 0, lines_total = 0;
  std::vector<std::string> errors;  // file-level problems (unreadable, truncated gzip)

  int64_t total_bytes = 0, done_bytes = 0;
  for (const std::string& f : args.files) {
    std::ifstream probe(f, std::ios::binary | std::ios::ate);
    if (probe) total_bytes += static_cast<int64_t>(probe.tellg());
  }

  for (const std::string& file : args.files) {
    std::unique_ptr<gzFile_s, GzCloser> in(gzopen(file.c_str(), "rb"));
    if (!in) {
      errors.push_back(file + ": cannot open");
      continue;
    }
    gzbuffer(in.get(), 1 << 20);
    std::string buffer;
    std::vector<char> chunk(static_cast<size_t>(args.chunk_bytes));
    int64_t next_line = 1;
    bool eof = false;
    while (!eof) {
      const int n = gzread(in.get(), chunk.data(), static_cast<unsigned>(chunk.size()));
      if (n < 0) {
        int code = 0;
        const char* msg = gzerror(in.get(), &code);
        errors.push_back(file + ": read failed after line " + std::to_string(next_line - 1) + ": " + msg);
        break;
      }
      if (n == 0) {
        eof = true;
        int code = 0;
        const char* msg = gzerror(in.get(), &code);
        // A gzip stream cut short reads as a clean end with Z_BUF_ERROR pending.
        if (code != Z_OK && code != Z_STREAM_END) {
          errors.push_back(file + ": truncated or damaged after line " + std::to_string(next_line - 1) + ": " + msg);
        }
      }
      buffer.append(chunk.data(), static_cast<size_t>(n));
      // Hand over whole lines; keep a partial last line for the next chunk (or the end).
      size_t cut = eof ? buffer.size() : buffer.rfind('\n');
      if (cut == std::string::npos) {
        if (buffer.size() > (64 << 20)) {
          errors.push_back(file + ": line " + std::to_string(next_line) + " is longer than 64 MiB");
          break;
        }
        continue;
      }
      if (!eof) ++cut;  // include the newline
      const std::string_view body(buffer.data(), cut);
      IngestResult r = engine.IngestNdjson(body, next_line);
      int64_t lines = 0;
      for (char c : body) lines += c == '\n';
      if (!body.empty() && body.back() != '\n') ++lines;
      next_line += lines;
      lines_total += lines;
      accepted += r.accepted;
      duplicates += r.duplicates;
      rejected += static_cast<int64_t>(r.rejected.size());
      if (!r.rejected.empty()) {
        if (!rejects.is_open()) rejects.open(args.rejects_path, std::ios::trunc);
        for (const Rejection& rej : r.rejected) WriteReject(rejects, file, rej);
      }
      buffer.erase(0, cut);
      done_bytes = std::max<int64_t>(done_bytes, gzoffset(in.get()));
      progress.Update(total_bytes > 0 ? std::min(1.0, static_cast<double>(done_bytes) / total_bytes) : 0,
                      accepted + duplicates + rejected, elapsed());
    }
    done_bytes = 0;
  }
  progress.Done();
  Status cp = engine.Checkpoint();
  if (!cp.ok()) errors.push_back(cp.message());
  const double seconds = elapsed();

  if (args.json) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.StartObject();
    w.Key("accepted");
    w.Int64(accepted);
    w.Key("duplicates");
    w.Int64(duplicates);
    w.Key("rejected");
    w.Int64(rejected);
    w.Key("lines");
    w.Int64(lines_total);
    w.Key("seconds");
    w.Double(seconds);
    w.Key("events_per_second");
    w.Double(seconds > 0 ? (accepted + duplicates + rejected) / seconds : 0);
    w.Key("rejects_file");
    if (rejected > 0) w.String(args.rejects_path.c_str());
    else w.Null();
    w.Key("errors");
    w.StartArray();
    for (const auto& e : errors) w.String(e.c_str());
    w.EndArray();
    w.EndObject();
    std::printf("%s\n", sb.GetString());
  } else {
    std::printf("accepted %lld, duplicates %lld, rejected %lld in %.1f s (%.0f events/s)\n",
                static_cast<long long>(accepted), static_cast<long long>(duplicates),
                static_cast<long long>(rejected), seconds,
                seconds > 0 ? (accepted + duplicates + rejected) / seconds : 0.0);
    if (rejected > 0) std::printf("rejected lines with reasons: %s\n", args.rejects_path.c_str());
    for (const auto& e : errors) std::fprintf(stderr, "kairos: %s\n", e.c_str());
  }
  return rejected > 0 || !errors.empty() ? 1 : 0;
}

}  // namespace kairos::app
