#include "analytics/table.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <unordered_map>
#include <utility>

#include "common/file_util.h"
#include "common/text_lines.h"

namespace kairos::analytics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A cell value shown in a message: quoted, cut at 40 characters.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  out.append(s.substr(0, 40));
  if (s.size() > 40) out += "...";
  return out + "\"";
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Heterogeneous lookup, so that dictionary look-ups of a string_view cell allocate nothing.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using CategoryIndex = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

// One field of a record: a view into the text, or into the reader's scratch space when the
// field was quoted and held "" escapes.
struct Field {
  std::string_view text;
  bool quoted = false;
};

// RFC 4180 record reader over text in memory. Records are read one at a time into reused
// buffers, so memory stays proportional to one record.
class CsvReader {
 public:
  CsvReader(std::string_view text, std::string_view source, char delimiter)
      : text_(text), source_(source), delimiter_(delimiter) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // UTF-8 byte-order mark
  }

  // Reads the next record that is not a blank line. False at the end of the text.
  Result<bool> Next() {
    SkipBlankLines();
    if (pos_ >= text_.size()) return false;
    record_line_ = line_;
    spans_.clear();
    scratch_used_ = 0;
    for (;;) {
      Span span;
      KAIROS_RETURN_IF_ERROR(ReadField(&span));
      spans_.push_back(span);
      if (pos_ < text_.size() && text_[pos_] == delimiter_) {
        ++pos_;
        continue;
      }
      // End of record: a newline (CRLF or LF) or the end of the text.
      if (pos_ < text_.size() && text_[pos_] == '\r') ++pos_;
      if (pos_ < text_.size() && text_[pos_] == '\n') {
        ++pos_;
        ++line_;
      }
      break;
    }
    fields_.resize(spans_.size());
    for (size_t i = 0; i < spans_.size(); ++i) {
      const Span& s = spans_[i];
      fields_[i].quoted = s.quoted;
      fields_[i].text = s.scratch >= 0 ? std::string_view(scratch_[s.scratch])
                                       : text_.substr(s.begin, s.end - s.begin);
    }
    return true;
  }

  const std::vector<Field>& fields() const { return fields_; }
  // The line where the current record starts (1-based).
  int64_t line() const { return record_line_; }

 private:
  struct Span {
    size_t begin = 0, end = 0;
    bool quoted = false;
    int scratch = -1;  // index into scratch_ when the field was unescaped there
  };

  void SkipBlankLines() {
    for (;;) {
      size_t p = pos_;
      while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t' || text_[p] == '\r')) ++p;
      if (p < text_.size() && text_[p] == '\n') {
        pos_ = p + 1;
        ++line_;
        continue;
      }
      if (p >= text_.size()) pos_ = p;
      return;
    }
  }

  Status ReadField(Span* span) {
    size_t p = pos_;
    while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t')) ++p;
    if (p < text_.size() && text_[p] == '"') return ReadQuoted(p, span);
    // Unquoted: up to the delimiter or the end of the line; a stray quote inside is data
    // (5'10" and the like are common in exported files).
    const size_t begin = pos_;
    while (pos_ < text_.size() && text_[pos_] != delimiter_ && text_[pos_] != '\n') ++pos_;
    size_t end = pos_;
    if (end > begin && text_[end - 1] == '\r' && (end == text_.size() || text_[end] == '\n')) {
      --end;
      --pos_;  // leave the "\r" to the end-of-record logic
    }
    const std::string_view trimmed = TrimSpaces(text_.substr(begin, end - begin));
    span->begin = static_cast<size_t>(trimmed.data() - text_.data());
    span->end = span->begin + trimmed.size();
    return Status::Ok();
  }

  Status ReadQuoted(size_t open, Span* span) {
    const int64_t start_line = line_;
    span->quoted = true;
    size_t p = open + 1;
    bool escaped = false;
    for (;;) {
      const size_t q = text_.find('"', p);
      if (q == std::string_view::npos) {
        return InvalidArgument(SourceLine(source_, start_line) +
                               ": unterminated quoted field (no closing \")");
      }
      line_ += std::count(text_.begin() + p, text_.begin() + q, '\n');
      if (q + 1 < text_.size() && text_[q + 1] == '"') {
        escaped = true;
        p = q + 2;
        continue;
      }
      span->begin = open + 1;
      span->end = q;
      p = q + 1;
      break;
    }
    while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t')) ++p;
    if (p < text_.size() && text_[p] != delimiter_ && text_[p] != '\n' &&
        !(text_[p] == '\r' && (p + 1 == text_.size() || text_[p + 1] == '\n'))) {
      return InvalidArgument(SourceLine(source_, line_) + ": unexpected " +
                             Quote(text_.substr(p, 1)) +
                             " after a closing quote (a quote inside "
                             "a quoted field is written \"\")");
    }
    pos_ = p;
    if (escaped) {
      if (scratch_used_ == static_cast<int>(scratch_.size())) scratch_.emplace_back();
      std::string& out = scratch_[scratch_used_];
      out.clear();
      const std::string_view raw = text_.substr(span->begin, span->end - span->begin);
      for (size_t i = 0; i < raw.size(); ++i) {
        out.push_back(raw[i]);
        if (raw[i] == '"') ++i;  // "" → "
      }
      span->scratch = scratch_used_++;
    }
    return Status::Ok();
  }

  std::string_view text_;
  std::string_view source_;
  char delimiter_;
  size_t pos_ = 0;
  int64_t line_ = 1;
  int64_t record_line_ = 0;
  std::vector<Span> spans_;
  std::vector<Field> fields_;
  // Unescaped quoted fields; kept across records (strings reused) and never resized while a
  // record's views point into it: views are made once the record is complete.
  std::vector<std::string> scratch_;
  int scratch_used_ = 0;
};

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

