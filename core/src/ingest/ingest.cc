// Snapshot creation: scan, hash and validate (pass 1, writes nothing), store objects
// (pass 2), then commit the snapshot record in one synced batch. A release is a directory
// (files read through fds from the scanned root) or a commit's tree in a git repository
// (blobs read from its object database, one GitRepository per worker).
#include "cairn/ingest.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <span>

#include "cairn/object.h"
#include "cairn/trust.h"
#include "ingest/git_scan.h"
#include "ingest/release_scan.h"
#include "ingest/stat_cache.h"
#include "ingest/validators.h"
#include "port/git_repository.h"
#include "port/zstd_codec.h"
#include "snapshot/snapshot_records.h"
#include "store/object_codec.h"
#include "store/schema.h"
#include "store/store_internal.h"
#include "trust/signature_records.h"
#include "util/crash_point.h"
#include "util/fs_util.h"
#include "util/parallel.h"

namespace cairn {
namespace {

// Text and JSON files are validated in memory; larger ones are refused.
constexpr uint64_t kMaxTextFile = 16ull << 20;
// Object writes are grouped into batches of about this many bytes.
constexpr size_t kBatchBytes = 8ull << 20;
// When the new objects add up to at most this many bytes (before compression), they are
// written in the snapshot's own synced batch instead of being flushed separately: one
// fsynced log write instead of table and blob files for a handful of changed files.
constexpr uint64_t kInlineCommitBytes = 8ull << 20;
// Git blobs above this size are read one at a time: a packed blob is held whole in memory
// while it is read, so this bounds a snapshot's memory to about one big blob plus this
// much per worker.
constexpr uint64_t kBigGitBlob = 64ull << 20;

bool IsOpaque(const ReleaseFile& f) {
  return !f.is_snapshot_json && ValidatorFor(f.kind, f.path, !f.knowledge_base.empty()) == nullptr;
}

// Reads the whole of `fd` (at most `limit` bytes; more is an error) into *out.
Status ReadAll(int fd, const std::string& path, uint64_t limit, std::string* out) {
  out->clear();
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read", path, errno);
    if (n == 0) return Status::OK();
    out->append(buf, static_cast<size_t>(n));
    if (out->size() > limit) {
      return Status::Conflict(fmt::format("{} grew while it was being read; try again", path));
    }
  }
}

// Fills `buf` with up to its capacity; returns bytes read (0 = end of file).
Result<size_t> ReadChunk(int fd, const std::string& path, std::string* buf) {
  size_t have = 0;
  while (have < buf->size()) {
    ssize_t n = ::read(fd, buf->data() + have, buf->size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read", path, errno);
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  return have;
}

// One read buffer per worker thread, allocated once (not once per file).
std::string& ChunkBuffer() {
  thread_local std::string buf(kChunkSize, '\0');
  return buf;
}

// Fills `buf` from `reader` up to its capacity; returns bytes read (0 = end of the blob).
Result<size_t> ReadChunk(GitBlobReader& reader, std::string* buf) {
  size_t have = 0;
  while (have < buf->size()) {
    CAIRN_ASSIGN_OR_RETURN(size_t n, reader.Read(buf->data() + have, buf->size() - have));
    if (n == 0) break;
    have += n;
  }
  return have;
}

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  int get() const { return fd_; }

 private:
  int fd_;
};

struct FileState {
  Digest digest;
  Json facts = Json::object();
  std::optional<Json> tree;  // snapshot.json only: read again for the app and labels
  // A valid knowledge manifest's documents (path -> digest), for the cross-check with the
  // document files; kept instead of its whole tree.
  std::map<std::string, std::string> listed_documents;
  std::vector<Problem> problems;
  StatFingerprint fingerprint;
  bool from_cache = false;
  // Timestamps at least kRacyWindowNs older than the hash and unchanged while it was read:
  // the same fingerprint later means the same bytes (the stat cache's rule).
  bool stable = false;
  // Stable and opaque: recorded in the stat cache (git: an opaque blob whose bytes were read
  // and checked against its id, recorded by blob id).
  bool cacheable = false;
  int64_t hashed_at_ns = 0;
  // An opaque blob of a git release, read once: hashed while it is stored (pass 2).
  bool deferred = false;
};

// A small pool so each worker reuses a zstd context instead of making one per file.
class CompressorPool {
 public:
  explicit CompressorPool(int level) : level_(level) {}
  std::unique_ptr<Compressor> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) return std::make_unique<Compressor>(level_);
    auto c = std::move(free_.back());
    free_.pop_back();
    return c;
  }
  void Give(std::unique_ptr<Compressor> c) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(c));
  }

 private:
  int level_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Compressor>> free_;
};

// A compressor taken from the pool for one scope, given back when the scope ends.
class CompressorLease {
 public:
  explicit CompressorLease(CompressorPool& pool) : pool_(pool), compressor_(pool.Take()) {}
  ~CompressorLease() { pool_.Give(std::move(compressor_)); }
  CompressorLease(const CompressorLease&) = delete;
  CompressorLease& operator=(const CompressorLease&) = delete;
  Compressor& operator*() { return *compressor_; }

 private:
  CompressorPool& pool_;
  std::unique_ptr<Compressor> compressor_;
};

// Open repositories for the workers: libgit2 objects are used from one thread at a time,
// so each worker takes one (opened at the same git directory) and gives it back.
class RepositoryPool {
 public:
  void Init(std::unique_ptr<GitRepository> first) {
    git_dir_ = first->git_dir();
    free_.push_back(std::move(first));
  }
  Result<std::unique_ptr<GitRepository>> Take() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        auto r = std::move(free_.back());
        free_.pop_back();
        return r;
      }
    }
    return GitRepository::Open(git_dir_);
  }
  void Give(std::unique_ptr<GitRepository> r) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(r));
  }
  const std::string& git_dir() const { return git_dir_; }

 private:
  std::string git_dir_;
  std::mutex mu_;
  std::vector<std::unique_ptr<GitRepository>> free_;
};

