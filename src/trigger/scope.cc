#include "trigger/scope.h"

#include <functional>

#include "schema/yaml_util.h"

namespace kairos {
namespace {

// Marks the actions `member(action, named)` accepts for each name of `list` (names are looked
// up among `count` candidates by `name_of`); an unknown name is an error.
Status MarkNamed(std::string_view file, const YAML::Node& list, size_t actions, size_t count,
                 const std::function<const std::string&(size_t)>& name_of,
                 const std::function<bool(size_t action, size_t named)>& member, const std::string& what,
                 std::string_view kind, std::string_view singular, ActionScope* out) {
  if (!list.IsSequence() || list.size() == 0) {
    return YamlError(file, list, what + ": " + std::string(kind) + " must be a non-empty list");
  }
  out->text += out->text.empty() ? "" : "; ";
  out->text += kind;
  for (size_t k = 0; k < list.size(); ++k) {
    KAIROS_ASSIGN_OR_RETURN(std::string name, YamlString(file, list[k], kind));
    size_t index = count;
    for (size_t i = 0; i < count && index == count; ++i) {
      if (name_of(i) == name) index = i;
    }
    if (index == count) {
      std::string known;
      for (size_t i = 0; i < count && i < 8; ++i) known += (i ? ", " : "") + name_of(i);
      if (count > 8) known += ", ...";
      return YamlError(file, list[k], what + ": unknown " + std::string(singular) + " \"" + name + "\" (" +
                                          std::to_string(count) + " known: " + known + ")");
    }
    out->text += (k ? ", " : " ") + name;
    for (size_t a = 0; a < actions; ++a) {
      if (member(a, index)) out->allowed[a] = 1;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ActionScope> ParseActionScope(std::string_view file, const YAML::Node& spec, const Catalog& catalog,
                                     const std::string& what) {
  ActionScope out;
  if (!spec["actions"] && !spec["groups"] && !spec["issues"]) return out;
  const size_t n = catalog.actions.size();
  out.allowed.assign(n, 0);
  if (spec["actions"]) {
    KAIROS_RETURN_IF_ERROR(MarkNamed(
        file, spec["actions"], n, n, [&](size_t i) -> const std::string& { return catalog.actions[i].id; },
        [](size_t a, size_t named) { return a == named; }, what, "actions", "action", &out));
  }
  if (spec["groups"]) {
    KAIROS_RETURN_IF_ERROR(MarkNamed(
        file, spec["groups"], n, catalog.groups.size(),
        [&](size_t i) -> const std::string& { return catalog.groups[i].name; },
        [&](size_t a, size_t named) { return static_cast<size_t>(catalog.actions[a].group) == named; }, what,
        "groups", "group", &out));
  }
  if (spec["issues"]) {
    KAIROS_RETURN_IF_ERROR(MarkNamed(
        file, spec["issues"], n, catalog.issues.size(),
        [&](size_t i) -> const std::string& { return catalog.issues[i].name; },
        [&](size_t a, size_t named) { return static_cast<size_t>(catalog.actions[a].issue) == named; }, what,
        "issues", "issue", &out));
  }
  return out;
}

}  // namespace kairos
