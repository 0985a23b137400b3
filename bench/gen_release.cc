// cairn-gen-release: writes a deterministic synthetic release for benchmarks.
//
//   cairn-gen-release OUT [--files N] [--mb M] [--seed S]     a fresh release in OUT
//   cairn-gen-release OUT --mutate PCT [--seed S]             edit PCT% of its documents
//
// The release is valid (docs/release-format.md): prompts, pinned models, tools, and ten
// knowledge bases whose documents are English-like text (a Zipf-distributed vocabulary of
// pseudo-words, sentences, paragraphs, headings), so it compresses like real documents.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "cairn/digest.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

constexpr int kKnowledgeBases = 10;

class TextModel {
 public:
  explicit TextModel(uint64_t seed) : rng_(seed) {
    static const char* kSyllables[] = {"ka",  "ro",  "mi", "te",  "lan", "su", "ver", "po",  "di",
                                       "na",  "gre", "tu", "sol", "be",  "ri", "xa",  "mon", "el",
                                       "qua", "ti",  "or", "pe",  "zu",  "lo", "fen", "da",  "is"};
    std::uniform_int_distribution<int> syl(0, std::size(kSyllables) - 1), len(1, 4);
    for (int i = 0; i < 5000; ++i) {
      std::string w;
      int n = len(rng_);
      for (int k = 0; k < n; ++k) w += kSyllables[syl(rng_)];
      words_.push_back(w);
    }
    double total = 0;
    for (size_t i = 0; i < words_.size(); ++i) {
      total += 1.0 / std::pow(static_cast<double>(i + 1), 1.07);
      cdf_.push_back(total);
    }
    for (auto& c : cdf_) c /= total;
  }

  std::mt19937_64& rng() { return rng_; }

  const std::string& Word() {
    double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    size_t i = std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin();
    return words_[std::min(i, words_.size() - 1)];
  }

  std::string Paragraph() {
    std::string p;
    int sentences = std::uniform_int_distribution<int>(3, 8)(rng_);
    for (int s = 0; s < sentences; ++s) {
      int n = std::uniform_int_distribution<int>(5, 20)(rng_);
      for (int i = 0; i < n; ++i) {
        std::string w = Word();
        if (i == 0) w[0] = static_cast<char>(std::toupper(w[0]));
        p += w;
        p += (i + 1 == n) ? ". "
                          : (std::uniform_int_distribution<int>(0, 9)(rng_) == 0 ? ", " : " ");
      }
    }
    p.back() = '\n';
    return p;
  }

  std::string Document(size_t target) {
    std::string d = "# " + Word() + " " + Word() + "\n\n";
    while (d.size() < target) {
      if (std::uniform_int_distribution<int>(0, 6)(rng_) == 0)
        d += "\n## " + Word() + " " + Word() + "\n\n";
      d += Paragraph() + "\n";
    }
    return d;
  }

 private:
  std::mt19937_64 rng_;
  std::vector<std::string> words_;
  std::vector<double> cdf_;
};

void WriteFile(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!f) throw std::runtime_error("cannot write " + p.string());
}

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string DocPath(int i) { return fmt::format("s{:02}/doc{:05}.md", i % 20, i); }

