// kairos offers: signed offer links for the invoice print run, and the offer signing keys
// (docs/offers.md).
//
//   invoice-batch  each subscriber's best action on the `invoice` channel → a signed link, its QR
//                  code as PNG and SVG, and one manifest line; decisions are recorded as
//                  impressions (an invoice offer is a contact) unless --dry-run.
//   rotate-key     a new active signing key; the previous one keeps verifying.
//   retire-key     a verify key stops verifying.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "app/commands.h"
#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "common/hash.h"
#include "common/time_format.h"
#include "decide/decision_service.h"
#include "ingest/engine.h"
#include "offer/link.h"
#include "offer/offer_keys.h"
#include "offer/qr.h"
#include "schema/workspace.h"

namespace kairos::app {

namespace {

constexpr std::string_view kInvoiceChannel = "invoice";

// A file name for a subscriber id: [A-Za-z0-9_-] and inner dots kept, every other byte %XX.
std::string SafeFileName(std::string_view id) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(id.size());
  for (size_t i = 0; i < id.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(id[i]);
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || (c == '.' && i > 0);
    if (keep) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// "qr/<2 hex digits of the id's stable hash>/<safe id>": 256 folders, so that no folder holds a
// million files.
std::string QrStem(std::string_view id) {
  char shard[3];
  std::snprintf(shard, sizeof shard, "%02x", static_cast<unsigned>(StableHash64(id) >> 56));
  return std::string("qr/") + shard + "/" + SafeFileName(id);
}

// open + write + close: no stdio buffer (whose first write costs an fstat) for files this small.
Status WriteWhole(const std::string& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot write " + path + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const std::string err = std::strerror(errno);
      ::close(fd);
      return IoError("cannot write " + path + ": " + err);
    }
    done += static_cast<size_t>(w);
  }
  if (::close(fd) != 0) return IoError("cannot write " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;
void Str(JsonWriter& w, const char* key, std::string_view v) {
  w.Key(key);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

struct BatchCounts {
  std::atomic<int64_t> done{0}, offers{0}, no_action{0}, errors{0};
  std::mutex mu;
  std::map<std::string, int64_t> reasons;  // no-action reason → subscribers
  std::string first_error;
};

}  // namespace

int RunOffersInvoiceBatch(const OffersArgs& args) {
  const auto t0 = std::chrono::steady_clock::now();
  auto ws = Workspace::Load(args.workspace);
  if (!ws.ok()) return Fail(ws.status().message());
  auto decisioning = Decisioning::Load(args.workspace, ws->schema);
  if (!decisioning.ok()) return Fail(decisioning.status().message());
  if ((*decisioning)->policies.ChannelIndex(kInvoiceChannel) < 0) {
    return Fail("policies.yaml has no `invoice` channel (channels: " +
                (*decisioning)->policies.ChannelNames() + ")");
  }
  auto expires_in = offer::ParseExpiresIn(args.expires_in, "--expires-in");
  if (!expires_in.ok()) return Fail(expires_in.status().message());
  const std::string base_url =
      !args.base_url.empty()
          ? args.base_url
          : "http://" + ws->config.server.host + ":" + std::to_string(ws->config.server.port);

  std::error_code ec;
  std::filesystem::create_directories(args.out, ec);
  if (ec) return Fail("--out: cannot create " + args.out + ": " + ec.message());
  for (int s = 0; s < 256; ++s) {
    char shard[8];
    std::snprintf(shard, sizeof shard, "%02x", s);
    std::filesystem::create_directories(std::filesystem::path(args.out) / "qr" / shard, ec);
    if (ec) return Fail("--out: cannot create " + args.out + "/qr/" + shard + ": " + ec.message());
  }

  SystemClock system_clock;
  ManualClock at_clock(0);
  const Clock* clock = &system_clock;
  if (!args.at.empty()) {
    auto t = ParseRfc3339(args.at);
    if (!t.ok()) return Fail("--at: " + t.status().message());
    at_clock.Set(*t);
    clock = &at_clock;
  }
  auto engine = Engine::Open(*ws, clock);
  if (!engine.ok()) return Fail(engine.status().message());
  DecisionService service(engine->get(), clock, *decisioning);
  if (Status s = service.Start(); !s.ok()) return Fail(s.message());
  auto links = offer::OfferLinks::Open(args.workspace, [&service] { return service.decisioning(); },
                                       clock, base_url);
  if (!links.ok()) return Fail(links.status().message());
  // Checked once here, so that a bad --base-url fails before any work.
  {
    offer::LinkRequest probe;
    probe.subscriber_id = "probe";
    probe.action_id = "probe";
    probe.base_url = base_url;
    auto r = (*links)->Create(probe);
    if (!r.ok() && r.status().field() == "base_url") return Fail("--base-url: " + r.status().message());
  }

  // The subscribers, partition by partition (ids only).
  std::vector<std::string> ids;
  for (int p = 0; p < (*engine)->partitions(); ++p) {
    Status s = (*engine)->ForEachProfile(p, [&](std::string_view id, std::string_view) {
      if (args.limit > 0 && static_cast<int64_t>(ids.size()) >= args.limit) return false;
      ids.emplace_back(id);
      return true;
    });
    if (!s.ok()) return Fail(s.message());
  }
  const auto t_scan = std::chrono::steady_clock::now();

  const std::string manifest_path = (std::filesystem::path(args.out) / "manifest.ndjson").string();
  const std::string manifest_tmp = manifest_path + ".tmp";
  FILE* manifest = std::fopen(manifest_tmp.c_str(), "wb");
  if (manifest == nullptr) return Fail("cannot write " + manifest_tmp + ": " + std::strerror(errno));
  std::mutex manifest_mu;
  bool manifest_ok = true;

  BatchCounts counts;
  std::atomic<size_t> next{0};
  const size_t total = ids.size();
  ProgressBar bar(StderrIsTerminal() && !args.json);
  // A fixed data mask: every mask gives a valid symbol, and skipping libqrencode's evaluation of
  // all eight makes encoding ~10x faster (docs/offers.md).
  offer::QrOptions qr_options;
  qr_options.mask = 0;
  const std::shared_ptr<const Decisioning> d = service.decisioning();

  auto work = [&] {
    rapidjson::StringBuffer lines;
    constexpr size_t kChunk = 64;
    for (;;) {
      const size_t begin = next.fetch_add(kChunk, std::memory_order_relaxed);
      if (begin >= total) break;
      const size_t end = std::min(total, begin + kChunk);
      lines.Clear();
      for (size_t i = begin; i < end; ++i) {
        const std::string& id = ids[i];
        JsonWriter w(lines);
        w.StartObject();
        Str(w, "subscriber_id", id);
        auto fail = [&](const Status& s) {
          w.Key("action_id");
          w.Null();
          Str(w, "reason", "error");
          Str(w, "error", s.ToString());
          counts.errors.fetch_add(1, std::memory_order_relaxed);
          std::lock_guard<std::mutex> lock(counts.mu);
          if (counts.first_error.empty()) counts.first_error = id + ": " + s.ToString();
        };
        DecideRequest req;
        req.subscriber_id = id;
        req.channel = std::string(kInvoiceChannel);
        req.dry_run = args.dry_run;
        auto out = service.Decide(req, *d);
        if (!out.ok()) {
          fail(out.status());
        } else if (out->decision.actions.empty()) {
          const std::string& reason =
              out->decision.no_action_reason.empty() ? std::string("no_action") : out->decision.no_action_reason;
          w.Key("action_id");
          w.Null();
          Str(w, "reason", reason);
          if (!out->decision.decision_id.empty()) Str(w, "decision_id", out->decision.decision_id);
          counts.no_action.fetch_add(1, std::memory_order_relaxed);
          std::lock_guard<std::mutex> lock(counts.mu);
          ++counts.reasons[reason];
        } else {
          const ChosenAction& c = out->decision.actions.front();
          const Action& a = d->catalog.actions[static_cast<size_t>(c.action)];
          offer::LinkRequest lr;
          lr.subscriber_id = id;
          lr.action_id = a.id;
          lr.treatment = a.treatments[static_cast<size_t>(c.treatment)].id;
          lr.expires_in_seconds = *expires_in;
          auto link = (*links)->Create(lr);
          Result<offer::QrCode> qr = link.ok() ? offer::EncodeQr(link->url, qr_options.level, qr_options.mask)
                                               : Result<offer::QrCode>(link.status());
          const std::string stem = QrStem(id);
          Status written = qr.ok() ? Status::Ok() : qr.status();
          if (written.ok()) {
            written = WriteWhole((std::filesystem::path(args.out) / (stem + ".png")).string(),
                                 offer::RenderPng(*qr, qr_options));
          }
          if (written.ok()) {
            written = WriteWhole((std::filesystem::path(args.out) / (stem + ".svg")).string(),
                                 offer::RenderSvg(*qr, qr_options));
          }
          if (!written.ok()) {
            fail(written);
          } else {
            Str(w, "action_id", a.id);
            Str(w, "treatment", link->claims.treatment);
            Str(w, "token", link->token);
            Str(w, "url", link->url);
            Str(w, "png", stem + ".png");
            Str(w, "svg", stem + ".svg");
            Str(w, "expires_at", FormatRfc3339(link->claims.expires_at * 1000));
            if (!out->decision.decision_id.empty()) Str(w, "decision_id", out->decision.decision_id);
            counts.offers.fetch_add(1, std::memory_order_relaxed);
          }
        }
        w.EndObject();
        lines.Put('\n');
      }
      {
        std::lock_guard<std::mutex> lock(manifest_mu);
        if (std::fwrite(lines.GetString(), 1, lines.GetSize(), manifest) != lines.GetSize()) {
          manifest_ok = false;
        }
      }
      counts.done.fetch_add(static_cast<int64_t>(end - begin), std::memory_order_relaxed);
    }
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < args.threads; ++t) threads.emplace_back(work);
  while (counts.done.load() < static_cast<int64_t>(total)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const int64_t done = counts.done.load();
    bar.Update(total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0,
               std::to_string(done) + " subscribers");
  }
  for (auto& t : threads) t.join();
  bar.Done();

  const bool flushed = std::fflush(manifest) == 0 && ::fsync(fileno(manifest)) == 0;
  if (std::fclose(manifest) != 0 || !flushed || !manifest_ok) return Fail("cannot write " + manifest_tmp);
  std::filesystem::rename(manifest_tmp, manifest_path, ec);
  if (ec) return Fail("cannot rename " + manifest_tmp + ": " + ec.message());
  const auto t1 = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(t1 - t0).count();
  const double scan_seconds = std::chrono::duration<double>(t_scan - t0).count();

  if (args.json) {
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    w.Key("subscribers");
    w.Int64(static_cast<int64_t>(total));
    w.Key("offers");
    w.Int64(counts.offers.load());
    w.Key("no_action");
    w.Int64(counts.no_action.load());
    w.Key("errors");
    w.Int64(counts.errors.load());
    w.Key("no_action_reasons");
    w.StartObject();
    for (const auto& [reason, n] : counts.reasons) {
      w.Key(reason.c_str());
      w.Int64(n);
    }
    w.EndObject();
    w.Key("recorded");
    w.Bool(!args.dry_run);
    Str(w, "manifest", manifest_path);
    Str(w, "base_url", base_url);
    w.Key("seconds");
    w.Double(std::round(seconds * 1000) / 1000);
    w.Key("setup_seconds");
    w.Double(std::round(scan_seconds * 1000) / 1000);
    w.EndObject();
    std::printf("%s\n", sb.GetString());
  } else {
    std::printf("%lld subscribers: %lld offers (PNG + SVG), %lld no action, %lld errors in %.1f s (%.0f/s)%s\n",
                static_cast<long long>(total), static_cast<long long>(counts.offers.load()),
                static_cast<long long>(counts.no_action.load()), static_cast<long long>(counts.errors.load()),
                seconds, seconds > 0 ? static_cast<double>(total) / seconds : 0.0,
                args.dry_run ? " — dry run, nothing recorded" : " — recorded as impressions");
    for (const auto& [reason, n] : counts.reasons) {
      std::printf("  no action, %s: %lld\n", reason.c_str(), static_cast<long long>(n));
    }
    std::printf("manifest: %s\n", manifest_path.c_str());
  }
  if (counts.errors.load() > 0) {
    std::fprintf(stderr, "kairos: %lld subscribers failed (first: %s); see the manifest's \"error\" lines\n",
                 static_cast<long long>(counts.errors.load()), counts.first_error.c_str());
    return 1;
  }
  return 0;
}

int RunOffersRotateKey(const OffersArgs& args) {
  if (!std::filesystem::is_directory(args.workspace)) return Fail("--workspace: no folder " + args.workspace);
  SystemClock clock;
  auto key = offer::RotateKeyFile(offer::OfferKeyring::PathIn(args.workspace), clock.Now());
  if (!key.ok()) return Fail(key.status().message());
  if (args.json) {
    std::printf("{\"kid\":\"%s\",\"status\":\"active\"}\n", key->kid.c_str());
  } else {
    std::printf("%s\n", key->kid.c_str());
    std::fprintf(stderr, "new active key %s; the previous key now only verifies (a running server picks it up on reload)\n",
                 key->kid.c_str());
  }
  return 0;
}

int RunOffersRetireKey(const OffersArgs& args) {
  if (!std::filesystem::is_directory(args.workspace)) return Fail("--workspace: no folder " + args.workspace);
  SystemClock clock;
  auto key = offer::RetireKeyFile(offer::OfferKeyring::PathIn(args.workspace), args.kid, clock.Now());
  if (!key.ok()) return Fail(key.status().message());
  if (args.json) {
    std::printf("{\"kid\":\"%s\",\"status\":\"retired\"}\n", key->kid.c_str());
  } else {
    std::printf("%s\n", key->kid.c_str());
    std::fprintf(stderr, "key %s retired: links signed with it are refused\n", key->kid.c_str());
  }
  return 0;
}

}  // namespace kairos::app
