// The registry: which validator checks which file.
#include "ingest/validators.h"

namespace cairn {

const KindValidator& PromptValidatorInstance(TemplateDialect dialect);
const KindValidator& ModelValidatorInstance();
const KindValidator& ToolValidatorInstance();
const KindValidator& KnowledgeValidatorInstance();
const KindValidator& ConfigJsonValidatorInstance();

const KindValidator* ValidatorFor(ComponentKind kind, std::string_view path,
                                  bool is_knowledge_document, TemplateDialect templates) {
  switch (kind) {
    case ComponentKind::kPrompt:
      return &PromptValidatorInstance(TemplateDialectFor(path, templates));
    case ComponentKind::kModel:
      return &ModelValidatorInstance();
    case ComponentKind::kTool:
      return &ToolValidatorInstance();
    case ComponentKind::kKnowledge:
      return is_knowledge_document ? nullptr : &KnowledgeValidatorInstance();
    case ComponentKind::kConfig:
      return path.ends_with(".json") ? &ConfigJsonValidatorInstance() : nullptr;
  }
  return nullptr;
}

}  // namespace cairn
