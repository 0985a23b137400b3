// Eval attestations (cairn/attestation.h) and the attestations family's records.
#include "cairn/attestation.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <regex>

#include "cairn/clock.h"
#include "cairn/object.h"
#include "port/zstd_codec.h"
#include "store/object_codec.h"
#include "store/store_internal.h"
#include "trust/attestation_records.h"
#include "trust/signature_records.h"
#include "util/fs_util.h"

namespace cairn {

Status ValidateEvalName(std::string_view name) {
  static const std::regex kName("^[a-z0-9][a-z0-9._-]{0,63}$");
  if (!std::regex_match(name.begin(), name.end(), kName)) {
    return Status::Usage(fmt::format(
        "\"{}\" is not an eval name: use 1 to 64 lowercase letters, digits, '.', '_' and '-', "
        "starting with a letter or digit (e.g. golden-v3)",
        name));
  }
  return Status::OK();
}

namespace {
Json OptionalDigest(const std::optional<Digest>& d) {
  return d ? Json(d->ToString()) : Json(nullptr);
}
}  // namespace

Json EvalStatement::ToJson() const {
  Json j{{"actor", actor},
         {"dataset", OptionalDigest(dataset)},
         {"eval", eval},
         {"judge", judge},
         {"kind", "eval"},
         {"n", n ? Json(*n) : Json(nullptr)},
         {"report", OptionalDigest(report)},
         {"score", score.ToString()},
         {"snapshot", snapshot.Hex()},
         {"time", FormatTime(time_micros)}};
  if (seq) j["seq"] = *seq;  // absent in attestations older than it: they hash as before
  if (cases) j["cases"] = cases->ToString();  // per-case results only
  if (judge_digest) j["judge_digest"] = judge_digest->ToString();
  return j;
}

Result<EvalStatement> EvalStatement::FromJson(const Json& j, std::string_view what) {
  auto bad = [&](std::string_view field) {
    return Status::Corruption(fmt::format("{}: field '{}' is missing or mistyped", what, field));
  };
  static const char* kFields[] = {"actor", "dataset", "eval",  "judge",    "kind",
                                  "n",     "report",  "score", "snapshot", "time"};
  size_t optional = 0;
  for (const char* f : {"seq", "cases", "judge_digest"}) optional += j.contains(f) ? 1 : 0;
  if (!j.is_object() || j.size() != std::size(kFields) + optional ||
      j.contains("cases") != j.contains("judge_digest")) {
    return bad("(object of 10 fields, and seq, cases and judge_digest)");
  }
  for (const char* f : kFields) {
    if (!j.contains(f)) return bad(f);
  }
  EvalStatement s;
  try {
    if (j.at("kind") != "eval") return bad("kind");
    auto snapshot = SnapshotId::Parse(j.at("snapshot").get<std::string>());
    if (!snapshot.ok()) return bad("snapshot");
    s.snapshot = *snapshot;
    s.eval = j.at("eval").get<std::string>();
    if (!ValidateEvalName(s.eval).ok()) return bad("eval");
    auto score = Score::Parse(j.at("score").get<std::string>(), "score");
    if (!score.ok()) return bad("score");
    s.score = *score;
    if (!j.at("n").is_null()) {
      if (!j.at("n").is_number_unsigned()) return bad("n");
      s.n = j.at("n").get<uint64_t>();
    }
    for (const char* f : {"dataset", "report"}) {
      if (j.at(f).is_null()) continue;
      auto d = Digest::Parse(j.at(f).get<std::string>());
      if (!d.ok()) return bad(f);
      (std::string_view(f) == "dataset" ? s.dataset : s.report) = *d;
    }
    s.judge = j.at("judge").get<std::string>();
    auto t = ParseTime(j.at("time").get<std::string>());
    if (!t.ok()) return bad("time");
    s.time_micros = *t;
    s.actor = j.at("actor").get<std::string>();
    if (j.contains("seq")) {
      if (!j.at("seq").is_number_unsigned() || j.at("seq").get<uint64_t>() == 0) return bad("seq");
      s.seq = j.at("seq").get<uint64_t>();
    }
    for (const char* f : {"cases", "judge_digest"}) {
      if (!j.contains(f)) continue;
      auto d = Digest::Parse(j.at(f).get<std::string>());
      if (!d.ok()) return bad(f);
      (std::string_view(f) == "cases" ? s.cases : s.judge_digest) = *d;
    }
  } catch (const Json::exception& ex) {
    return Status::Corruption(fmt::format("{} is malformed: {}", what, ex.what()));
  }
  return s;
}

std::vector<std::pair<const char*, Digest>> EvalStatement::LinkedObjects() const {
  std::vector<std::pair<const char*, Digest>> out;
  if (report) out.emplace_back("report", *report);
  if (cases) out.emplace_back("case file", *cases);
  return out;
}

Result<Digest> EvalStatement::Hash() const {
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, CanonicalJson(ToJson()));
  return Digest::Of(bytes);
}