class Ingest {
 public:
  // `store` may be null for validation only (ScanAndValidate without the stat cache).
  Ingest(Store* store, const CreateSnapshotOptions& options)
      : store_(store),
        db_(store ? &StoreInternal::db(*store) : nullptr),
        options_(options),
        pool_(options.compression_level) {}

  Result<CreateSnapshotResult> Run(std::vector<Problem>* problems) {
    if (store_ == nullptr || store_->read_only())
      return Status::Internal("CreateSnapshot needs a writable store");
    if (options_.message.empty()) {
      return Status::Usage("a snapshot needs a message (-m MSG): say what changed and why");
    }
    CAIRN_RETURN_IF_ERROR(ScanAndValidate(problems));
    Trace("hash+validate");
    if (!problems->empty()) {
      return Status::InvalidInput(fmt::format("{} is not a valid release: {} problem{}", Shown(),
                                              problems->size(), problems->size() == 1 ? "" : "s"));
    }
    CAIRN_ASSIGN_OR_RETURN(std::string app, ResolveApp());
    if (options_.sign_with != nullptr) {
      CAIRN_ASSIGN_OR_RETURN(TrustState trust, TrustState::Load(*store_));
      CAIRN_RETURN_IF_ERROR(CheckKeyMaySign(trust, options_.sign_with->id()));
    }
    CAIRN_RETURN_IF_ERROR(StoreObjects());
    Trace("store objects");
    if (deferred_) {
      // The digests of a git release's documents are known only now (*problems is empty).
      CrossCheckKnowledge(problems);
      if (!problems->empty()) {
        FinishProblems(problems);
        Status undo = RemoveWrittenObjects();
        return Status::InvalidInput(fmt::format(
            "{} is not a valid release: {} problem{}{}", Shown(), problems->size(),
            problems->size() == 1 ? "" : "s",
            undo.ok() ? ""
                      : fmt::format(" (the objects stored for it could not be removed: {})",
                                    undo.message())));
      }
    }
    auto result = Commit(app);
    Trace("commit");
    return result;
  }

  // Pass 1: everything that can be checked without writing.
  Status ScanAndValidate(std::vector<Problem>* problems) {
    if (options_.git) {
      CAIRN_RETURN_IF_ERROR(ScanGit(problems));
    } else {
      CAIRN_RETURN_IF_ERROR(ScanRelease(options_.dir, &tree_, problems));
    }
    Trace("scan");
    states_.resize(tree_.files.size());
    for (const auto& f : tree_.files) bytes_total_ += f.size;
    // snapshot.json first: its "templates" says how the prompts are read.
    std::optional<size_t> snapshot_json;
    for (size_t i = 0; i < tree_.files.size(); ++i) {
      if (tree_.files[i].is_snapshot_json) snapshot_json = i;
    }
    if (snapshot_json) {
      CAIRN_RETURN_IF_ERROR(HashAndValidate(*snapshot_json));
      const std::optional<Json>& t = states_[*snapshot_json].tree;
      if (t && t->is_object() && t->contains("templates") && (*t)["templates"].is_string()) {
        templates_ = ParseTemplateDialect((*t)["templates"].get<std::string>())
                         .value_or(TemplateDialect::kMustache);
      }
    }
    CAIRN_RETURN_IF_ERROR(LookUpCaches());
    Trace("stat cache");
    CAIRN_RETURN_IF_ERROR(ParallelFor(
        tree_.files.size(), options_.threads,
        [&](size_t i) { return i == snapshot_json ? Status::OK() : HashAndValidate(i); },
        [&] { Report("checking", files_done_, tree_.files.size()); }));
    for (auto& s : states_) {
      for (auto& p : s.problems) problems->push_back(std::move(p));
      deferred_ = deferred_ || s.deferred;
    }
    size_t components = 0;
    for (const auto& f : tree_.files) components += f.is_snapshot_json ? 0 : 1;
    if (components == 0 && problems->empty()) {
      problems->push_back(
          Problem{"", "", "empty-release",
                  "the release has no prompts, models, tools, knowledge or config"});
    }
    if (deferred_ && !problems->empty()) {
      // The release is refused anyway: hash the deferred blobs (nothing is stored) so that
      // every problem is reported at once.
      std::vector<size_t> todo;
      for (size_t i = 0; i < states_.size(); ++i) {
        if (states_[i].deferred) todo.push_back(i);
      }
      CAIRN_RETURN_IF_ERROR(ParallelFor(
          todo.size(), options_.threads,
          [&](size_t k) {
            if (options_.git) return HashGitBlob(todo[k]);
            states_[todo[k]].deferred = false;
            return HashFile(todo[k]);
          },
          [&] { Report("checking", files_done_, tree_.files.size()); }));
      deferred_ = false;
    }
    if (!deferred_) CrossCheckKnowledge(problems);
    FinishProblems(problems);
    return Status::OK();
  }

 private:
  // CAIRN_TRACE_PERF=1 prints how long each phase took (stderr), like GIT_TRACE_PERFORMANCE.
  void Trace(const char* phase) {
    static const bool enabled = std::getenv("CAIRN_TRACE_PERF") != nullptr;
    if (!enabled) return;
    auto now = std::chrono::steady_clock::now();
    auto ms = std::chrono::duration<double, std::milli>(now - trace_start_).count();
    fmt::print(stderr, "cairn: perf: {:<20} {:8.1f} ms\n", phase, ms);
    trace_start_ = now;
  }

