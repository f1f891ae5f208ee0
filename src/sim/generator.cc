#include "sim/generator.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include "sim/event_format.h"
#include "sim/line_writer.h"
#include "sim/world.h"

namespace kairos::sim {
namespace {

constexpr int64_t kMaxSubscribers = 99999999;
constexpr int kMaxDays = 3660;
constexpr size_t kFlushBytes = size_t{8} << 20;

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// A file written under "<path>.tmp" and renamed to `path` by Commit(); removed otherwise.
class OutputFile {
 public:
  explicit OutputFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {}
  ~OutputFile() {
    if (file_ != nullptr) {
      file_.reset();
      std::remove(tmp_.c_str());
    }
  }

  Status Open() {
    file_.reset(std::fopen(tmp_.c_str(), "wb"));
    if (file_ == nullptr) return IoError(tmp_ + ": cannot create: " + std::strerror(errno));
    return Status::Ok();
  }
  Status Write(const char* data, size_t n) {
    if (n > 0 && std::fwrite(data, 1, n, file_.get()) != n) {
      return IoError(tmp_ + ": write failed: " + std::strerror(errno));
    }
    bytes_ += static_cast<int64_t>(n);
    return Status::Ok();
  }
  Status Commit() {
    std::FILE* f = file_.release();
    if (std::fclose(f) != 0) {
      std::remove(tmp_.c_str());
      return IoError(tmp_ + ": close failed: " + std::strerror(errno));
    }
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
      std::remove(tmp_.c_str());
      return IoError(path_ + ": cannot rename from " + tmp_ + ": " + std::strerror(errno));
    }
    return Status::Ok();
  }
  int64_t bytes() const { return bytes_; }

 private:
  std::string path_, tmp_;
  FilePtr file_;
  int64_t bytes_ = 0;
};

Status ValidateOptions(const GeneratorOptions& o) {
  if (o.subscribers < 1 || o.subscribers > kMaxSubscribers) {
    return InvalidArgument("subscribers must be 1.." + std::to_string(kMaxSubscribers) + ", got " +
                               std::to_string(o.subscribers),
                           "subscribers");
  }
  if (o.days < 1 || o.days > kMaxDays) {
    return InvalidArgument(
        "days must be 1.." + std::to_string(kMaxDays) + ", got " + std::to_string(o.days), "days");
  }
  const TimestampMs start = o.end - int64_t{o.days} * kMsPerDay;
  // Contracts and truth look up to ~4 years ahead, tenures up to 25 years back; keep every
  // timestamp inside the years RFC 3339 can write.
  if (start < int64_t{30} * 365 * kMsPerDay || o.end > int64_t{7000} * 365 * kMsPerDay) {
    return InvalidArgument("end must leave the history between 2000 and 8000", "end");
  }
  if (o.out_dir.empty()) return InvalidArgument("out_dir is empty", "out_dir");
  return o.world.Validate();
}

// Reports progress in whole percent, so at most 101 calls.
class Progress {
 public:
  explicit Progress(const std::function<void(double)>& fn) : fn_(fn) {}
  void Report(double fraction) {
    if (!fn_) return;
    const int pct = static_cast<int>(fraction * 100);
    if (pct == last_) return;
    last_ = pct;
    fn_(fraction);
  }

 private:
  const std::function<void(double)>& fn_;
  int last_ = -1;
};

}  // namespace

Result<GeneratorSummary> Generate(const GeneratorOptions& options,
                                  const std::function<void(double)>& progress) {
  KAIROS_RETURN_IF_ERROR(ValidateOptions(options));
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) return IoError(options.out_dir + ": cannot create directory: " + ec.message());

  GeneratorSummary summary;
  summary.subscribers = options.subscribers;
  summary.events_path = (std::filesystem::path(options.out_dir) / "events.ndjson").string();
  summary.truth_path = (std::filesystem::path(options.out_dir) / "truth.ndjson").string();
  OutputFile events(summary.events_path), truth(summary.truth_path);
  KAIROS_RETURN_IF_ERROR(events.Open());
  KAIROS_RETURN_IF_ERROR(truth.Open());

  const TimestampMs start = options.end - int64_t{options.days} * kMsPerDay;
  const Simulator sim(options.world, options.seed, start, options.days, options.subscribers);
  const size_t n = static_cast<size_t>(options.subscribers);
  std::vector<Subscriber> subs(n);
  for (size_t i = 0; i < n; ++i) sim.Init(static_cast<int64_t>(i), &subs[i]);

  Progress report(progress);
  report.Report(0);
  DayEmitter em(sim.id_width());
  std::vector<uint32_t> bucket(kSecondsPerDay + 1);
  std::vector<uint32_t> order;
  std::vector<char> out;
  out.reserve(kFlushBytes + 64 * 1024);
  const double steps = options.days + 1.0;  // the truth is the last step

  for (int d = 0; d < options.days; ++d) {
    const DayContext c = sim.Day(d);
    em.StartDay(c);
    for (size_t i = 0; i < n; ++i) sim.StepDay(static_cast<int64_t>(i), subs[i], c, em);

    // Stable counting sort by second: equal seconds keep subscriber order, and a subscriber's
    // own order (master data first, churn last).
    const std::vector<LineRec>& recs = em.records();
    std::fill(bucket.begin(), bucket.end(), 0);
    for (const LineRec& r : recs) ++bucket[r.sec + 1];
    for (int s = 0; s < kSecondsPerDay; ++s) bucket[s + 1] += bucket[s];
    order.resize(recs.size());
    for (uint32_t k = 0; k < recs.size(); ++k) order[bucket[recs[k].sec]++] = k;

    for (uint32_t k : order) {
      const LineRec& r = recs[k];
      const char* line = em.block_data(r.block) + r.offset;
      out.insert(out.end(), line, line + r.length);
      if (out.size() >= kFlushBytes) {
        KAIROS_RETURN_IF_ERROR(events.Write(out.data(), out.size()));
        out.clear();
      }
    }
    summary.events += static_cast<int64_t>(recs.size());
    report.Report((d + 1) / steps);
  }
  KAIROS_RETURN_IF_ERROR(events.Write(out.data(), out.size()));
  out.clear();

  LineWriter tw;
  for (size_t i = 0; i < n; ++i) {
    sim.WriteTruth(static_cast<int64_t>(i), subs[i], tw);
    if (tw.size() >= kFlushBytes) {
      KAIROS_RETURN_IF_ERROR(truth.Write(tw.data(), tw.size()));
      tw.Clear();
    }
    if (subs[i].flags & kSilentChurn) ++summary.churned_silently;
  }
  KAIROS_RETURN_IF_ERROR(truth.Write(tw.data(), tw.size()));

  summary.events_bytes = events.bytes();
  for (int k = 0; k < kEventKindCount; ++k) {
    summary.events_by_type[std::string(EventKindName(static_cast<EventKind>(k)))] = em.counts()[k];
  }
  summary.churned = em.counts()[static_cast<int>(EventKind::kChurn)];
  KAIROS_RETURN_IF_ERROR(events.Commit());
  KAIROS_RETURN_IF_ERROR(truth.Commit());
  report.Report(1.0);
  return summary;
}

}  // namespace kairos::sim