std::string_view ColumnKindName(ColumnKind kind) {
  return kind == ColumnKind::kNumeric ? "numeric" : "categorical";
}

std::string FormatNumber(double value) {
  if (std::isnan(value)) return "";
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return ec == std::errc() ? std::string(buf, end) : std::string();
}

bool ParseNumber(std::string_view text, double* out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty() || text.front() == '+') return false;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && std::isfinite(*out);
}

bool Column::IsMissing(int64_t row) const {
  return kind == ColumnKind::kNumeric ? std::isnan(numbers[row]) : codes[row] == kMissingCode;
}

std::string Column::CellText(int64_t row) const {
  if (kind == ColumnKind::kNumeric) return FormatNumber(numbers[row]);
  const int32_t code = codes[row];
  return code == kMissingCode ? std::string() : categories[code];
}

std::optional<size_t> Table::Find(std::string_view name) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name) return i;
  }
  return std::nullopt;
}

std::string Table::ColumnNames() const {
  std::string out;
  for (const Column& c : columns_) {
    if (!out.empty()) out += ", ";
    out += c.name;
  }
  return out;
}

Status Table::CheckNewColumn(const std::string& name, int64_t size) const {
  if (name.empty()) return InvalidArgument("a column needs a name");
  if (Find(name)) return InvalidArgument("column \"" + name + "\" already exists", name);
  const bool sized = !columns_.empty() || !lines_.empty();
  if (sized && size != rows_) {
    return InvalidArgument("column \"" + name + "\" has " + std::to_string(size) +
                               " values, the table has " + std::to_string(rows_) + " rows",
                           name);
  }
  return Status::Ok();
}

Status Table::AddNumericColumn(std::string name, std::vector<double> values) {
  KAIROS_RETURN_IF_ERROR(CheckNewColumn(name, static_cast<int64_t>(values.size())));
  for (double& v : values) {
    if (std::isinf(v)) v = kNaN;  // an infinite feature is as unknown as a missing one
  }
  rows_ = static_cast<int64_t>(values.size());
  Column c;
  c.name = std::move(name);
  c.kind = ColumnKind::kNumeric;
  c.numbers = std::move(values);
  columns_.push_back(std::move(c));
  return Status::Ok();
}

