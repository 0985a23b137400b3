// Remotes, upstreams and remote-tracking tips: records in the store's meta table
// (store/schema.h, "Team mode"). No credential is ever stored: URLs with a user:password
// part are refused.
#include <fmt/format.h>

#include <algorithm>

#include "cairn/remote.h"
#include "remote/remote_records.h"
#include "store/schema.h"
#include "store/store_internal.h"

namespace cairn {

Status ValidateRemoteName(std::string_view name) {
  auto bad = [&](std::string_view rule) {
    return Status::Usage(fmt::format("\"{}\" is not a remote name: {}", name, rule));
  };
  if (name.empty() || name.size() > 64) return bad("it must be 1 to 64 characters");
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (i == 0 ? !alnum : !(alnum || c == '.' || c == '_' || c == '-')) {
      return bad("use [a-z0-9._-], starting with a letter or digit");
    }
  }
  return Status::OK();
}

Status ValidateRemoteUrl(std::string_view url) {
  auto bad = [&](std::string_view rule) {
    return Status::Usage(fmt::format("\"{}\" is not a remote URL cairn can use: {}", url, rule));
  };
  for (char c : url) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == ' ') {
      return bad("it holds a space or a control character");
    }
  }
  if (url.starts_with("/")) return Status::OK();
  std::string_view rest;
  if (url.starts_with("file://")) {
    rest = url.substr(7);
    if (!rest.starts_with("/"))
      return bad("file:// needs an absolute path (file:///srv/cairn.git)");
    return Status::OK();
  }
  if (url.starts_with("git://")) {
    rest = url.substr(6);
    size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    if (authority.empty() || slash == std::string_view::npos || slash + 1 >= rest.size()) {
      return bad("git:// needs a host and a path (git://host:9418/cairn.git)");
    }
    if (authority.find('@') != std::string_view::npos) {
      return bad("a URL with a user part would store a credential; cairn never stores one");
    }
    return Status::OK();
  }
  return bad(
      "use git://HOST[:PORT]/PATH, file:///PATH or an absolute path (ssh and https come with a "
      "later release)");
}

namespace {
Result<std::string> RemoteUrl(const Db& db, const std::string& name) {
  CAIRN_ASSIGN_OR_RETURN(auto url, db.Get(Table::kMeta, keys::RemoteKey(name)));
  if (!url) {
    return Status::NotFound(
        fmt::format("no remote \"{}\" (add one with 'cairn remote add {} URL')", name, name));
  }
  return *url;
}
}  // namespace

Status AddRemote(Store& store, const std::string& name, const std::string& url) {
  CAIRN_RETURN_IF_ERROR(ValidateRemoteName(name));
  CAIRN_RETURN_IF_ERROR(ValidateRemoteUrl(url));
  Db& db = StoreInternal::db(store);
  CAIRN_ASSIGN_OR_RETURN(auto existing, db.Get(Table::kMeta, keys::RemoteKey(name)));
  if (existing) {
    return Status::Conflict(
        fmt::format("remote \"{}\" exists already ({}); nothing changed", name, *existing));
  }
  Batch batch(db);
  batch.Put(Table::kMeta, keys::RemoteKey(name), url);
  return db.Write(batch, /*sync=*/true);
}

Status RemoveRemote(Store& store, const std::string& name) {
  Db& db = StoreInternal::db(store);
  CAIRN_RETURN_IF_ERROR(RemoteUrl(db, name).status());
  Batch batch(db);
  batch.Delete(Table::kMeta, keys::RemoteKey(name));
  const std::string tracking = keys::TrackingPrefix(name);
  Cursor cur = db.NewCursor(Table::kMeta);
  for (cur.Seek(tracking); cur.Valid() && cur.key().starts_with(tracking); cur.Next()) {
    batch.Delete(Table::kMeta, cur.key());
  }
  CAIRN_RETURN_IF_ERROR(cur.status());
  Cursor up = db.NewCursor(Table::kMeta);
  for (up.Seek(keys::kUpstreamPrefix); up.Valid() && up.key().starts_with(keys::kUpstreamPrefix);
       up.Next()) {
    if (up.value() == name) batch.Delete(Table::kMeta, up.key());
  }
  CAIRN_RETURN_IF_ERROR(up.status());
  return db.Write(batch, /*sync=*/true);
}

Result<std::vector<RemoteInfo>> ListRemotes(const Store& store) {
  const Db& db = StoreInternal::db(store);
  std::vector<RemoteInfo> out;
  Cursor cur = db.NewCursor(Table::kMeta);
  for (cur.Seek(keys::kRemotePrefix); cur.Valid() && cur.key().starts_with(keys::kRemotePrefix);
       cur.Next()) {
    out.push_back(
        {std::string(cur.key().substr(keys::kRemotePrefix.size())), std::string(cur.value()), {}});
  }
  CAIRN_RETURN_IF_ERROR(cur.status());
  Cursor up = db.NewCursor(Table::kMeta);
  for (up.Seek(keys::kUpstreamPrefix); up.Valid() && up.key().starts_with(keys::kUpstreamPrefix);
       up.Next()) {
    for (auto& r : out) {
      if (r.name == up.value()) {
        r.upstream_of.emplace_back(up.key().substr(keys::kUpstreamPrefix.size()));
      }
    }
  }
  CAIRN_RETURN_IF_ERROR(up.status());
  return out;
}

Result<RemoteInfo> GetRemote(const Store& store, const std::string& name) {
  CAIRN_ASSIGN_OR_RETURN(auto all, ListRemotes(store));
  for (auto& r : all) {
    if (r.name == name) return std::move(r);
  }
  return RemoteUrl(StoreInternal::db(store), name).status();
}

Result<std::optional<std::string>> UpstreamOf(const Store& store,
                                              const DeploymentName& deployment) {
  return StoreInternal::db(store).Get(Table::kMeta, keys::UpstreamKey(deployment.view()));
}

Result<std::map<std::string, std::string>> ReadTracking(const Store& store,
                                                        const std::string& remote) {
  const Db& db = StoreInternal::db(store);
  std::map<std::string, std::string> out;
  const std::string prefix = keys::TrackingPrefix(remote);
  Cursor cur = db.NewCursor(Table::kMeta);
  for (cur.Seek(prefix); cur.Valid() && cur.key().starts_with(prefix); cur.Next()) {
    out[std::string(cur.key().substr(prefix.size()))] = std::string(cur.value());
  }
  CAIRN_RETURN_IF_ERROR(cur.status());
  return out;
}

}  // namespace cairn
