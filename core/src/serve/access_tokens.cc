#include "cairn/access_tokens.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "cairn/receipts.h"
#include "util/fs_util.h"

namespace cairn {

namespace {
// The whole of a small file (token files are a few KiB); kUsage beyond 1 MiB.
Result<std::string> ReadSmallFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  std::string text;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && text.size() <= (1u << 20)) {
    text.append(buf, static_cast<size_t>(n));
  }
  int err = errno;
  ::close(fd);
  if (n < 0) return ErrnoStatus("read", path, err);
  if (text.size() > (1u << 20)) return Status::Usage(path + ": larger than 1 MiB");
  return text;
}

std::string_view Trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

Status ParseScopes(std::string_view scopes, TokenGrant* grant) {
  size_t start = 0;
  while (start <= scopes.size()) {
    size_t end = scopes.find(',', start);
    if (end == std::string_view::npos) end = scopes.size();
    std::string_view scope = scopes.substr(start, end - start);
    if (scope == "read") {
      grant->read = true;
    } else if (scope == "receipt") {
      grant->receipt = true;
    } else {
      return Status::Usage(fmt::format("unknown scope \"{}\" (scopes: read, receipt)", scope));
    }
    start = end + 1;
  }
  return Status::OK();
}
}  // namespace

Result<TokenTable> TokenTable::Load(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path));
  return Parse(text, path);
}

Result<TokenTable> TokenTable::Parse(std::string_view text, const std::string& path) {
  TokenTable table;
  size_t line_no = 0, start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = Trimmed(text.substr(start, end - start));
    start = end + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    auto fail = [&](const std::string& rule) {
      return Status::Usage(fmt::format("{}, line {}: {}", path, line_no, rule));
    };
    auto fields = Fields(line);
    if (fields.size() != 3) return fail("expected \"sha256:<64 hex> HOST SCOPES\"");
    auto digest = Digest::Parse(fields[0]);
    if (!digest.ok()) return fail("the first field is the token's digest, sha256:<64 hex>");
    TokenGrant grant;
    grant.host = std::string(fields[1]);
    if (Status s = CheckReceiptHost(grant.host); !s.ok()) return fail(s.message());
    if (Status s = ParseScopes(fields[2], &grant); !s.ok()) return fail(s.message());
    if (!table.grants_.emplace(digest->ToString(), std::move(grant)).second) {
      return fail("the same token digest is listed twice");
    }
  }
  return table;
}

const TokenGrant* TokenTable::Find(std::string_view token) const {
  if (token.empty()) return nullptr;
  auto it = grants_.find(Digest::Of(token).ToString());
  return it == grants_.end() ? nullptr : &it->second;
}

Result<std::string> ReadClientToken(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path));
  std::string_view first = Trimmed(std::string_view(text).substr(0, text.find('\n')));
  if (first.empty()) return Status::Usage(path + ": holds no token (its first line is empty)");
  return std::string(first);
}

}  // namespace cairn
