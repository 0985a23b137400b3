#include "cairn/diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <set>

#include "cairn/object.h"
#include "ingest/json_schema.h"
#include "ingest/tool_dialect.h"
#include "ingest/validators.h"

namespace cairn {
namespace {

void Flatten(const Json& v, const std::string& ptr, std::map<std::string, Json>* out) {
  if (v.is_object() && !v.empty()) {
    for (const auto& [k, sub] : v.items()) Flatten(sub, PointerJoin(ptr, k), out);
  } else if (v.is_array() && !v.empty()) {
    for (size_t i = 0; i < v.size(); ++i) Flatten(v[i], PointerJoin(ptr, std::to_string(i)), out);
  } else {
    (*out)[ptr.empty() ? "/" : ptr] = v;
  }
}

// The types a schema admits; empty means any (no "type").
std::set<std::string> TypesOf(const Json& schema) {
  std::set<std::string> out;
  if (!schema.is_object() || !schema.contains("type")) return out;
  const Json& t = schema["type"];
  if (t.is_string()) out.insert(t.get<std::string>());
  if (t.is_array()) {
    for (const auto& name : t) {
      if (name.is_string()) out.insert(name.get<std::string>());
    }
  }
  return out;
}

std::string TypeOf(const Json& schema) {
  if (!schema.is_object() || !schema.contains("type")) return "any";
  return schema["type"].is_string() ? schema["type"].get<std::string>() : schema["type"].dump();
}

// Whether every value of a type in `before` is still admitted by `after`.
bool TypesWidenOrKeep(const std::set<std::string>& before, const std::set<std::string>& after) {
  if (after.empty()) return true;
  if (before.empty()) return false;
  for (const auto& t : before) {
    if (!after.contains(t) && !(t == "integer" && after.contains("number"))) return false;
  }
  return true;
}

std::set<std::string> RequiredOf(const Json& schema) {
  std::set<std::string> out;
  if (schema.is_object() && schema.contains("required") && schema["required"].is_array()) {
    for (const auto& r : schema["required"]) {
      if (r.is_string()) out.insert(r.get<std::string>());
    }
  }
  return out;
}

const Json& PropertiesOf(const Json& schema) {
  static const Json kEmpty = Json::object();
  if (schema.is_object() && schema.contains("properties") && schema["properties"].is_object()) {
    return schema["properties"];
  }
  return kEmpty;
}

// Compares two tool argument schemas, following local "$ref"s in each, so that a change
// inside a shared definition is found (once, at the first parameter that uses it). Bounded:
// each pair of subschemas is compared once, nesting stops at kMaxCompareDepth and the whole
// comparison after kMaxComparisons; a difference not compared is reported as breaking.
class ToolSchemaComparison {
 public:
  ToolSchemaComparison(const Json& root_a, const Json& root_b, std::vector<SchemaChange>* out)
      : root_a_(root_a), root_b_(root_b), out_(out) {}

  // The whole argument schemas; `ptr` is where they are in the (after) tool definition.
  void CompareRoots(const std::string& ptr) {
    seen_.insert({&Deref(root_a_, root_a_), &Deref(root_b_, root_b_)});
    CompareObjects(root_a_, root_b_, ptr, "", 0);
  }

 private:
  // `where` names the parameter path ("" at the top, "address." below).
  void CompareObjects(const Json& a_in, const Json& b_in, const std::string& ptr,
                      const std::string& where, int depth) {
    const Json& a = Deref(a_in, root_a_);
    const Json& b = Deref(b_in, root_b_);
    const Json& pa = PropertiesOf(a);
    const Json& pb = PropertiesOf(b);
    auto ra = RequiredOf(a), rb = RequiredOf(b);
    std::string props = PointerJoin(ptr, "properties");
    for (const auto& [name, sa] : pa.items()) {
      std::string p = PointerJoin(props, name);
      std::string label = where + name;
      if (!pb.contains(name)) {
        Add(p, fmt::format("parameter \"{}\" removed", label), true);
        continue;
      }
      if (!ra.contains(name) && rb.contains(name)) {
        Add(p, fmt::format("parameter \"{}\" is now required", label), true);
      } else if (ra.contains(name) && !rb.contains(name)) {
        Add(p, fmt::format("parameter \"{}\" is now optional", label), false);
      }
      CompareSchemas(sa, pb[name], p, label, depth + 1);
    }
    for (const auto& [name, sb] : pb.items()) {
      if (pa.contains(name)) continue;
      bool required = rb.contains(name);
      Add(PointerJoin(props, name),
          fmt::format("{} parameter \"{}{}\" added", required ? "required" : "optional", where,
                      name),
          required);
    }
  }

