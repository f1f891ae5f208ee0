// kairos ope: off-policy evaluation of a policy on a logged bandit feedback file (DESIGN.md §7,
// docs/ope.md).
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "app/commands.h"
#include "learn/bandit_log.h"
#include "learn/ope.h"

namespace kairos::app {

int RunOpe(const OpeArgs& args) {
  learn::LogFormat format;
  if (args.format == "obd") {
    format = learn::LogFormat::kObd;
  } else if (args.format == "kairos") {
    format = learn::LogFormat::kKairos;
  } else {
    return Fail("--format: unknown format \"" + args.format + "\" (expected obd or kairos)");
  }
  if (args.bootstrap < 0) return Fail("--bootstrap must be >= 0");
  auto log = learn::LoadLog(args.log, format);
  if (!log.ok()) return Fail(log.status().message());
  auto policy = learn::ParsePolicy(args.policy, *log);
  if (!policy.ok()) return Fail("--policy: " + policy.status().message());

  learn::OpeOptions options;
  options.bootstrap = args.bootstrap;
  options.seed = args.seed;
  // The intervals do not depend on the thread count, so use what the machine has (up to 8).
  options.threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
  auto report = learn::Evaluate(*log, *policy, options);
  if (!report.ok()) return Fail(report.status().message());

  const std::pair<const char*, const learn::Estimate*> rows[] = {
      {"ips", &report->ips}, {"snips", &report->snips}, {"dm", &report->dm}, {"dr", &report->dr}};
  if (args.json) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.StartObject();
    w.Key("n");
    w.Int64(report->n);
    w.Key("on_policy");
    w.Double(report->on_policy);
    w.Key("estimates");
    w.StartObject();
    for (const auto& [name, e] : rows) {
      w.Key(name);
      w.StartObject();
      w.Key("value");
      w.Double(e->value);
      w.Key("ci95");
      if (e->ci95) {
        w.StartArray();
        w.Double(e->ci95->lo);
        w.Double(e->ci95->hi);
        w.EndArray();
      } else {
        w.Null();
      }
      w.EndObject();
    }
    w.EndObject();
    w.EndObject();
    std::printf("%s\n", sb.GetString());
    return 0;
  }
  std::printf("log        %s (%s): %lld rows, %d items, %d positions\n", args.log.c_str(),
              args.format.c_str(), static_cast<long long>(report->n), log->n_actions(),
              log->n_positions);
  std::printf("policy     %s\n", args.policy.c_str());
  std::printf("on-policy  %.6f  (the log's own mean reward)\n\n", report->on_policy);
  if (args.bootstrap > 0) {
    std::printf("estimator     value   95%% interval (%d bootstrap resamples, seed %llu)\n",
                args.bootstrap, static_cast<unsigned long long>(args.seed));
  } else {
    std::printf("estimator     value\n");
  }
  for (const auto& [name, e] : rows) {
    if (e->ci95) {
      std::printf("%-9s  %.6f   [%.6f, %.6f]\n", name, e->value, e->ci95->lo, e->ci95->hi);
    } else {
      std::printf("%-9s  %.6f\n", name, e->value);
    }
  }
  return 0;
}

}  // namespace kairos::app
