// catalog.yaml: context fields, templates, issues → groups → actions → treatments; and the
// Decisioning that loads it together with policies.yaml. Format: docs/catalog.md.
//
// The load runs in phases so that every expression can name any action, group or issue of the
// file (history targets), wherever it is declared:
//   1. read the YAML tree: names, numbers, dates, channels (no expressions yet);
//   2. build the FeatureSpace from the context fields and all target names;
//   3. compile every expression (issues, groups, templates, actions) in file order;
//   4. resolve `extends` chains and assemble the final actions.
#include "catalog/catalog.h"

#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "catalog/scalar_position.h"
#include "common/hash.h"
#include "common/time_format.h"
#include "schema/yaml_util.h"

namespace kairos {

const char* ActionTypeName(ActionType t) {
  switch (t) {
    case ActionType::kOffer:
      return "offer";
    case ActionType::kRetention:
      return "retention";
    case ActionType::kService:
      return "service";
    case ActionType::kReward:
      return "reward";
    case ActionType::kMandatory:
      return "mandatory";
  }
  return "?";
}

int Catalog::ActionIndex(std::string_view id) const {
  auto it = action_index.find(id);
  return it == action_index.end() ? -1 : it->second;
}

namespace {

constexpr const char* kPoliciesFile = "policies.yaml";
constexpr const char* kCatalogFile = "catalog.yaml";
constexpr const char* kLearningFile = "learning.yaml";
constexpr const char* kSegmentsFile = "segments.yaml";

enum RuleKind { kEligibility = 0, kApplicability = 1, kSuitability = 2, kRuleKinds = 3 };
constexpr const char* kRuleKindNames[kRuleKinds] = {"eligibility", "applicability", "suitability"};

bool ValidId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool ValidContextName(std::string_view s) {
  if (s.empty() || s.size() > 64 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_')) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// An action or a template as written; fields absent here come from the `extends` chain.
struct Def {
  bool is_template = false;
  std::string id;
  YAML::Node node;
  int line = 0;
  std::string extends;
  YAML::Node extends_node;
  int issue = -1, group = -1;

  std::optional<std::string> name;
  std::optional<ActionType> type;
  std::optional<TimestampMs> valid_from, valid_to;
  YAML::Node valid_to_node;  // a default YAML::Node is "defined": test valid_to instead
  bool has_value = false;
  double value = 0;
  YAML::Node value_node;  // a scalar when value is an expression, else a null node
  std::optional<double> cost, propensity, lever;
  YAML::Node context_weight_node;  // a scalar when given, else a null node
  std::vector<YAML::Node> rule_nodes[kRuleKinds];
  std::optional<int> max_times;
  std::optional<int64_t> cooldown_ms;
  bool has_daily_volume = false;
  std::vector<int64_t> daily_volume;
  int64_t daily_volume_total = kUnlimited;
  bool has_daily_budget = false;
  std::vector<double> daily_budget;
  std::optional<std::vector<Treatment>> treatments;

  // Compiled in phase 3.
  std::shared_ptr<const expr::Expr> value_expr, context_weight;
  std::vector<Rule> rules[kRuleKinds];
};

struct IssueDef {
  std::vector<YAML::Node> rule_nodes[kRuleKinds];
  std::vector<Rule> rules[kRuleKinds];
  std::vector<int> groups;
};

struct GroupDef {
  std::vector<YAML::Node> rule_nodes[kRuleKinds];
  std::vector<Rule> rules[kRuleKinds];
  std::vector<int> defs;  // actions, in file order
};

// Evaluates constant expressions (no symbols) once at load.
class NoSymbols final : public expr::SymbolReader {
 public:
  expr::Value Read(int) override { return expr::Value(); }
};

class CatalogParser {
 public:
  CatalogParser(std::string_view text, std::string_view file, const Policies& policies,
                std::shared_ptr<const Schema> schema)
      : text_(text), file_(file), policies_(policies), schema_(std::move(schema)) {}

  Status Parse(Catalog* catalog, std::shared_ptr<const FeatureSpace>* features) {
    catalog_ = catalog;
    KAIROS_ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(text_, file_));
    std::vector<ContextField> context;
    if (!root.IsNull()) {
      if (!root.IsMap()) {
        return YamlError(file_, root, "catalog must be a mapping with context, templates, issues");
      }
      KAIROS_RETURN_IF_ERROR(CheckKeys(file_, root, {"context", "templates", "issues"}, "catalog"));
      if (root["context"]) KAIROS_RETURN_IF_ERROR(Context(root["context"], &context));
      if (root["templates"]) KAIROS_RETURN_IF_ERROR(Templates(root["templates"]));
      if (root["issues"]) KAIROS_RETURN_IF_ERROR(Issues(root["issues"]));
    }
    auto space = std::make_shared<FeatureSpace>(schema_, std::move(context), std::move(targets_));
    env_ = space.get();
    KAIROS_RETURN_IF_ERROR(CompileAll());
    KAIROS_RETURN_IF_ERROR(Assemble());
    *features = std::move(space);
    return Status::Ok();
  }

 private:
  // ---- phase 1: structure -------------------------------------------------------------------

  Status Context(const YAML::Node& node, std::vector<ContextField>* out) {
    if (!node.IsMap()) {
      return YamlError(file_, node, "context must be a mapping of field name → type");
    }
    for (const auto& kv : node) {
      ContextField f;
      KAIROS_ASSIGN_OR_RETURN(f.name, YamlString(file_, kv.first, "context field name"));
      if (!ValidContextName(f.name)) {
        return YamlError(file_, kv.first,
                         "context field name \"" + f.name +
                             "\" must be lower_snake_case, at most 64 characters");
      }
      if (f.name == "channel") {
        return YamlError(file_, kv.first, "ctx.channel always exists; do not declare it");
      }
      for (const ContextField& other : *out) {
        if (other.name == f.name)
          return YamlError(file_, kv.first, "duplicate context field " + f.name);
      }
      KAIROS_ASSIGN_OR_RETURN(std::string t, YamlString(file_, kv.second, "context field type"));
      if (t == "string") {
        f.type = expr::Type::kString;
      } else if (t == "number") {
        f.type = expr::Type::kNumber;
      } else if (t == "bool") {
        f.type = expr::Type::kBool;
      } else if (t == "time") {
        f.type = expr::Type::kTime;
      } else {
        return YamlError(file_, kv.second,
                         "context field " + f.name + ": unknown type \"" + t +
                             "\" (string, number, bool, time)");
      }
      out->push_back(std::move(f));
    }
    return Status::Ok();
  }

  Status Templates(const YAML::Node& node) {
    if (!node.IsMap()) {
      return YamlError(file_, node, "templates must be a mapping of template name → action fields");
    }
    for (const auto& kv : node) {
      Def d;
      d.is_template = true;
      KAIROS_ASSIGN_OR_RETURN(d.id, YamlString(file_, kv.first, "template name"));
      if (!ValidId(d.id)) {
        return YamlError(
            file_, kv.first,
            "template name \"" + d.id + "\" must be 1-64 characters A-Z, a-z, 0-9, _ . -");
      }
      d.node = kv.second;
      d.line = kv.first.Mark().line + 1;
      KAIROS_RETURN_IF_ERROR(AddDefName(d, kv.first));
      if (!kv.second.IsNull()) KAIROS_RETURN_IF_ERROR(Fields(kv.second, &d));
      defs_.push_back(std::move(d));
    }
    return Status::Ok();
  }

  // Action ids and template names share one namespace (`extends` names either).
  Status AddDefName(const Def& d, const YAML::Node& at) {
    auto it = def_index_.find(d.id);
    if (it != def_index_.end()) {
      const Def& first = defs_[it->second];
      const std::string line = std::to_string(first.line);
      if (!d.is_template && !first.is_template) {
        return YamlError(file_, at,
                         "duplicate action id " + d.id + " (first defined at line " + line + ")");
      }
      return YamlError(file_, at,
                       std::string(d.is_template ? "template " : "action id ") + d.id +
                           ": the name is already used by " +
                           (first.is_template ? "template " : "action ") + d.id + " at line " +
                           line + "; templates and actions share one namespace (extends)");
    }
    def_index_.emplace(d.id, static_cast<int>(defs_.size()));
    return Status::Ok();
  }

  // Action ids, group names and issue names share one namespace: history targets name them.
  Status AddTarget(const std::string& name, TargetScope scope, std::string_view what,
                   const YAML::Node& at) {
    auto it = target_lines_.find(name);
    if (it != target_lines_.end()) {
      const bool same_kind = targets_.scope_by_name[name] == scope;
      if (same_kind) {
        return YamlError(file_, at,
                         "duplicate " + std::string(what) + " " + name +
                             " (first defined at line " + std::to_string(it->second) + ")");
      }
      return YamlError(file_, at,
                       std::string(what) + " " + name + ": the name is already used at line " +
                           std::to_string(it->second) +
                           "; action ids, group and issue names must be distinct (history "
                           "targets name them)");
    }
    target_lines_.emplace(name, at.Mark().line + 1);
    targets_.scope_by_name.emplace(name, scope);
    return Status::Ok();
  }

  Result<double> Lever(const YAML::Node& node, std::string_view what) {
    KAIROS_ASSIGN_OR_RETURN(double v, YamlNumber(file_, node, std::string(what) + ": lever"));
    if (!(v > 0)) return YamlError(file_, node, std::string(what) + ": lever must be > 0");
    return v;
  }

  Status RuleNodes(const YAML::Node& spec, std::string_view what,
                   std::vector<YAML::Node>* out /* [kRuleKinds] */) {
    for (int k = 0; k < kRuleKinds; ++k) {
      const YAML::Node n = spec[kRuleKindNames[k]];
      if (!n) continue;
      const std::string field = std::string(what) + ": " + kRuleKindNames[k];
      if (n.IsScalar()) {
        out[k].push_back(n);
      } else if (n.IsSequence()) {
        for (const YAML::Node& item : n) {
          if (!item.IsScalar()) {
            return YamlError(file_, item, field + ": expected an expression string");
          }
          out[k].push_back(item);
        }
      } else {
        return YamlError(file_, n, field + ": expected an expression string or a list of them");
      }
    }
    return Status::Ok();
  }

  Status Issues(const YAML::Node& node) {
    if (!node.IsMap()) {
      return YamlError(file_, node, "issues must be a mapping of issue name → {lever, groups}");
    }
    for (const auto& kv : node) {
      Issue issue;
      KAIROS_ASSIGN_OR_RETURN(issue.name, YamlString(file_, kv.first, "issue name"));
      if (!ValidId(issue.name)) {
        return YamlError(
            file_, kv.first,
            "issue name \"" + issue.name + "\" must be 1-64 characters A-Z, a-z, 0-9, _ . -");
      }
      KAIROS_RETURN_IF_ERROR(AddTarget(issue.name, TargetScope::kIssue, "issue", kv.first));
      issue.key = InteractionKey(issue.name);
      const int issue_index = static_cast<int>(catalog_->issues.size());
      IssueDef idef;
      const YAML::Node spec = kv.second;
      const std::string what = "issue " + issue.name;
      if (!spec.IsNull()) {
        KAIROS_RETURN_IF_ERROR(CheckKeys(
            file_, spec, {"lever", "eligibility", "applicability", "suitability", "groups"}, what));
        if (spec["lever"]) {
          KAIROS_ASSIGN_OR_RETURN(issue.lever, Lever(spec["lever"], what));
        }
        KAIROS_RETURN_IF_ERROR(RuleNodes(spec, what, idef.rule_nodes));
      }
      catalog_->issues.push_back(std::move(issue));
      issue_defs_.push_back(std::move(idef));
      if (!spec.IsNull() && spec["groups"]) {
        KAIROS_RETURN_IF_ERROR(Groups(spec["groups"], issue_index));
      }
    }
    return Status::Ok();
  }

  Status Groups(const YAML::Node& node, int issue_index) {
    if (!node.IsMap()) {
      return YamlError(file_, node, "groups must be a mapping of group name → {lever, actions}");
    }
    for (const auto& kv : node) {
      Group group;
      KAIROS_ASSIGN_OR_RETURN(group.name, YamlString(file_, kv.first, "group name"));
      if (!ValidId(group.name)) {
        return YamlError(
            file_, kv.first,
            "group name \"" + group.name + "\" must be 1-64 characters A-Z, a-z, 0-9, _ . -");
      }
      KAIROS_RETURN_IF_ERROR(AddTarget(group.name, TargetScope::kGroup, "group", kv.first));
      group.key = InteractionKey(group.name);
      group.issue = issue_index;
      const int group_index = static_cast<int>(catalog_->groups.size());
      GroupDef gdef;
      const YAML::Node spec = kv.second;
      const std::string what = "group " + group.name;
      if (!spec.IsNull()) {
        KAIROS_RETURN_IF_ERROR(
            CheckKeys(file_, spec,
                      {"lever", "eligibility", "applicability", "suitability", "actions"}, what));
        if (spec["lever"]) {
          KAIROS_ASSIGN_OR_RETURN(group.lever, Lever(spec["lever"], what));
        }
        KAIROS_RETURN_IF_ERROR(RuleNodes(spec, what, gdef.rule_nodes));
      }
      catalog_->groups.push_back(std::move(group));
      group_defs_.push_back(std::move(gdef));
      issue_defs_[issue_index].groups.push_back(group_index);
      if (!spec.IsNull() && spec["actions"]) {
        const YAML::Node actions = spec["actions"];
        if (!actions.IsSequence()) {
          return YamlError(file_, actions, what + ": actions must be a list of {id: ..., ...}");
        }
        for (const YAML::Node& a : actions) {
          KAIROS_RETURN_IF_ERROR(ActionDef(a, issue_index, group_index));
        }
      }
    }
    return Status::Ok();
  }

  Status ActionDef(const YAML::Node& node, int issue_index, int group_index) {
    if (!node.IsMap()) return YamlError(file_, node, "an action must be a mapping with an id");
    if (!node["id"]) return YamlError(file_, node, "action needs an id");
    Def d;
    KAIROS_ASSIGN_OR_RETURN(d.id, YamlString(file_, node["id"], "action id"));
    if (!ValidId(d.id)) {
      return YamlError(file_, node["id"],
                       "action id \"" + d.id + "\" must be 1-64 characters A-Z, a-z, 0-9, _ . -");
    }
    d.node = node;
    d.line = node.Mark().line + 1;
    d.issue = issue_index;
    d.group = group_index;
    KAIROS_RETURN_IF_ERROR(AddDefName(d, node["id"]));
    KAIROS_RETURN_IF_ERROR(AddTarget(d.id, TargetScope::kAction, "action id", node["id"]));
    KAIROS_RETURN_IF_ERROR(Fields(node, &d));
    group_defs_[group_index].defs.push_back(static_cast<int>(defs_.size()));
    defs_.push_back(std::move(d));
    return Status::Ok();
  }

  Result<TimestampMs> Date(const YAML::Node& node, std::string_view what) {
    KAIROS_ASSIGN_OR_RETURN(std::string s, YamlString(file_, node, what));
    Result<TimestampMs> t = s.size() == 10 ? ParseDate(s) : ParseRfc3339(s);
    if (!t.ok()) {
      return YamlError(file_, node,
                       std::string(what) +
                           ": expected a date such as 2026-01-01 or an RFC 3339 "
                           "time such as 2026-01-01T08:00:00Z, got \"" +
                           s + "\"");
    }
    return t;
  }

  Status Fields(const YAML::Node& spec, Def* d) {
    const std::string what = (d->is_template ? "template " : "action ") + d->id;
    if (d->is_template) {
      KAIROS_RETURN_IF_ERROR(CheckKeys(
          file_, spec,
          {"extends", "name", "type", "valid_from", "valid_to", "value", "cost", "propensity",
           "lever", "context_weight", "eligibility", "applicability", "suitability", "max_times",
           "cooldown", "daily_volume", "daily_budget", "treatments"},
          what));
    } else {
      KAIROS_RETURN_IF_ERROR(CheckKeys(
          file_, spec,
          {"id", "extends", "name", "type", "valid_from", "valid_to", "value", "cost", "propensity",
           "lever", "context_weight", "eligibility", "applicability", "suitability", "max_times",
           "cooldown", "daily_volume", "daily_budget", "treatments"},
          what));
    }
    if (const YAML::Node n = spec["extends"]) {
      KAIROS_ASSIGN_OR_RETURN(d->extends, YamlString(file_, n, what + ": extends"));
      d->extends_node = n;
    }
    if (const YAML::Node n = spec["name"]) {
      KAIROS_ASSIGN_OR_RETURN(d->name, YamlString(file_, n, what + ": name"));
    }
    if (const YAML::Node n = spec["type"]) {
      KAIROS_ASSIGN_OR_RETURN(std::string t, YamlString(file_, n, what + ": type"));
      static constexpr ActionType kTypes[] = {ActionType::kOffer, ActionType::kRetention,
                                              ActionType::kService, ActionType::kReward,
                                              ActionType::kMandatory};
      for (ActionType at : kTypes) {
        if (t == ActionTypeName(at)) d->type = at;
      }
      if (!d->type) {
        return YamlError(
            file_, n,
            what + ": unknown type \"" + t + "\" (offer, retention, service, reward, mandatory)");
      }
    }
    if (const YAML::Node n = spec["valid_from"]) {
      KAIROS_ASSIGN_OR_RETURN(d->valid_from, Date(n, what + ": valid_from"));
    }
    if (const YAML::Node n = spec["valid_to"]) {
      KAIROS_ASSIGN_OR_RETURN(d->valid_to, Date(n, what + ": valid_to"));
      d->valid_to_node = n;
    }
    if (const YAML::Node n = spec["value"]) {
      if (!n.IsScalar() || n.Scalar().empty()) {
        return YamlError(file_, n, "value: expected a number or an expression string");
      }
      d->has_value = true;
      Result<double> num = YamlNumber(file_, n, "value");
      if (num.ok()) {
        d->value = *num;
      } else {
        d->value_node = n;  // compiled in phase 3
      }
    }
    if (const YAML::Node n = spec["cost"]) {
      KAIROS_ASSIGN_OR_RETURN(d->cost, YamlNumber(file_, n, what + ": cost"));
      if (*d->cost < 0) return YamlError(file_, n, what + ": cost must be ≥ 0");
    }
    if (const YAML::Node n = spec["propensity"]) {
      KAIROS_ASSIGN_OR_RETURN(d->propensity, YamlNumber(file_, n, what + ": propensity"));
      if (!(*d->propensity > 0 && *d->propensity <= 1)) {
        return YamlError(file_, n, what + ": propensity must be in (0, 1]");
      }
    }
    if (const YAML::Node n = spec["lever"]) {
      KAIROS_ASSIGN_OR_RETURN(d->lever, Lever(n, what));
    }
    if (const YAML::Node n = spec["context_weight"]) {
      if (!n.IsScalar() || n.Scalar().empty()) {
        return YamlError(file_, n, "context_weight: expected a number or an expression string");
      }
      d->context_weight_node = n;
    }
    KAIROS_RETURN_IF_ERROR(RuleNodes(spec, what, d->rule_nodes));
    if (const YAML::Node n = spec["max_times"]) {
      KAIROS_ASSIGN_OR_RETURN(int64_t m, YamlInt(file_, n, what + ": max_times"));
      if (m < 1 || m > 1000000) {
        return YamlError(file_, n, what + ": max_times must be 1..1000000 (omit it for no limit)");
      }
      d->max_times = static_cast<int>(m);
    }
    if (const YAML::Node n = spec["cooldown"]) {
      KAIROS_ASSIGN_OR_RETURN(d->cooldown_ms, YamlDurationMs(file_, n, what + ": cooldown"));
      if (*d->cooldown_ms <= 0) return YamlError(file_, n, what + ": cooldown must be > 0");
    }
    if (const YAML::Node n = spec["daily_volume"]) KAIROS_RETURN_IF_ERROR(DailyVolume(n, what, d));
    if (const YAML::Node n = spec["daily_budget"]) KAIROS_RETURN_IF_ERROR(DailyBudget(n, what, d));
    if (const YAML::Node n = spec["treatments"]) KAIROS_RETURN_IF_ERROR(Treatments(n, what, d));
    return Status::Ok();
  }

  Result<int> Channel(const YAML::Node& key, std::string_view what) {
    KAIROS_ASSIGN_OR_RETURN(std::string ch, YamlString(file_, key, what));
    int c = policies_.ChannelIndex(ch);
    if (c < 0) {
      return YamlError(file_, key,
                       std::string(what) + ": unknown channel \"" + ch +
                           "\" (channels in policies.yaml: " + policies_.ChannelNames() + ")");
    }
    return c;
  }

  Status DailyVolume(const YAML::Node& node, const std::string& what, Def* d) {
    if (!node.IsMap()) {
      return YamlError(file_, node, what + ": daily_volume must be a mapping of channel → count");
    }
    d->has_daily_volume = true;
    d->daily_volume.assign(policies_.channels.size(), kUnlimited);
    for (const auto& kv : node) {
      KAIROS_ASSIGN_OR_RETURN(std::string ch, YamlString(file_, kv.first, what + ": daily_volume"));
      const int c = policies_.ChannelIndex(ch);
      if (c < 0 && ch != "total") {
        return YamlError(file_, kv.first,
                         what + ": daily_volume: unknown channel \"" + ch +
                             "\" (channels in policies.yaml: " + policies_.ChannelNames() +
                             "; or total)");
      }
      KAIROS_ASSIGN_OR_RETURN(int64_t n, YamlInt(file_, kv.second, what + ": daily_volume"));
      if (n < 0) return YamlError(file_, kv.second, what + ": daily_volume must be ≥ 0");
      if (c < 0) {
        d->daily_volume_total = n;
      } else {
        d->daily_volume[c] = n;
      }
    }
    return Status::Ok();
  }

  Status DailyBudget(const YAML::Node& node, const std::string& what, Def* d) {
    if (!node.IsMap()) {
      return YamlError(file_, node, what + ": daily_budget must be a mapping of channel → EUR");
    }
    d->has_daily_budget = true;
    d->daily_budget.assign(policies_.channels.size(), -1);
    for (const auto& kv : node) {
      KAIROS_ASSIGN_OR_RETURN(int c, Channel(kv.first, what + ": daily_budget"));
      KAIROS_ASSIGN_OR_RETURN(double eur, YamlNumber(file_, kv.second, what + ": daily_budget"));
      if (eur < 0) return YamlError(file_, kv.second, what + ": daily_budget must be ≥ 0");
      d->daily_budget[c] = eur;
    }
    return Status::Ok();
  }

  Status Treatments(const YAML::Node& node, const std::string& what, Def* d) {
    if (!node.IsMap()) {
      return YamlError(file_, node, what + ": treatments must be a mapping of channel → content");
    }
    std::vector<Treatment> out;
    for (const auto& kv : node) {
      Treatment t;
      KAIROS_ASSIGN_OR_RETURN(t.channel, Channel(kv.first, what + ": treatments"));
      for (const Treatment& other : out) {
        if (other.channel == t.channel) {
          return YamlError(file_, kv.first,
                           what + ": duplicate treatment for channel " + kv.first.Scalar());
        }
      }
      const YAML::Node content = kv.second;
      if (!content.IsNull()) {
        if (!content.IsMap()) {
          return YamlError(file_, content,
                           what + ": treatment " + kv.first.Scalar() +
                               " must be a mapping such as {text: \"...\"}");
        }
        for (const auto& ckv : content) {
          KAIROS_ASSIGN_OR_RETURN(std::string key, YamlString(file_, ckv.first, "treatment key"));
          if (!ckv.second.IsScalar()) {
            return YamlError(
                file_, ckv.second,
                what + ": treatment " + kv.first.Scalar() + " " + key + " must be a string");
          }
          t.content.emplace_back(std::move(key), ckv.second.Scalar());
        }
      }
      out.push_back(std::move(t));
    }
    d->treatments = std::move(out);
    return Status::Ok();
  }

  // ---- phase 3: expressions -----------------------------------------------------------------

  Result<std::shared_ptr<const expr::Expr>> Compile(const YAML::Node& node, expr::Type want,
                                                    std::string_view what) {
    expr::CompileError err;
    std::shared_ptr<const expr::Expr> e = expr::Expr::Compile(node.Scalar(), *env_, want, &err);
    if (e == nullptr) {
      TextPosition pos = LocateInScalar(text_, node, err.offset);
      return InvalidArgument(std::string(file_) + ":" + std::to_string(pos.line) + ":" +
                             std::to_string(pos.column) + ": " + std::string(what) + ": " +
                             err.message);
    }
    return e;
  }

  Status CompileRules(const std::vector<YAML::Node>* nodes, const std::string& origin,
                      std::vector<Rule>* out) {
    for (int k = 0; k < kRuleKinds; ++k) {
      for (const YAML::Node& n : nodes[k]) {
        Rule r;
        KAIROS_ASSIGN_OR_RETURN(r.expr, Compile(n, expr::Type::kBool,
                                                std::string(kRuleKindNames[k]) + " of " + origin));
        r.origin = origin;
        r.line = LocateInScalar(text_, n, 0).line;
        out[k].push_back(std::move(r));
      }
    }
    return Status::Ok();
  }

  Status CompileDef(Def* d) {
    const std::string origin = (d->is_template ? "template " : "action ") + d->id;
    if (d->value_node.IsScalar()) {
      KAIROS_ASSIGN_OR_RETURN(d->value_expr,
                              Compile(d->value_node, expr::Type::kNumber, "value of " + origin));
      if (d->value_expr->is_constant()) {
        // A constant such as "2.99 * 0.9" is folded into the plain value.
        NoSymbols none;
        expr::Value v = d->value_expr->Evaluate(none);
        if (!v.is_null) {
          d->value = v.num;
          d->value_expr = nullptr;
        }
      }
    }
    if (d->context_weight_node.IsScalar()) {
      KAIROS_ASSIGN_OR_RETURN(
          d->context_weight,
          Compile(d->context_weight_node, expr::Type::kNumber, "context_weight of " + origin));
    }
    return CompileRules(d->rule_nodes, origin, d->rules);
  }

  Status CompileAll() {
    for (Def& d : defs_) {
      if (d.is_template) KAIROS_RETURN_IF_ERROR(CompileDef(&d));
    }
    for (size_t i = 0; i < issue_defs_.size(); ++i) {
      IssueDef& idef = issue_defs_[i];
      KAIROS_RETURN_IF_ERROR(
          CompileRules(idef.rule_nodes, "issue " + catalog_->issues[i].name, idef.rules));
      for (int g : idef.groups) {
        GroupDef& gdef = group_defs_[g];
        KAIROS_RETURN_IF_ERROR(
            CompileRules(gdef.rule_nodes, "group " + catalog_->groups[g].name, gdef.rules));
        for (int di : gdef.defs) KAIROS_RETURN_IF_ERROR(CompileDef(&defs_[di]));
      }
    }
    return Status::Ok();
  }

  // ---- phase 4: extends and assembly --------------------------------------------------------

  // The chain of definitions behind `def`, itself first.
  Status Chain(int def, std::vector<int>* chain) {
    chain->clear();
    for (int cur = def;;) {
      chain->push_back(cur);
      const Def& d = defs_[cur];
      if (d.extends.empty()) return Status::Ok();
      auto it = def_index_.find(d.extends);
      if (it == def_index_.end()) {
        return YamlError(file_, d.extends_node,
                         "extends: unknown template or action \"" + d.extends + "\"");
      }
      const int next = it->second;
      for (size_t k = 0; k < chain->size(); ++k) {
        if ((*chain)[k] != next) continue;
        std::string cycle;
        for (size_t j = k; j < chain->size(); ++j) cycle += defs_[(*chain)[j]].id + " → ";
        cycle += defs_[next].id;
        return YamlError(file_, defs_[next].extends_node, "extends cycle: " + cycle);
      }
      cur = next;
    }
  }

  Status Assemble() {
    const int nch = static_cast<int>(policies_.channels.size());
    std::vector<int> chain;
    // Templates too: a broken chain is an error even when no action uses it.
    for (size_t i = 0; i < defs_.size(); ++i) {
      KAIROS_RETURN_IF_ERROR(Chain(static_cast<int>(i), &chain));
    }
    for (size_t gi = 0; gi < group_defs_.size(); ++gi) {
      for (int di : group_defs_[gi].defs) {
        KAIROS_RETURN_IF_ERROR(Chain(di, &chain));
        const Def& leaf = defs_[di];
        Action a;
        a.id = leaf.id;
        a.key = InteractionKey(a.id);
        a.issue = leaf.issue;
        a.group = leaf.group;
        a.line = leaf.line;
        a.propensity = policies_.arbitration.default_propensity;
        a.daily_volume.assign(nch, kUnlimited);
        a.daily_budget.assign(nch, -1);
        double lever = 1;
        std::vector<Rule> own_rules[kRuleKinds];
        const std::vector<Treatment>* treatments = nullptr;
        YAML::Node valid_to_node = leaf.node;
        // Root first, so that nearer definitions override.
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
          const Def& d = defs_[*it];
          if (d.name) a.name = *d.name;
          if (d.type) a.type = *d.type;
          if (d.valid_from) a.valid_from = *d.valid_from;
          if (d.valid_to) {
            a.valid_to = *d.valid_to;
            valid_to_node = d.valid_to_node;
          }
          if (d.has_value) {
            a.value = d.value;
            a.value_expr = d.value_expr;
          }
          if (d.cost) a.cost = *d.cost;
          if (d.propensity) a.propensity = *d.propensity;
          if (d.lever) lever = *d.lever;
          if (d.context_weight) a.context_weight = d.context_weight;
          for (int k = 0; k < kRuleKinds; ++k) {
            own_rules[k].insert(own_rules[k].end(), d.rules[k].begin(), d.rules[k].end());
          }
          if (d.max_times) a.max_times = *d.max_times;
          if (d.cooldown_ms) a.cooldown_ms = *d.cooldown_ms;
          if (d.has_daily_volume) {
            a.daily_volume = d.daily_volume;
            a.daily_volume_total = d.daily_volume_total;
          }
          if (d.has_daily_budget) a.daily_budget = d.daily_budget;
          if (d.treatments) treatments = &*d.treatments;
        }
        if (a.name.empty()) a.name = a.id;
        if (a.valid_to <= a.valid_from) {
          return YamlError(file_, valid_to_node,
                           "action " + a.id + ": valid_to must be after valid_from");
        }
        const Issue& issue = catalog_->issues[a.issue];
        const Group& group = catalog_->groups[a.group];
        a.lever = issue.lever * group.lever * lever;
        for (int k = 0; k < kRuleKinds; ++k) {
          std::vector<Rule>& out = k == kEligibility     ? a.eligibility
                                   : k == kApplicability ? a.applicability
                                                         : a.suitability;
          const std::vector<Rule>& ir = issue_defs_[a.issue].rules[k];
          const std::vector<Rule>& gr = group_defs_[a.group].rules[k];
          out.insert(out.end(), ir.begin(), ir.end());
          out.insert(out.end(), gr.begin(), gr.end());
          out.insert(out.end(), own_rules[k].begin(), own_rules[k].end());
        }
        if (treatments == nullptr || treatments->empty()) {
          return YamlError(file_, leaf.node,
                           "action " + a.id +
                               " has no treatments; add at least one under treatments: "
                               "(channels: " +
                               policies_.ChannelNames() + ")");
        }
        a.treatments = *treatments;
        a.treatment_by_channel.assign(nch, -1);
        for (size_t t = 0; t < a.treatments.size(); ++t) {
          Treatment& tr = a.treatments[t];
          tr.id = a.id + "/" + policies_.channels[tr.channel].name;
          a.treatment_by_channel[tr.channel] = static_cast<int>(t);
        }
        catalog_->action_index.emplace(a.id, static_cast<int>(catalog_->actions.size()));
        catalog_->actions.push_back(std::move(a));
      }
    }
    return Status::Ok();
  }

  std::string_view text_;
  std::string_view file_;
  const Policies& policies_;
  std::shared_ptr<const Schema> schema_;
  Catalog* catalog_ = nullptr;
  const FeatureSpace* env_ = nullptr;

  std::vector<Def> defs_;  // templates and actions, in file order
  std::map<std::string, int, std::less<>> def_index_;
  std::vector<IssueDef> issue_defs_;
  std::vector<GroupDef> group_defs_;
  TargetNames targets_;
  std::map<std::string, int, std::less<>> target_lines_;
};

std::string Hex64(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[i] = kDigits[v & 0xf];
    v >>= 4;
  }
  return out;
}

// Policies for a workspace without policies.yaml: the default file when the schema has what it
// refers to (consents, timezone); otherwise the same channels without consent or quiet hours.
Policies FallbackPolicies(const Schema& schema) {
  Result<Policies> p = Policies::Parse(DefaultPoliciesYaml(), kPoliciesFile, schema);
  if (p.ok()) return std::move(p).value();
  Policies out;
  struct Ch {
    const char* name;
    bool outbound;
    int top_k;
  };
  static constexpr Ch kChannels[] = {
      {"sms", true, 1},  {"email", true, 1},        {"push", true, 1},    {"app", false, 3},
      {"web", false, 3}, {"call_center", false, 2}, {"retail", false, 2}, {"invoice", true, 1}};
  for (const Ch& c : kChannels) {
    ChannelDef d;
    d.name = c.name;
    d.key = InteractionKey(d.name);
    d.outbound = c.outbound;
    d.top_k = c.top_k;
    out.channels.push_back(std::move(d));
  }
  return out;
}

// `policies_file` and `catalog_file` name the files in error messages (the paths when loaded
// from a workspace, as schema.yaml errors do).
Result<std::shared_ptr<const Decisioning>> Build(std::string_view policies_yaml,
                                                 std::string_view catalog_yaml,
                                                 std::shared_ptr<const Schema> schema,
                                                 std::optional<Policies> policies,
                                                 std::string_view learning_yaml,
                                                 std::string_view segments_yaml,
                                                 const std::string& policies_file = kPoliciesFile,
                                                 const std::string& catalog_file = kCatalogFile,
                                                 const std::string& learning_file = kLearningFile,
                                                 const std::string& segments_file = kSegmentsFile) {
  if (schema == nullptr) return InvalidArgument("decisioning needs a schema");
  auto d = std::make_shared<Decisioning>();
  d->schema = schema;
  if (policies) {
    d->policies = std::move(*policies);
  } else {
    KAIROS_ASSIGN_OR_RETURN(d->policies, Policies::Parse(policies_yaml, policies_file, *schema));
  }
  try {
    KAIROS_RETURN_IF_ERROR(CatalogParser(catalog_yaml, catalog_file, d->policies, schema)
                               .Parse(&d->catalog, &d->features));
  } catch (const YAML::Exception& e) {
    // yaml-cpp throws on some malformed trees while iterating; keep exceptions inside.
    return YamlError(catalog_file, e.mark, e.msg);
  }
  if (learning_yaml.empty()) {
    d->learning = Learning::Disabled(d->catalog);
  } else {
    KAIROS_ASSIGN_OR_RETURN(d->learning,
                            Learning::Parse(learning_yaml, learning_file, *d->features, d->catalog));
  }
  if (!segments_yaml.empty()) {
    KAIROS_ASSIGN_OR_RETURN(d->segmentation,
                            Segmentation::Parse(segments_yaml, segments_file, *d->features));
  }
  std::string both(policies_yaml);
  both += '\0';
  both += catalog_yaml;
  both += '\0';
  both += learning_yaml;
  d->version = Hex64(StableHash64(both));
  return std::shared_ptr<const Decisioning>(std::move(d));
}

}  // namespace

