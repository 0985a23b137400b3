// cairn-timed-runs: whole-process wall time of commands, interleaved, for benchmarks.
//
//   cairn-timed-runs [--runs N] [--warmup W] BENCH...
//   BENCH := --bench NAME [--alt VALUE]... -- PROGRAM ARG... ';'
//
// Each round runs every BENCH once, in the order given (W warm-up rounds are not counted),
// so all commands see the same machine load and a slow moment hurts them alike. In the
// command, "{}" is replaced by the bench's --alt values in turn (the k-th execution of a
// bench, warm-ups included, uses value k mod count): alternating two snapshots or commits
// makes every run really move a pointer. Time runs from posix_spawn to waitpid, so it
// includes exec, dynamic loading, the work, fsyncs and exit. stdout goes to /dev/null; a
// command that exits non-zero stops everything, with its stderr.
//
// Prints a JSON object: {"NAME": {"runs", "median", "p90", "mean", "min", "max"}, ...}
// (seconds). p90 is the nearest-rank 90th percentile.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

struct Bench {
  std::string name;
  std::vector<std::string> alts;
  std::vector<std::string> argv;
  std::vector<double> seconds;
  size_t executions = 0;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "cairn-timed-runs: %s\nusage: cairn-timed-runs [--runs N] [--warmup W] "
               "--bench NAME [--alt V]... -- PROGRAM ARG... ';' ...\n",
               why);
  std::exit(2);
}

std::vector<Bench> Parse(int argc, char** argv, int* runs, int* warmup) {
  std::vector<Bench> benches;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    if (a == "--runs") {
      *runs = std::atoi(next().c_str());
    } else if (a == "--warmup") {
      *warmup = std::atoi(next().c_str());
    } else if (a == "--bench") {
      Bench b;
      b.name = next();
      for (++i; i < argc && std::string(argv[i]) != "--"; ++i) {
        if (std::string(argv[i]) != "--alt" || i + 1 >= argc) Usage("expected --alt or --");
        b.alts.push_back(argv[++i]);
      }
      for (++i; i < argc && std::string(argv[i]) != ";"; ++i) b.argv.push_back(argv[i]);
      if (b.argv.empty()) Usage("a bench needs a command");
      benches.push_back(std::move(b));
    } else {
      Usage(("unknown argument " + a).c_str());
    }
  }
  if (benches.empty() || *runs < 1 || *warmup < 0) Usage("nothing to run");
  return benches;
}

std::string Substitute(const std::string& arg, const Bench& b) {
  if (b.alts.empty()) return arg;
  const std::string& value = b.alts[b.executions % b.alts.size()];
  std::string out = arg;
  for (size_t p = out.find("{}"); p != std::string::npos; p = out.find("{}", p + value.size())) {
    out.replace(p, 2, value);
  }
  return out;
}

// Runs one execution of `b`; returns its wall time in seconds.
double RunOnce(Bench& b, const std::string& err_path) {
  std::vector<std::string> args;
  for (const auto& a : b.argv) args.push_back(Substitute(a, b));
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  ++b.executions;

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  auto t0 = std::chrono::steady_clock::now();
  int rc = posix_spawnp(&pid, cargs[0], &fa, nullptr, cargs.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    std::fprintf(stderr, "cairn-timed-runs: cannot start %s: %s\n", cargs[0], std::strerror(rc));
    std::exit(1);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  auto t1 = std::chrono::steady_clock::now();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    std::ifstream err(err_path);
    std::stringstream text;
    text << err.rdbuf();
    std::fprintf(stderr, "cairn-timed-runs: %s failed (status %d):\n  %s\n%s", b.name.c_str(),
                 status, cmd.c_str(), text.str().c_str());
    std::exit(1);
  }
  return std::chrono::duration<double>(t1 - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 20, warmup = 3;
  std::vector<Bench> benches = Parse(argc, argv, &runs, &warmup);
  char tmpl[] = "/tmp/cairn-timed-runs-XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd < 0) {
    std::perror("cairn-timed-runs: mkstemp");
    return 1;
  }
  close(fd);
  const std::string err_path = tmpl;

  for (int round = 0; round < warmup + runs; ++round) {
    for (auto& b : benches) {
      double s = RunOnce(b, err_path);
      if (round >= warmup) b.seconds.push_back(s);
    }
  }
  unlink(err_path.c_str());

  std::printf("{");
  for (size_t i = 0; i < benches.size(); ++i) {
    std::vector<double> v = benches[i].seconds;
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    double p90 = v[static_cast<size_t>(std::ceil(0.9 * static_cast<double>(n))) - 1];
    double mean = 0;
    for (double x : v) mean += x;
    mean /= static_cast<double>(n);
    std::printf(
        "%s\n \"%s\": {\"runs\": %zu, \"median\": %.6f, \"p90\": %.6f, \"mean\": %.6f, "
        "\"min\": %.6f, \"max\": %.6f}",
        i ? "," : "", benches[i].name.c_str(), n, median, p90, mean, v.front(), v.back());
  }
  std::printf("}\n");
  return 0;
}
