#include "connection_pool.h"

#include <cstdio>
#include <cstdlib>

namespace cairn::serve {

namespace {
#if defined(__SANITIZE_ADDRESS__)
#define CAIRN_SERVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CAIRN_SERVE_ASAN 1
#endif
#endif
#ifdef CAIRN_SERVE_ASAN
constexpr size_t kStackBytes = 2 * 1024 * 1024;  // ASan's redzones make every frame larger
#else
constexpr size_t kStackBytes = 256 * 1024;
#endif
}  // namespace

ConnectionPool::ConnectionPool(size_t threads) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kStackBytes);
  for (size_t i = 0; i < threads; ++i) {
    pthread_t t;
    if (pthread_create(&t, &attr, &ConnectionPool::Main, this) != 0) break;
    threads_.push_back(t);
  }
  pthread_attr_destroy(&attr);
  if (threads_.empty()) {
    std::fputs("cairn-serve: cannot start any connection thread\n", stderr);
    std::abort();
  }
}

ConnectionPool::~ConnectionPool() { shutdown(); }

void ConnectionPool::enqueue(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(task));
  }
  ready_.notify_one();
}

void ConnectionPool::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  ready_.notify_all();
  for (pthread_t t : threads_) pthread_join(t, nullptr);
  threads_.clear();
}

void* ConnectionPool::Main(void* self) {
  auto* pool = static_cast<ConnectionPool*>(self);
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(pool->mu_);
      pool->ready_.wait(lock, [&] { return pool->stopping_ || !pool->tasks_.empty(); });
      if (pool->tasks_.empty()) return nullptr;  // stopping, queue drained
      task = std::move(pool->tasks_.front());
      pool->tasks_.pop_front();
    }
    task();
  }
}

}  // namespace cairn::serve