// ---- records: key = snapshot id (32) + attestation id (32); value = canonical JSON ----

Result<std::string> EncodeAttestationRecord(const Attestation& a) {
  return CanonicalJson(Json{{"key_id", a.key_id.ToString()},
                            {"public_key", a.public_key.Hex()},
                            {"sig", a.signature.Hex()},
                            {"statement", a.statement.ToJson()}});
}

// Decodes what can be decoded; a malformed record is a Status, judged `bad` by the caller.
Result<Attestation> DecodeAttestationRecord(std::string_view key, std::string_view value) {
  if (key.size() != 2 * Digest::kSize) {
    return Status::Corruption(
        fmt::format("an attestation key has {} bytes, expected 64", key.size()));
  }
  CAIRN_ASSIGN_OR_RETURN(Digest id, Digest::FromRaw(key.substr(Digest::kSize)));
  std::string what = fmt::format("attestation {}", id.Hex().substr(0, 12));
  CAIRN_ASSIGN_OR_RETURN(Json j, ParseCanonicalJson(value, what));
  auto bad = [&](std::string_view field) {
    return Status::Corruption(fmt::format("{}: field '{}' is missing or mistyped", what, field));
  };
  Attestation a;
  a.id = id;
  try {
    if (!j.is_object() || j.size() != 4 || !j.contains("statement")) return bad("(object)");
    if (const char* field = ReadSignerFields(j, &a.key_id, &a.public_key, &a.signature)) {
      return bad(field);
    }
    CAIRN_ASSIGN_OR_RETURN(a.statement, EvalStatement::FromJson(j.at("statement"), what));
  } catch (const Json::exception& ex) {
    return Status::Corruption(fmt::format("{} is malformed: {}", what, ex.what()));
  }
  return a;
}

namespace {

// Validates and summarises a per-case file into `s` (n, score); returns its canonical bytes.
Result<std::string> SummariseCases(std::string_view bytes, const AttestOptions& options,
                                   EvalStatement* s) {
  if (!s->dataset) {
    return Status::Usage(
        "--cases: name the golden dataset with --dataset (per-case results are "
        "paired only on the same dataset)");
  }
  if (!s->judge_digest) {
    return Status::Usage("--cases: name the judge with --judge-model and --judge-prompt");
  }
  CAIRN_ASSIGN_OR_RETURN(EvalCaseSet set, ParseEvalCases(bytes, "--cases"));
  Score mean = set.Mean();
  if (s->n && *s->n != set.n()) {
    return Status::Usage(
        fmt::format("--n {} disagrees with the case file's {} cases", *s->n, set.n()));
  }
  if (options.claimed_score) {
    CAIRN_ASSIGN_OR_RETURN(Score claimed, Score::Parse(*options.claimed_score, "--score"));
    size_t dot = options.claimed_score->find('.');
    size_t decimals = dot == std::string::npos ? 0 : options.claimed_score->size() - dot - 1;
    int64_t unit = 1;
    for (size_t i = decimals; i < 9; ++i) unit *= 10;
    int64_t diff = claimed.billionths() - mean.billionths();
    if (2 * std::abs(diff) > unit) {
      return Status::Usage(fmt::format(
          "--score {} disagrees with the mean of the case file, {} over {} cases (cairn computes "
          "it: leave --score out)",
          *options.claimed_score, mean.ToString(), set.n()));
    }
  }
  s->n = set.n();
  s->score = mean;
  return set.Canonical();
}

}  // namespace

