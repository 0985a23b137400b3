// Micro-benchmarks of the hot paths of snapshot creation: hashing, compression, strict
// JSON parsing and canonical JSON. Run: build/bin/cairn-micro-bench
#include <benchmark/benchmark.h>

#include <random>

#include "cairn/canonical_json.h"
#include "cairn/digest.h"
#include "cairn/validate.h"
#include "port/zstd_codec.h"

namespace {

std::string TextLike(size_t n) {
  static const char* kWords[] = {"refund",  "order", "customer", "policy", "the",  "within", "days",
                                 "support", "agent", "a",        "return", "item", "of"};
  std::mt19937 rng(1);
  std::string s;
  while (s.size() < n) {
    s += kWords[rng() % std::size(kWords)];
    s += rng() % 10 == 0 ? ".\n" : " ";
  }
  s.resize(n);
  return s;
}

void BM_Sha256(benchmark::State& state) {
  std::string data = TextLike(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(cairn::Digest::Of(data));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Sha256)->Arg(64 << 10)->Arg(1 << 20);

void BM_ZstdCompress(benchmark::State& state) {
  std::string data = TextLike(1 << 20);
  cairn::Compressor c(static_cast<int>(state.range(0)));
  std::string out;
  for (auto _ : state) {
    if (!c.Compress(data, &out).ok()) state.SkipWithError("compress failed");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * (1 << 20));
  state.counters["ratio"] = static_cast<double>(data.size()) / static_cast<double>(out.size());
}
BENCHMARK(BM_ZstdCompress)->Arg(1)->Arg(3)->Arg(6);

void BM_StrictJson(benchmark::State& state) {
  cairn::Json doc = cairn::Json::array();
  for (int i = 0; i < 1000; ++i) {
    doc.push_back({{"path", "doc" + std::to_string(i) + ".md"},
                   {"digest", cairn::Digest::Of(std::to_string(i)).ToString()}});
  }
  std::string text = doc.dump(1);
  for (auto _ : state) {
    std::vector<cairn::Problem> problems;
    benchmark::DoNotOptimize(cairn::ParseStrictJson(text, "f.json", &problems));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_StrictJson);

void BM_CanonicalJson(benchmark::State& state) {
  cairn::Json doc = cairn::Json::array();
  for (int i = 0; i < 10000; ++i) {
    doc.push_back({{"path", "knowledge/kb/doc" + std::to_string(i) + ".md"},
                   {"kind", "knowledge"},
                   {"digest", cairn::Digest::Of(std::to_string(i)).ToString()},
                   {"size", 65000 + i}});
  }
  for (auto _ : state) benchmark::DoNotOptimize(cairn::CanonicalJson(doc));
}
BENCHMARK(BM_CanonicalJson);

}  // namespace

BENCHMARK_MAIN();