void Generate(const fs::path& out, int files, double mb, uint64_t seed) {
  TextModel text(seed);
  auto& rng = text.rng();
  WriteFile(out / "snapshot.json",
            R"({"app": "bench", "description": "synthetic benchmark release"})"
            "\n");
  for (int i = 0; i < 20; ++i) {
    WriteFile(out / fmt::format("prompts/p{:02}.md", i),
              "You are {{assistant_name}}. " + text.Paragraph() + "Customer: {{customer_name}}\n");
  }
  for (int i = 0; i < 3; ++i) {
    WriteFile(out / fmt::format("models/m{}.json", i),
              Json{{"provider", "openai"},
                   {"model", fmt::format("gpt-4o-2024-08-0{}", i + 1)},
                   {"revision", fmt::format("2024-08-0{}", i + 1)},
                   {"params", {{"max_tokens", 800}}}}
                  .dump(2));
  }
  for (int i = 0; i < 5; ++i) {
    WriteFile(out / fmt::format("tools/t{}.json", i),
              Json{{"name", fmt::format("tool_{}", i)},
                   {"parameters",
                    {{"type", "object"},
                     {"properties", {{"id", {{"type", "string"}}}}},
                     {"required", {"id"}}}}}
                  .dump(2));
  }
  int docs = std::max(1, files - 29);
  // Log-normal sizes around ~65 KB, scaled so the total is `mb`.
  std::lognormal_distribution<double> size_dist(std::log(50000.0), 0.8);
  std::vector<double> sizes(docs);
  double sum = 0;
  for (auto& s : sizes) sum += (s = size_dist(rng));
  double scale = mb * 1e6 / sum;
  std::vector<Json> manifests(kKnowledgeBases);
  for (auto& m : manifests) {
    m = {{"embedding", {{"model", "text-embedding-3-small"}, {"dimensions", 1536}}},
         {"chunking", {{"size", 512}, {"overlap", 64}}},
         {"documents", Json::array()}};
  }
  for (int i = 0; i < docs; ++i) {
    int kb = i % kKnowledgeBases;
    std::string doc = text.Document(static_cast<size_t>(sizes[i] * scale));
    std::string rel = DocPath(i);
    WriteFile(out / fmt::format("knowledge/kb{}/{}", kb, rel), doc);
    manifests[kb]["documents"].push_back(
        {{"path", rel}, {"digest", cairn::Digest::Of(doc).ToString()}});
  }
  for (int kb = 0; kb < kKnowledgeBases; ++kb) {
    WriteFile(out / fmt::format("knowledge/kb{}.json", kb), manifests[kb].dump(1));
  }
}

void Mutate(const fs::path& out, double pct, uint64_t seed) {
  TextModel text(seed);
  auto& rng = text.rng();
  std::map<int, Json> manifests;
  for (int kb = 0; kb < kKnowledgeBases; ++kb) {
    manifests[kb] = Json::parse(ReadFile(out / fmt::format("knowledge/kb{}.json", kb)));
  }
  size_t total = 0;
  for (auto& [kb, m] : manifests) total += m["documents"].size();
  size_t edits = std::max<size_t>(1, static_cast<size_t>(std::llround(total * pct / 100.0)));
  for (size_t e = 0; e < edits; ++e) {
    int kb = static_cast<int>(rng() % kKnowledgeBases);
    Json& list = manifests[kb]["documents"];
    Json& entry = list[rng() % list.size()];
    fs::path p = out / fmt::format("knowledge/kb{}/{}", kb, entry["path"].get<std::string>());
    std::string doc = ReadFile(p);
    size_t at = doc.size() / 2;
    doc.insert(at, "\n" + text.Paragraph() + "\n");
    WriteFile(p, doc);
    entry["digest"] = cairn::Digest::Of(doc).ToString();
  }
  for (auto& [kb, m] : manifests)
    WriteFile(out / fmt::format("knowledge/kb{}.json", kb), m.dump(1));
  fmt::print("edited {} of {} documents\n", edits, total);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Write a deterministic synthetic release for benchmarks", "cairn-gen-release"};
  std::string out;
  int files = 10000;
  double mb = 650;
  uint64_t seed = 1;
  double mutate = 0;
  app.add_option("out", out, "Output directory")->required();
  app.add_option("--files", files, "Number of files (default 10000)");
  app.add_option("--mb", mb, "Total megabytes of documents (default 650)");
  app.add_option("--seed", seed, "Random seed (default 1)");
  app.add_option("--mutate", mutate,
                 "Edit this percentage of the documents of an existing release");
  CLI11_PARSE(app, argc, argv);
  try {
    if (mutate > 0) {
      Mutate(out, mutate, seed);
    } else {
      Generate(out, files, mb, seed);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "cairn-gen-release: {}\n", e.what());
    return 1;
  }
  return 0;
}
