// StoreWatch: the store as cairn-serve sees it — a read-only open that is replaced whenever
// another process acknowledges a write, and the newest event of every deployment, for the
// long-poll. Never takes the writer lock. Thread-safe: request threads call store() and
// WaitForEvent() while one background thread refreshes.
#pragma once

#include <cairn/deployment.h>
#include <cairn/store.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace cairn::serve {

class StoreWatch {
 public:
  // Opens `store_path` read-only and starts looking for changes every `poll` (the
  // acknowledgement record is read each time; the database is reopened only when it changed,
  // and at least every 5 s in case the record is missing).
  static Result<std::unique_ptr<StoreWatch>> Start(const std::string& store_path,
                                                   std::chrono::milliseconds poll);
  ~StoreWatch();

  const std::string& path() const { return path_; }
  // The newest open of the store; callers keep the pointer for the length of one request.
  std::shared_ptr<const Store> store() const;
  // The newest event of `deployment` if its seq is greater than `after`, waiting for a move
  // until `deadline`; nullopt at the deadline or when stopping. kNotFound for an unknown
  // deployment.
  Result<std::optional<Event>> WaitForEvent(const std::string& deployment, uint64_t after,
                                            std::chrono::steady_clock::time_point deadline);
  // Ends every wait and the refresh thread.
  void Stop();

 private:
  StoreWatch(std::string path, std::chrono::milliseconds poll);
  Status Refresh();
  void Run();

  const std::string path_;
  const std::chrono::milliseconds poll_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::shared_ptr<const Store> store_;
  std::map<std::string, Event> last_;  // by deployment name
  uint64_t generation_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cairn::serve
