// An in-memory feature table for the analytics models (churn, segmentation): named columns of
// equal length, each numeric (doubles, NaN = missing) or categorical (codes into a per-column
// dictionary, Column::kMissingCode = missing).
//
// The table knows nothing about files: models take a Table, and it is built either from a CSV
// file (ParseCsvTable / LoadCsvTable below) or from anything else (subscriber profiles) through
// the builder methods. A table read from a file remembers each row's source line, so that errors
// found later (a bad label, an unknown category) can still name file:line.
//
// Errors are Status values (kInvalidArgument naming file:line and the column); nothing throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kairos::analytics {

enum class ColumnKind { kNumeric, kCategorical };

// "numeric" / "categorical".
std::string_view ColumnKindName(ColumnKind kind);

struct Column {
  static constexpr int32_t kMissingCode = -1;

  std::string name;
  ColumnKind kind = ColumnKind::kNumeric;
  std::vector<double> numbers;          // kNumeric: one per row, NaN = missing
  std::vector<int32_t> codes;           // kCategorical: index into `categories` or kMissingCode
  std::vector<std::string> categories;  // kCategorical: distinct values, in order of first use

  int64_t size() const {
    return static_cast<int64_t>(kind == ColumnKind::kNumeric ? numbers.size() : codes.size());
  }
  bool IsMissing(int64_t row) const;
  // The cell as text: "" when missing, the category, or the number in its shortest round-trip
  // form ("29.85", "1e-07").
  std::string CellText(int64_t row) const;
};

// Shortest text that reads back as the same double ("29.85", "3", "1e+20").
std::string FormatNumber(double value);
// Parses a whole (already trimmed) cell as a finite number: decimal or exponent notation, an
// optional leading '+' or '-'. False for anything else, "inf" and "nan" included.
bool ParseNumber(std::string_view text, double* out);

class Table {
 public:
  Table() = default;

  // Number of rows (0 for a table without columns).
  int64_t rows() const { return rows_; }
  size_t num_columns() const { return columns_.size(); }
  const Column& column(size_t i) const { return columns_[i]; }
  const std::vector<Column>& columns() const { return columns_; }
  // The index of the column named `name` (exact match), or nullopt.
  std::optional<size_t> Find(std::string_view name) const;
  // The column names, comma-separated, for "columns are: ..." messages.
  std::string ColumnNames() const;

  // ---- Building --------------------------------------------------------------------------
  // Each builder appends a column. kInvalidArgument when the name is empty or already used, or
  // when the length differs from rows() of a table that already has columns.
  Status AddNumericColumn(std::string name, std::vector<double> values);
  // Values are category names; an empty string is a missing value. Categories are numbered in
  // order of first appearance.
  Status AddCategoricalColumn(std::string name, const std::vector<std::string>& values);
  // Codes into `categories` (kMissingCode for missing); kInvalidArgument for a code out of range
  // or a duplicate or empty category.
  Status AddCategoricalColumn(std::string name, std::vector<int32_t> codes,
                              std::vector<std::string> categories);
  // Removes the named column and returns it (e.g. the target or an id). kNotFound naming the
  // column and listing the table's columns.
  Result<Column> TakeColumn(std::string_view name);

  // ---- Where rows come from --------------------------------------------------------------
  // Records the source (a file name) and each row's line in it (the line where the record
  // starts). `lines` must be empty or have rows() entries.
  void SetOrigin(std::string source, std::vector<int64_t> lines);
  const std::string& source() const { return source_; }
  // "file:line" for a table read from a file, "row N" (1-based) otherwise.
  std::string RowLocation(int64_t row) const;

 private:
  Status CheckNewColumn(const std::string& name, int64_t size) const;

  std::vector<Column> columns_;
  int64_t rows_ = 0;
  std::string source_;
  std::vector<int64_t> lines_;
};

struct CsvTableOptions {
  char delimiter = ',';
  // Columns read as categorical whatever they hold (ids, codes with leading zeros).
  std::vector<std::string> categorical;
  // Columns that must be numeric: a cell that is neither blank, a missing token nor a number is
  // an error naming file:line and the column. Used when scoring with a model's schema.
  std::vector<std::string> numeric;
  // Cells that mean "missing" besides blank ones (compared after trimming, case-sensitive).
  std::vector<std::string> missing_tokens = {"NA", "N/A", "NaN", "null", "NULL"};
};

// Parses CSV text (RFC 4180: a header row, fields separated by `delimiter`, fields optionally in
// double quotes where "" is a literal quote and commas and newlines are data; CRLF or LF; a UTF-8
// byte-order mark is skipped; blank lines are skipped). Unquoted cells are trimmed of spaces and
// tabs; a cell that is then empty, or a missing token, is missing.
//
// Column types: a column is numeric when every non-missing cell parses as a finite number, else
// categorical (so "yes"/"no" and "0"/"1"/"x" are categorical), unless named in `options`.
// A column without any value is numeric (all missing).
//
// kInvalidArgument naming `source`:line (and the column where it is about one) for: no header,
// an empty or duplicate column name, a record with a different number of fields than the header,
// an unterminated quoted field, text after a closing quote, a non-numeric cell in a column named
// in `options.numeric`, a column named in `options` that the header lacks, and a file without
// data rows.
Result<Table> ParseCsvTable(std::string_view text, std::string_view source,
                            const CsvTableOptions& options = {});
// Reads and parses a file (its path is the source in messages); kIoError when it cannot be read.
Result<Table> LoadCsvTable(const std::string& path, const CsvTableOptions& options = {});

}  // namespace kairos::analytics
