#include "analytics/table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace kairos::analytics {
namespace {

using ::testing::HasSubstr;

const Column& Col(const Table& t, std::string_view name) { return t.column(*t.Find(name)); }

TEST(ParseNumber, AcceptsDecimalAndExponentOnly) {
  double v = 0;
  EXPECT_TRUE(ParseNumber("29.85", &v));
  EXPECT_DOUBLE_EQ(v, 29.85);
  EXPECT_TRUE(ParseNumber("+5", &v));
  EXPECT_DOUBLE_EQ(v, 5);
  EXPECT_TRUE(ParseNumber("-1e3", &v));
  EXPECT_DOUBLE_EQ(v, -1000);
  EXPECT_TRUE(ParseNumber(".5", &v));
  EXPECT_DOUBLE_EQ(v, 0.5);
  for (const char* bad :
       {"", "+", "++1", "1.2.3", "inf", "nan", "NaN", "1e999", " 5", "5 ", "0x10", "yes", "1,5"}) {
    EXPECT_FALSE(ParseNumber(bad, &v)) << bad;
  }
}

TEST(FormatNumber, ShortestRoundTrip) {
  EXPECT_EQ(FormatNumber(29.85), "29.85");
  EXPECT_EQ(FormatNumber(3), "3");
  EXPECT_EQ(FormatNumber(NAN), "");
}

TEST(ParseCsvTable, InfersTypesAndMissingValues) {
  const std::string text =
      "id,plan,tenure,charges,flag,mixed\n"
      "0001,Yes,1,29.85,0,1.50\n"
      "0002,No,0, ,1,abc\n"
      "0003,,34,NA,0,2\n";
  auto t = ParseCsvTable(text, "t.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->rows(), 3);
  EXPECT_EQ(t->num_columns(), 6u);
  // Numbers everywhere (blanks and "NA" are missing): numeric; ids lose their zeros unless
  // forced categorical (below).
  EXPECT_EQ(Col(*t, "id").kind, ColumnKind::kNumeric);
  EXPECT_EQ(Col(*t, "tenure").kind, ColumnKind::kNumeric);
  const Column& charges = Col(*t, "charges");
  ASSERT_EQ(charges.kind, ColumnKind::kNumeric);
  EXPECT_DOUBLE_EQ(charges.numbers[0], 29.85);
  EXPECT_TRUE(std::isnan(charges.numbers[1]));  // " " (Telco's TotalCharges)
  EXPECT_TRUE(std::isnan(charges.numbers[2]));  // NA
  EXPECT_EQ(Col(*t, "flag").kind, ColumnKind::kNumeric);
  // Yes/No and blank: categorical with a missing code.
  const Column& plan = Col(*t, "plan");
  ASSERT_EQ(plan.kind, ColumnKind::kCategorical);
  EXPECT_EQ(plan.categories, (std::vector<std::string>{"Yes", "No"}));
  EXPECT_EQ(plan.codes, (std::vector<int32_t>{0, 1, Column::kMissingCode}));
  EXPECT_TRUE(plan.IsMissing(2));
  EXPECT_EQ(plan.CellText(1), "No");
  // One text cell makes the whole column categorical, keeping the numbers' own text.
  const Column& mixed = Col(*t, "mixed");
  ASSERT_EQ(mixed.kind, ColumnKind::kCategorical);
  EXPECT_EQ(mixed.categories, (std::vector<std::string>{"1.50", "abc", "2"}));
  EXPECT_EQ(t->RowLocation(1), "t.csv:3");
}

TEST(ParseCsvTable, ForcedKinds) {
  CsvTableOptions o;
  o.categorical = {"id"};
  o.numeric = {"x"};
  auto t = ParseCsvTable("id,x\n0001,1\n0002,\n", "t.csv", o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(Col(*t, "id").kind, ColumnKind::kCategorical);
  EXPECT_EQ(Col(*t, "id").CellText(0), "0001");
  auto bad = ParseCsvTable("id,x\n0001,1\n0002,two\n", "t.csv", o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("t.csv:3"));
  EXPECT_THAT(bad.status().message(), HasSubstr("\"x\""));
  EXPECT_THAT(bad.status().message(), HasSubstr("two"));
  o.numeric = {"nope"};
  auto missing = ParseCsvTable("id,x\n1,2\n", "t.csv", o);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("nope"));
}

TEST(ParseCsvTable, Rfc4180Quoting) {
  // Quoted delimiters, "" escapes, a newline inside a field, CRLF, a BOM, a blank line.
  const std::string text =
      "\xEF\xBB\xBF\"name\",\"note\",n\r\n"
      "\"Smith, J\",\"said \"\"hi\"\"\",1\r\n"
      "\r\n"
      "Doe,\"two\nlines\",2\r\n"
      "  spaced  , \"quoted\" ,3\r\n"
      "5'10\",x,4\n";
  auto t = ParseCsvTable(text, "q.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows(), 4);
  const Column& name = Col(*t, "name");
  EXPECT_EQ(name.CellText(0), "Smith, J");
  EXPECT_EQ(name.CellText(1), "Doe");
  EXPECT_EQ(name.CellText(2), "spaced");  // unquoted cells are trimmed
  EXPECT_EQ(name.CellText(3), "5'10\"");  // a stray quote inside an unquoted cell is data
  const Column& note = Col(*t, "note");
  EXPECT_EQ(note.CellText(0), "said \"hi\"");
  EXPECT_EQ(note.CellText(1), "two\nlines");
  EXPECT_EQ(note.CellText(2), "quoted");
  EXPECT_EQ(Col(*t, "n").kind, ColumnKind::kNumeric);
  // Each row's line is where its record starts, past the blank line and the embedded newline.
  EXPECT_EQ(t->RowLocation(0), "q.csv:2");
  EXPECT_EQ(t->RowLocation(1), "q.csv:4");
  EXPECT_EQ(t->RowLocation(2), "q.csv:6");
  EXPECT_EQ(t->RowLocation(3), "q.csv:7");
}

TEST(ParseCsvTable, QuotedNumbersAreNumbers) {
  auto t = ParseCsvTable("a,b\n\"1.5\",\"\"\n\"2\",\"x\"\n", "t.csv");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Col(*t, "a").kind, ColumnKind::kNumeric);
  EXPECT_DOUBLE_EQ(Col(*t, "a").numbers[1], 2);
  EXPECT_TRUE(Col(*t, "b").IsMissing(0));
}

TEST(ParseCsvTable, WrongFieldCountNamesFileAndLine) {
  auto t = ParseCsvTable("a,b,c\n1,2,3\n\"x\ny\",2,3\n1,2\n", "bad.csv");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr("bad.csv:5"));
  EXPECT_THAT(t.status().message(), HasSubstr("2 fields, the header has 3"));
  auto extra = ParseCsvTable("a,b\n1,2,3\n", "bad.csv");
  ASSERT_FALSE(extra.ok());
  EXPECT_THAT(extra.status().message(), HasSubstr("bad.csv:2"));
}

TEST(ParseCsvTable, MalformedQuotes) {
  auto open = ParseCsvTable("a,b\n1,2\n3,\"never closed\n4,5\n", "q.csv");
  ASSERT_FALSE(open.ok());
  EXPECT_THAT(open.status().message(), HasSubstr("q.csv:3"));
  EXPECT_THAT(open.status().message(), HasSubstr("unterminated"));
  auto after = ParseCsvTable("a,b\n\"x\"y,2\n", "q.csv");
  ASSERT_FALSE(after.ok());
  EXPECT_THAT(after.status().message(), HasSubstr("q.csv:2"));
  EXPECT_THAT(after.status().message(), HasSubstr("after a closing quote"));
}

TEST(ParseCsvTable, BadHeadersAndEmptyFiles) {
  EXPECT_THAT(ParseCsvTable("", "e.csv").status().message(), HasSubstr("empty file"));
  EXPECT_THAT(ParseCsvTable("\n\n", "e.csv").status().message(), HasSubstr("empty file"));
  EXPECT_THAT(ParseCsvTable("a,b\n", "e.csv").status().message(), HasSubstr("no data rows"));
  auto dup = ParseCsvTable("a,b,a\n1,2,3\n", "d.csv");
  ASSERT_FALSE(dup.ok());
  EXPECT_THAT(dup.status().message(), HasSubstr("d.csv:1"));
  EXPECT_THAT(dup.status().message(), HasSubstr("duplicate column \"a\""));
  auto unnamed = ParseCsvTable("a,,c\n1,2,3\n", "d.csv");
  ASSERT_FALSE(unnamed.ok());
  EXPECT_THAT(unnamed.status().message(), HasSubstr("column 2 of the header has no name"));
}

TEST(ParseCsvTable, AllBlankColumnIsNumericAndMissing) {
  auto t = ParseCsvTable("a,b\n1,\n2,\n", "t.csv");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Col(*t, "b").kind, ColumnKind::kNumeric);
  EXPECT_TRUE(Col(*t, "b").IsMissing(0));
}