  // A git release's problems are named by their path in the commit's tree; all are sorted
  // by path.
  void FinishProblems(std::vector<Problem>* problems) const {
    if (!subdir_.empty()) {
      for (auto& p : *problems) p.path = p.path.empty() ? subdir_ : subdir_ + "/" + p.path;
    }
    std::stable_sort(problems->begin(), problems->end(),
                     [](const Problem& a, const Problem& b) { return a.path < b.path; });
  }

  // How the release is named in messages: the directory as given, or REPO@<commit>[:SUBDIR].
  const std::string& Shown() const { return options_.git ? tree_.root : options_.dir; }

  // Resolves the revision once and lists the commit's tree; tree_.root names the release in
  // messages as REPO@<commit>[:SUBDIR].
  Status ScanGit(std::vector<Problem>* problems) {
    const GitReleaseSource& g = *options_.git;
    if (g.repo.empty()) return Status::Usage("--git needs a repository path");
    CAIRN_ASSIGN_OR_RETURN(subdir_, NormalizeGitSubdir(g.subdir));
    CAIRN_ASSIGN_OR_RETURN(auto repo, GitRepository::Open(g.repo));
    CAIRN_ASSIGN_OR_RETURN(commit_, repo->ResolveCommit(g.rev));
    tree_.root = fmt::format("{}@{}{}", g.repo, commit_.id.substr(0, 12),
                             subdir_.empty() ? "" : ":" + subdir_);
    CAIRN_RETURN_IF_ERROR(ScanGitRelease(*repo, commit_, subdir_, &tree_, problems));
    repos_.Init(std::move(repo));
    return Status::OK();
  }

  Json GitSourceJson() const {
    return Json{{"type", "git"},
                {"repo", options_.git->repo},
                {"path", repos_.git_dir()},
                {"commit", commit_.id},
                {"ref", commit_.ref.empty() ? Json() : Json(commit_.ref)},
                {"subdir", subdir_},
                {"signed", commit_.has_signature}};
  }

  void Report(const char* phase, uint64_t done, uint64_t total) {
    if (!options_.progress) return;
    options_.progress->Update(ProgressUpdate{phase, done, total, bytes_done_.load(), bytes_total_});
  }

  Status HashAndValidate(size_t i) {
    if (options_.git) return HashAndValidateGit(i);
    const ReleaseFile& f = tree_.files[i];
    FileState& st = states_[i];
    bool opaque = IsOpaque(f);
    if (st.from_cache) {
      ++files_done_;
      bytes_done_ += f.size;
      return Status::OK();
    }
    if (opaque && store_ != nullptr) {
      // Creating a snapshot, an opaque file is read once, in pass 2, hashed as it is stored;
      // validating, it is hashed now.
      if (!f.knowledge_base.empty()) st.facts["knowledge_base"] = f.knowledge_base;
      st.deferred = true;
      ++files_done_;
      return Status::OK();
    }
    return HashFile(i);
  }

  // Reads file i of a directory release: an opaque file is hashed, a text file hashed and
  // validated; its fingerprint says whether the stat cache may record it.
  Status HashFile(size_t i) {
    const ReleaseFile& f = tree_.files[i];
    FileState& st = states_[i];
    bool opaque = IsOpaque(f);
    CAIRN_ASSIGN_OR_RETURN(int raw_fd, OpenReleaseFile(tree_, f));
    FdCloser fd(raw_fd);
    std::string full = tree_.root + "/" + f.path;
    struct stat before {};
    if (::fstat(fd.get(), &before) != 0) return ErrnoStatus("stat", full, errno);
    st.hashed_at_ns = RealtimeNowNs();
    uint64_t read = 0;
    if (opaque) {
      Sha256 h;
      std::string& buf = ChunkBuffer();
      for (;;) {
        CAIRN_ASSIGN_OR_RETURN(size_t n, ReadChunk(fd.get(), full, &buf));
        if (n == 0) break;
        h.Update(buf.data(), n);
        read += n;
        bytes_done_ += n;
      }
      st.digest = h.Finish();
    } else {
      if (static_cast<uint64_t>(before.st_size) > kMaxTextFile) {
        st.problems.push_back(TooLargeText(f.path, before.st_size));
        ++files_done_;
        return Status::OK();
      }
      std::string bytes;
      CAIRN_RETURN_IF_ERROR(ReadAll(fd.get(), full, kMaxTextFile, &bytes));
      read = bytes.size();
      bytes_done_ += read;
      ValidateText(f, bytes, &st);
    }
    struct stat after {};
    if (::fstat(fd.get(), &after) != 0) return ErrnoStatus("stat", full, errno);
    st.fingerprint = StatFingerprint::Of(before);
    if (!(StatFingerprint::Of(after) == st.fingerprint) ||
        read != static_cast<uint64_t>(before.st_size)) {
      return Status::Conflict(fmt::format("{} changed while it was being read; try again", full));
    }
    if (!f.knowledge_base.empty()) st.facts["knowledge_base"] = f.knowledge_base;
    st.stable = StableEnoughToCache(st.fingerprint, StatFingerprint::Of(after), st.hashed_at_ns);
    st.cacheable = opaque && st.stable;
    ++files_done_;
    return Status::OK();
  }

  static Problem TooLargeText(const std::string& path, uint64_t size) {
    return Problem{path, "", "too-large",
                   fmt::format("{} bytes: text and JSON files are limited to {} MiB", size,
                               kMaxTextFile >> 20)};
  }

