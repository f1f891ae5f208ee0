// The kairos subcommands. Each returns the process exit code: 0 success, 1 failure (with a
// one-line reason on stderr), as DESIGN.md §5 asks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kairos::app {

struct InitArgs {
  std::string dir;
  bool demo = false;
  bool json = false;
};
int RunInit(const InitArgs& args);

struct CheckArgs {
  std::string workspace;
  bool json = false;
};
int RunCheck(const CheckArgs& args);

struct IngestArgs {
  std::string workspace;
  std::vector<std::string> files;
  std::string rejects_path = "kairos-rejects.ndjson";
  // 16 MiB ≈ 110k events: enough that a subscriber recurs within a group (one profile decode
  // and encode for several events), small enough to keep memory near 200 MB.
  int64_t chunk_bytes = 16 << 20;
  int threads = 2;  // feeders parsing chunks in parallel
  bool json = false;
};
int RunIngest(const IngestArgs& args);

struct ServeArgs {
  std::string workspace;
  std::string host;  // empty: from kairos.yaml
  int port = -1;     // -1: from kairos.yaml
};
int RunServe(const ServeArgs& args);

struct GenerateArgs {
  std::string out;
  int64_t subscribers = 100000;
  int days = 60;
  uint64_t seed = 1;
  std::string end;  // YYYY-MM-DD; empty: the generator's fixed default
  bool json = false;
};
int RunGenerate(const GenerateArgs& args);

struct ProfileArgs {
  std::string workspace;
  std::string subscriber;
  std::string at;  // RFC 3339; empty: now
};
int RunProfile(const ProfileArgs& args);

struct DecideArgs {
  std::string workspace;
  std::string subscriber;
  std::string channel;
  std::string context = "{}";  // JSON object of declared context fields
  int limit = 0;
  bool explain = false;
  bool dry_run = false;
  bool json = false;
  std::string at;  // RFC 3339; empty: now
};
int RunDecide(const DecideArgs& args);

struct DecisionsExportArgs {
  std::string workspace;
  std::string out;                         // empty: standard output
  std::string since;                       // RFC 3339; empty: the whole log
  std::string reward = "accepted,converted";  // outcomes that count as a reward of 1
};
int RunDecisionsExport(const DecisionsExportArgs& args);

struct StreamArgs {
  std::string host = "127.0.0.1";
  int port = 8080;
  int64_t subscribers = 100000;
  uint64_t seed = 1;
  double rate = 200;       // events per second
  double seconds = 0;      // 0: until interrupted
  int batch_interval_ms = 1000;
  std::string api_key;  // a decision (or admin) key; default: $KAIROS_API_KEY
};
int RunStream(const StreamArgs& args);

struct KeysArgs {
  std::string workspace;
  std::string role;
  std::string name;
  std::string id;
  double rate_limit = 0;
  bool json = false;
};
int RunKeysCreate(const KeysArgs& args);
int RunKeysList(const KeysArgs& args);
int RunKeysRevoke(const KeysArgs& args);

struct OpeArgs {
  std::string format;  // obd | kairos
  std::string log;
  std::string policy;  // uniform | topk:I1,I2,... | dist:FILE.csv
  int bootstrap = 200;  // 0: no intervals
  uint64_t seed = 1;
  bool json = false;
};
int RunOpe(const OpeArgs& args);

struct ClvFitArgs {
  std::string transactions;
  std::string format;           // cdnow | csv
  std::string calibration_end;  // YYYY-MM-DD; empty: the last transaction day
  std::string id_column = "customer_id";  // csv only
  std::string date_column = "date";       // csv only
  std::string amount_column = "amount";   // csv only
  bool json = false;
};
// kairos clv fit: BG/NBD, Pareto/NBD and Gamma-Gamma maximum-likelihood fits (docs/clv.md).
int RunClvFit(const ClvFitArgs& args);

struct ChurnTrainArgs {
  std::string workspace;  // train from the workspace's profiles instead of a CSV
  std::string at;         // with workspace: RFC 3339 "now" (default: the clock)
  bool out_given = false; // --out was given (else a workspace's churn.model)
  std::string csv;
  std::string target;
  std::string positive;   // the target value meaning churn; empty: inferred (Yes, true, 1, ...)
  std::string id_column;  // left out of the features
  int folds = 5;
  std::string out = "churn-model.json";
  uint64_t seed = 1;
  int threads = 0;  // trainings run in parallel; 0: every core
  bool json = false;
};
// kairos churn train: gradient-boosted churn model with cross-validated AUC (docs/churn.md).
int RunChurnTrain(const ChurnTrainArgs& args);

struct ChurnScoreArgs {
  std::string model;
  std::string csv;
  std::string id_column;
  int top = 3;      // drivers per row
  std::string out;  // NDJSON scores; empty: standard output
  bool json = false;
};
// kairos churn score: one NDJSON line per row (id, churn probability, top drivers).
int RunChurnScore(const ChurnScoreArgs& args);

struct ClusterArgs {
  std::string csv;
  std::vector<std::string> features;  // numeric columns of the CSV, by name
  int k = 0;                           // > 0: this k; 0: choose in k_range
  std::string k_range = "2..8";
  uint64_t seed = 1;
  int64_t sample = 50000;             // rows fitted on
  int64_t silhouette_sample = 4000;   // rows the silhouette is computed on
  int n_init = 3;
  std::string criterion = "silhouette";  // silhouette | elbow
  int threads = 2;
  std::string out;  // model JSON to write; empty: none
  bool json = false;
};
// kairos cluster: k-means on numeric CSV columns, k chosen by silhouette (docs/clustering.md).
int RunCluster(const ClusterArgs& args);

struct SegmentArgs {
  std::string workspace;
  std::string at;  // RFC 3339; empty: now
  int threads = 2;
  bool json = false;
};
// kairos segment: scores and segments for every subscriber, written into the profiles.
int RunSegment(const SegmentArgs& args);

// Shared helpers.
bool StderrIsTerminal();

// A progress line on stderr, drawn only when `enabled` (a terminal, no --json):
// "\r[#####.........]  45%" followed by `detail`.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled) {}
  void Update(double fraction, const std::string& detail = {});
  void Done();

 private:
  bool enabled_;
};
// Prints "kairos: <message>" to stderr and returns 1.
struct ModelsArgs {
  std::string workspace;
  bool json = false;
  std::string out;   // export: the snapshot file to write
  std::string in;    // import: the snapshot file to read
};
// kairos models: the adaptive models' health from the workspace's model file.
int RunModels(const ModelsArgs& args);
int RunModelsExport(const ModelsArgs& args);
int RunModelsImport(const ModelsArgs& args);

struct OffersArgs {
  std::string workspace;
  std::string out;                 // invoice-batch: output folder
  std::string base_url;            // empty: http://<server.host>:<server.port> of kairos.yaml
  std::string expires_in = "30d";  // seconds or a duration, at most 366d
  int64_t limit = 0;               // 0: every subscriber
  int threads = 8;                 // decisions + QR codes in flight (recording waits on fsync)
  bool dry_run = false;            // decide without recording impressions
  std::string kid;                 // retire-key
  std::string at;                  // invoice-batch: decide as of this time (RFC 3339; default now)
  bool json = false;
};
// kairos offers invoice-batch | rotate-key | retire-key (docs/offers.md).
int RunOffersInvoiceBatch(const OffersArgs& args);
int RunOffersRotateKey(const OffersArgs& args);
int RunOffersRetireKey(const OffersArgs& args);

int Fail(const std::string& message);

}  // namespace kairos::app