  static constexpr int kMaxCompareDepth = 64;
  static constexpr size_t kMaxComparisons = 100000;
  static constexpr int kMaxRefHops = 32;

  static const Json& Deref(const Json& s, const Json& root) {
    const Json* at = &s;
    for (int hop = 0; hop < kMaxRefHops && at->is_object(); ++hop) {
      auto ref = at->find("$ref");
      if (ref == at->end() || !ref->is_string()) break;
      const Json* target = ResolveLocalSchemaRef(root, ref->get<std::string>());
      if (!target) break;
      at = target;
    }
    return *at;
  }

  void Add(const std::string& ptr, std::string description, bool breaking) {
    out_->push_back({ptr, std::move(description), breaking});
  }

  void CompareSchemas(const Json& a_in, const Json& b_in, const std::string& p,
                      const std::string& label, int depth) {
    const Json& sa = Deref(a_in, root_a_);
    const Json& sb = Deref(b_in, root_b_);
    if (!seen_.insert({&sa, &sb}).second) return;
    if (depth > kMaxCompareDepth || ++comparisons_ > kMaxComparisons) {
      if (sa != sb) {
        Add(p, fmt::format("parameter \"{}\" changed (nested too deep to compare)", label), true);
      }
      return;
    }
    auto ta = TypesOf(sa), tb = TypesOf(sb);
    if (ta != tb) {
      bool widened = TypesWidenOrKeep(ta, tb);
      Add(p,
          fmt::format("parameter \"{}\" retyped: {} -> {}{}", label, TypeOf(sa), TypeOf(sb),
                      widened ? " (wider)" : ""),
          !widened);
      if (!widened) return;
    }
    CompareEnums(sa, sb, p, label);
    if (ta.contains("object") || (sa.is_object() && sa.contains("properties"))) {
      CompareObjects(sa, sb, p, label + ".", depth);
    }
    if (sa.is_object() && sb.is_object() && sa.contains("items") && sb.contains("items") &&
        sa["items"].is_object() && sb["items"].is_object()) {
      CompareSchemas(sa["items"], sb["items"], PointerJoin(p, "items"), label + "[]", depth + 1);
    }
    if (sa.is_object() && sb.is_object() &&
        sa.value("description", Json()) != sb.value("description", Json())) {
      Add(p, fmt::format("description of \"{}\" changed", label), false);
    }
  }

  void CompareEnums(const Json& sa, const Json& sb, const std::string& p,
                    const std::string& label) {
    auto values = [](const Json& s) -> const Json* {
      if (!s.is_object()) return nullptr;
      auto it = s.find("enum");
      return it != s.end() && it->is_array() ? &*it : nullptr;
    };
    const Json* ea = values(sa);
    const Json* eb = values(sb);
    if (!eb) return;  // no enum after: every value of the type is accepted
    if (!ea) {
      Add(p, fmt::format("parameter \"{}\" now accepts only {}", label, eb->dump()), true);
      return;
    }
    for (const auto& value : *ea) {
      if (std::find(eb->begin(), eb->end(), value) == eb->end()) {
        Add(p, fmt::format("parameter \"{}\" no longer accepts {}", label, value.dump()), true);
      }
    }
    for (const auto& value : *eb) {
      if (std::find(ea->begin(), ea->end(), value) == ea->end()) {
        Add(p, fmt::format("parameter \"{}\" also accepts {}", label, value.dump()), false);
      }
    }
  }

