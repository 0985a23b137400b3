// cairn key generate NAME [--out DIR] [--json]
#include <cairn/signing.h>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace cairn::cli {
namespace {

struct KeyGenerateOptions {
  std::string name;
  std::string out = ".";
  bool json = false;
};

int RunKeyGenerate(const KeyGenerateOptions& o) {
  auto files = GenerateKeyFiles(o.name, o.out);
  if (!files.ok()) return ReportError(files.status());
  auto pem = files->public_key.Pem();
  if (!pem.ok()) return ReportError(pem.status());
  if (o.json) {
    PrintJson({{"name", o.name},
               {"private_key_file", files->private_path},
               {"public_key_file", files->public_path},
               {"key_id", files->public_key.id().ToString()},
               {"public_key", *pem}});
    return kExitOk;
  }
  Print("private key: {} (mode 0600: keep it secret, never commit it)\n", files->private_path);
  Print("public key:  {}\n", files->public_path);
  Print("key id:      {}\n\n{}", files->public_key.id().ToString(), *pem);
  Print("\nTrust it with: cairn trust add {} {} --role ROLE\n", o.name, files->public_path);
  return kExitOk;
}

}  // namespace

void RegisterKey(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("key", "Make Ed25519 signing keys");
  group->require_subcommand(1);
  auto o = std::make_shared<KeyGenerateOptions>();
  auto* cmd = group->add_subcommand(
      "generate", "Write NAME.pem (private, mode 0600) and NAME.pub.pem; never overwrites");
  cmd->add_option("name", o->name, "Key name: [a-z0-9][a-z0-9._-]*")->required();
  cmd->add_option("--out", o->out, "Directory for the key files (default: the working directory)");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = RunKeyGenerate(*o); });
}

}  // namespace cairn::cli
