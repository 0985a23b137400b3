// Runs a fuzz target once per input, outside libFuzzer: the regression inputs under
// fuzz/regressions/<target>/ and the seeds are replayed by every test run (ctest's
// fuzz_replay.<target>), in the ordinary build. Arguments are files or directories (read
// recursively; a missing one is skipped: conformance data may be absent). `--selectors N`
// also runs every input with each first byte 0..N-1 put before it, so that a seed reaches
// every parser a target picks by its first byte.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// Optional, as in libFuzzer: a target's one-time set-up.
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

void RunOne(const std::string& bytes) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  int selectors = 0;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--selectors" && i + 1 < argc) {
      selectors = std::atoi(argv[++i]);
      continue;
    }
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      for (auto it = fs::recursive_directory_iterator(arg, ec); !ec && it != fs::end(it);
           it.increment(ec)) {
        if (it->is_regular_file(ec)) files.push_back(it->path());
      }
    } else if (fs::is_regular_file(arg, ec)) {
      files.emplace_back(arg);
    }
  }
  size_t runs = 0;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    RunOne(bytes);
    ++runs;
    for (int s = 0; s < selectors; ++s) {
      RunOne(std::string(1, static_cast<char>(s)) + bytes);
      ++runs;
    }
  }
  std::printf("%zu inputs from %zu files: no crash\n", runs, files.size());
  return 0;
}