// Durability: the attestation record and the report's object records are written in one
// synced batch — an attestation never links a report that is not stored.
Result<Attestation> Attest(Store& store, EvalStatement statement, const PrivateKey& key,
                           const AttestOptions& options) {
  if (store.read_only()) return Status::Internal("attesting needs a writable store");
  CAIRN_RETURN_IF_ERROR(ValidateEvalName(statement.eval));
  // kNotFound "no snapshot …" when it does not exist.
  CAIRN_ASSIGN_OR_RETURN(int64_t created, SnapshotCreatedMicros(store, statement.snapshot));
  CAIRN_ASSIGN_OR_RETURN(TrustState trust, TrustState::Load(store));
  CAIRN_RETURN_IF_ERROR(CheckKeyMaySign(trust, key.id()));
  Db& db = StoreInternal::db(store);
  Batch batch(db);
  if (options.report) {
    CAIRN_ASSIGN_OR_RETURN(statement.report, AddBytesAsObject(batch, *options.report));
  }
  if (options.cases) {
    CAIRN_ASSIGN_OR_RETURN(std::string canonical,
                           SummariseCases(*options.cases, options, &statement));
    CAIRN_ASSIGN_OR_RETURN(statement.cases, AddBytesAsObject(batch, canonical));
  }
  statement.time_micros = store.clock().NowMicros();
  if (statement.time_micros < created) {
    return Status::Conflict(fmt::format(
        "this machine's clock says {}, before snapshot {} was created ({}): an eval result "
        "cannot predate what it is about; fix the clock; nothing changed",
        FormatTime(statement.time_micros), statement.snapshot.Short(), FormatTime(created)));
  }
  statement.actor = options.actor;
  // The store's order, not the attester's clock, says which result is newest.
  CAIRN_ASSIGN_OR_RETURN(auto last, db.Get(Table::kMeta, keys::kLastAttestationSeq));
  uint64_t seq = 1;
  if (last) {
    auto n = keys::DecodeBe64(*last);
    if (!n) return Status::Corruption("the store's last attestation seq is not a be64 number");
    seq = *n + 1;
  }
  statement.seq = seq;
  batch.Put(Table::kMeta, keys::kLastAttestationSeq, keys::EncodeBe64(seq));
  Attestation a;
  a.statement = std::move(statement);
  CAIRN_ASSIGN_OR_RETURN(a.id, a.statement.Hash());
  a.key_id = key.id();
  a.public_key = key.public_key();
  CAIRN_ASSIGN_OR_RETURN(a.signature, key.Sign(AttestationSigningMessage(a.id)));
  CAIRN_ASSIGN_OR_RETURN(std::string value, EncodeAttestationRecord(a));
  batch.Put(Table::kAttestations, AttestationKey(a.statement.snapshot, a.id), value);
  CAIRN_RETURN_IF_ERROR(db.Write(batch, /*sync=*/true));
  return a;
}

namespace {

AttestationCheck JudgeAttestation(const SnapshotId& snapshot, std::string_view key,
                                  std::string_view value, const TrustState& trust) {
  AttestationCheck check;
  auto bad = [&](std::string detail) {
    check.status = SignatureStatus::kBad;
    check.detail = std::move(detail);
    return check;
  };
  auto decoded = DecodeAttestationRecord(key, value);
  if (!decoded.ok()) return bad(decoded.status().message());
  check.attestation = std::move(*decoded);
  const Attestation& a = check.attestation;
  check.names = SignerNames(trust, a.key_id);
  if (a.statement.snapshot != snapshot) {
    return bad(fmt::format("the statement is about snapshot {}, not this one (copied)",
                           a.statement.snapshot.Short()));
  }
  auto hash = a.statement.Hash();
  if (!hash.ok() || *hash != a.id) {
    return bad("the statement does not hash to the attestation's id (altered)");
  }
  SignerVerdict v =
      JudgeSigner(trust, a.key_id, a.public_key, AttestationSigningMessage(a.id), a.signature,
                  "the signature does not verify over the statement (forged or altered)");
  check.status = v.status;
  check.detail = std::move(v.detail);
  check.roles = std::move(v.roles);
  return check;
}

}  // namespace

bool StoreOrderBefore(const EvalStatement& a, const EvalStatement& b) {
  uint64_t sa = a.seq.value_or(0), sb = b.seq.value_or(0);
  if (sa != sb) return sa < sb;
  return a.time_micros < b.time_micros;
}