Result<std::shared_ptr<const Decisioning>> Decisioning::Parse(
    std::string_view policies_yaml, std::string_view catalog_yaml,
    std::shared_ptr<const Schema> schema, std::string_view learning_yaml,
    std::string_view segments_yaml) {
  return Build(policies_yaml, catalog_yaml, std::move(schema), std::nullopt, learning_yaml,
               segments_yaml);
}

Result<std::shared_ptr<const Decisioning>> Decisioning::Load(const std::string& dir,
                                                             std::shared_ptr<const Schema> schema) {
  if (schema == nullptr) return InvalidArgument("decisioning needs a schema");
  namespace fs = std::filesystem;
  const std::string policies_path = (fs::path(dir) / kPoliciesFile).string();
  const std::string catalog_path = (fs::path(dir) / kCatalogFile).string();
  std::error_code ec;
  std::string policies_text, catalog_text;
  std::optional<Policies> fallback;
  if (fs::exists(policies_path, ec)) {
    KAIROS_ASSIGN_OR_RETURN(policies_text, ReadFile(policies_path));
  } else {
    fallback = FallbackPolicies(*schema);
  }
  if (fs::exists(catalog_path, ec)) {
    KAIROS_ASSIGN_OR_RETURN(catalog_text, ReadFile(catalog_path));
  }
  const std::string learning_path = (fs::path(dir) / kLearningFile).string();
  std::string learning_text;
  if (fs::exists(learning_path, ec)) {
    KAIROS_ASSIGN_OR_RETURN(learning_text, ReadFile(learning_path));
    // An empty file still turns the models on.
    if (learning_text.empty()) learning_text = "\n";
  }
  const std::string segments_path = (fs::path(dir) / kSegmentsFile).string();
  std::string segments_text;
  if (fs::exists(segments_path, ec)) {
    KAIROS_ASSIGN_OR_RETURN(segments_text, ReadFile(segments_path));
    if (segments_text.empty()) segments_text = "\n";
  }
  return Build(policies_text, catalog_text, std::move(schema), std::move(fallback), learning_text,
               segments_text, policies_path, catalog_path, learning_path, segments_path);
}

}  // namespace kairos
