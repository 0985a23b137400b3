#include "store/ack_record.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>

#include "cairn/digest.h"
#include "store/schema.h"
#include "util/fs_util.h"

namespace cairn {
namespace {

constexpr std::string_view kMagic = "cairnACK";
constexpr size_t kSlotSize = 64;
constexpr size_t kBodySize = 56;  // magic and six integers; the check covers them

std::string Check(std::string_view body) {
  return std::string(Digest::Of(body).Raw().substr(0, 8));
}

// Writes all of `data` at `offset` (short writes continue; EINTR retries).
Status WriteAllAt(Env& env, int fd, std::string_view data, off_t offset, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        env.PWrite(fd, data.data() + done, data.size() - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("write", path, errno);
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // close(2), reporting its error (a delayed write error can surface here).
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

}  // namespace

std::string EncodeAckSlot(uint64_t generation, const AckPosition& p) {
  std::string slot(kMagic);
  for (uint64_t v :
       {generation, p.sequence, p.wal_number, p.wal_bytes, p.manifest_number, p.manifest_bytes}) {
    keys::AppendLe64(&slot, v);
  }
  slot += Check(slot);
  return slot;
}

std::optional<AckRecord> DecodeAckSlot(std::string_view slot) {
  if (slot.size() != kSlotSize || !slot.starts_with(kMagic)) return std::nullopt;
  if (slot.substr(kBodySize) != Check(slot.substr(0, kBodySize))) return std::nullopt;
  const char* p = slot.data() + kMagic.size();
  AckRecord r;
  r.generation = keys::ReadLe64(p);
  r.position.sequence = keys::ReadLe64(p + 8);
  r.position.wal_number = keys::ReadLe64(p + 16);
  r.position.wal_bytes = keys::ReadLe64(p + 24);
  r.position.manifest_number = keys::ReadLe64(p + 32);
  r.position.manifest_bytes = keys::ReadLe64(p + 40);
  if (r.generation == 0) return std::nullopt;
  return r;
}

Result<std::optional<AckRecord>> ReadAckRecord(const std::string& db_dir) {
  std::string path = db_dir + "/" + kAckFileName;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::optional<AckRecord>();
    return ErrnoStatus("open", path, errno);
  }
  char buf[2 * kSlotSize + 1];
  size_t got = 0;
  while (got < sizeof(buf)) {
    ssize_t n = ::read(fd.get(), buf + got, sizeof(buf) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read", path, errno);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got != 2 * kSlotSize) {
    return Status::Corruption(fmt::format(
        "{} is damaged: {} bytes where the acknowledgement record has {} (docs/format.md, "
        "\"Acknowledged writes\"); run 'cairn recover --into DIR'",
        path, got, 2 * kSlotSize));
  }
  std::optional<AckRecord> best;
  for (size_t i = 0; i < 2; ++i) {
    auto slot = DecodeAckSlot(std::string_view(buf + i * kSlotSize, kSlotSize));
    if (slot && (!best || slot->generation > best->generation)) best = slot;
  }
  if (!best) {
    return Status::Corruption(fmt::format(
        "{} is damaged: neither slot of the acknowledgement record passes its check; run "
        "'cairn recover --into DIR'",
        path));
  }
  return best;
}

Status CreateAckRecord(Env& env, const std::string& db_dir, const AckPosition& position) {
  std::string path = db_dir + "/" + kAckFileName;
  std::string tmp = path + ".tmp";
  {
    Fd fd(env.OpenAt(AT_FDCWD, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                     0644));
    if (fd.get() < 0) return ErrnoStatus("create", tmp, errno);
    // Generation 1 lives in slot 1 (1 % 2); slot 0 stays invalid until generation 2.
    std::string laid_out = std::string(kSlotSize, '\0') + EncodeAckSlot(1, position);
    CAIRN_RETURN_IF_ERROR(WriteAllAt(env, fd.get(), laid_out, 0, tmp));
    if (env.Fsync(fd.get()) != 0) return ErrnoStatus("fsync", tmp, errno);
    if (fd.Close() != 0) return ErrnoStatus("close", tmp, errno);
  }
  if (env.RenameAt(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str()) != 0) {
    return ErrnoStatus("rename into place", path, errno);
  }
  return FsyncDir(env, db_dir);
}

Status UpdateAckRecord(Env& env, const std::string& db_dir, uint64_t generation,
                       const AckPosition& position) {
  std::string path = db_dir + "/" + kAckFileName;
  Fd fd(env.OpenAt(AT_FDCWD, path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0));
  if (fd.get() < 0) return ErrnoStatus("open", path, errno);
  off_t offset = static_cast<off_t>((generation % 2) * kSlotSize);
  CAIRN_RETURN_IF_ERROR(
      WriteAllAt(env, fd.get(), EncodeAckSlot(generation, position), offset, path));
  // The file's size never changes: fdatasync writes the slot's block, no metadata.
  if (env.Fsync(fd.get(), /*data_only=*/true) != 0) return ErrnoStatus("fdatasync", path, errno);
  if (fd.Close() != 0) return ErrnoStatus("close", path, errno);
  return Status::OK();
}

}  // namespace cairn
