#include "context.h"

#include <fmt/format.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "output.h"

namespace cairn::cli {

Result<std::string> Context::StorePath() const {
  std::error_code ec;
  std::string cwd = std::filesystem::current_path(ec).string();
  if (ec) return Status::IO("cannot read the working directory: " + ec.message());
  return Store::Locate(global.store, std::getenv("CAIRN_STORE"), cwd);
}

Result<std::unique_ptr<Store>> Context::OpenForRead() const {
  CAIRN_ASSIGN_OR_RETURN(std::string path, StorePath());
  StoreOpenOptions o;
  o.read_only = true;
  return Store::Open(path, o);
}

Result<std::unique_ptr<Store>> Context::OpenForWrite() const {
  CAIRN_ASSIGN_OR_RETURN(std::string path, StorePath());
  StoreOpenOptions o;
  o.read_only = false;
  o.lock_timeout = std::chrono::milliseconds(global.lock_timeout_ms);
  o.on_wait = [](const std::string& what) { PrintErr("cairn: {}\n", what); };
  o.on_upgrade = [](const std::string& what) { PrintErr("cairn: {}\n", what); };
  return Store::Open(path, o);
}

std::string Context::Actor() const {
  if (!global.actor.empty()) return global.actor;
  if (const char* env = std::getenv("CAIRN_ACTOR"); env && *env) return env;
  std::string user = "unknown";
  if (const passwd* pw = getpwuid(geteuid()); pw && pw->pw_name) user = pw->pw_name;
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "localhost");
  return fmt::format("{}@{}", user, host);
}

Result<std::vector<PrivateKey>> Context::RootKeys(const std::vector<std::string>& paths) const {
  std::vector<PrivateKey> out;
  for (const auto& path : paths) {
    if (path.empty()) return Status::Usage("--key: give a private key file (PEM)");
    CAIRN_ASSIGN_OR_RETURN(auto key, SigningKey(path));
    out.push_back(std::move(*key));
  }
  return out;
}

std::vector<const PrivateKey*> Context::KeyPointers(const std::vector<PrivateKey>& keys) {
  std::vector<const PrivateKey*> out;
  for (const auto& k : keys) out.push_back(&k);
  return out;
}

Result<std::optional<PrivateKey>> Context::SigningKey(const std::string& key_flag) const {
  std::string path = key_flag;
  std::string source = "--key";
  if (path.empty()) {
    const char* env = std::getenv("CAIRN_KEY");
    if (env == nullptr || *env == '\0') return std::optional<PrivateKey>();
    path = env;
    source = "CAIRN_KEY";
  }
  auto key = PrivateKey::Load(path);
  if (!key.ok()) return key.status().WithContext(source);
  // Like ssh, say so when others can read the secret (ssh refuses; cairn warns, since
  // the key has been readable already and refusing would not unread it).
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    PrintErr(
        "cairn: warning: private key {} can be read by others (mode {:04o}); run "
        "chmod 600 {}\n",
        path, st.st_mode & 07777, path);
  }
  return std::optional<PrivateKey>(std::move(*key));
}

}  // namespace cairn::cli
