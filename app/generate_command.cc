// kairos generate: writes a synthetic operator's history (see src/sim/README.md).
#include <chrono>
#include <cstdio>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "app/commands.h"
#include "common/time_format.h"
#include "sim/generator.h"

namespace kairos::app {

int RunGenerate(const GenerateArgs& args) {
  sim::GeneratorOptions options;
  options.subscribers = args.subscribers;
  options.days = args.days;
  options.seed = args.seed;
  options.out_dir = args.out;
  if (!args.end.empty()) {
    auto end = ParseDate(args.end);
    if (!end.ok()) return Fail("--end: " + end.status().message());
    options.end = *end;
  }
  ProgressBar bar(StderrIsTerminal() && !args.json);
  const auto start = std::chrono::steady_clock::now();
  auto summary = sim::Generate(options, [&](double fraction) { bar.Update(fraction); });
  bar.Done();
  if (!summary.ok()) return Fail(summary.status().message());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (args.json) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.StartObject();
    w.Key("subscribers");
    w.Int64(summary->subscribers);
    w.Key("events");
    w.Int64(summary->events);
    w.Key("churned");
    w.Int64(summary->churned);
    w.Key("events_path");
    w.String(summary->events_path.c_str());
    w.Key("truth_path");
    w.String(summary->truth_path.c_str());
    w.Key("seconds");
    w.Double(seconds);
    w.EndObject();
    std::printf("%s\n", sb.GetString());
  } else {
    std::printf("generated %lld subscribers, %lld events (%lld churned) in %.1f s\n  events: %s\n  truth:  %s\n",
                static_cast<long long>(summary->subscribers), static_cast<long long>(summary->events),
                static_cast<long long>(summary->churned), seconds, summary->events_path.c_str(),
                summary->truth_path.c_str());
  }
  return 0;
}

}  // namespace kairos::app