TEST(LoadCsvTable, UnreadableFile) {
  auto t = LoadCsvTable("/nonexistent/x.csv");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), ErrorCode::kIoError);
}

TEST(LoadCsvTable, TelcoChurn) {
  CsvTableOptions o;
  o.categorical = {"customerID"};
  auto t =
      LoadCsvTable(KAIROS_SOURCE_DIR "/../shared/data/telco_churn/telco_customer_churn.csv", o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->rows(), 7043);
  EXPECT_EQ(t->num_columns(), 21u);
  const Column& total = Col(*t, "TotalCharges");
  ASSERT_EQ(total.kind, ColumnKind::kNumeric);
  int missing = 0;
  for (int64_t r = 0; r < t->rows(); ++r) missing += total.IsMissing(r);
  EXPECT_EQ(missing, 11);  // blank for the 11 customers with tenure 0
  EXPECT_EQ(Col(*t, "SeniorCitizen").kind, ColumnKind::kNumeric);
  EXPECT_EQ(Col(*t, "Contract").categories.size(), 3u);
  EXPECT_EQ(Col(*t, "Churn").kind, ColumnKind::kCategorical);
  EXPECT_EQ(Col(*t, "customerID").categories.size(), 7043u);
}

TEST(Table, Builders) {
  Table t;
  ASSERT_TRUE(t.AddNumericColumn("x", {1, 2, INFINITY}).ok());
  EXPECT_TRUE(t.column(0).IsMissing(2));  // infinities are as unknown as blanks
  EXPECT_EQ(t.AddNumericColumn("y", {1, 2}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(t.AddNumericColumn("x", {1, 2, 3}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(t.AddNumericColumn("", {1, 2, 3}).code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(t.AddCategoricalColumn("plan", {"a", "", "b"}).ok());
  EXPECT_EQ(t.column(1).codes, (std::vector<int32_t>{0, Column::kMissingCode, 1}));
  ASSERT_TRUE(t.AddCategoricalColumn("region", {1, -1, 0}, {"north", "south"}).ok());
  EXPECT_EQ(t.AddCategoricalColumn("bad", {2, 0, 0}, {"a", "b"}).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(t.AddCategoricalColumn("dup", {0, 0, 0}, {"a", "a"}).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(t.ColumnNames(), "x, plan, region");
  EXPECT_EQ(t.RowLocation(0), "row 1");
  auto taken = t.TakeColumn("plan");
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(taken->name, "plan");
  EXPECT_EQ(t.num_columns(), 2u);
  auto gone = t.TakeColumn("plan");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), ErrorCode::kNotFound);
  EXPECT_THAT(gone.status().message(), HasSubstr("x, region"));
}

}  // namespace
}  // namespace kairos::analytics
