#include "trigger/journey_config.h"

#include <algorithm>

#include "catalog/scalar_position.h"
#include "schema/yaml_util.h"

namespace kairos {

namespace {

// A journey name is part of a store key and of decision origins: keep it printable and short.
bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxJourneyNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

class JourneyParser {
 public:
  JourneyParser(std::string_view text, std::string_view file, const Decisioning& d)
      : text_(text), file_(file), d_(d) {}

  Result<std::vector<JourneyDef>> Parse(const YAML::Node& journeys) {
    std::vector<JourneyDef> out;
    if (!journeys || journeys.IsNull()) return out;
    if (!journeys.IsMap()) return YamlError(file_, journeys, "journeys must be a mapping of name: journey");
    if (journeys.size() > kMaxJourneys) {
      return YamlError(file_, journeys, "journeys: at most " + std::to_string(kMaxJourneys));
    }
    for (const auto& kv : journeys) {
      KAIROS_ASSIGN_OR_RETURN(std::string name, YamlString(file_, kv.first, "journey name"));
      if (!ValidName(name)) {
        return YamlError(file_, kv.first,
                         "journey name \"" + name.substr(0, 80) + "\" must be 1 to " +
                             std::to_string(kMaxJourneyNameLength) +
                             " letters, digits, '_', '-' or '.'");
      }
      for (const JourneyDef& j : out) {
        if (j.name == name) return YamlError(file_, kv.first, "duplicate journey " + name);
      }
      KAIROS_ASSIGN_OR_RETURN(JourneyDef j, Journey(name, kv.first, kv.second));
      out.push_back(std::move(j));
    }
    return out;
  }

 private:
  Result<JourneyDef> Journey(const std::string& name, const YAML::Node& key, const YAML::Node& spec) {
    const std::string what = "journey " + name;
    JourneyDef j;
    j.name = name;
    j.line = key.Mark().line + 1;
    if (!spec.IsMap()) return YamlError(file_, spec, what + " must be a mapping with steps");
    KAIROS_RETURN_IF_ERROR(CheckKeys(file_, spec,
                                     {"entry", "exit_when", "stop_on", "actions", "groups", "issues",
                                      "max_duration", "steps"},
                                     what));
    if (const YAML::Node n = spec["entry"]) {
      KAIROS_ASSIGN_OR_RETURN(j.entry, BoolExpr(n, what + ": entry"));
      j.entry_text = n.Scalar();
    }
    if (const YAML::Node n = spec["exit_when"]) {
      KAIROS_ASSIGN_OR_RETURN(j.exit_when, BoolExpr(n, what + ": exit_when"));
      j.exit_when_text = n.Scalar();
    }
    if (const YAML::Node n = spec["stop_on"]) {
      if (!n.IsSequence()) return YamlError(file_, n, what + ": stop_on must be a list of outcomes");
      for (size_t i = 0; i < n.size(); ++i) {
        KAIROS_ASSIGN_OR_RETURN(std::string o, YamlString(file_, n[i], what + ": stop_on"));
        const int index = OutcomeIndex(o);
        if (index < 0) {
          std::string known;
          for (int k = 0; k < kOutcomeCount; ++k) {
            known += (k ? ", " : "") + std::string(OutcomeName(static_cast<Outcome>(k)));
          }
          return YamlError(file_, n[i], what + ": stop_on: unknown outcome \"" + o.substr(0, 64) +
                                            "\" (known: " + known + ")");
        }
        const Outcome outcome = static_cast<Outcome>(index);
        if (std::find(j.stop_on.begin(), j.stop_on.end(), outcome) == j.stop_on.end()) {
          j.stop_on.push_back(outcome);
        }
      }
    } else {
      j.stop_on = {Outcome::kAccepted, Outcome::kConverted};
    }
    KAIROS_ASSIGN_OR_RETURN(j.scope, ParseActionScope(file_, spec, d_.catalog, what));
    if (const YAML::Node n = spec["max_duration"]) {
      KAIROS_ASSIGN_OR_RETURN(j.max_duration_ms, YamlDurationMs(file_, n, what + ": max_duration"));
      if (j.max_duration_ms <= 0) return YamlError(file_, n, what + ": max_duration must be more than 0");
    }
    const YAML::Node steps = spec["steps"];
    if (!steps || steps.IsNull() || (steps.IsSequence() && steps.size() == 0)) {
      return YamlError(file_, steps ? steps : key, what + " has no steps");
    }
    if (!steps.IsSequence()) return YamlError(file_, steps, what + ": steps must be a list");
    if (steps.size() > kMaxJourneySteps) {
      return YamlError(file_, steps, what + ": at most " + std::to_string(kMaxJourneySteps) + " steps, got " +
                                         std::to_string(steps.size()));
    }
    for (size_t i = 0; i < steps.size(); ++i) {
      KAIROS_ASSIGN_OR_RETURN(JourneyStep s, Step(steps[i], what + ": step " + std::to_string(i + 1)));
      j.steps.push_back(std::move(s));
    }
    return j;
  }

  Result<JourneyStep> Step(const YAML::Node& n, const std::string& what) {
    JourneyStep s;
    s.line = n.Mark().line + 1;
    if (!n.IsMap()) return YamlError(file_, n, what + " must be a mapping {channel, wait}");
    KAIROS_RETURN_IF_ERROR(CheckKeys(file_, n, {"channel", "wait"}, what));
    if (!n["channel"]) return YamlError(file_, n, what + " needs a channel");
    KAIROS_ASSIGN_OR_RETURN(s.channel, YamlString(file_, n["channel"], what + ": channel"));
    s.channel_index = d_.policies.ChannelIndex(s.channel);
    if (s.channel_index < 0) {
      return YamlError(file_, n["channel"], what + ": unknown channel \"" + s.channel.substr(0, 64) +
                                                "\" (channels: " + d_.policies.ChannelNames() + ")");
    }
    if (const YAML::Node w = n["wait"]) {
      KAIROS_ASSIGN_OR_RETURN(s.wait_ms, YamlDurationMs(file_, w, what + ": wait"));
      if (s.wait_ms < 0) return YamlError(file_, w, what + ": wait must not be negative");
    }
    return s;
  }

  // A bool expression on the profile: no per-candidate names (action.*), which have no value
  // outside a decision.
  Result<std::shared_ptr<const expr::Expr>> BoolExpr(const YAML::Node& n, const std::string& what) {
    KAIROS_ASSIGN_OR_RETURN(auto e, CompileScalar(text_, file_, n, *d_.features, what));
    for (const expr::Reference& r : e->references()) {
      if (d_.features->features()[r.slot].per_candidate()) {
        return YamlError(file_, n, what + " reads " + r.name +
                                       ", which belongs to an action; journeys check the subscriber");
      }
    }
    if (e->type() != expr::Type::kBool) {
      return YamlError(file_, n, what + " has type " + expr::TypeName(e->type()) + "; expected bool");
    }
    return e;
  }

  std::string_view text_;
  std::string_view file_;
  const Decisioning& d_;
};

}  // namespace

int64_t JourneyDef::TotalWaitMs() const {
  int64_t total = 0;
  for (const JourneyStep& s : steps) total += s.wait_ms;
  return total;
}

Result<std::vector<JourneyDef>> ParseJourneys(std::string_view text, std::string_view file,
                                              const YAML::Node& journeys, const Decisioning& d) {
  return JourneyParser(text, file, d).Parse(journeys);
}

}  // namespace kairos