  // Digest, facts and problems of a text or JSON file whose bytes are `bytes`.
  void ValidateText(const ReleaseFile& f, const std::string& bytes, FileState* st) const {
    st->digest = Digest::Of(bytes);
    const KindValidator& v =
        f.is_snapshot_json ? SnapshotJsonValidator()
                           : *ValidatorFor(f.kind, f.path, !f.knowledge_base.empty(), templates_);
    Validated out = v.Validate(f.path, bytes, &st->problems);
    st->facts = std::move(out.facts);
    // Trees are freed here, so memory does not add up over the files: only snapshot.json's
    // is kept, and what a knowledge manifest lists.
    if (f.is_snapshot_json) st->tree = std::move(out.tree);
    bool manifest = f.kind == ComponentKind::kKnowledge && f.knowledge_base.empty();
    if (manifest && out.tree && !st->facts.empty()) {
      for (const auto& d : (*out.tree)["documents"]) {
        st->listed_documents[d["path"].get<std::string>()] = d["digest"].get<std::string>();
      }
    }
  }

  // A repository from the pool, given back when the lease ends.
  class RepositoryLease {
   public:
    RepositoryLease(RepositoryPool& pool, std::unique_ptr<GitRepository> repo)
        : pool_(pool), repo_(std::move(repo)) {}
    ~RepositoryLease() { pool_.Give(std::move(repo_)); }
    GitRepository& operator*() { return *repo_; }
    GitRepository* operator->() { return repo_.get(); }

   private:
    RepositoryPool& pool_;
    std::unique_ptr<GitRepository> repo_;
  };

  Result<std::unique_ptr<GitBlobReader>> OpenGitBlob(GitRepository& repo, const ReleaseFile& f) {
    CAIRN_ASSIGN_OR_RETURN(auto reader, repo.OpenBlob(f.git_oid, kMaxGitBlobBytes));
    if (reader->size() != f.size) {
      return Status::Corruption(fmt::format("{}/{}: blob {} is {} bytes, its tree listed {}",
                                            tree_.root, f.path, f.git_oid, reader->size(), f.size));
    }
    return reader;
  }

  // Opens file f's blob from a pooled repository (blobs above kBigGitBlob one at a time)
  // and hands the reader to `use`; the reader checks the bytes against the blob id.
  Status WithGitBlob(const ReleaseFile& f, const std::function<Status(GitBlobReader&)>& use) {
    CAIRN_ASSIGN_OR_RETURN(auto taken, repos_.Take());
    RepositoryLease repo(repos_, std::move(taken));
    std::unique_lock<std::mutex> big(big_blob_mu_, std::defer_lock);
    if (f.size > kBigGitBlob) big.lock();
    CAIRN_ASSIGN_OR_RETURN(auto reader, OpenGitBlob(*repo, f));
    return use(*reader);
  }

  // Pass 1 for a git release: the size is known from the blob's header, so a file above a
  // limit is refused unread. Blobs cannot change, so the blob-id cache stands in for the
  // stat cache.
  Status HashAndValidateGit(size_t i) {
    const ReleaseFile& f = tree_.files[i];
    FileState& st = states_[i];
    bool opaque = IsOpaque(f);
    if (!opaque && f.size > kMaxTextFile) {
      st.problems.push_back(TooLargeText(f.path, f.size));
      ++files_done_;
      return Status::OK();
    }
    if (f.size > kMaxGitBlobBytes) {
      st.problems.push_back(Problem{
          f.path, "", "too-large",
          fmt::format("{} bytes: files of a git release are limited to {} MiB (a packed blob is "
                      "read whole into memory); snapshot a checkout of the commit as a "
                      "directory instead",
                      f.size, kMaxGitBlobBytes >> 20)});
      ++files_done_;
      return Status::OK();
    }
    if (opaque) {
      if (!f.knowledge_base.empty()) st.facts["knowledge_base"] = f.knowledge_base;
      if (st.from_cache) {
        ++files_done_;
        bytes_done_ += f.size;
        return Status::OK();
      }
      st.cacheable = true;
      // Creating a snapshot, an opaque blob is read once, in pass 2, hashed as it is stored
      // (inflating a blob costs more than hashing it); validating, it is hashed now.
      st.deferred = store_ != nullptr;
      if (!st.deferred) CAIRN_RETURN_IF_ERROR(HashGitBlob(i));
      ++files_done_;
      return Status::OK();
    }
    CAIRN_RETURN_IF_ERROR(WithGitBlob(f, [&](GitBlobReader& reader) -> Status {
      std::string bytes(f.size, '\0');
      CAIRN_ASSIGN_OR_RETURN(size_t n, ReadChunk(reader, &bytes));
      if (n != f.size) return Status::Internal("short read of a git blob");
      bytes_done_ += n;
      ValidateText(f, bytes, &st);
      return Status::OK();
    }));
    if (!f.knowledge_base.empty()) st.facts["knowledge_base"] = f.knowledge_base;
    ++files_done_;
    return Status::OK();
  }

  // The digest of opaque blob i, read without storing it.
  Status HashGitBlob(size_t i) {
    return WithGitBlob(tree_.files[i], [&](GitBlobReader& reader) -> Status {
      Sha256 h;
      std::string& buf = ChunkBuffer();
      for (;;) {
        CAIRN_ASSIGN_OR_RETURN(size_t n, ReadChunk(reader, &buf));
        if (n == 0) break;
        h.Update(buf.data(), n);
        bytes_done_ += n;
      }
      states_[i].digest = h.Finish();
      states_[i].deferred = false;
      return Status::OK();
    });
  }

  // Pass 1's cache lookups, for every opaque file before the workers start, batched
  // (Db::GetMany): the stat cache entry by path (a git release: the blob-id entry), then the
  // object each matching entry names. A file is taken from the cache only if its entry still
  // describes it (stat_cache.h: the racy-clean rule) and its object is whole in the store;
  // every other file is read and hashed.
  Status LookUpCaches() {
    if (store_ == nullptr || !options_.use_stat_cache) return Status::OK();
    std::vector<size_t> opaque;
    for (size_t i = 0; i < tree_.files.size(); ++i) {
      const ReleaseFile& f = tree_.files[i];
      // A git blob above the size limit is refused in pass 1, cached or not.
      if (IsOpaque(f) && !(options_.git && f.size > kMaxGitBlobBytes)) opaque.push_back(i);
    }
    // Batches bound the keys and values held at once, and let the workers share the reads.
    constexpr size_t kBatch = 1024;
    size_t batches = (opaque.size() + kBatch - 1) / kBatch;
    return ParallelFor(batches, options_.threads, [&](size_t b) {
      size_t begin = b * kBatch;
      return LookUpCacheBatch(
          std::span<const size_t>(opaque.data() + begin, std::min(kBatch, opaque.size() - begin)));
    });
  }

