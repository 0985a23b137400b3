#include "store_watch.h"

#include <fmt/format.h>

namespace cairn::serve {

StoreWatch::StoreWatch(std::string path, std::chrono::milliseconds poll)
    : path_(std::move(path)), poll_(poll) {}

Result<std::unique_ptr<StoreWatch>> StoreWatch::Start(const std::string& store_path,
                                                      std::chrono::milliseconds poll) {
  std::unique_ptr<StoreWatch> watch(new StoreWatch(store_path, poll));
  CAIRN_ASSIGN_OR_RETURN(watch->generation_, Store::WriteGeneration(store_path));
  CAIRN_RETURN_IF_ERROR(watch->Refresh());
  watch->thread_ = std::thread([w = watch.get()] { w->Run(); });
  return watch;
}

StoreWatch::~StoreWatch() {
  Stop();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const Store> StoreWatch::store() const {
  std::lock_guard<std::mutex> lock(mu_);
  return store_;
}

// Opens the store anew and reads every deployment's newest event; wakes the waiters.
Status StoreWatch::Refresh() {
  StoreOpenOptions open;
  open.read_only = true;
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Store> fresh, Store::Open(path_, open));
  CAIRN_ASSIGN_OR_RETURN(auto deployments, ListDeployments(*fresh));
  std::map<std::string, Event> last;
  for (auto& d : deployments) last.emplace(d.name.str(), std::move(d.last));
  {
    std::lock_guard<std::mutex> lock(mu_);
    store_ = std::shared_ptr<const Store>(std::move(fresh));
    last_ = std::move(last);
  }
  changed_.notify_all();
  return Status::OK();
}

void StoreWatch::Run() {
  auto last_open = std::chrono::steady_clock::now();
  std::string last_error;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait_for(lock, poll_, [&] { return stopping_; });
      if (stopping_) return;
    }
    auto generation = Store::WriteGeneration(path_);
    bool moved = !generation.ok() || *generation != generation_;
    auto now = std::chrono::steady_clock::now();
    if (!moved && now - last_open < std::chrono::seconds(5)) continue;
    Status s = Refresh();
    last_open = now;
    if (s.ok()) {
      if (generation.ok()) generation_ = *generation;
      last_error.clear();
    } else if (s.message() != last_error) {  // said once until it changes
      last_error = s.message();
      fmt::print(stderr,
                 "cairn-serve: warning: cannot reread the store (serving what it read "
                 "last): {}\n",
                 s.message());
    }
  }
}

Result<std::optional<Event>> StoreWatch::WaitForEvent(
    const std::string& deployment, uint64_t after, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    auto it = last_.find(deployment);
    if (it == last_.end()) {
      return Status::NotFound(fmt::format("no deployment named \"{}\"", deployment));
    }
    if (it->second.seq > after) return std::optional<Event>(it->second);
    if (stopping_) return std::optional<Event>();
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      it = last_.find(deployment);
      if (it != last_.end() && it->second.seq > after) return std::optional<Event>(it->second);
      return std::optional<Event>();
    }
  }
}

void StoreWatch::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
}

}  // namespace cairn::serve