Status Table::AddCategoricalColumn(std::string name, const std::vector<std::string>& values) {
  KAIROS_RETURN_IF_ERROR(CheckNewColumn(name, static_cast<int64_t>(values.size())));
  Column c;
  c.name = std::move(name);
  c.kind = ColumnKind::kCategorical;
  c.codes.reserve(values.size());
  CategoryIndex index;
  for (const std::string& v : values) {
    if (v.empty()) {
      c.codes.push_back(Column::kMissingCode);
      continue;
    }
    auto it = index.find(v);
    if (it == index.end()) {
      it = index.emplace(v, static_cast<int32_t>(c.categories.size())).first;
      c.categories.push_back(v);
    }
    c.codes.push_back(it->second);
  }
  rows_ = static_cast<int64_t>(values.size());
  columns_.push_back(std::move(c));
  return Status::Ok();
}

Status Table::AddCategoricalColumn(std::string name, std::vector<int32_t> codes,
                                   std::vector<std::string> categories) {
  KAIROS_RETURN_IF_ERROR(CheckNewColumn(name, static_cast<int64_t>(codes.size())));
  CategoryIndex seen;
  for (const std::string& c : categories) {
    if (c.empty()) return InvalidArgument("column \"" + name + "\": empty category name", name);
    if (!seen.emplace(c, 0).second) {
      return InvalidArgument("column \"" + name + "\": duplicate category " + Quote(c), name);
    }
  }
  const auto n = static_cast<int32_t>(categories.size());
  for (size_t i = 0; i < codes.size(); ++i) {
    if (codes[i] != Column::kMissingCode && (codes[i] < 0 || codes[i] >= n)) {
      return InvalidArgument("column \"" + name + "\": code " + std::to_string(codes[i]) +
                                 " at row " + std::to_string(i + 1) + " is not a category",
                             name);
    }
  }
  rows_ = static_cast<int64_t>(codes.size());
  Column c;
  c.name = std::move(name);
  c.kind = ColumnKind::kCategorical;
  c.codes = std::move(codes);
  c.categories = std::move(categories);
  columns_.push_back(std::move(c));
  return Status::Ok();
}

Result<Column> Table::TakeColumn(std::string_view name) {
  const auto i = Find(name);
  if (!i) {
    std::string where = source_.empty() ? "the table" : source_;
    return Status(
        ErrorCode::kNotFound,
        "no column \"" + std::string(name) + "\" in " + where + " (columns: " + ColumnNames() + ")",
        std::string(name));
  }
  Column c = std::move(columns_[*i]);
  columns_.erase(columns_.begin() + static_cast<std::ptrdiff_t>(*i));
  return c;
}

void Table::SetOrigin(std::string source, std::vector<int64_t> lines) {
  source_ = std::move(source);
  lines_ = std::move(lines);
}

std::string Table::RowLocation(int64_t row) const {
  if (row >= 0 && row < static_cast<int64_t>(lines_.size()))
    return SourceLine(source_, lines_[row]);
  const std::string r = "row " + std::to_string(row + 1);
  return source_.empty() ? r : source_ + " " + r;
}

