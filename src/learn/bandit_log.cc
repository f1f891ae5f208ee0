#include "learn/bandit_log.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <sstream>

#include "common/file_util.h"
#include "common/text_lines.h"

namespace kairos::learn {
namespace {

// Guards against a stray huge id or position allocating a huge policy matrix.
constexpr int64_t kMaxItems = 1'000'000;
constexpr int64_t kMaxPositions = 1'000;

std::string Quote(std::string_view s) {
  std::string out = "\"";
  out.append(s.substr(0, 60));
  if (s.size() > 60) out += "...";
  return out + "\"";
}

void SplitCsv(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  size_t pos = 0;
  while (true) {
    const size_t comma = line.find(',', pos);
    if (comma == std::string_view::npos) {
      fields.push_back(line.substr(pos));
      return;
    }
    fields.push_back(line.substr(pos, comma - pos));
    pos = comma + 1;
  }
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Index of the header column named `name` (surrounding blanks ignored; the last one if named
// twice), or -1.
int ColumnOf(const std::vector<std::string_view>& header, std::string_view name) {
  for (size_t c = header.size(); c-- > 0;) {
    if (Trim(header[c]) == name) return static_cast<int>(c);
  }
  return -1;
}

// A data row must have as many fields as the header.
Status CheckColumnCount(const std::vector<std::string_view>& fields, size_t n_columns,
                        const std::string& where, bool unterminated) {
  if (fields.size() == n_columns) return Status::Ok();
  return InvalidArgument(where + ": " + std::to_string(fields.size()) + " columns, the header has " +
                         std::to_string(n_columns) + (unterminated ? " (truncated last line?)" : ""));
}

bool ParseDouble(std::string_view s, double& out) {
  s = Trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool ParseInt(std::string_view s, int64_t& out) {
  s = Trim(s);
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// A position from a file (1-based) checked and turned 0-based.
Result<int32_t> CheckPosition(int64_t p, std::string_view where) {
  if (p < 1 || p > kMaxPositions) {
    return Status(ErrorCode::kOutOfRange, std::string(where) + ": position " + std::to_string(p) +
                                              " is not in 1.." + std::to_string(kMaxPositions));
  }
  return static_cast<int32_t>(p - 1);
}

// ---- A minimal JSON reader for one flat NDJSON object --------------------------------------
// Kairos's module rules keep learn on kairos_common only, and a log line is a flat object, so a
// small reader is enough: nested values are skipped, not interpreted.
class JsonLine {
 public:
  explicit JsonLine(std::string_view s) : s_(s) {}

  struct Value {
    enum Kind { kString, kNumber, kBool, kNull, kOther } kind = kOther;
    std::string str;
    double num = 0;
  };

  // Calls fn(key, value) for every member; returns an error message (empty when fine).
  template <typename Fn>
  std::string ForEachMember(Fn&& fn) {
    Ws();
    if (!Eat('{')) return "expected a JSON object";
    Ws();
    if (Eat('}')) return End();
    while (true) {
      Ws();
      std::string key;
      if (!String(key)) return "expected a quoted key at column " + Col();
      Ws();
      if (!Eat(':')) return "expected ':' at column " + Col();
      Ws();
      Value v;
      if (!ParseValue(v)) return "bad value for \"" + key + "\" at column " + Col();
      fn(key, v);
      Ws();
      if (Eat(',')) continue;
      if (Eat('}')) return End();
      return "expected ',' or '}' at column " + Col();
    }
  }

 private:
  std::string End() {
    Ws();
    return i_ == s_.size() ? std::string() : "unexpected text after the object at column " + Col();
  }
  std::string Col() const { return std::to_string(i_ + 1); }
  void Ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  bool Eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool String(std::string& out) {
    if (!Eat('"')) return false;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return true;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) return false;
      const char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          // Ids are ASCII in practice; keep the escape verbatim rather than decode UTF-16.
          if (i_ + 4 > s_.size()) return false;
          out += "\\u";
          out.append(s_.substr(i_, 4));
          i_ += 4;
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }
  bool Literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  bool ParseValue(Value& v) {
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '"') {
      v.kind = Value::kString;
      return String(v.str);
    }
    if (c == 't' || c == 'f') {
      v.kind = Value::kBool;
      v.num = c == 't' ? 1 : 0;
      return Literal(c == 't' ? "true" : "false");
    }
    if (c == 'n') {
      v.kind = Value::kNull;
      return Literal("null");
    }
    if (c == '{' || c == '[') return SkipNested();
    size_t j = i_;
    while (j < s_.size() &&
           std::string_view("+-0123456789.eE").find(s_[j]) != std::string_view::npos)
      ++j;
    if (j == i_) return false;
    v.kind = Value::kNumber;
    auto [ptr, ec] = std::from_chars(s_.data() + i_, s_.data() + j, v.num);
    if (ec != std::errc() || ptr != s_.data() + j) return false;
    i_ = j;
    return true;
  }
  bool SkipNested() {
    int depth = 0;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '"') {
        std::string ignored;
        if (!String(ignored)) return false;
        continue;
      }
      ++i_;
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) return true;
      }
    }
    return false;
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::string BanditLog::Where(size_t i) const { return SourceLine(source, line[i]); }

Result<BanditLog> ParseObdCsv(std::string_view text, std::string_view source) {
  BanditLog log;
  log.source = std::string(source);
  size_t n_columns = 0;
  int col_item = -1, col_position = -1, col_click = -1, col_propensity = -1;
  int64_t max_item = -1;
  std::vector<std::string_view> f;
  Status st =
      ForEachLine(text, [&](std::string_view line, int64_t no, bool unterminated) -> Status {
        const std::string where = SourceLine(source, no);
        SplitCsv(line, f);
        if (no == 1) {
          n_columns = f.size();
          col_item = ColumnOf(f, "item_id");
          col_position = ColumnOf(f, "position");
          col_click = ColumnOf(f, "click");
          col_propensity = ColumnOf(f, "propensity_score");
          for (auto [col, name] : {std::pair{col_item, "item_id"},
                                   {col_position, "position"},
                                   {col_click, "click"},
                                   {col_propensity, "propensity_score"}}) {
            if (col < 0)
              return InvalidArgument(where + ": header has no column \"" + name + "\"", name);
          }
          return Status::Ok();
        }
        if (line.empty()) {
          if (unterminated) return Status::Ok();
          return InvalidArgument(where + ": empty line");
        }
        KAIROS_RETURN_IF_ERROR(CheckColumnCount(f, n_columns, where, unterminated));
        int64_t item = 0, position = 0;
        double click = 0, propensity = 0;
        if (!ParseInt(f[col_item], item) || item < 0 || item >= kMaxItems) {
          return InvalidArgument(where + ": item_id " + Quote(f[col_item]) +
                                     " is not an integer in 0.." + std::to_string(kMaxItems - 1),
                                 "item_id");
        }
        if (!ParseInt(f[col_position], position)) {
          return InvalidArgument(
              where + ": position " + Quote(f[col_position]) + " is not an integer", "position");
        }
        KAIROS_ASSIGN_OR_RETURN(const int32_t k, CheckPosition(position, where));
        if (!ParseDouble(f[col_click], click) || !std::isfinite(click)) {
          return InvalidArgument(where + ": click " + Quote(f[col_click]) + " is not a number",
                                 "click");
        }
        if (Trim(f[col_propensity]).empty()) {
          propensity =
              std::numeric_limits<double>::quiet_NaN();  // missing: refused by the estimators
        } else if (!ParseDouble(f[col_propensity], propensity)) {
          return InvalidArgument(
              where + ": propensity_score " + Quote(f[col_propensity]) + " is not a number",
              "propensity_score");
        }
        log.action.push_back(static_cast<int32_t>(item));
        log.position.push_back(k);
        log.reward.push_back(click);
        log.propensity.push_back(propensity);
        log.line.push_back(no);
        max_item = std::max(max_item, item);
        log.n_positions = std::max(log.n_positions, k + 1);
        return Status::Ok();
      });
  if (!st.ok()) return st;
  if (log.size() == 0) return InvalidArgument(std::string(source) + ": empty log (no data rows)");
  for (int64_t i = 0; i <= max_item; ++i) {
    log.action_names.push_back(std::to_string(i));
    log.action_index.emplace(log.action_names.back(), static_cast<int32_t>(i));
  }
  return log;
}

Result<BanditLog> ParseKairosNdjson(std::string_view text, std::string_view source) {
  BanditLog log;
  log.source = std::string(source);
  std::vector<std::string> ids;  // per row, mapped to dense indexes at the end
  std::map<std::string, int32_t> distinct;
  Status st =
      ForEachLine(text, [&](std::string_view line, int64_t no, bool unterminated) -> Status {
        const std::string where = SourceLine(source, no);
        if (Trim(line).empty()) return Status::Ok();  // blank lines are allowed in NDJSON
        std::string action;
        bool has_action = false, has_reward = false;
        double reward = 0, position = 1;
        double propensity = std::numeric_limits<double>::quiet_NaN();
        std::string bad;
        JsonLine json(line);
        std::string err = json.ForEachMember([&](const std::string& key, const JsonLine::Value& v) {
          if (!bad.empty()) return;
          if (key == "action_id") {
            if (v.kind != JsonLine::Value::kString || v.str.empty())
              bad = "action_id must be a non-empty string";
            action = v.str;
            has_action = true;
          } else if (key == "reward") {
            if (v.kind != JsonLine::Value::kNumber && v.kind != JsonLine::Value::kBool)
              bad = "reward must be a number";
            reward = v.num;
            has_reward = true;
          } else if (key == "propensity") {
            if (v.kind == JsonLine::Value::kNull) return;  // missing: refused by the estimators
            if (v.kind != JsonLine::Value::kNumber) bad = "propensity must be a number";
            propensity = v.num;
          } else if (key == "position") {
            if (v.kind != JsonLine::Value::kNumber || v.num != std::floor(v.num)) {
              bad = "position must be an integer";
            }
            position = v.num;
          }
        });
        if (!err.empty()) {
          return InvalidArgument(where + ": " + err +
                                 (unterminated ? " (truncated last line?)" : ""));
        }
        if (!bad.empty()) return InvalidArgument(where + ": " + bad);
        if (!has_action) return InvalidArgument(where + ": missing \"action_id\"", "action_id");
        if (!has_reward || !std::isfinite(reward)) {
          return InvalidArgument(where + ": missing or non-finite \"reward\"", "reward");
        }
        if (!(position >= 1 && position <= kMaxPositions)) {
          return Status(ErrorCode::kOutOfRange,
                        where + ": position is not in 1.." + std::to_string(kMaxPositions));
        }
        const int32_t k = static_cast<int32_t>(position) - 1;
        distinct.emplace(action, 0);
        ids.push_back(std::move(action));
        log.position.push_back(k);
        log.reward.push_back(reward);
        log.propensity.push_back(propensity);
        log.line.push_back(no);
        log.n_positions = std::max(log.n_positions, k + 1);
        return Status::Ok();
      });
  if (!st.ok()) return st;
  if (ids.empty()) return InvalidArgument(std::string(source) + ": empty log (no impressions)");
  int32_t next = 0;
  for (auto& [id, index] : distinct) {
    index = next++;
    log.action_names.push_back(id);
    log.action_index.emplace(id, index);
  }
  log.action.reserve(ids.size());
  for (const std::string& id : ids) log.action.push_back(distinct.at(id));
  return log;
}

Result<BanditLog> LoadLog(const std::string& path, LogFormat format) {
  KAIROS_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return format == LogFormat::kObd ? ParseObdCsv(text, path) : ParseKairosNdjson(text, path);
}

Result<Policy> ParseDistCsv(std::string_view text, std::string_view source, const BanditLog& log) {
  Policy pi{log.n_actions(), log.n_positions, {}};
  pi.prob.assign(static_cast<size_t>(pi.n_actions) * pi.n_positions, 0.0);
  std::vector<bool> seen(pi.prob.size(), false);
  std::vector<double> position_sum(pi.n_positions, 0.0);
  int col_item = -1, col_position = -1, col_prob = -1;
  size_t n_columns = 0;
  int64_t rows = 0;
  std::vector<std::string_view> f;
  Status st =
      ForEachLine(text, [&](std::string_view line, int64_t no, bool unterminated) -> Status {
        const std::string where = SourceLine(source, no);
        SplitCsv(line, f);
        if (no == 1) {
          n_columns = f.size();
          col_item = ColumnOf(f, "item");
          col_position = ColumnOf(f, "position");
          col_prob = ColumnOf(f, "probability");
          if (col_item < 0 || col_position < 0 || col_prob < 0) {
            return InvalidArgument(
                where + ": the header must name the columns item, position, probability");
          }
          return Status::Ok();
        }
        if (Trim(line).empty()) {
          if (unterminated) return Status::Ok();
          return InvalidArgument(where + ": empty line");
        }
        KAIROS_RETURN_IF_ERROR(CheckColumnCount(f, n_columns, where, unterminated));
        const std::string item(Trim(f[col_item]));
        auto it = log.action_index.find(item);
        if (it == log.action_index.end()) {
          return Status(ErrorCode::kNotFound, where + ": unknown item " + Quote(item) +
                                                  " (not in the log " + log.source + ")");
        }
        int64_t position = 0;
        if (!ParseInt(f[col_position], position)) {
          return InvalidArgument(
              where + ": position " + Quote(f[col_position]) + " is not an integer", "position");
        }
        if (position < 1 || position > pi.n_positions) {
          return Status(ErrorCode::kOutOfRange, where + ": position " + std::to_string(position) +
                                                    " is not in the log's positions 1.." +
                                                    std::to_string(pi.n_positions));
        }
        double p = 0;
        if (!ParseDouble(f[col_prob], p)) {
          return InvalidArgument(where + ": probability " + Quote(f[col_prob]) + " is not a number",
                                 "probability");
        }
        if (!(p >= 0 && p <= 1)) {  // also catches NaN
          return Status(
              ErrorCode::kOutOfRange,
              where + ": probability " + std::string(Trim(f[col_prob])) + " is not in [0, 1]");
        }
        const int32_t k = static_cast<int32_t>(position - 1);
        const size_t cell = static_cast<size_t>(k) * pi.n_actions + it->second;
        if (seen[cell]) {
          return InvalidArgument(where + ": duplicate row for item " + Quote(item) +
                                 " at position " + std::to_string(position));
        }
        seen[cell] = true;
        pi.prob[cell] = p;
        position_sum[k] += p;
        // A small tolerance: distributions written with 6 decimals rarely sum to exactly 1.
        if (position_sum[k] > 1 + 1e-6) {
          return Status(ErrorCode::kOutOfRange, where + ": probabilities at position " +
                                                    std::to_string(position) +
                                                    " sum to more than 1");
        }
        ++rows;
        return Status::Ok();
      });
  if (!st.ok()) return st;
  if (rows == 0)
    return InvalidArgument(std::string(source) + ": no rows (expected item,position,probability)");
  return pi;
}

Result<Policy> ParsePolicy(std::string_view spec, const BanditLog& log) {
  Policy pi{log.n_actions(), log.n_positions, {}};
  pi.prob.assign(static_cast<size_t>(pi.n_actions) * pi.n_positions, 0.0);
  if (spec == "uniform") {
    std::fill(pi.prob.begin(), pi.prob.end(), 1.0 / pi.n_actions);
    return pi;
  }
  if (spec.starts_with("topk:")) {
    std::string_view list = spec.substr(5);
    std::vector<std::string_view> items;
    SplitCsv(list, items);
    if (list.empty()) return InvalidArgument("policy \"topk:\" lists no items");
    if (static_cast<int64_t>(items.size()) > pi.n_positions) {
      return InvalidArgument("policy topk lists " + std::to_string(items.size()) +
                             " items but the log " + log.source + " has only positions 1.." +
                             std::to_string(pi.n_positions));
    }
    for (size_t k = 0; k < items.size(); ++k) {
      const std::string item(Trim(items[k]));
      auto it = log.action_index.find(item);
      if (it == log.action_index.end()) {
        return Status(ErrorCode::kNotFound, "policy topk: unknown item " + Quote(item) +
                                                " (not in the log " + log.source + ")");
      }
      for (size_t j = 0; j < k; ++j) {
        if (Trim(items[j]) == item) {
          return InvalidArgument("policy topk: item " + Quote(item) + " listed twice");
        }
      }
      pi.prob[k * pi.n_actions + it->second] = 1.0;
    }
    return pi;
  }
  if (spec.starts_with("dist:")) {
    const std::string path(spec.substr(5));
    if (path.empty()) return InvalidArgument("policy \"dist:\" names no file");
    KAIROS_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    return ParseDistCsv(text, path, log);
  }
  return InvalidArgument("unknown policy " + Quote(spec) +
                         " (expected uniform, topk:I1,I2,... or dist:FILE.csv)");
}

}  // namespace kairos::learn
