#include "trigger/trigger_config.h"

#include <algorithm>
#include <filesystem>

#include "catalog/scalar_position.h"
#include "common/file_util.h"
#include "schema/yaml_util.h"

namespace kairos {
namespace {

constexpr const char* kTriggersFile = "triggers.yaml";
constexpr size_t kMaxTriggers = 1000;

class TriggerParser {
 public:
  TriggerParser(std::string_view text, std::string_view file, std::shared_ptr<const Decisioning> d,
                std::string workspace_dir)
      : text_(text), file_(file), d_(std::move(d)), dir_(std::move(workspace_dir)) {}

  Result<std::shared_ptr<const TriggerSet>> Parse() {
    auto out = std::make_shared<TriggerSet>();
    out->decisioning = d_;
    out->file = std::string(file_);
    out->by_event_type.resize(d_->schema->event_types().size());
    KAIROS_ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(text_, file_));
    if (root.IsNull()) return std::shared_ptr<const TriggerSet>(std::move(out));
    if (!root.IsMap()) return YamlError(file_, root, "triggers.yaml must be a mapping of triggers, journeys, outbound");
    KAIROS_RETURN_IF_ERROR(CheckKeys(file_, root, {"triggers", "journeys", "outbound"}, "triggers.yaml"));
    if (root["journeys"]) {
      KAIROS_ASSIGN_OR_RETURN(out->journeys, ParseJourneys(text_, file_, root["journeys"], *d_));
    }
    if (root["triggers"]) {
      const YAML::Node list = root["triggers"];
      if (!list.IsMap()) return YamlError(file_, list, "triggers must be a mapping of name: {event, when, channel | journey, ...}");
      if (list.size() > kMaxTriggers) return YamlError(file_, list, "at most " + std::to_string(kMaxTriggers) + " triggers");
      for (const auto& kv : list) {
        KAIROS_ASSIGN_OR_RETURN(TriggerDef t, Trigger(kv.first, kv.second, *out));
        out->by_event_type[static_cast<size_t>(t.event_type)].push_back(static_cast<int>(out->triggers.size()));
        out->triggers.push_back(std::move(t));
      }
    }
    if (root["outbound"]) KAIROS_RETURN_IF_ERROR(Outbound(root["outbound"], out.get()));
    return std::shared_ptr<const TriggerSet>(std::move(out));
  }

