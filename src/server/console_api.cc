#include "server/console_api.h"

#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <map>
#include <regex>
#include <system_error>

#include "catalog/catalog.h"
#include "common/file_util.h"
#include "decide/decision_service.h"
#include "ingest/engine.h"
#include "schema/json_write.h"
#include "schema/workspace.h"
#include "server/http_json.h"
#include "server/routes.h"
#include "trigger/automation.h"
#include "trigger/trigger_config.h"

namespace kairos {
namespace fs = std::filesystem;
namespace {

constexpr TimestampMs kWindowMs = 60000;         // rates over the last minute
constexpr TimestampMs kKeepMs = 15 * 60000;      // samples kept
constexpr TimestampMs kMinGapMs = 900;           // at most one sample a second
constexpr TimestampMs kSlowTtlMs = 30000;        // uplift and contacts recomputed every 30 s
constexpr int kTopActions = 8;
constexpr size_t kMaxSearch = 100;

ConsoleResponse Json(unsigned status, const rapidjson::StringBuffer& sb) {
  ConsoleResponse r;
  r.status = status;
  r.body.assign(sb.GetString(), sb.GetSize());
  return r;
}

ConsoleResponse Error(unsigned status, ErrorCode code, std::string_view message, std::string_view field = {}) {
  ConsoleResponse r;
  r.status = status;
  r.body = ErrorJson(code, message, field);
  return r;
}

void Rate(JsonWriter& w, double v) {
  if (std::isfinite(v)) json::Rounded(w, v, 1000);
  else w.Null();
}

// Query parameters of the search; unknown ones are refused like the other routes do.
bool ParseQuery(std::string_view query, std::map<std::string, std::string>* out, std::string* bad) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string key(pair.substr(0, eq));
    std::string value;
    if (eq != std::string_view::npos) {
      // Forms send spaces as '+'; ids have none, so a '+' is taken literally.
      if (!PercentDecode(pair.substr(eq + 1), &value)) {
        *bad = key.substr(0, 64);
        return false;
      }
    }
    (*out)[key] = std::move(value);
  }
  return true;
}

std::string ReadOr(const fs::path& p, std::string fallback) {
  Result<std::string> r = ReadFile(p.string());
  return r.ok() ? std::move(*r) : fallback;
}