  Status LookUpCacheBatch(std::span<const size_t> files) {
    std::vector<std::string> keys;
    keys.reserve(files.size());
    for (size_t i : files) {
      const ReleaseFile& f = tree_.files[i];
      keys.push_back(options_.git ? GitBlobCacheKey(f.git_oid) : StatCacheKey(tree_.root, f.path));
    }
    CAIRN_ASSIGN_OR_RETURN(auto entries, ReadCacheEntries(keys));
    std::vector<std::pair<size_t, Digest>> matched;
    keys.clear();
    for (size_t k = 0; k < files.size(); ++k) {
      if (!entries[k]) continue;
      std::optional<Digest> digest = CachedDigest(tree_.files[files[k]], *entries[k]);
      if (!digest) continue;
      matched.emplace_back(files[k], *digest);
      keys.push_back(ObjectKey(*digest));
    }
    CAIRN_ASSIGN_OR_RETURN(auto present, db_->GetMany(Table::kObjectMeta, keys));
    for (size_t k = 0; k < matched.size(); ++k) {
      auto [i, digest] = matched[k];
      if (!present[k]) continue;
      const ReleaseFile& f = tree_.files[i];
      if (f.size == kChunkSize) {
        CAIRN_ASSIGN_OR_RETURN(bool broken, NamesItself(digest));
        if (broken) continue;
      }
      FileState& st = states_[i];
      st.digest = digest;
      st.from_cache = true;
      if (!f.knowledge_base.empty()) st.facts["knowledge_base"] = f.knowledge_base;
    }
    return Status::OK();
  }

  // The stat cache entries under `keys`. A directory's keys (root/path) come in key order,
  // as the files are sorted by path: one cursor walks them, merging, which reads each table
  // block once without a lookup per key; blob ids are read with one MultiGet.
  Result<std::vector<std::optional<std::string>>> ReadCacheEntries(
      const std::vector<std::string>& keys) const {
    if (options_.git || !std::is_sorted(keys.begin(), keys.end())) {
      return db_->GetMany(Table::kStatCache, keys);
    }
    std::vector<std::optional<std::string>> out(keys.size());
    if (keys.empty()) return out;
    Cursor c = db_->NewCursor(Table::kStatCache);
    size_t k = 0;
    for (c.Seek(keys.front()); c.Valid() && k < keys.size(); c.Next()) {
      while (k < keys.size() && keys[k] < c.key()) ++k;
      if (k < keys.size() && keys[k] == c.key()) out[k++] = std::string(c.value());
    }
    CAIRN_RETURN_IF_ERROR(c.status());
    return out;
  }

  // The digest a stat cache entry gives file f, if the entry still stands for it. A blob id
  // names its bytes: a blob read and checked once (by this store, on this host) need not be
  // read again while the object it became is in the store.
  std::optional<Digest> CachedDigest(const ReleaseFile& f, std::string_view entry) const {
    if (!options_.git) return MatchStatCacheEntry(entry, StatFingerprint::Of(f.st));
    if (entry.size() != Digest::kSize) return std::nullopt;
    auto digest = Digest::FromRaw(entry);
    if (!digest.ok()) return std::nullopt;
    return *digest;
  }

  void CrossCheckKnowledge(std::vector<Problem>* problems) {
    // knowledge base name -> (document path -> digest), for manifests that parsed.
    std::map<std::string, std::map<std::string, std::string>> listed;
    std::set<std::string> broken;  // manifests present but invalid: skip their documents
    for (size_t i = 0; i < tree_.files.size(); ++i) {
      const ReleaseFile& f = tree_.files[i];
      if (f.kind != ComponentKind::kKnowledge || !f.knowledge_base.empty()) continue;
      std::string name = f.path.substr(10, f.path.size() - 10 - 5);  // knowledge/<name>.json
      const FileState& st = states_[i];
      if (st.facts.empty()) {
        broken.insert(name);
        continue;
      }
      listed[name] = st.listed_documents;
    }
    for (size_t i = 0; i < tree_.files.size(); ++i) {
      const ReleaseFile& f = tree_.files[i];
      if (f.knowledge_base.empty() || broken.contains(f.knowledge_base)) continue;
      auto kb = listed.find(f.knowledge_base);
      if (kb == listed.end()) {
        problems->push_back(Problem{f.path, "", "unlisted-document",
                                    fmt::format("there is no manifest knowledge/{}.json for the "
                                                "documents in knowledge/{}/",
                                                f.knowledge_base, f.knowledge_base)});
        continue;
      }
      std::string rel = f.path.substr(11 + f.knowledge_base.size());
      auto doc = kb->second.find(rel);
      if (doc == kb->second.end()) {
        problems->push_back(
            Problem{f.path, "", "unlisted-document",
                    fmt::format("knowledge/{}.json does not list \"{}\"", f.knowledge_base, rel)});
      } else if (doc->second != states_[i].digest.ToString()) {
        problems->push_back(
            Problem{f.path, "", "digest-mismatch",
                    fmt::format("the file hashes to {} but knowledge/{}.json says {}",
                                states_[i].digest.ToString(), f.knowledge_base, doc->second)});
      }
    }
  }