 private:
  Result<TriggerDef> Trigger(const YAML::Node& key, const YAML::Node& spec, const TriggerSet& set) {
    TriggerDef t;
    t.name = key.Scalar();
    t.line = key.Mark().line + 1;
    const std::string what = "trigger " + t.name;
    for (const TriggerDef& other : set.triggers) {
      if (other.name == t.name) return YamlError(file_, key, "duplicate " + what);
    }
    if (!spec.IsMap()) return YamlError(file_, spec, what + " must be a mapping {event, when, channel | journey, ...}");
    KAIROS_RETURN_IF_ERROR(CheckKeys(file_, spec,
                                     {"event", "where", "when", "debounce", "channel", "journey", "actions",
                                      "groups", "issues", "size", "description"},
                                     what));
    const Schema& schema = *d_->schema;
    if (!spec["event"]) return YamlError(file_, spec, what + " needs an event type (event: usage)");
    KAIROS_ASSIGN_OR_RETURN(std::string ev, YamlString(file_, spec["event"], "event"));
    t.event_type = schema.EventTypeIndex(ev);
    if (t.event_type < 0) {
      std::string known;
      for (const EventTypeDef& et : schema.event_types()) known += (known.empty() ? "" : ", ") + et.name;
      return YamlError(file_, spec["event"], what + ": unknown event type \"" + ev + "\" (known: " + known + ")");
    }
    const EventTypeDef& et = schema.event_types()[static_cast<size_t>(t.event_type)];
    if (t.event_type == schema.builtin().decision || t.event_type == schema.builtin().scores) {
      return YamlError(file_, spec["event"], what + ": " + ev + " events are written by Kairos itself; trigger on customer events");
    }
    if (spec["where"]) {
      KAIROS_ASSIGN_OR_RETURN(t.where, ParseFieldFilters(file_, et, spec["where"], what));
    }
    if (spec["when"]) {
      KAIROS_ASSIGN_OR_RETURN(t.when, Condition(spec["when"], what + ".when"));
      t.when_text = spec["when"].Scalar();
    }
    if (spec["debounce"]) {
      KAIROS_ASSIGN_OR_RETURN(t.debounce_ms, YamlDurationMs(file_, spec["debounce"], "debounce"));
      if (t.debounce_ms < 0) return YamlError(file_, spec["debounce"], what + ": debounce must not be negative");
    }
    if (spec["channel"].IsDefined() == spec["journey"].IsDefined()) {
      return YamlError(file_, spec, what + " needs either channel (decide and deliver now) or journey (start a contact chain)");
    }
    if (spec["channel"]) {
      KAIROS_ASSIGN_OR_RETURN(std::string ch, YamlString(file_, spec["channel"], "channel"));
      t.channel = d_->policies.ChannelIndex(ch);
      if (t.channel < 0) {
        return YamlError(file_, spec["channel"], what + ": unknown channel \"" + ch + "\" (channels: " +
                                                     d_->policies.ChannelNames() + ")");
      }
    } else {
      KAIROS_ASSIGN_OR_RETURN(std::string j, YamlString(file_, spec["journey"], "journey"));
      t.journey = set.JourneyIndex(j);
      if (t.journey < 0) {
        std::string known;
        for (const JourneyDef& jd : set.journeys) known += (known.empty() ? "" : ", ") + jd.name;
        return YamlError(file_, spec["journey"], what + ": unknown journey \"" + j + "\" (journeys: " +
                                                     (known.empty() ? "none" : known) + ")");
      }
      if (spec["size"]) return YamlError(file_, spec["size"], what + ": size applies to a channel trigger, not a journey");
    }
    KAIROS_ASSIGN_OR_RETURN(t.scope, ParseActionScope(file_, spec, d_->catalog, what));
    if (spec["size"]) KAIROS_RETURN_IF_ERROR(Size(spec["size"], what, &t));
    return t;
  }

  // `size: {need: <number expression>, packages: {ACTION: size, ...}}`; the packages join the
  // trigger's scope.
  Status Size(const YAML::Node& n, const std::string& what, TriggerDef* t) {
    if (!n.IsMap()) return YamlError(file_, n, what + ": size must be {need: <expression>, packages: {ACTION: size}}");
    KAIROS_RETURN_IF_ERROR(CheckKeys(file_, n, {"need", "packages"}, what + ".size"));
    if (!n["need"] || !n["packages"]) return YamlError(file_, n, what + ".size needs need and packages");
    Sizing s;
    KAIROS_ASSIGN_OR_RETURN(s.need, CompileScalar(text_, file_, n["need"], *d_->features, what + ".size.need"));
    KAIROS_RETURN_IF_ERROR(NoActionFeatures(s.need, n["need"], what + ".size.need"));
    if (s.need->type() != expr::Type::kNumber) {
      return YamlError(file_, n["need"], what + ".size.need has type " + expr::TypeName(s.need->type()) + "; expected a number");
    }
    s.need_text = n["need"].Scalar();
    const YAML::Node p = n["packages"];
    if (!p.IsMap() || p.size() == 0) return YamlError(file_, p, what + ".size.packages must be a mapping ACTION: size");
    if (t->scope.allowed.empty()) t->scope.allowed.assign(d_->catalog.actions.size(), 0);
    for (const auto& kv : p) {
      const int a = d_->catalog.ActionIndex(kv.first.Scalar());
      if (a < 0) return YamlError(file_, kv.first, what + ".size: unknown action \"" + kv.first.Scalar() + "\"");
      if (!d_->catalog.actions[static_cast<size_t>(a)].TreatmentFor(t->channel)) {
        return YamlError(file_, kv.first, what + ".size: action " + kv.first.Scalar() + " has no treatment for channel " +
                                              d_->policies.channels[static_cast<size_t>(t->channel)].name);
      }
      KAIROS_ASSIGN_OR_RETURN(double size, YamlNumber(file_, kv.second, "package size"));
      if (!(size > 0)) return YamlError(file_, kv.second, what + ".size: a package size must be positive");
      s.packages.push_back({a, size});
      t->scope.allowed[static_cast<size_t>(a)] = 1;
    }
    std::sort(s.packages.begin(), s.packages.end(),
              [](const SizingPackage& x, const SizingPackage& y) { return x.size < y.size; });
    if (t->scope.text.empty()) t->scope.text = "size packages";
    t->sizing = std::move(s);
    return Status::Ok();
  }

