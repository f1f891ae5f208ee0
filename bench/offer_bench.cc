// Offer links: signing a link (token + URL, no QR), verifying a token, and rendering a link's QR
// code as PNG and as SVG, on the demo catalog. The target: ≥ 50k links/s.
//   offer_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "catalog/catalog.h"
#include "offer/link.h"
#include "offer/qr.h"
#include "schema/config.h"
#include "schema/schema.h"

namespace kairos::offer {
namespace {

constexpr TimestampMs kNow = 1767261600000;  // 2026-01-01T10:00:00Z

struct Fixture {
  Fixture() {
    auto schema = Schema::Parse(DefaultSchemaYaml(), "schema.yaml");
    auto dec = Decisioning::Parse(DemoPoliciesYaml(), DemoCatalogYaml(), *schema);
    if (!dec.ok()) std::abort();
    d = *dec;
    dir = (std::filesystem::temp_directory_path() / ("kairos_offer_bench_" + std::to_string(::getpid())))
              .string();
    std::filesystem::create_directories(dir);
    auto l = OfferLinks::Open(dir, [this] { return d; }, &clock, "https://offers.example-operator.eu");
    if (!l.ok()) std::abort();
    links = std::move(l).value();
    LinkRequest r;
    r.subscriber_id = "S0001234";
    r.action_id = "DATA_5GB";
    r.expires_in_seconds = 30 * 86400;
    link = *links->Create(r);
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
  ManualClock clock{kNow};
  std::shared_ptr<const Decisioning> d;
  std::string dir;
  std::unique_ptr<OfferLinks> links;
  Link link;
};

Fixture& F() {
  static Fixture f;
  return f;
}

void BM_CreateLink(benchmark::State& state) {
  Fixture& f = F();
  LinkRequest r;
  r.action_id = "DATA_5GB";
  r.expires_in_seconds = 30 * 86400;
  int64_t i = 0;
  for (auto _ : state) {
    r.subscriber_id = "S" + std::to_string(1000000 + (i++ & 0xfffff));
    auto link = f.links->Create(r);
    benchmark::DoNotOptimize(link);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CreateLink)->Threads(1)->Threads(2)->UseRealTime();

void BM_VerifyToken(benchmark::State& state) {
  Fixture& f = F();
  for (auto _ : state) {
    auto c = f.links->Verify(f.link.token, kNow);
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyToken)->Threads(1)->Threads(2)->UseRealTime();

// Argument: the mask (-1: libqrencode evaluates all 8; 0: fixed, as invoice-batch does).
void BM_QrEncode(benchmark::State& state) {
  Fixture& f = F();
  int version = 0;
  for (auto _ : state) {
    auto qr = EncodeQr(f.link.url, QrLevel::kM, static_cast<int>(state.range(0)));
    version = qr->version;
    benchmark::DoNotOptimize(qr);
  }
  state.counters["version"] = version;
  state.counters["url_chars"] = static_cast<double>(f.link.url.size());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_QrEncode)->Arg(-1)->Arg(0);

// Rendering only (the symbol encoded once): PNG with module_px as the argument, SVG.
void BM_RenderPng(benchmark::State& state) {
  Fixture& f = F();
  auto qr = EncodeQr(f.link.url, QrLevel::kM, 0);
  QrOptions o;
  o.module_px = static_cast<int>(state.range(0));
  size_t bytes = 0;
  for (auto _ : state) {
    std::string png = RenderPng(*qr, o);
    bytes = png.size();
    benchmark::DoNotOptimize(png);
  }
  state.counters["png_bytes"] = static_cast<double>(bytes);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RenderPng)->Arg(2)->Arg(4)->Arg(8);

void BM_RenderSvg(benchmark::State& state) {
  Fixture& f = F();
  auto qr = EncodeQr(f.link.url, QrLevel::kM, 0);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string svg = RenderSvg(*qr);
    bytes = svg.size();
    benchmark::DoNotOptimize(svg);
  }
  state.counters["svg_bytes"] = static_cast<double>(bytes);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RenderSvg);

// Per link: encode + PNG (what GET /o/{token}/qr.png costs): mask -1 (evaluated) and 0 (fixed).
void BM_QrPng(benchmark::State& state) {
  Fixture& f = F();
  QrOptions o;
  o.mask = static_cast<int>(state.range(0));
  size_t bytes = 0;
  for (auto _ : state) {
    auto png = QrPng(f.link.url, o);
    bytes = png->size();
    benchmark::DoNotOptimize(png);
  }
  state.counters["png_bytes"] = static_cast<double>(bytes);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_QrPng)->Arg(-1)->Arg(0);


// What invoice-batch does per customer with an offer, minus the decision and the file writes:
// sign, encode with a fixed mask, PNG and SVG.
void BM_LinkPngSvg(benchmark::State& state) {
  Fixture& f = F();
  LinkRequest r;
  r.action_id = "DATA_5GB";
  r.expires_in_seconds = 30 * 86400;
  int64_t i = 0;
  for (auto _ : state) {
    r.subscriber_id = "S" + std::to_string(1000000 + (i++ & 0xfffff));
    auto link = f.links->Create(r);
    auto qr = EncodeQr(link->url, QrLevel::kM, 0);
    std::string png = RenderPng(*qr);
    std::string svg = RenderSvg(*qr);
    benchmark::DoNotOptimize(png);
    benchmark::DoNotOptimize(svg);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LinkPngSvg)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace kairos::offer

BENCHMARK_MAIN();