  Result<std::string> ResolveApp() {
    std::string app = options_.app;
    if (app.empty()) {
      for (size_t i = 0; i < tree_.files.size(); ++i) {
        if (tree_.files[i].is_snapshot_json && states_[i].tree) {
          app = states_[i].tree->value("app", "");
        }
      }
    }
    if (app.empty()) {
      return Status::Usage(
          fmt::format("{}: no app name: set \"app\" in snapshot.json or pass --app NAME", Shown()));
    }
    if (!IsValidAppName(app)) {
      return Status::Usage(
          fmt::format("app name \"{}\" is not allowed: use [a-z0-9][a-z0-9._-]{{0,63}}", app));
    }
    return app;
  }

  // Stores before this check wrote a file of exactly one chunk as a chunked record listing
  // only its own digest, which replaced the chunk: its bytes are gone from the store. Such a
  // record is treated as absent, so the file is stored again (and the object healed).
  Result<bool> NamesItself(const Digest& digest) const {
    CAIRN_ASSIGN_OR_RETURN(auto value, db_->Get(Table::kObjects, ObjectKey(digest)));
    if (!value) return false;
    auto record = DecodeObjectRecord(digest, *value);
    return !record.ok() || (record->encoding == ObjectEncoding::kChunked &&
                            record->chunks.size() == 1 && record->chunks[0] == digest);
  }

  // Pass 2: every object not yet in the store, verified against pass 1's digest.
  Status StoreObjects() {
    std::map<Digest, size_t> unique;
    // Deferred files: git blobs by blob id (a blob read once serves every file that has it),
    // directory files by path.
    std::map<std::string, size_t> unique_blobs;
    for (size_t i = 0; i < tree_.files.size(); ++i) {
      if (states_[i].from_cache) continue;
      if (states_[i].deferred) {
        unique_blobs.emplace(DeferredKey(i), i);
      } else {
        unique.emplace(states_[i].digest, i);
      }
    }
    std::vector<size_t> todo;
    uint64_t todo_bytes = 0;
    for (const auto& [oid, i] : unique_blobs) {  // whether they are new is known only later
      todo.push_back(i);
      todo_bytes += tree_.files[i].size;
    }
    for (const auto& [digest, i] : unique) {
      CAIRN_ASSIGN_OR_RETURN(bool present, HasObject(*store_, digest));
      if (present && tree_.files[i].size == kChunkSize) {
        CAIRN_ASSIGN_OR_RETURN(bool broken, NamesItself(digest));
        present = !broken;
      }
      if (!present) {
        todo.push_back(i);
        todo_bytes += tree_.files[i].size;
      }
    }
    if (todo_bytes <= kInlineCommitBytes) commit_batch_.emplace(*db_);
    files_done_ = 0;
    bytes_done_ = 0;
    CAIRN_RETURN_IF_ERROR(ParallelFor(
        todo.size(), options_.threads, [&](size_t k) { return StoreFile(todo[k]); },
        [&] { Report("storing", files_done_, todo.size()); }));
    if (!todo.empty() && !commit_batch_) {
      CAIRN_RETURN_IF_ERROR(db_->Flush({Table::kObjects, Table::kObjectMeta}));
      CAIRN_CRASH_POINT("ingest.objects-stored");
    }
    // Files with the same blob as one that was read have its digest.
    for (size_t i = 0; i < tree_.files.size(); ++i) {
      if (!states_[i].deferred) continue;
      size_t first = unique_blobs.at(DeferredKey(i));
      if (first != i) states_[i].digest = states_[first].digest;
    }
    for (auto& st : states_) st.deferred = false;
    return Status::OK();
  }

  const std::string& DeferredKey(size_t i) const {
    return options_.git ? tree_.files[i].git_oid : tree_.files[i].path;
  }

  // Undoes StoreObjects for a release refused after it (a git release whose documents do
  // not match their manifest): the objects it added, and only those, are deleted in one
  // synced batch. Objects still in the snapshot's own batch were never written.
  Status RemoveWrittenObjects() {
    if (commit_batch_) {
      commit_batch_.reset();
      return Status::OK();
    }
    Batch batch(*db_);
    for (const Digest& d : written_) {
      batch.Delete(Table::kObjects, ObjectKey(d));
      batch.Delete(Table::kObjectMeta, ObjectKey(d));
    }
    return db_->Write(batch, /*sync=*/true);
  }

  void NoteWritten(const Digest& d) {
    std::lock_guard<std::mutex> lock(written_mu_);
    written_.push_back(d);
  }

  Status StoreFile(size_t i) {
    const ReleaseFile& f = tree_.files[i];
    std::string full = tree_.root + "/" + f.path;
    if (options_.git) {
      // The reader checks the bytes against the blob id, so they are the bytes pass 1
      // validated; a deferred blob is hashed here.
      return WithGitBlob(f, [&](GitBlobReader& reader) {
        return StoreObject(
            i, f.size, states_[i].deferred,
            [&](std::string* buf) { return ReadChunk(reader, buf); },
            [&] {
              return Status::Corruption(fmt::format(
                  "{}: blob {} is not the size its tree said; the repository may be damaged "
                  "(git fsck names the damage)",
                  full, f.git_oid));
            });
      });
    }
    CAIRN_ASSIGN_OR_RETURN(int raw_fd, OpenReleaseFile(tree_, f));
    FdCloser fd(raw_fd);
    FileState& st = states_[i];
    auto changed = [&] {
      return Status::Conflict(
          fmt::format("{} changed while the snapshot was being taken; try again", full));
    };
    auto read = [&](std::string* buf) { return ReadChunk(fd.get(), full, buf); };
    struct stat now {};
    if (::fstat(fd.get(), &now) != 0) return ErrnoStatus("stat", full, errno);
    if (st.deferred) {
      // Hashed here, as pass 1 would have: the stat cache may record the file only if its
      // fingerprint held still from before the read began to after it ended, and its
      // timestamps were already older than the racy window then.
      st.fingerprint = StatFingerprint::Of(now);
      st.hashed_at_ns = RealtimeNowNs();
      CAIRN_RETURN_IF_ERROR(StoreObject(i, st.fingerprint.size, /*verify=*/true, read, changed));
      struct stat after {};
      if (::fstat(fd.get(), &after) != 0) return ErrnoStatus("stat", full, errno);
      if (!(StatFingerprint::Of(after) == st.fingerprint)) return changed();
      st.stable = StableEnoughToCache(st.fingerprint, StatFingerprint::Of(after), st.hashed_at_ns);
      st.cacheable = st.stable;
      return Status::OK();
    }
    // A file whose fingerprint is unchanged since a stable pass-1 read holds the bytes that
    // were hashed then; anything else is re-hashed and compared before it is committed.
    bool verify = !(st.stable && StatFingerprint::Of(now) == st.fingerprint);
    return StoreObject(i, st.fingerprint.size, verify, read, changed);
  }