  Result<std::shared_ptr<const expr::Expr>> Condition(const YAML::Node& n, const std::string& what) {
    KAIROS_ASSIGN_OR_RETURN(auto e, CompileScalar(text_, file_, n, *d_->features, what));
    KAIROS_RETURN_IF_ERROR(NoActionFeatures(e, n, what));
    if (e->type() != expr::Type::kBool) {
      return YamlError(file_, n, what + " has type " + expr::TypeName(e->type()) + "; expected bool");
    }
    return e;
  }

  // Conditions are about the subscriber; an action's own figures exist only per candidate.
  Status NoActionFeatures(const std::shared_ptr<const expr::Expr>& e, const YAML::Node& n, const std::string& what) {
    for (const expr::Reference& r : e->references()) {
      if (d_->features->features()[static_cast<size_t>(r.slot)].per_candidate()) {
        return YamlError(file_, n, what + " reads " + r.name + ", which belongs to an action; triggers are per subscriber");
      }
    }
    return Status::Ok();
  }

  Status Outbound(const YAML::Node& n, TriggerSet* out) {
    if (!n.IsMap()) return YamlError(file_, n, "outbound must be a mapping of channel: {webhook | file | nats: {...}}");
    for (const auto& kv : n) {
      const std::string ch = kv.first.Scalar();
      const std::string what = "outbound." + ch;
      if (d_->policies.ChannelIndex(ch) < 0) {
        return YamlError(file_, kv.first, what + ": unknown channel \"" + ch + "\" (channels: " + d_->policies.ChannelNames() + ")");
      }
      const YAML::Node spec = kv.second;
      if (!spec.IsMap() || spec.size() != 1) {
        return YamlError(file_, spec, what + " must name one adapter: {webhook: {...}}, {file: {...}} or {nats: {...}}");
      }
      const std::string kind = spec.begin()->first.Scalar();
      const YAML::Node a = spec.begin()->second;
      if (!a.IsMap()) return YamlError(file_, a, what + "." + kind + " must be a mapping");
      channel::AdapterConfig c;
      if (kind == "webhook") {
        c.kind = channel::AdapterKind::kWebhook;
        KAIROS_RETURN_IF_ERROR(CheckKeys(file_, a, {"url", "secret", "timeout", "max_attempts", "backoff", "max_backoff"}, what));
        if (!a["url"]) return YamlError(file_, a, what + ".webhook needs a url");
        KAIROS_ASSIGN_OR_RETURN(c.url, YamlString(file_, a["url"], "url"));
        if (c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0) {
          return YamlError(file_, a["url"], what + ".webhook.url must start with http:// or https://");
        }
        if (a["secret"]) {
          KAIROS_ASSIGN_OR_RETURN(c.secret, YamlString(file_, a["secret"], "secret"));
        }
      } else if (kind == "file") {
        c.kind = channel::AdapterKind::kFile;
        KAIROS_RETURN_IF_ERROR(CheckKeys(file_, a, {"path"}, what));
        if (!a["path"]) return YamlError(file_, a, what + ".file needs a path");
        KAIROS_ASSIGN_OR_RETURN(c.path, YamlString(file_, a["path"], "path"));
        if (std::filesystem::path(c.path).is_relative()) c.path = (std::filesystem::path(dir_) / c.path).string();
      } else if (kind == "nats") {
        c.kind = channel::AdapterKind::kNats;
        KAIROS_RETURN_IF_ERROR(CheckKeys(file_, a, {"url", "subject", "timeout", "max_attempts", "backoff", "max_backoff"}, what));
        if (!a["subject"]) return YamlError(file_, a, what + ".nats needs a subject");
        c.nats_url = "nats://127.0.0.1:4222";
        if (a["url"]) {
          KAIROS_ASSIGN_OR_RETURN(c.nats_url, YamlString(file_, a["url"], "url"));
        }
        KAIROS_ASSIGN_OR_RETURN(c.subject, YamlString(file_, a["subject"], "subject"));
      } else {
        return YamlError(file_, spec.begin()->first, what + ": unknown adapter \"" + kind + "\" (webhook, file, nats)");
      }
      if (a["timeout"]) {
        KAIROS_ASSIGN_OR_RETURN(c.timeout_ms, YamlDurationMs(file_, a["timeout"], "timeout"));
      }
      if (a["backoff"]) {
        KAIROS_ASSIGN_OR_RETURN(c.backoff_initial_ms, YamlDurationMs(file_, a["backoff"], "backoff"));
      }
      if (a["max_backoff"]) {
        KAIROS_ASSIGN_OR_RETURN(c.backoff_max_ms, YamlDurationMs(file_, a["max_backoff"], "max_backoff"));
      }
      if (a["max_attempts"]) {
        KAIROS_ASSIGN_OR_RETURN(int64_t m, YamlInt(file_, a["max_attempts"], "max_attempts"));
        if (m < 1 || m > 100) return YamlError(file_, a["max_attempts"], what + ".max_attempts must be between 1 and 100");
        c.max_attempts = static_cast<int>(m);
      }
      if (c.timeout_ms <= 0 || c.backoff_initial_ms <= 0 || c.backoff_max_ms < c.backoff_initial_ms) {
        return YamlError(file_, a, what + ": timeout and backoff must be positive and max_backoff ≥ backoff");
      }
      out->outbound[ch] = std::move(c);
    }
    return Status::Ok();
  }

