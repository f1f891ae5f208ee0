// Bulk ingest of an NDJSON file through an Engine, as `kairos ingest` does it: 16 MiB chunks of
// whole lines handed out to `feeders` threads. Shared by the benchmarks that need a loaded store.
#pragma once

#include <cstdint>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ingest/engine.h"

namespace kairos::bench {

struct BulkIngestTotals {
  int64_t events = 0;    // accepted + duplicates + rejected
  int64_t rejected = 0;
  std::string first_rejection;

  void Add(const IngestResult& r) {
    events += r.accepted + r.duplicates + static_cast<int64_t>(r.rejected.size());
    rejected += static_cast<int64_t>(r.rejected.size());
    if (!r.rejected.empty() && first_rejection.empty()) first_rejection = r.rejected[0].error;
  }
};

inline BulkIngestTotals BulkIngest(Engine& engine, const std::string& path, int feeders) {
  constexpr size_t kChunk = 16 << 20;
  std::ifstream in(path, std::ios::binary);
  std::mutex mu;  // guards `in`, `carry` and `totals`
  std::string carry;
  BulkIngestTotals totals;
  auto next_chunk = [&](std::string* body) {
    std::lock_guard<std::mutex> lock(mu);
    body->assign(carry);
    carry.clear();
    if (!in) return !body->empty();
    const size_t have = body->size();
    body->resize(have + kChunk);
    in.read(body->data() + have, kChunk);
    body->resize(have + static_cast<size_t>(in.gcount()));
    const size_t cut = in ? body->rfind('\n') + 1 : body->size();
    carry.assign(*body, cut);
    body->resize(cut);
    return !body->empty();
  };
  auto feed = [&] {
    std::string body;
    while (next_chunk(&body)) {
      IngestResult r = engine.IngestNdjson(body);
      std::lock_guard<std::mutex> lock(mu);
      totals.Add(r);
    }
  };
  std::vector<std::thread> others;
  for (int i = 1; i < feeders; ++i) others.emplace_back(feed);
  feed();
  for (auto& t : others) t.join();
  return totals;
}

}  // namespace kairos::bench