  const Json& root_a_;
  const Json& root_b_;
  std::vector<SchemaChange>* out_;
  std::set<std::pair<const Json*, const Json*>> seen_;
  size_t comparisons_ = 0;
};

KnowledgeCounts CompareDocuments(const Json& a, const Json& b) {
  auto index = [](const Json& k) {
    std::map<std::string, std::string> m;
    if (k.is_object() && k.contains("documents") && k["documents"].is_array()) {
      for (const auto& d : k["documents"]) {
        if (d.is_object() && d.contains("path") && d.contains("digest")) {
          m[d["path"].get<std::string>()] = d["digest"].get<std::string>();
        }
      }
    }
    return m;
  };
  auto ma = index(a), mb = index(b);
  KnowledgeCounts c;
  for (const auto& [p, d] : ma) {
    auto it = mb.find(p);
    if (it == mb.end()) {
      ++c.removed;
    } else if (it->second != d) {
      ++c.changed;
    }
  }
  for (const auto& [p, d] : mb) c.added += ma.contains(p) ? 0 : 1;
  return c;
}

bool LooksLikeText(std::string_view bytes) {
  return bytes.find('\0') == std::string_view::npos && IsValidUtf8(bytes);
}

Json ParseOrNull(std::string_view bytes) {
  try {
    return Json::parse(bytes);
  } catch (const Json::exception&) {
    return Json();
  }
}

void CountLines(const std::string& unified, ComponentDiff* d) {
  size_t pos = 0;
  while (pos < unified.size()) {
    size_t end = unified.find('\n', pos);
    if (end == std::string::npos) end = unified.size();
    std::string_view line(unified.data() + pos, end - pos);
    if (line.starts_with("+") && !line.starts_with("+++")) ++d->lines_added;
    if (line.starts_with("-") && !line.starts_with("---")) ++d->lines_removed;
    pos = end + 1;
  }
}

std::set<std::string> VariablesOf(const Component& c) {
  std::set<std::string> out;
  if (auto it = c.facts.find("variables"); it != c.facts.end() && it->is_array()) {
    for (const auto& v : *it) {
      if (v.is_string()) out.insert(v.get<std::string>());
    }
  }
  return out;
}

void CompareVariables(const Component& a, const Component& b, ComponentDiff* d) {
  auto va = VariablesOf(a), vb = VariablesOf(b);
  std::set_difference(vb.begin(), vb.end(), va.begin(), va.end(),
                      std::back_inserter(d->variables_added));
  std::set_difference(va.begin(), va.end(), vb.begin(), vb.end(),
                      std::back_inserter(d->variables_removed));
}

Status Detail(const Store& store, const Component* a, const Component* b,
              const DiffOptions& options, ComponentDiff* d) {
  bool is_document = (a ? a : b)->facts.contains("knowledge_base");
  uint64_t biggest = std::max(a ? a->size : 0, b ? b->size : 0);
  if (is_document || biggest > options.max_text_bytes) return Status::OK();
  std::string before, after;
  if (a) {
    CAIRN_ASSIGN_OR_RETURN(before, ReadObject(store, a->digest));
  }
  if (b) {
    CAIRN_ASSIGN_OR_RETURN(after, ReadObject(store, b->digest));
  }
  d->is_text = LooksLikeText(before) && LooksLikeText(after);
  bool json = d->path.ends_with(".json");
  if (json && a && b) {
    Json ja = ParseOrNull(before), jb = ParseOrNull(after);
    if (d->kind == ComponentKind::kTool) {
      d->schema = DiffToolSchemas(ja, jb);
      for (const auto& c : d->schema) d->breaking = d->breaking || c.breaking;
    } else if (d->kind == ComponentKind::kKnowledge) {
      d->documents = CompareDocuments(ja, jb);
    } else {
      d->fields = DiffJsonFields(ja, jb);
    }
  }
  if (d->is_text &&
      (d->kind == ComponentKind::kPrompt || d->kind == ComponentKind::kConfig || !(a && b))) {
    CAIRN_ASSIGN_OR_RETURN(d->unified,
                           UnifiedTextDiff(before, after, d->path, options.context_lines));
    CountLines(d->unified, d);
  }
  return Status::OK();
}

}  // namespace

const char* ChangeTypeName(ChangeType type) {
  switch (type) {
    case ChangeType::kAdded:
      return "added";
    case ChangeType::kRemoved:
      return "removed";
    case ChangeType::kModified:
      return "modified";
  }
  return "?";
}

std::vector<FieldChange> DiffJsonFields(const Json& before, const Json& after) {
  std::map<std::string, Json> a, b;
  Flatten(before, "", &a);
  Flatten(after, "", &b);
  std::vector<FieldChange> out;
  for (const auto& [p, v] : a) {
    auto it = b.find(p);
    if (it == b.end()) {
      out.push_back({p, v, Json(), false, true});
    } else if (it->second != v) {
      out.push_back({p, v, it->second, false, false});
    }
  }
  for (const auto& [p, v] : b) {
    if (!a.contains(p)) out.push_back({p, Json(), v, true, false});
  }
  std::sort(out.begin(), out.end(),
            [](const FieldChange& x, const FieldChange& y) { return x.pointer < y.pointer; });
  return out;
}

std::vector<SchemaChange> DiffToolSchemas(const Json& before, const Json& after) {
  std::vector<SchemaChange> out;
  ToolParts a = ToolPartsOf(before), b = ToolPartsOf(after);
  if (a.name != b.name) {
    out.push_back({"/name", fmt::format("tool renamed: \"{}\" -> \"{}\"", a.name, b.name), true});
  }
  if (a.dialect != b.dialect) {
    out.push_back({"/",
                   fmt::format("dialect changed: {} -> {}", ToolDialectName(a.dialect),
                               ToolDialectName(b.dialect)),
                   false});
  }
  if (a.description != b.description) {
    out.push_back({"/description", "tool description changed", false});
  }
  static const Json kNoArguments = Json::object();
  const Json& sa = a.input_schema ? *a.input_schema : kNoArguments;
  const Json& sb = b.input_schema ? *b.input_schema : kNoArguments;
  ToolSchemaComparison(sa, sb, &out)
      .CompareRoots(b.input_schema ? b.input_pointer : a.input_pointer);
  return out;
}

Result<SnapshotDiff> DiffSnapshots(const Store& store, const Snapshot& from, const Snapshot& to,
                                   const DiffOptions& options) {
  SnapshotDiff out;
  out.from = from.id;
  out.to = to.id;
  out.same_content = from.content == to.content;
  size_t i = 0, j = 0;
  while (i < from.components.size() || j < to.components.size()) {
    const Component* a = i < from.components.size() ? &from.components[i] : nullptr;
    const Component* b = j < to.components.size() ? &to.components[j] : nullptr;
    ComponentDiff d;
    if (a && (!b || a->path < b->path)) {
      d.type = ChangeType::kRemoved;
      b = nullptr;
      ++i;
    } else if (b && (!a || b->path < a->path)) {
      d.type = ChangeType::kAdded;
      a = nullptr;
      ++j;
    } else {
      ++i;
      ++j;
      if (a->digest == b->digest && a->kind == b->kind) continue;
      d.type = ChangeType::kModified;
    }
    const Component* any = a ? a : b;
    d.path = any->path;
    d.kind = any->kind;
    if (a) {
      d.old_digest = a->digest;
      d.old_size = a->size;
    }
    if (b) {
      d.new_digest = b->digest;
      d.new_size = b->size;
    }
    if (a && b && d.kind == ComponentKind::kPrompt) CompareVariables(*a, *b, &d);
    if (options.details) CAIRN_RETURN_IF_ERROR(Detail(store, a, b, options, &d));
    out.components.push_back(std::move(d));
  }
  return out;
}

}  // namespace cairn
