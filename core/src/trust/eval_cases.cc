// Per-case eval results (cairn/eval_cases.h): parsing, canonical form, summary.
#include "cairn/eval_cases.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "cairn/validate.h"

namespace cairn {

int64_t EvalCase::Sum() const {
  if (!error.is_null()) return 0;
  int64_t sum = 0;
  for (const Score& s : scores) sum += s.billionths();
  return sum;
}

uint64_t EvalCaseSet::clusters() const {
  if (!clustered) return 0;
  std::set<std::string_view> seen;
  for (const auto& c : cases) seen.insert(*c.cluster);
  return seen.size();
}

Score EvalCaseSet::Mean() const {
  if (cases.empty() || k == 0) return Score::FromBillionths(0);
  // Σ Sum <= 10^6 cases * 64 * 10^9: fits in int64 with room.
  int64_t total = 0;
  for (const auto& c : cases) total += c.Sum();
  return Score::FromBillionths(total / static_cast<int64_t>(n() * k));
}

Result<std::string> EvalCaseSet::Canonical() const {
  std::string out;
  for (const auto& c : cases) {
    Json scores = Json::array();
    for (const Score& s : c.scores) scores.push_back(s.ToString());
    Json line{{"case", c.id},
              {"error", c.error},
              {"output", c.output ? Json(c.output->ToString()) : Json(nullptr)},
              {"scores", scores}};
    if (clustered) line["cluster"] = *c.cluster;
    CAIRN_ASSIGN_OR_RETURN(std::string bytes, CanonicalJson(line));
    out += bytes;
    out += '\n';
  }
  return out;
}

namespace {

// Parses one line's object into `c`; kUsage naming the field.
Status ParseCaseLine(const Json& j, std::string_view where, EvalCase* c) {
  auto bad = [&](std::string_view field, std::string_view rule) {
    return Status::Usage(fmt::format("{}: \"{}\": {}", where, field, rule));
  };
  if (!j.is_object()) return Status::Usage(fmt::format("{}: a case is a JSON object", where));
  for (const auto& [member, value] : j.items()) {
    if (member != "case" && member != "cluster" && member != "scores" && member != "output" &&
        member != "error") {
      return bad(member, "unknown member (a case has case, cluster, scores, output, error)");
    }
  }
  if (!j.contains("case") || !j.at("case").is_string()) return bad("case", "a string is required");
  c->id = j.at("case").get<std::string>();
  if (c->id.empty() || c->id.size() > kMaxCaseIdBytes) {
    return bad("case", fmt::format("1 to {} bytes of UTF-8", kMaxCaseIdBytes));
  }
  if (j.contains("cluster")) {
    if (!j.at("cluster").is_string() || j.at("cluster").get<std::string>().empty() ||
        j.at("cluster").get<std::string>().size() > kMaxCaseIdBytes) {
      return bad("cluster", fmt::format("1 to {} bytes of UTF-8", kMaxCaseIdBytes));
    }
    c->cluster = j.at("cluster").get<std::string>();
  }
  if (!j.contains("scores") || !j.at("scores").is_array() || j.at("scores").empty() ||
      j.at("scores").size() > kMaxScoresPerCase) {
    return bad("scores", fmt::format("an array of 1 to {} decimal strings", kMaxScoresPerCase));
  }
  for (const Json& s : j.at("scores")) {
    if (!s.is_string()) {
      return bad("scores", "each score is a decimal string in [0, 1], e.g. \"0.9\" (no floats)");
    }
    auto score = Score::Parse(s.get<std::string>(), "score");
    if (!score.ok()) return bad("scores", score.status().message());
    c->scores.push_back(*score);
  }
  if (j.contains("output") && !j.at("output").is_null()) {
    auto d = j.at("output").is_string() ? Digest::Parse(j.at("output").get<std::string>())
                                        : Result<Digest>(Status::Usage("not a string"));
    if (!d.ok()) return bad("output", "a digest sha256:<64 hex>, or null");
    c->output = *d;
  }
  if (j.contains("error")) {
    if (!j.at("error").is_null() && !j.at("error").is_string()) {
      return bad("error", "null, or a string saying what failed (the case then counts as 0)");
    }
    c->error = j.at("error");
  }
  return Status::OK();
}

}  // namespace

Result<EvalCaseSet> ParseEvalCases(std::string_view bytes, std::string_view what) {
  size_t bad_offset = 0;
  if (!IsValidUtf8(bytes, &bad_offset)) {
    return Status::Usage(fmt::format("{}: {}: not UTF-8", what, LineColumn(bytes, bad_offset)));
  }
  EvalCaseSet set;
  size_t line_no = 0;
  for (size_t pos = 0; pos < bytes.size();) {
    size_t end = bytes.find('\n', pos);
    if (end == std::string_view::npos) end = bytes.size();
    std::string_view line = bytes.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    std::string where = fmt::format("{}: line {}", what, line_no);
    std::vector<Problem> problems;
    auto j = ParseStrictJson(line, where, &problems);
    if (!j) {
      return Status::Usage(problems.empty() ? where + ": not JSON" : problems.front().ToString());
    }
    EvalCase c;
    CAIRN_RETURN_IF_ERROR(ParseCaseLine(*j, where, &c));
    if (set.cases.empty()) {
      set.k = static_cast<uint32_t>(c.scores.size());
      set.clustered = c.cluster.has_value();
    } else if (c.scores.size() != set.k) {
      return Status::Usage(fmt::format(
          "{}: \"scores\": {} scores, but the first case has {} (K must be the same on every "
          "case)",
          where, c.scores.size(), set.k));
    } else if (c.cluster.has_value() != set.clustered) {
      return Status::Usage(
          fmt::format("{}: \"cluster\": give a cluster on every case or on none", where));
    }
    set.cases.push_back(std::move(c));
    if (set.cases.size() > kMaxCases) {
      return Status::Usage(fmt::format("{}: more than {} cases", what, kMaxCases));
    }
  }
  if (set.cases.empty()) return Status::Usage(fmt::format("{}: no cases", what));
  std::sort(set.cases.begin(), set.cases.end(),
            [](const EvalCase& a, const EvalCase& b) { return a.id < b.id; });
  for (size_t i = 1; i < set.cases.size(); ++i) {
    if (set.cases[i].id == set.cases[i - 1].id) {
      return Status::Usage(fmt::format("{}: \"case\": \"{}\" appears twice (case ids are unique)",
                                       what, set.cases[i].id));
    }
  }
  return set;
}

Result<Digest> JudgeDigest(std::string_view model, std::string_view prompt) {
  if (model.empty() || model.find('\0') != std::string_view::npos) {
    return Status::Usage("--judge-model: name the judge model (no NUL bytes)");
  }
  Sha256 h;
  h.Update(model);
  h.Update(std::string_view("\0", 1));
  h.Update(prompt);
  return h.Finish();
}

}  // namespace cairn
