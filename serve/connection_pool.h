// The threads that serve connections. httplib hands each accepted connection to one task
// that runs until the connection closes, so a long-poll holds its thread for its whole
// wait: the pool must be larger than the number of watchers (docs/serve.md, "Limits").
// Threads get small stacks (256 KiB) so that a thousand of them stay cheap; connections
// beyond the pool wait in a queue, in order.
#pragma once

#include <httplib.h>
#include <pthread.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

namespace cairn::serve {

class ConnectionPool : public httplib::TaskQueue {
 public:
  explicit ConnectionPool(size_t threads);
  ~ConnectionPool() override;
  void enqueue(std::function<void()> task) override;
  void shutdown() override;

 private:
  static void* Main(void* self);
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<pthread_t> threads_;
};

}  // namespace cairn::serve