void WriteProblems(JsonWriter& w, const std::vector<ConfigProblem>& problems) {
  w.Key("problems");
  w.StartArray();
  for (const ConfigProblem& p : problems) {
    w.StartObject();
    w.Key("file");
    WriteString(&w, p.file);
    w.Key("line");
    w.Int(p.line);
    w.Key("column");
    w.Int(p.column);
    w.Key("message");
    WriteString(&w, p.message);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

bool EditableConfigFile(std::string_view file) {
  return file == "catalog.yaml" || file == "policies.yaml" || file == "triggers.yaml";
}

std::vector<ConfigProblem> SplitProblems(std::string_view messages, const std::string& dir) {
  static const std::regex kWhere(R"(^(.*?):(\d+):(\d+): (.*)$)");
  std::vector<ConfigProblem> out;
  std::string prefix = dir;
  if (!prefix.empty() && prefix.back() != '/') prefix.push_back('/');
  size_t pos = 0;
  while (pos <= messages.size()) {
    const size_t nl = messages.find('\n', pos);
    std::string line(messages.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    pos = nl == std::string_view::npos ? messages.size() + 1 : nl + 1;
    if (line.empty()) continue;
    // Paths inside the checked folder are shown relative to it ("catalog.yaml").
    for (size_t at; !prefix.empty() && (at = line.find(prefix)) != std::string::npos;) line.erase(at, prefix.size());
    ConfigProblem p;
    std::smatch m;
    if (std::regex_match(line, m, kWhere)) {
      p.file = m[1].str();
      p.line = std::stoi(m[2].str());
      p.column = std::stoi(m[3].str());
      p.message = m[4].str();
    } else {
      p.message = line;
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<ConfigProblem> CheckConfigText(const std::string& workspace_dir, std::string_view file,
                                           std::string_view text) {
  // A scratch copy of the workspace's configuration (the YAML files only, not the store), with
  // the edited file replaced: the same loaders `kairos check` runs see exactly what would be in
  // force after the write.
  std::error_code ec;
  const fs::path scratch = fs::temp_directory_path(ec) /
                           ("kairos-check-" + std::to_string(::getpid()) + "-" +
                            std::to_string(std::hash<std::string_view>{}(text) ^ static_cast<size_t>(SystemClock().Now())));
  std::vector<ConfigProblem> problems;
  auto fail = [&](std::string message) {
    problems.push_back({std::string(file), 0, 0, std::move(message)});
    return problems;
  };
  fs::remove_all(scratch, ec);
  if (!fs::create_directories(scratch, ec) || ec) return fail("cannot create a scratch folder to check in: " + ec.message());
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(p, e);
    }
  } cleanup{scratch};
  for (const fs::directory_entry& e : fs::directory_iterator(workspace_dir, ec)) {
    const std::string ext = e.path().extension().string();
    if (!e.is_regular_file() || (ext != ".yaml" && ext != ".yml")) continue;
    fs::copy_file(e.path(), scratch / e.path().filename(), ec);
    if (ec) return fail("cannot copy " + e.path().filename().string() + ": " + ec.message());
  }
  if (ec) return fail("cannot list the workspace: " + ec.message());
  if (Status s = WriteFileAtomic((scratch / std::string(file)).string(), text); !s.ok()) return fail(s.message());

  const std::string dir = scratch.string();
  Result<Workspace> ws = Workspace::Load(dir);
  if (!ws.ok()) return SplitProblems(ws.status().message(), dir);
  Result<std::shared_ptr<const Decisioning>> d = Decisioning::Load(dir, ws->schema);
  if (!d.ok()) return SplitProblems(d.status().message(), dir);
  Result<std::shared_ptr<const TriggerSet>> t = TriggerSet::Load(dir, *d);
  if (!t.ok()) return SplitProblems(t.status().message(), dir);
  return {};
}

ConsoleResponse ConsoleApi::Overview(Engine* engine, DecisionService* decisions) const {
  const TimestampMs now = clock_->Now();
  const EngineStats es = engine->Stats();
  const DecisionStats ds = decisions->Stats();

  // ---- rates from counter samples ----
  double events_rate = NAN, decisions_rate = NAN;
  std::vector<std::array<double, 3>> series;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (samples_.empty() || now - samples_.back().t >= kMinGapMs) {
      samples_.push_back({now, es.events_accepted, ds.decisions});
    }
    while (!samples_.empty() && now - samples_.front().t > kKeepMs) samples_.pop_front();
    const Sample& last = samples_.back();
    for (const Sample& s : samples_) {
      if (last.t - s.t <= kWindowMs && last.t - s.t >= 1000) {
        const double dt = static_cast<double>(last.t - s.t) / 1000.0;
        events_rate = static_cast<double>(last.events - s.events) / dt;
        decisions_rate = static_cast<double>(last.decisions - s.decisions) / dt;
        break;
      }
    }
    for (size_t i = 1; i < samples_.size(); ++i) {
      const Sample& a = samples_[i - 1];
      const Sample& b = samples_[i];
      const double dt = static_cast<double>(b.t - a.t) / 1000.0;
      if (dt <= 0 || dt > 30) continue;  // a gap (nobody watched): no rate for it
      series.push_back({static_cast<double>(b.t), static_cast<double>(b.events - a.events) / dt,
                        static_cast<double>(b.decisions - a.decisions) / dt});
    }
  }

  // ---- the slow parts, cached ----
  const auto d = decisions->decisioning();
  Slow slow;
  {
    std::lock_guard<std::mutex> compute(slow_mu_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (slow_.at >= 0 && now - slow_.at < kSlowTtlMs) slow = slow_;
    }
    if (slow.at < 0) {
      slow.at = now;
      Result<std::string> uplift = decisions->UpliftJson(now - 30LL * 86400000);
      if (uplift.ok()) slow.uplift = std::move(*uplift);
      else slow.uplift_error = uplift.status().message();
      // Contacts today and this hour per channel: the shown actions of the day's logged
      // decisions (dry runs are not logged).
      const TimestampMs day_start = now - now % 86400000;
      const std::string hour_prefix = DecisionIdPrefix(now - now % 3600000);
      std::map<std::string, int64_t> today, hour;
      (void)engine->ForEachDecision(DecisionIdPrefix(day_start), [&](const StoredDecision& sd) {
        if (sd.actions.empty()) return true;
        const int64_t shown = 1 + std::count(sd.actions.begin(), sd.actions.end(), ',');
        today[sd.channel] += shown;
        if (sd.decision_id >= hour_prefix) hour[sd.channel] += shown;
        return true;
      });
      slow.contacts_today.assign(today.begin(), today.end());
      slow.contacts_hour.assign(hour.begin(), hour.end());
      std::lock_guard<std::mutex> lock(mu_);
      slow_ = slow;
    }
  }

  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("as_of");
  json::Time(w, now);
  w.Key("window_seconds");
  w.Int64(kWindowMs / 1000);
  w.Key("subscribers");
  w.Int64(es.subscribers);
  w.Key("events_per_second");
  Rate(w, events_rate);
  w.Key("decisions_per_second");
  Rate(w, decisions_rate);
  w.Key("series");
  w.StartArray();
  for (const auto& [t, e, dd] : series) {
    w.StartObject();
    w.Key("t");
    w.Int64(static_cast<int64_t>(t));
    w.Key("events_per_second");
    Rate(w, e);
    w.Key("decisions_per_second");
    Rate(w, dd);
    w.EndObject();
  }
  w.EndArray();
  w.Key("totals");
  w.StartObject();
  w.Key("events");
  w.Int64(es.events_accepted);
  w.Key("decisions");
  w.Int64(ds.decisions);
  w.Key("actions_shown");
  w.Int64(ds.actions_shown);
  w.Key("responses");
  w.Int64(ds.responses);
  w.EndObject();

  // Acceptance, conversion and top actions from the uplift report's target arms.
  simdjson::dom::parser parser;
  simdjson::dom::element uplift;
  const bool have_uplift = !slow.uplift.empty() && !parser.parse(slow.uplift).get(uplift);
  int64_t shown = 0;
  double accepted = 0, converted = 0;
  struct Top {
    std::string id;
    int64_t n;
    double acceptance, conversion;
  };
  std::vector<Top> top;
  if (have_uplift) {
    simdjson::dom::element target;
    if (!uplift.at_pointer("/overall/target").get(target)) {
      int64_t n = 0;
      double a = 0, c = 0;
      if (!target["n"].get(n) && !target["acceptance"].get(a) && !target["conversion"].get(c)) {
        shown = n;
        accepted = a * static_cast<double>(n);
        converted = c * static_cast<double>(n);
      }
    }
    simdjson::dom::array actions;
    if (!uplift["actions"].get(actions)) {
      for (simdjson::dom::element a : actions) {
        std::string_view id;
        int64_t n = 0;
        double acc = 0, conv = 0;
        if (a["action_id"].get(id) || a.at_pointer("/target/n").get(n)) continue;
        if (a.at_pointer("/target/acceptance").get(acc)) acc = 0;
        if (a.at_pointer("/target/conversion").get(conv)) conv = 0;
        if (n > 0) top.push_back({std::string(id), n, acc, conv});
      }
    }
  }
  std::sort(top.begin(), top.end(), [](const Top& a, const Top& b) { return a.n != b.n ? a.n > b.n : a.id < b.id; });
  if (top.size() > kTopActions) top.resize(kTopActions);

  w.Key("rates");
  w.StartObject();
  w.Key("shown");
  w.Int64(shown);
  w.Key("accepted");
  w.Int64(static_cast<int64_t>(std::llround(accepted)));
  w.Key("converted");
  w.Int64(static_cast<int64_t>(std::llround(converted)));
  w.Key("acceptance");
  Rate(w, shown > 0 ? accepted / static_cast<double>(shown) : NAN);
  w.Key("conversion");
  Rate(w, shown > 0 ? converted / static_cast<double>(shown) : NAN);
  w.EndObject();

  w.Key("uplift");
  if (have_uplift) {
    w.RawValue(slow.uplift.data(), slow.uplift.size(), rapidjson::kObjectType);
  } else {
    w.StartObject();
    w.Key("actions");
    w.StartArray();
    w.EndArray();
    w.Key("error");
    WriteString(&w, slow.uplift_error.empty() ? std::string("no uplift report") : slow.uplift_error);
    w.EndObject();
  }

  w.Key("top_actions");
  w.StartArray();
  for (const Top& t : top) {
    std::string name;
    for (const Action& a : d->catalog.actions) {
      if (a.id == t.id) name = a.name;
    }
    w.StartObject();
    w.Key("action_id");
    WriteString(&w, t.id);
    w.Key("name");
    WriteString(&w, name);
    w.Key("shown");
    w.Int64(t.n);
    w.Key("accepted");
    w.Int64(static_cast<int64_t>(std::llround(t.acceptance * static_cast<double>(t.n))));
    w.Key("converted");
    w.Int64(static_cast<int64_t>(std::llround(t.conversion * static_cast<double>(t.n))));
    w.Key("acceptance");
    Rate(w, t.acceptance);
    w.Key("conversion");
    Rate(w, t.conversion);
    w.EndObject();
  }
  w.EndArray();

  w.Key("channels");
  w.StartArray();
  auto count = [](const std::vector<std::pair<std::string, int64_t>>& v, const std::string& name) -> int64_t {
    for (const auto& [k, n] : v) {
      if (k == name) return n;
    }
    return 0;
  };
  for (size_t i = 0; i < d->policies.channels.size(); ++i) {
    const ChannelDef& c = d->policies.channels[i];
    w.StartObject();
    w.Key("channel");
    WriteString(&w, c.name);
    w.Key("contacts_today");
    w.Int64(count(slow.contacts_today, c.name));
    w.Key("cap_per_day");
    // The tightest per-subscriber cap of this channel, scaled to a day, is not a channel-wide
    // limit; the console shows the caps as text.
    w.Null();
    w.Key("caps");
    w.StartArray();
    for (const CapRule& r : d->policies.caps) {
      if (r.channel != static_cast<int>(i) && r.channel != -1) continue;
      w.StartObject();
      w.Key("max");
      w.Int(r.max);
      w.Key("window_hours");
      json::Rounded(w, static_cast<double>(r.window_ms) / 3600000.0, 100);
      w.Key("all_channels");
      w.Bool(r.channel == -1);
      w.EndObject();
    }
    w.EndArray();
    w.Key("capacity");
    if (c.capacity >= 0) w.Int64(c.capacity);
    else w.Null();
    w.Key("capacity_period");
    if (c.capacity >= 0) w.String(c.capacity_period_ms == 3600000 ? "hour" : "day");
    else w.Null();
    w.Key("capacity_used");
    if (c.capacity >= 0) w.Int64(decisions->CapacityUsed(c));
    else w.Null();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Json(200, sb);
}

ConsoleResponse ConsoleApi::SearchSubscribers(std::string_view query, Engine* engine) const {
  std::map<std::string, std::string> params;
  std::string bad;
  if (!ParseQuery(query, &params, &bad)) {
    return Error(400, ErrorCode::kInvalidArgument, "malformed query parameter " + bad, bad);
  }
  for (const auto& [k, v] : params) {
    if (k != "prefix" && k != "limit") {
      return Error(400, ErrorCode::kInvalidArgument, "unknown query parameter " + k.substr(0, 64) + "; known: prefix, limit", k.substr(0, 64));
    }
  }
  size_t limit = 20;
  if (auto it = params.find("limit"); it != params.end()) {
    char* end = nullptr;
    const long long v = std::strtoll(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || v < 1 || v > static_cast<long long>(kMaxSearch)) {
      return Error(400, ErrorCode::kInvalidArgument, "limit must be an integer in 1..100", "limit");
    }
    limit = static_cast<size_t>(v);
  }
  const std::string prefix = params.count("prefix") ? params["prefix"] : "";
  if (prefix.size() > 256) return Error(400, ErrorCode::kInvalidArgument, "prefix is longer than 256 bytes", "prefix");

  // Each partition holds ids in key order: take up to limit+1 from each, merge, keep limit.
  std::vector<std::string> ids;
  for (int p = 0; p < engine->partitions(); ++p) {
    size_t taken = 0;
    Status s = engine->ForEachProfileFrom(p, prefix, [&](std::string_view id, std::string_view) {
      if (id.substr(0, prefix.size()) != prefix) return false;
      ids.emplace_back(id);
      return ++taken <= limit;
    });
    if (!s.ok()) return Error(500, s.code(), s.message());
  }
  std::sort(ids.begin(), ids.end());
  const bool more = ids.size() > limit;
  if (more) ids.resize(limit);

  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("prefix");
  WriteString(&w, prefix);
  w.Key("subscribers");
  w.StartArray();
  for (const std::string& id : ids) WriteString(&w, id);
  w.EndArray();
  w.Key("more");
  w.Bool(more);
  w.EndObject();
  return Json(200, sb);
}

ConsoleResponse ConsoleApi::GetConfig(std::string_view file, const std::string& workspace_dir) const {
  if (!EditableConfigFile(file)) {
    return Error(404, ErrorCode::kNotFound, "the console edits catalog.yaml, policies.yaml and triggers.yaml only", "file");
  }
  const fs::path path = fs::path(workspace_dir) / std::string(file);
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  std::string content;
  if (exists) {
    Result<std::string> r = ReadFile(path.string());
    if (!r.ok()) return Error(500, r.status().code(), r.status().message());
    content = std::move(*r);
  }
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("file");
  WriteString(&w, file);
  w.Key("exists");
  w.Bool(exists);
  w.Key("content");
  WriteString(&w, content);
  w.EndObject();
  return Json(200, sb);
}

ConsoleResponse ConsoleApi::PutConfig(std::string_view file, std::string_view text, const std::string& workspace_dir,
                                      DecisionService* decisions, Automation* automation,
                                      std::string* outcome) const {
  if (!EditableConfigFile(file)) {
    *outcome = "refused: not an editable file";
    return Error(404, ErrorCode::kNotFound, "the console edits catalog.yaml, policies.yaml and triggers.yaml only", "file");
  }
  std::lock_guard<std::mutex> lock(config_mu_);
  auto refuse = [&](unsigned status, const std::vector<ConfigProblem>& problems, const std::string& what) {
    *outcome = "refused: " + what;
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    const ConfigProblem& first = problems.front();
    std::string message = first.line > 0 ? first.file + ":" + std::to_string(first.line) + ":" +
                                               std::to_string(first.column) + ": " + first.message
                                         : first.message;
    WriteErrorMember(&w, status >= 500 ? ErrorCode::kIoError : ErrorCode::kInvalidArgument,
                     message + " (the running configuration stays in use)", file);
    WriteProblems(w, problems);
    w.EndObject();
    return Json(status, sb);
  };

  std::vector<ConfigProblem> problems = CheckConfigText(workspace_dir, file, text);
  if (!problems.empty()) return refuse(400, problems, std::to_string(problems.size()) + " problem(s): " + problems.front().message);

  const std::string path = (fs::path(workspace_dir) / std::string(file)).string();
  std::error_code ec;
  const bool existed = fs::exists(path, ec);
  const std::string before = existed ? ReadOr(path, "") : "";
  if (Status s = WriteFileAtomic(path, text); !s.ok()) {
    return refuse(500, {{std::string(file), 0, 0, s.message()}}, s.message());
  }
  Status reloaded = automation != nullptr ? automation->Reload() : decisions->Reload(workspace_dir);
  if (!reloaded.ok()) {
    // Checked a moment ago, so this is a race with another writer of the folder or an I/O
    // error: put the file back as it was so that the folder matches what runs.
    if (existed) (void)WriteFileAtomic(path, before);
    else fs::remove(path, ec);
    std::vector<ConfigProblem> p = SplitProblems(reloaded.message(), workspace_dir);
    if (p.empty()) p.push_back({std::string(file), 0, 0, reloaded.message()});
    return refuse(400, p, "reload failed: " + reloaded.message());
  }
  const auto d = decisions->decisioning();
  *outcome = "ok: catalog version " + d->version;
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("saved");
  w.Bool(true);
  w.Key("file");
  WriteString(&w, file);
  w.Key("reloaded");
  w.Bool(true);
  w.Key("catalog_version");
  WriteString(&w, d->version);
  w.Key("actions");
  w.Int64(static_cast<int64_t>(d->catalog.actions.size()));
  w.EndObject();
  return Json(200, sb);
}

}  // namespace kairos