Result<Table> ParseCsvTable(std::string_view text, std::string_view source,
                            const CsvTableOptions& options) {
  const auto is_missing = [&](const Field& f) {
    return TrimSpaces(f.text).empty() || (!f.quoted && Contains(options.missing_tokens, f.text));
  };

  // Pass 1: the header, field counts, and which columns hold only numbers. Nothing is stored
  // but the row lines, so a large file is not held twice.
  CsvReader reader(text, source, options.delimiter);
  KAIROS_ASSIGN_OR_RETURN(const bool has_header, reader.Next());
  if (!has_header) return InvalidArgument(std::string(source) + ": empty file (no header row)");
  std::vector<std::string> names;
  for (const Field& f : reader.fields()) {
    std::string name(f.quoted ? f.text : TrimSpaces(f.text));
    if (name.empty()) {
      return InvalidArgument(SourceLine(source, reader.line()) + ": column " +
                             std::to_string(names.size() + 1) + " of the header has no name");
    }
    if (Contains(names, name)) {
      return InvalidArgument(
          SourceLine(source, reader.line()) + ": duplicate column \"" + name + "\" in the header",
          name);
    }
    names.push_back(std::move(name));
  }
  for (const auto* list : {&options.categorical, &options.numeric}) {
    for (const std::string& n : *list) {
      if (!Contains(names, n)) {
        return InvalidArgument(
            std::string(source) + ": no column \"" + n + "\" (columns: " + Join(names) + ")", n);
      }
    }
  }
  const size_t ncol = names.size();
  std::vector<ColumnKind> kinds(ncol, ColumnKind::kNumeric);
  std::vector<bool> forced(ncol, false);
  for (size_t c = 0; c < ncol; ++c) {
    if (Contains(options.categorical, names[c])) {
      kinds[c] = ColumnKind::kCategorical;
      forced[c] = true;
    } else if (Contains(options.numeric, names[c])) {
      forced[c] = true;
    }
  }
  std::vector<int64_t> lines;
  for (;;) {
    KAIROS_ASSIGN_OR_RETURN(const bool more, reader.Next());
    if (!more) break;
    const auto& fields = reader.fields();
    if (fields.size() != ncol) {
      return InvalidArgument(SourceLine(source, reader.line()) + ": " +
                             std::to_string(fields.size()) + " fields, the header has " +
                             std::to_string(ncol));
    }
    for (size_t c = 0; c < ncol; ++c) {
      if (kinds[c] != ColumnKind::kNumeric || is_missing(fields[c])) continue;
      double v;
      if (ParseNumber(fields[c].quoted ? TrimSpaces(fields[c].text) : fields[c].text, &v)) continue;
      if (forced[c]) {
        return InvalidArgument(SourceLine(source, reader.line()) + ": column \"" + names[c] +
                                   "\": " + Quote(fields[c].text) + " is not a number",
                               names[c]);
      }
      kinds[c] = ColumnKind::kCategorical;
    }
    lines.push_back(reader.line());
  }
  if (lines.empty())
    return InvalidArgument(std::string(source) + ": no data rows after the header");

  // Pass 2: the values.
  const size_t nrow = lines.size();
  std::vector<Column> columns(ncol);
  std::vector<CategoryIndex> index(ncol);
  for (size_t c = 0; c < ncol; ++c) {
    columns[c].name = names[c];
    columns[c].kind = kinds[c];
    if (kinds[c] == ColumnKind::kNumeric) {
      columns[c].numbers.reserve(nrow);
    } else {
      columns[c].codes.reserve(nrow);
    }
  }
  CsvReader values(text, source, options.delimiter);
  KAIROS_ASSIGN_OR_RETURN(const bool header_again, values.Next());
  (void)header_again;
  for (size_t r = 0; r < nrow; ++r) {
    KAIROS_ASSIGN_OR_RETURN(const bool more, values.Next());
    if (!more) return Internal(std::string(source) + ": the second pass ended early");
    const auto& fields = values.fields();
    for (size_t c = 0; c < ncol; ++c) {
      Column& col = columns[c];
      const Field& f = fields[c];
      if (col.kind == ColumnKind::kNumeric) {
        double v = kNaN;
        if (!is_missing(f)) ParseNumber(f.quoted ? TrimSpaces(f.text) : f.text, &v);
        col.numbers.push_back(v);
        continue;
      }
      if (is_missing(f)) {
        col.codes.push_back(Column::kMissingCode);
        continue;
      }
      auto it = index[c].find(f.text);
      if (it == index[c].end()) {
        it = index[c]
                 .emplace(std::string(f.text), static_cast<int32_t>(col.categories.size()))
                 .first;
        col.categories.emplace_back(f.text);
      }
      col.codes.push_back(it->second);
    }
  }

  Table table;
  for (Column& col : columns) {
    Status s =
        col.kind == ColumnKind::kNumeric
            ? table.AddNumericColumn(col.name, std::move(col.numbers))
            : table.AddCategoricalColumn(col.name, std::move(col.codes), std::move(col.categories));
    if (!s.ok()) return s.WithContext(source);
  }
  table.SetOrigin(std::string(source), std::move(lines));
  return table;
}

Result<Table> LoadCsvTable(const std::string& path, const CsvTableOptions& options) {
  KAIROS_ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  return ParseCsvTable(text, path, options);
}

}  // namespace kairos::analytics