Result<std::vector<AttestationCheck>> CheckAttestations(const Store& store, const SnapshotId& id,
                                                        const TrustState& trust) {
  std::vector<AttestationCheck> out;
  std::string prefix = AttestationPrefix(id);
  Cursor cur = StoreInternal::db(store).NewCursor(Table::kAttestations);
  for (cur.Seek(prefix); cur.Valid() && cur.key().starts_with(prefix); cur.Next()) {
    out.push_back(JudgeAttestation(id, cur.key(), cur.value(), trust));
  }
  CAIRN_RETURN_IF_ERROR(cur.status());
  std::stable_sort(out.begin(), out.end(),
                   [](const AttestationCheck& a, const AttestationCheck& b) {
                     return StoreOrderBefore(a.attestation.statement, b.attestation.statement);
                   });
  return out;
}

const AttestationCheck* NewestValidEval(const std::vector<AttestationCheck>& checks,
                                        std::string_view eval, const std::optional<Digest>& dataset,
                                        bool match_dataset) {
  const AttestationCheck* best = nullptr;
  for (const auto& c : checks) {
    if (c.status != SignatureStatus::kValid) continue;
    const EvalStatement& s = c.attestation.statement;
    if (s.eval != eval) continue;
    if (match_dataset && s.dataset != dataset) continue;
    if (best == nullptr || !StoreOrderBefore(s, best->attestation.statement)) best = &c;
  }
  return best;
}

}  // namespace cairn

namespace cairn {

namespace {
// Reads `path` piece by piece into `sink`; at most `limit` bytes (kUsage beyond).
Status ReadFileInPieces(const std::string& path, uint64_t limit,
                        const std::function<void(std::string_view)>& sink) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  std::string buf(1 << 20, '\0');
  uint64_t total = 0;
  Status s;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s = ErrnoStatus("read", path, errno);
      break;
    }
    if (n == 0) break;
    total += static_cast<uint64_t>(n);
    if (total > limit) {
      s = Status::Usage(fmt::format("{} is larger than {} bytes", path, limit));
      break;
    }
    sink(std::string_view(buf.data(), static_cast<size_t>(n)));
  }
  ::close(fd);
  return s;
}
}  // namespace

Result<Attestation> GetAttestation(const Store& store, const SnapshotId& snapshot,
                                   const Digest& id) {
  std::string key = AttestationKey(snapshot, id);
  CAIRN_ASSIGN_OR_RETURN(auto value, StoreInternal::db(store).Get(Table::kAttestations, key));
  if (!value) {
    return Status::NotFound(
        fmt::format("no attestation {} on snapshot {}", id.Hex().substr(0, 12), snapshot.Short()));
  }
  return DecodeAttestationRecord(key, *value);
}

Result<EvalCaseSet> LoadEvalCases(const Store& store, const EvalStatement& statement) {
  if (!statement.cases) {
    return Status::NotFound(
        fmt::format("the attestation on {} has no per-case results", statement.eval));
  }
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, ReadObject(store, *statement.cases));
  std::string what = "case file " + statement.cases->ToString().substr(0, 19);
  auto set = ParseEvalCases(bytes, what);
  if (!set.ok()) return Status::Corruption(set.status().message());
  CAIRN_ASSIGN_OR_RETURN(std::string canonical, set->Canonical());
  if (canonical != bytes) return Status::Corruption(what + " is not in canonical form");
  return set;
}

Result<Digest> DatasetDigest(const std::string& file_or_digest) {
  if (file_or_digest.rfind("sha256:", 0) == 0) {
    auto d = Digest::Parse(file_or_digest);
    if (!d.ok()) {
      return Status::Usage(
          fmt::format("--dataset: \"{}\" is not a digest (sha256:<64 hex>)", file_or_digest));
    }
    return *d;
  }
  Sha256 h;
  CAIRN_RETURN_IF_ERROR(ReadFileInPieces(file_or_digest, UINT64_MAX, [&](std::string_view piece) {
                          h.Update(piece);
                        }).WithContext("--dataset"));
  return h.Finish();
}

Result<std::string> ReadReportFile(const std::string& path) {
  std::string data;
  CAIRN_RETURN_IF_ERROR(ReadFileInPieces(path, kMaxReportBytes, [&](std::string_view piece) {
                          data.append(piece);
                        }).WithContext("--report"));
  return data;
}

}  // namespace cairn
