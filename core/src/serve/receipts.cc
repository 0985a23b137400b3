// receipts.log (docs/format.md, "Receipts"): one JSON object per line, appended and synced.
#include "cairn/receipts.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "cairn/clock.h"
#include "util/fs_util.h"

namespace cairn {

namespace {
std::string ReceiptsPath(const std::string& store_path) {
  return store_path + "/" + kReceiptsFileName;
}

// Serialises appends of one process, so one line is written and synced at a time.
std::mutex& AppendMutex() {
  static std::mutex mu;
  return mu;
}

Result<Receipt> ReceiptFromLine(std::string_view line) {
  Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::Corruption("not a JSON object");
  Receipt r;
  for (const char* key : {"host", "deployment", "snapshot", "loaded_at", "received_at"}) {
    if (!j.contains(key) || !j[key].is_string()) {
      return Status::Corruption(fmt::format("\"{}\" missing or not a string", key));
    }
  }
  r.host = j["host"].get<std::string>();
  r.deployment = j["deployment"].get<std::string>();
  CAIRN_RETURN_IF_ERROR(CheckReceiptHost(r.host));
  CAIRN_RETURN_IF_ERROR(ValidateDeploymentName(r.deployment));
  CAIRN_ASSIGN_OR_RETURN(r.snapshot, SnapshotId::Parse(j["snapshot"].get<std::string>()));
  CAIRN_ASSIGN_OR_RETURN(r.loaded_micros, ParseTime(j["loaded_at"].get<std::string>()));
  CAIRN_ASSIGN_OR_RETURN(r.received_micros, ParseTime(j["received_at"].get<std::string>()));
  return r;
}
}  // namespace

Status CheckReceiptHost(std::string_view host) {
  if (host.empty() || host.size() > kMaxReceiptHostLength) {
    return Status::Usage(fmt::format("a host name has 1 to {} characters", kMaxReceiptHostLength));
  }
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return Status::Usage("a host name holds only letters, digits, '.', '_' and '-'");
  }
  return Status::OK();
}

Json ReceiptJson(const Receipt& r) {
  return {{"host", r.host},
          {"deployment", r.deployment},
          {"snapshot", r.snapshot.Hex()},
          {"loaded_at", FormatTime(r.loaded_micros)},
          {"received_at", FormatTime(r.received_micros)}};
}

ServingSummary SummarizeServing(const std::vector<HostServing>& hosts, const SnapshotId& live) {
  ServingSummary out;
  out.hosts = hosts.size();
  for (const auto& h : hosts) {
    if (h.snapshot == live) {
      ++out.on_live;
    } else {
      out.elsewhere.push_back(h);
    }
  }
  return out;
}

Json ReceiptsJson(std::string_view deployment, int64_t at_micros,
                  const std::vector<HostServing>& hosts) {
  Json list = Json::array();
  for (const auto& h : hosts) {
    list.push_back({{"host", h.host},
                    {"snapshot", h.snapshot.Hex()},
                    {"since", FormatTime(h.since_micros)},
                    {"reported_at", FormatTime(h.reported_micros)}});
  }
  return {{"deployment", deployment}, {"at", FormatTime(at_micros)}, {"hosts", list}};
}

// Durability: one write(2) of the whole line on an O_APPEND descriptor, then fdatasync; the
// file's directory is synced when the file is created. A crash can leave only a last line
// without its newline, which ReadReceipts ignores.
Status AppendReceipt(const std::string& store_path, const Receipt& receipt) {
  CAIRN_RETURN_IF_ERROR(CheckReceiptHost(receipt.host));
  CAIRN_RETURN_IF_ERROR(ValidateDeploymentName(receipt.deployment));
  std::string line = ReceiptJson(receipt).dump() + "\n";
  std::string path = ReceiptsPath(store_path);
  std::lock_guard<std::mutex> lock(AppendMutex());
  bool created = ::access(path.c_str(), F_OK) != 0;
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  ssize_t n = ::write(fd, line.data(), line.size());
  int write_errno = errno;
  int sync = n == static_cast<ssize_t>(line.size()) ? ::fdatasync(fd) : 0;
  int sync_errno = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) {
    return ErrnoStatus("append to", path, n < 0 ? write_errno : ENOSPC);
  }
  if (sync != 0) return ErrnoStatus("sync", path, sync_errno);
  if (created) return FsyncDir(Env::Default(), store_path);
  return Status::OK();
}

Result<std::vector<Receipt>> ReadReceipts(const std::string& store_path) {
  std::string path = ReceiptsPath(store_path);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::vector<Receipt>{};
    return ErrnoStatus("open", path, errno);
  }
  std::string text;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  int read_errno = errno;
  ::close(fd);
  if (n < 0) return ErrnoStatus("read", path, read_errno);
  std::vector<Receipt> out;
  size_t start = 0, line_no = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) break;  // torn by a crash during an append
    ++line_no;
    auto r = ReceiptFromLine(std::string_view(text).substr(start, end - start));
    if (!r.ok()) {
      return Status::Corruption(
          fmt::format("{}, line {}: {}", path, line_no, r.status().message()));
    }
    out.push_back(std::move(*r));
    start = end + 1;
  }
  return out;
}

std::vector<HostServing> HostsServing(const std::vector<Receipt>& receipts,
                                      std::string_view deployment, int64_t at_micros,
                                      int64_t window_micros) {
  std::map<std::string, HostServing> hosts;
  for (const auto& r : receipts) {
    if (r.deployment != deployment || r.received_micros > at_micros) continue;
    auto [it, inserted] = hosts.try_emplace(r.host);
    HostServing& h = it->second;
    if (inserted || h.snapshot != r.snapshot) {
      h.host = r.host;
      h.snapshot = r.snapshot;
      h.since_micros = r.loaded_micros;
    }
    h.reported_micros = r.received_micros;
  }
  std::vector<HostServing> out;
  for (auto& [name, h] : hosts) {
    if (h.reported_micros >= at_micros - window_micros) out.push_back(std::move(h));
  }
  return out;
}

}  // namespace cairn
