// kairos: one binary, one subcommand per job. This file only declares the command line; each
// command lives in its own file and is the only code that wires modules together.
#include <CLI/CLI.hpp>

#include "app/commands.h"

int main(int argc, char** argv) {
  using namespace kairos::app;
  CLI::App app{"Kairos: real-time next-best-action engine for telecom operators"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "kairos 0.1.0");

  InitArgs init;
  auto* init_cmd = app.add_subcommand("init", "Create a workspace with a commented, working configuration");
  init_cmd->add_option("dir", init.dir, "Workspace folder to create")->required();
  init_cmd->add_flag("--demo", init.demo, "The demo operator's workspace");
  init_cmd->add_flag("--json", init.json, "Machine-readable output");

  CheckArgs check;
  auto* check_cmd = app.add_subcommand("check", "Validate every file of a workspace (file:line:column: message)");
  check_cmd->add_option("--workspace,-w", check.workspace, "Workspace folder")->required();
  check_cmd->add_flag("--json", check.json, "Machine-readable output");

  GenerateArgs gen;
  auto* gen_cmd = app.add_subcommand("generate", "Generate a synthetic operator: events, subscribers and ground truth as NDJSON");
  gen_cmd->add_option("--out,-o", gen.out, "Output folder")->required();
  gen_cmd->add_option("--subscribers,-n", gen.subscribers, "Number of subscribers")->check(CLI::Range(int64_t{1}, int64_t{100000000}));
  gen_cmd->add_option("--days,-d", gen.days, "Days of history")->check(CLI::Range(1, 3650));
  gen_cmd->add_option("--seed,-s", gen.seed, "Random seed (same seed, same bytes)");
  gen_cmd->add_option("--end", gen.end, "First day after the history, YYYY-MM-DD (default 2026-01-01)");
  gen_cmd->add_flag("--json", gen.json, "Machine-readable output");

  IngestArgs ingest;
  auto* ingest_cmd = app.add_subcommand("ingest", "Ingest NDJSON event files (optionally gzip) into a workspace's store");
  ingest_cmd->add_option("--workspace,-w", ingest.workspace, "Workspace folder")->required();
  ingest_cmd->add_option("files", ingest.files, "NDJSON files (.gz accepted)")->required();
  ingest_cmd->add_option("--rejects", ingest.rejects_path, "Where rejected lines are reported (NDJSON)");
  ingest_cmd->add_option("--threads", ingest.threads, "Chunks parsed in parallel")->check(CLI::Range(1, 64));
  ingest_cmd->add_option("--chunk-bytes", ingest.chunk_bytes, "Bytes read per chunk (whole lines)")
      ->check(CLI::Range(int64_t{4096}, int64_t{1} << 30));
  ingest_cmd->add_flag("--json", ingest.json, "Machine-readable output");

  ServeArgs serve;
  auto* serve_cmd = app.add_subcommand("serve", "Run the HTTP server on a workspace");
  serve_cmd->add_option("--workspace,-w", serve.workspace, "Workspace folder")->required();
  serve_cmd->add_option("--host", serve.host, "Listen address (default from kairos.yaml: 127.0.0.1)");
  serve_cmd->add_option("--port,-p", serve.port, "Listen port (default from kairos.yaml: 8080)")->check(CLI::Range(0, 65535));

  ProfileArgs profile;
  auto* profile_cmd = app.add_subcommand("profile", "Print one subscriber's profile as JSON (server must not be running)");
  profile_cmd->add_option("--workspace,-w", profile.workspace, "Workspace folder")->required();
  profile_cmd->add_option("subscriber", profile.subscriber, "Subscriber id")->required();
  profile_cmd->add_option("--at", profile.at, "Evaluate aggregates at this time (RFC 3339; default now)");

  DecideArgs decide;
  auto* decide_cmd = app.add_subcommand("decide", "Decide the next best actions for one subscriber (server must not be running)");
  decide_cmd->add_option("--workspace,-w", decide.workspace, "Workspace folder")->required();
  decide_cmd->add_option("--subscriber", decide.subscriber, "Subscriber id")->required();
  decide_cmd->add_option("--channel,-c", decide.channel, "Channel (one of policies.yaml)")->required();
  decide_cmd->add_option("--context", decide.context, "Context as a JSON object, e.g. '{\"page\":\"data\"}'");
  decide_cmd->add_option("--limit", decide.limit, "At most this many actions")->check(CLI::Range(1, 100));
  decide_cmd->add_flag("--explain", decide.explain, "Show every candidate: the stage that removed it and why, or its scores");
  decide_cmd->add_flag("--dry-run", decide.dry_run, "Record nothing (no impressions, no log entry)");
  decide_cmd->add_option("--at", decide.at, "Decide as of this time (RFC 3339; default now)");
  decide_cmd->add_flag("--json", decide.json, "The decision as the API returns it");

  DecisionsExportArgs dexport;
  auto* decisions_cmd = app.add_subcommand("decisions", "The decision log");
  decisions_cmd->require_subcommand(1);
  auto* dexport_cmd = decisions_cmd->add_subcommand(
      "export", "Shown actions as bandit feedback (NDJSON: decision, action, position, propensity, reward) for `kairos ope --format kairos`");
  dexport_cmd->add_option("--workspace,-w", dexport.workspace, "Workspace folder")->required();
  dexport_cmd->add_option("--out,-o", dexport.out, "Output file (default: standard output)");
  dexport_cmd->add_option("--since", dexport.since, "Only decisions from this time on (RFC 3339)");
  dexport_cmd->add_option("--reward", dexport.reward, "Outcomes that count as reward 1 (comma-separated)");

  StreamArgs stream;
  auto* stream_cmd = app.add_subcommand("stream", "Send a live synthetic event stream to a running server");
  stream_cmd->add_option("--host", stream.host, "Server address (loopback)");
  stream_cmd->add_option("--port,-p", stream.port, "Server port");
  stream_cmd->add_option("--subscribers,-n", stream.subscribers, "Subscribers of the generated world");
  stream_cmd->add_option("--seed,-s", stream.seed, "Seed of the generated world");
  stream_cmd->add_option("--rate", stream.rate, "Events per second")->check(CLI::Range(0.1, 1e7));
  stream_cmd->add_option("--seconds", stream.seconds, "Stop after this many seconds (0: until Ctrl-C)");
  stream_cmd->add_option("--api-key", stream.api_key, "A decision or admin API key (default: $KAIROS_API_KEY)");

  KeysArgs keys;
  auto* keys_cmd = app.add_subcommand("keys", "API keys: create (printed once), list, revoke; works while serve runs");
  keys_cmd->require_subcommand(1);
  auto* kcreate_cmd = keys_cmd->add_subcommand("create", "Create a key and print it (the only time it is shown)");
  kcreate_cmd->add_option("--workspace,-w", keys.workspace, "Workspace folder")->required();
  kcreate_cmd->add_option("--role", keys.role, "viewer, decision, operator or admin")->required();
  kcreate_cmd->add_option("--name", keys.name, "A label for the key (default: role and id)");
  kcreate_cmd->add_option("--rate-limit", keys.rate_limit, "Requests per second for this key (0: the workspace default)")
      ->check(CLI::Range(0.0, 1e9));
  kcreate_cmd->add_flag("--json", keys.json, R"(Print {"key","id","role","name"})");
  auto* klist_cmd = keys_cmd->add_subcommand("list", "List keys (ids, names, roles, state; never the keys)");
  klist_cmd->add_option("--workspace,-w", keys.workspace, "Workspace folder")->required();
  klist_cmd->add_flag("--json", keys.json, "Machine-readable output");
  auto* krevoke_cmd = keys_cmd->add_subcommand("revoke", "Revoke a key by id (a running server refuses it within 0.1 s)");
  krevoke_cmd->add_option("--workspace,-w", keys.workspace, "Workspace folder")->required();
  krevoke_cmd->add_option("id", keys.id, "The key's id (from keys list)")->required();
  krevoke_cmd->add_flag("--json", keys.json, "Machine-readable output");

  OpeArgs ope;
  auto* ope_cmd = app.add_subcommand("ope", "Off-policy evaluation of a policy on a logged bandit feedback file");
  ope_cmd->add_option("--format", ope.format, "Log format: obd (Open Bandit Dataset CSV) or kairos (NDJSON)")
      ->required();
  ope_cmd->add_option("--log", ope.log, "Logged impressions")->required();
  ope_cmd->add_option("--policy", ope.policy, "uniform, topk:I1,I2,... or dist:FILE.csv (item,position,probability)")
      ->required();
  ope_cmd->add_option("--bootstrap", ope.bootstrap, "Bootstrap resamples for the 95% intervals (0: none)");
  ope_cmd->add_option("--seed", ope.seed, "Bootstrap seed (same seed, same intervals)");
  ope_cmd->add_flag("--json", ope.json, "Machine-readable output");

  ClvFitArgs clv;
  auto* clv_cmd = app.add_subcommand("clv", "Customer lifetime value models");
  clv_cmd->require_subcommand(1);
  auto* clv_fit_cmd = clv_cmd->add_subcommand(
      "fit", "Fit BG/NBD, Pareto/NBD and Gamma-Gamma to a transaction file by maximum likelihood");
  clv_fit_cmd->add_option("--transactions,-t", clv.transactions, "Transaction file")->required();
  clv_fit_cmd->add_option("--format", clv.format,
                          "cdnow (whitespace: id date cds dollars, or the 5-column sample) or csv (header row)")
      ->required();
  clv_fit_cmd->add_option("--calibration-end", clv.calibration_end,
                          "Last day of the calibration period, YYYY-MM-DD (default: the last transaction day)");
  clv_fit_cmd->add_option("--id-column", clv.id_column, "csv: customer id column");
  clv_fit_cmd->add_option("--date-column", clv.date_column, "csv: date column (YYYY-MM-DD or YYYYMMDD)");
  clv_fit_cmd->add_option("--amount-column", clv.amount_column, "csv: amount column (negative: a return)");
  clv_fit_cmd->add_flag("--json", clv.json, "Machine-readable output");

  ChurnTrainArgs churn_train;
  ChurnScoreArgs churn_score;
  auto* churn_cmd = app.add_subcommand("churn", "Churn model: gradient-boosted trees with cross-validated AUC and drivers");
  churn_cmd->require_subcommand(1);
  auto* churn_train_cmd = churn_cmd->add_subcommand(
      "train", "Train on a CSV (one row per customer): stratified k-fold AUC, calibration, model file");
  auto* churn_csv = churn_train_cmd->add_option("--csv", churn_train.csv, "CSV file with a header row");
  churn_train_cmd->add_option("--target", churn_train.target, "Column saying whether the customer churned (with --csv)");
  churn_train_cmd->add_option("--workspace,-w", churn_train.workspace,
                              "Train from the workspace: a past segmentation run's feature snapshot, labelled by who left within churn.horizon after it")
      ->excludes(churn_csv);
  churn_train_cmd->add_option("--at", churn_train.at, "With --workspace: the time taken as now (RFC 3339)");
  churn_train_cmd->add_option("--positive", churn_train.positive,
                              "Target value meaning churn (default: inferred from Yes/No, true/false, 1/0)");
  churn_train_cmd->add_option("--id", churn_train.id_column, "Customer id column (not a feature)");
  churn_train_cmd->add_option("--folds", churn_train.folds, "Cross-validation folds")->check(CLI::Range(2, 20));
  auto* churn_out = churn_train_cmd->add_option(
      "--out,-o", churn_train.out, "Model file to write (default churn-model.json; with --workspace, segments.yaml's churn.model)");
  churn_train_cmd->add_option("--seed", churn_train.seed, "Random seed (same seed, same model)");
  churn_train_cmd->add_option("--threads", churn_train.threads, "Trainings run in parallel (0: every core)")
      ->check(CLI::Range(0, 256));
  churn_train_cmd->add_flag("--json", churn_train.json, "Machine-readable output");
  auto* churn_score_cmd = churn_cmd->add_subcommand(
      "score", "Score a CSV with a trained model: NDJSON lines with churn probability and top drivers");
  churn_score_cmd->add_option("--model,-m", churn_score.model, "Model file from churn train")->required();
  churn_score_cmd->add_option("--csv", churn_score.csv, "CSV file with the model's feature columns")->required();
  churn_score_cmd->add_option("--id", churn_score.id_column, "Customer id column to copy into each line");
  churn_score_cmd->add_option("--top", churn_score.top, "Drivers per row (0: none)")->check(CLI::Range(0, 1000));
  churn_score_cmd->add_option("--out,-o", churn_score.out, "NDJSON output file (default: standard output)");
  churn_score_cmd->add_flag("--json", churn_score.json, "With --out: a JSON summary on standard output");

  ClusterArgs cluster;
  auto* cluster_cmd = app.add_subcommand(
      "cluster", "k-means clusters of numeric CSV columns, k chosen by silhouette, profiles in plain terms");
  cluster_cmd->add_option("--csv", cluster.csv, "CSV file with a header row")->required();
  cluster_cmd->add_option("--features", cluster.features, "Numeric columns to cluster on, comma-separated")
      ->required()
      ->delimiter(',');
  auto* cluster_k = cluster_cmd->add_option("--k", cluster.k, "Exactly this many clusters")
                        ->check(CLI::Range(2, 256));
  cluster_cmd->add_option("--k-range", cluster.k_range, "Try every k in A..B and choose one (default 2..8)")
      ->excludes(cluster_k);
  cluster_cmd->add_option("--seed", cluster.seed, "Random seed (same seed, same clusters)");
  cluster_cmd->add_option("--sample", cluster.sample, "Rows the centroids are fitted on (uniform sample)")
      ->check(CLI::Range(int64_t{2}, int64_t{100000000}));
  cluster_cmd->add_option("--silhouette-sample", cluster.silhouette_sample,
                          "Rows the silhouette is computed on (cost grows with its square)")
      ->check(CLI::Range(int64_t{2}, int64_t{100000}));
  cluster_cmd->add_option("--n-init", cluster.n_init, "k-means++ restarts per k")->check(CLI::Range(1, 1000));
  cluster_cmd->add_option("--criterion", cluster.criterion, "How k is chosen: silhouette or elbow");
  cluster_cmd->add_option("--threads", cluster.threads, "Threads")->check(CLI::Range(1, 64));
  cluster_cmd->add_option("--out,-o", cluster.out, "Write the model (JSON) to this file");
  cluster_cmd->add_flag("--json", cluster.json, "Machine-readable output");

  SegmentArgs segment;
  auto* segment_cmd = app.add_subcommand(
      "segment", "Value/effort tiers, behavioural segments, RFM, clusters, CLV and churn scores into every profile");
  segment_cmd->add_option("--workspace,-w", segment.workspace, "Workspace folder")->required();
  segment_cmd->add_option("--at", segment.at, "Read profiles as of this time (RFC 3339; default now)");
  segment_cmd->add_option("--threads", segment.threads, "Threads")->check(CLI::Range(1, 64));
  segment_cmd->add_flag("--json", segment.json, "Machine-readable report");

  ModelsArgs models;
  auto* models_cmd = app.add_subcommand("models", "Adaptive models: health (responses, AUC, calibration, predictors), export, import");
  models_cmd->add_option("--workspace,-w", models.workspace, "Workspace folder");
  models_cmd->add_flag("--json", models.json, "Machine-readable output (as GET /v1/models)");
  auto* mexport_cmd = models_cmd->add_subcommand("export", "Copy the model snapshot to a file (to import elsewhere)");
  mexport_cmd->add_option("--workspace,-w", models.workspace, "Workspace folder")->required();
  mexport_cmd->add_option("--out,-o", models.out, "Snapshot file to write")->required();
  auto* mimport_cmd = models_cmd->add_subcommand(
      "import", "Replace the workspace's models with a snapshot (server must not be running; POST /v1/admin/models/import while it is)");
  mimport_cmd->add_option("--workspace,-w", models.workspace, "Workspace folder")->required();
  mimport_cmd->add_option("--in,-i", models.in, "Snapshot file to read")->required();

  OffersArgs offers;
  auto* offers_cmd = app.add_subcommand("offers", "Signed offer links: the invoice print run's QR codes, signing keys");
  offers_cmd->require_subcommand(1);
  auto* invoice_cmd = offers_cmd->add_subcommand(
      "invoice-batch", "Best invoice-channel action per subscriber → signed link, QR code (PNG + SVG), manifest.ndjson");
  invoice_cmd->add_option("--workspace,-w", offers.workspace, "Workspace folder")->required();
  invoice_cmd->add_option("--out,-o", offers.out, "Output folder (qr/xx/<subscriber>.png|.svg, manifest.ndjson)")->required();
  invoice_cmd->add_option("--base-url", offers.base_url, "Public URL the links start with (default http://<server host>:<port>)");
  invoice_cmd->add_option("--expires-in", offers.expires_in, "Link lifetime: seconds or a duration like 30d (at most 366d)");
  invoice_cmd->add_option("--limit", offers.limit, "At most this many subscribers (0: all)")->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  invoice_cmd->add_option("--threads", offers.threads, "Subscribers in flight (decisions wait on the WAL fsync)")->check(CLI::Range(1, 256));
  invoice_cmd->add_option("--at", offers.at, "Decide and sign as of this time (RFC 3339; default now)");
  invoice_cmd->add_flag("--dry-run", offers.dry_run, "Decide without recording the offers as impressions");
  invoice_cmd->add_flag("--json", offers.json, "Machine-readable summary");
  auto* rotate_cmd = offers_cmd->add_subcommand("rotate-key", "New active signing key; the previous one keeps verifying links in flight");
  rotate_cmd->add_option("--workspace,-w", offers.workspace, "Workspace folder")->required();
  rotate_cmd->add_flag("--json", offers.json, "Machine-readable output");
  auto* retire_cmd = offers_cmd->add_subcommand("retire-key", "Retire a signing key: links signed with it are refused");
  retire_cmd->add_option("--workspace,-w", offers.workspace, "Workspace folder")->required();
  retire_cmd->add_option("--kid", offers.kid, "Key id (see offer-keys.json)")->required();
  retire_cmd->add_flag("--json", offers.json, "Machine-readable output");

  CLI11_PARSE(app, argc, argv);
  if (*init_cmd) return RunInit(init);
  if (*check_cmd) return RunCheck(check);
  if (*gen_cmd) return RunGenerate(gen);
  if (*ingest_cmd) return RunIngest(ingest);
  if (*serve_cmd) return RunServe(serve);
  if (*profile_cmd) return RunProfile(profile);
  if (*stream_cmd) return RunStream(stream);
  if (*kcreate_cmd) return RunKeysCreate(keys);
  if (*klist_cmd) return RunKeysList(keys);
  if (*krevoke_cmd) return RunKeysRevoke(keys);
  if (*decide_cmd) return RunDecide(decide);
  if (*dexport_cmd) return RunDecisionsExport(dexport);
  if (*ope_cmd) return RunOpe(ope);
  if (*clv_fit_cmd) return RunClvFit(clv);
  if (*churn_train_cmd) {
    churn_train.out_given = churn_out->count() > 0;
    return RunChurnTrain(churn_train);
  }
  if (*churn_score_cmd) return RunChurnScore(churn_score);
  if (*segment_cmd) return RunSegment(segment);
  if (*invoice_cmd) return RunOffersInvoiceBatch(offers);
  if (*rotate_cmd) return RunOffersRotateKey(offers);
  if (*retire_cmd) return RunOffersRetireKey(offers);
  if (*cluster_cmd) return RunCluster(cluster);
  if (*mexport_cmd) return RunModelsExport(models);
  if (*mimport_cmd) return RunModelsImport(models);
  if (*models_cmd) {
    if (models.workspace.empty()) return Fail("models: --workspace is required");
    return RunModels(models);
  }
  return 1;
}
