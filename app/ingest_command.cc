// kairos ingest: bulk-loads NDJSON (plain or gzip) through the same engine path as the server.
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <thread>

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


// Hands out whole-line chunks of the input files in order; thread-safe.
class ChunkReader {
 public:
  ChunkReader(const std::vector<std::string>& files, int64_t chunk_bytes)
      : files_(files), chunk_(static_cast<size_t>(chunk_bytes)) {}

  struct Chunk {
    std::string file;
    std::string body;
    int64_t first_line = 0;
    int64_t lines = 0;
    int64_t index = 0;  // position of the chunk across all files, from 0
  };

  // The next chunk, or false when every file is done.
  bool Next(Chunk* out) {
    std::lock_guard<std::mutex> lock(mu_);
    for (;;) {
      if (!in_) {
        if (next_file_ == files_.size()) return false;
        file_ = files_[next_file_++];
        in_.reset(gzopen(file_.c_str(), "rb"));
        buffer_.clear();
        next_line_ = 1;
        eof_ = false;
        file_bytes_done_ = 0;
        if (!in_) {
          errors_.push_back(file_ + ": cannot open");
          continue;
        }
        gzbuffer(in_.get(), 1 << 20);
      }
      while (!eof_) {
        const int n = gzread(in_.get(), chunk_.data(), static_cast<unsigned>(chunk_.size()));
        int code = 0;
        if (n < 0) {
          errors_.push_back(file_ + ": read failed after line " + std::to_string(next_line_ - 1) + ": " +
                            gzerror(in_.get(), &code));
          eof_ = true;
          // Keep the whole lines read so far; a partial last line of a damaged file is dropped.
          const size_t whole = buffer_.rfind('\n');
          buffer_.resize(whole == std::string::npos ? 0 : whole + 1);
          break;
        }
        if (n == 0) {
          eof_ = true;
          const char* msg = gzerror(in_.get(), &code);
          // A gzip stream cut short reads as a clean end with an error pending.
          if (code != Z_OK && code != Z_STREAM_END) {
            errors_.push_back(file_ + ": truncated or damaged after line " +
                              std::to_string(next_line_ - 1 + Count(buffer_)) + ": " + msg);
          }
        }
        buffer_.append(chunk_.data(), static_cast<size_t>(n));
        bytes_done_ += gzoffset(in_.get()) - file_bytes_done_;
        file_bytes_done_ = gzoffset(in_.get());
        const size_t cut = buffer_.rfind('\n');
        if (cut != std::string::npos && !eof_) return Emit(cut + 1, out);
        if (buffer_.size() > (64u << 20) && cut == std::string::npos) {
          errors_.push_back(file_ + ": line " + std::to_string(next_line_) + " is longer than 64 MiB");
          buffer_.clear();
          eof_ = true;
        }
      }
      if (!buffer_.empty()) return Emit(buffer_.size(), out);
      in_.reset();
    }
  }

  std::vector<std::string> errors() const {
    std::lock_guard<std::mutex> lock(mu_);
    return errors_;
  }
  int64_t bytes_done() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_done_;
  }

 private:
  static int64_t Count(std::string_view body) {
    int64_t lines = 0;
    for (char c : body) lines += c == '\n';
    if (!body.empty() && body.back() != '\n') ++lines;
    return lines;
  }

  bool Emit(size_t cut, Chunk* out) {
    out->index = chunks_++;
    out->file = file_;
    out->body.assign(buffer_, 0, cut);
    out->first_line = next_line_;
    out->lines = Count(out->body);
    next_line_ += out->lines;
    buffer_.erase(0, cut);
    return true;
  }

  const std::vector<std::string>& files_;
  std::vector<char> chunk_;
  mutable std::mutex mu_;
  size_t next_file_ = 0;
  std::string file_;
  std::unique_ptr<gzFile_s, GzCloser> in_;
  std::string buffer_;
  int64_t next_line_ = 1;
  bool eof_ = false;
  int64_t bytes_done_ = 0, file_bytes_done_ = 0;
  int64_t chunks_ = 0;
  std::vector<std::string> errors_;
};

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
  ProgressBar progress(StderrIsTerminal() && !args.json);
  int64_t total_bytes = 0;
  for (const std::string& f : args.files) {
    std::ifstream probe(f, std::ios::binary | std::ios::ate);
    if (probe) total_bytes += static_cast<int64_t>(probe.tellg());
  }

  // Feeders parse chunks in parallel but hand them to the engine in file order (a chunk may
  // span days of event time, and a subscriber's events must not overtake each other by more
  // than the dedupe window): a feeder submits chunk k only after chunk k-1 is queued.
  ChunkReader reader(args.files, args.chunk_bytes);
  std::mutex mu;  // guards the totals, the reject file, the progress line and the turn
  std::condition_variable turn_cv;
  int64_t turn = 0;
  std::ofstream rejects;
  int64_t accepted = 0, duplicates = 0, rejected = 0, lines_total = 0;
  auto feed = [&] {
    ChunkReader::Chunk chunk;
    while (reader.Next(&chunk)) {
      auto parsed = engine.Parse(chunk.body, chunk.first_line);
      {
        std::unique_lock<std::mutex> lock(mu);
        turn_cv.wait(lock, [&] { return turn == chunk.index; });
      }
      IngestResult r = engine.Submit(std::move(parsed), [&] {
        std::lock_guard<std::mutex> lock(mu);
        ++turn;
        turn_cv.notify_all();
      });
      std::lock_guard<std::mutex> lock(mu);
      lines_total += chunk.lines;
      accepted += r.accepted;
      duplicates += r.duplicates;
      rejected += static_cast<int64_t>(r.rejected.size());
      if (!r.rejected.empty()) {
        if (!rejects.is_open()) rejects.open(args.rejects_path, std::ios::trunc);
        for (const Rejection& rej : r.rejected) WriteReject(rejects, chunk.file, rej);
      }
      const int64_t events = accepted + duplicates + rejected;
      const double seconds = elapsed();
      char detail[64];
      std::snprintf(detail, sizeof detail, "%.2fM events  %.0fk/s", events / 1e6,
                    seconds > 0 ? events / seconds / 1e3 : 0.0);
      progress.Update(total_bytes > 0 ? static_cast<double>(reader.bytes_done()) / total_bytes : 0, detail);
    }
  };
  std::vector<std::thread> feeders;
  for (int i = 1; i < args.threads; ++i) feeders.emplace_back(feed);
  feed();
  for (auto& t : feeders) t.join();
  progress.Done();
  std::vector<std::string> errors = reader.errors();
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