  // Reads file i through `fill` (which fills a buffer and returns how many bytes it put
  // there, 0 at the end) and adds its object and any new chunks to the store. The bytes
  // must be `size` long and, when `verify`, hash to pass 1's digest; otherwise `changed()`
  // is the error.
  Status StoreObject(size_t i, uint64_t expected_size, bool verify,
                     const std::function<Result<size_t>(std::string*)>& fill,
                     const std::function<Status()>& changed) {
    const bool deferred = states_[i].deferred;  // no digest yet: computed here
    Digest& expected = states_[i].digest;
    CompressorLease compressor(pool_);
    Batch batch(*db_);
    std::string& buf = ChunkBuffer();
    std::string record;
    Sha256 whole;
    std::vector<Digest> chunks;
    uint64_t size = 0;
    bool whole_in_buf = false;
    auto flush = [&]() -> Status {
      if (batch.Count() == 0) return Status::OK();
      Status s;
      if (commit_batch_) {
        std::lock_guard<std::mutex> lock(commit_mu_);
        s = commit_batch_->Append(batch);
      } else {
        s = db_->Write(batch, /*sync=*/false, /*no_wal=*/true);
      }
      batch.Clear();
      return s;
    };
    Status status;
    for (;;) {
      auto n = fill(&buf);
      if (!n.ok()) {
        status = n.status();
        break;
      }
      std::string_view data(buf.data(), *n);
      if (*n == 0 && size > 0) break;
      if (verify) whole.Update(data);
      size += *n;
      bytes_done_ += *n;
      // A small object — up to one whole chunk: a chunk list holding only the object itself
      // would name its own digest — stays in `buf`, encoded once its digest is checked.
      if (chunks.empty() && (*n < kChunkSize || expected_size == kChunkSize)) {
        whole_in_buf = true;
        break;
      }
      Digest key = Digest::Of(data);
      chunks.push_back(key);
      auto present = HasObject(*store_, key);
      if (!present.ok()) {
        status = present.status();
        break;
      }
      if (!*present) {
        if (!(status = EncodeInlineObject(data, *compressor, &record)).ok()) break;
        if (!(status = AddObjectToBatch(batch, key, record, data.size())).ok()) break;
        bytes_written_ += record.size();
        if (deferred_) NoteWritten(key);
      }
      if (batch.ByteSize() >= kBatchBytes && !(status = flush()).ok()) break;
      if (*n < kChunkSize) break;
    }
    CAIRN_RETURN_IF_ERROR(status);
    if (size != expected_size) return changed();
    if (deferred) {
      expected = whole.Finish();
      CAIRN_ASSIGN_OR_RETURN(bool present, HasObject(*store_, expected));
      if (present && size == kChunkSize) {
        CAIRN_ASSIGN_OR_RETURN(bool broken, NamesItself(expected));
        present = !broken;
      }
      if (present) {  // already stored by an earlier snapshot: only new chunks were added
        ++files_done_;
        return flush();
      }
    } else if (verify && whole.Finish() != expected) {
      return changed();
    }
    if (deferred_) NoteWritten(expected);
    if (whole_in_buf) {
      CAIRN_RETURN_IF_ERROR(
          EncodeInlineObject(std::string_view(buf.data(), size), *compressor, &record));
    } else {
      record = EncodeChunkedObject(size, static_cast<uint32_t>(kChunkSize), chunks);
    }
    CAIRN_RETURN_IF_ERROR(AddObjectToBatch(batch, expected, record, size));
    bytes_written_ += record.size();
    ++objects_written_;
    ++files_done_;
    return flush();
  }