  std::string_view text_;
  std::string_view file_;
  std::shared_ptr<const Decisioning> d_;
  std::string dir_;
};

}  // namespace

std::vector<bool> TriggerSet::WatchedEventTypes() const {
  std::vector<bool> out(by_event_type.size(), false);
  for (size_t i = 0; i < by_event_type.size(); ++i) out[i] = !by_event_type[i].empty();
  return out;
}

int TriggerSet::JourneyIndex(std::string_view name) const {
  for (size_t i = 0; i < journeys.size(); ++i) {
    if (journeys[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Result<std::shared_ptr<const TriggerSet>> TriggerSet::Parse(std::string_view text, std::string_view file,
                                                            std::shared_ptr<const Decisioning> d,
                                                            const std::string& workspace_dir) {
  if (d == nullptr) return InvalidArgument("triggers need a decisioning");
  try {
    return TriggerParser(text, file, std::move(d), workspace_dir).Parse();
  } catch (const YAML::Exception& e) {
    return YamlError(file, e.mark, e.msg);
  }
}

Result<std::shared_ptr<const TriggerSet>> TriggerSet::Load(const std::string& dir,
                                                           std::shared_ptr<const Decisioning> d) {
  const std::string path = (std::filesystem::path(dir) / kTriggersFile).string();
  std::error_code ec;
  std::string text;
  if (std::filesystem::exists(path, ec)) {
    KAIROS_ASSIGN_OR_RETURN(text, ReadFile(path));
  }
  return Parse(text, path, std::move(d), dir);
}

}  // namespace kairos