  Result<CreateSnapshotResult> Commit(const std::string& app) {
    Snapshot s;
    s.app = app;
    s.author = options_.author;
    s.created_micros = store_->clock().NowMicros();
    s.message = options_.message;
    if (!options_.source.is_null()) {
      s.source = options_.source;
    } else if (options_.git) {
      s.source = GitSourceJson();
    } else {
      s.source = Json{{"type", "directory"}, {"path", tree_.root}};
    }
    for (size_t i = 0; i < tree_.files.size(); ++i) {
      const ReleaseFile& f = tree_.files[i];
      if (f.is_snapshot_json && states_[i].tree) ReadSnapshotJson(*states_[i].tree, &s);
      s.components.push_back(
          Component{f.path, f.kind, states_[i].digest, f.size, states_[i].facts});
    }
    CAIRN_ASSIGN_OR_RETURN(std::string components, CanonicalComponents(s.components));
    s.content = Digest::Of(components);
    CAIRN_ASSIGN_OR_RETURN(auto head, db_->Get(Table::kMeta, keys::AppHead(app)));
    if (head) {
      CAIRN_ASSIGN_OR_RETURN(Digest parent, Digest::FromRaw(*head));
      s.parent = SnapshotId(parent);
    }
    CAIRN_ASSIGN_OR_RETURN(std::string manifest, CanonicalManifest(s, &components));
    s.id = SnapshotId(Digest::Of(manifest));
    Trace("manifest");

    CreateSnapshotResult result;
    CAIRN_ASSIGN_OR_RETURN(result.same_content, SnapshotsWithSameContent(*store_, s));
    CAIRN_ASSIGN_OR_RETURN(auto seq_bytes, db_->Get(Table::kMeta, keys::kNextSnapshotSeq));
    uint64_t seq = seq_bytes ? keys::DecodeBe64(*seq_bytes).value_or(0) : 0;

    // One synced batch: the snapshot, its indexes and the stat cache appear together (with
    // the new objects too, when they were few enough to travel in it).
    Batch batch(*db_);
    if (commit_batch_) batch = std::move(*commit_batch_);
    batch.Put(Table::kSnapshots, SnapshotKey(s.id), manifest);
    // Arrival: when the snapshot entered this store (here its creation; a pull records its
    // own time, remote/transfer.cc). gc's grace period counts from it.
    batch.Put(Table::kSnapshotLog, SnapshotLogKey(seq),
              EncodeSnapshotLogValue(SummaryOf(s, s.created_micros)));
    batch.Put(Table::kMeta, keys::kNextSnapshotSeq, keys::EncodeBe64(seq + 1));
    batch.Put(Table::kContentIndex, ContentIndexKey(s.content, s.id), "");
    batch.Put(Table::kMeta, keys::AppHead(app), s.id.digest().Raw());
    for (size_t i = 0; i < tree_.files.size(); ++i) {
      const FileState& st = states_[i];
      if (!st.cacheable) continue;
      if (options_.git) {
        batch.Put(Table::kStatCache, GitBlobCacheKey(tree_.files[i].git_oid), st.digest.Raw());
        continue;
      }
      batch.Put(Table::kStatCache, StatCacheKey(tree_.root, tree_.files[i].path),
                EncodeStatCacheEntry(st.fingerprint, st.hashed_at_ns, st.digest));
    }
    if (options_.sign_with != nullptr) {
      CAIRN_ASSIGN_OR_RETURN(result.signature, MakeSnapshotSignature(s.id, *options_.sign_with,
                                                                     s.author, s.created_micros));
      CAIRN_ASSIGN_OR_RETURN(std::string record, EncodeSignatureRecord(*result.signature));
      batch.Put(Table::kSignatures, SignatureKey(s.id, result.signature->key_id), record);
    }
    CAIRN_RETURN_IF_ERROR(db_->Write(batch, /*sync=*/true));
    // The snapshot is durable now; this only keeps the log short for the next opener, and
    // level 0 short for every later read (docs/architecture.md,
    // "Compaction on the calling thread").
    CAIRN_RETURN_IF_ERROR(db_->Checkpoint());
    CAIRN_RETURN_IF_ERROR(db_->CompactLevelZero(/*at_least=*/4));
    if (options_.progress) options_.progress->Finish();

    result.snapshot = std::move(s);
    result.files = tree_.files.size();
    for (const auto& st : states_) result.files_hashed += st.from_cache ? 0 : 1;
    result.objects_written = objects_written_;
    result.bytes_written = bytes_written_;
    return result;
  }

  static void ReadSnapshotJson(const Json& j, Snapshot* s) {
    s->description = j.value("description", "");
    if (j.contains("labels")) {
      for (const auto& [k, v] : j["labels"].items()) s->labels[k] = v.get<std::string>();
    }
  }

  Store* store_;
  Db* db_;
  const CreateSnapshotOptions& options_;
  CompressorPool pool_;
  // Git releases: the commit, the release root inside its tree, and repositories for the
  // workers; blobs above kBigGitBlob are read one at a time.
  GitCommit commit_;
  std::string subdir_;
  RepositoryPool repos_;
  std::mutex big_blob_mu_;
  bool deferred_ = false;  // some blobs are hashed only as they are stored
  std::mutex written_mu_;
  std::vector<Digest> written_;  // with deferred blobs: the objects and chunks StoreObjects added
  std::optional<Batch> commit_batch_;  // new objects, when written with the snapshot
  std::mutex commit_mu_;
  ReleaseTree tree_;
  std::vector<FileState> states_;
  // How prompts are read, from snapshot.json ("templates"); set before the workers start.
  TemplateDialect templates_ = TemplateDialect::kMustache;
  std::atomic<uint64_t> files_done_{0};
  std::atomic<uint64_t> bytes_done_{0};
  std::atomic<uint64_t> objects_written_{0};
  std::atomic<uint64_t> bytes_written_{0};
  uint64_t bytes_total_ = 0;
  std::chrono::steady_clock::time_point trace_start_ = std::chrono::steady_clock::now();
};

}  // namespace

bool IsValidAppName(std::string_view app) {
  static const std::regex kApp("^[a-z0-9][a-z0-9._-]{0,63}$");
  return std::regex_match(app.begin(), app.end(), kApp);
}

Result<CreateSnapshotResult> CreateSnapshot(Store& store, const CreateSnapshotOptions& options,
                                            std::vector<Problem>* problems) {
  if (store.read_only()) {
    return Status::Usage(fmt::format(
        "the store at {} is open read-only: creating a snapshot needs a read-write open",
        store.path()));
  }
  Ingest ingest(&store, options);
  return ingest.Run(problems);
}

Status ValidateRelease(const std::string& dir, std::vector<Problem>* problems) {
  CreateSnapshotOptions options;
  options.dir = dir;
  return ValidateRelease(options, problems);
}

Status ValidateRelease(const CreateSnapshotOptions& options, std::vector<Problem>* problems) {
  Ingest ingest(nullptr, options);
  return ingest.ScanAndValidate(problems);
}

}  // namespace cairn
