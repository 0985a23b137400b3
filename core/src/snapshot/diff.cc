#include "cairn/diff.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "cairn/object.h"
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

std::string TypeOf(const Json& schema) {
  if (!schema.is_object() || !schema.contains("type")) return "any";
  return schema["type"].is_string() ? schema["type"].get<std::string>() : schema["type"].dump();
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

// Compares two object schemas property by property. `where` names the parameter path
// ("" at the top, "address." below).
void CompareObjectSchemas(const Json& a, const Json& b, const std::string& ptr,
                          const std::string& where, std::vector<SchemaChange>* out) {
  const Json& pa = PropertiesOf(a);
  const Json& pb = PropertiesOf(b);
  auto ra = RequiredOf(a), rb = RequiredOf(b);
  std::string props = PointerJoin(ptr, "properties");
  for (const auto& [name, sa] : pa.items()) {
    std::string p = PointerJoin(props, name);
    std::string label = where + name;
    if (!pb.contains(name)) {
      out->push_back({p, fmt::format("parameter \"{}\" removed", label), true});
      continue;
    }
    const Json& sb = pb[name];
    if (TypeOf(sa) != TypeOf(sb)) {
      out->push_back(
          {p, fmt::format("parameter \"{}\" retyped: {} -> {}", label, TypeOf(sa), TypeOf(sb)),
           true});
      continue;
    }
    if (!ra.contains(name) && rb.contains(name)) {
      out->push_back({p, fmt::format("parameter \"{}\" is now required", label), true});
    } else if (ra.contains(name) && !rb.contains(name)) {
      out->push_back({p, fmt::format("parameter \"{}\" is now optional", label), false});
    }
    if (sa.is_object() && sb.is_object() && sa.contains("enum") && sb.contains("enum") &&
        sa["enum"].is_array() && sb["enum"].is_array()) {
      for (const auto& value : sa["enum"]) {
        if (std::find(sb["enum"].begin(), sb["enum"].end(), value) == sb["enum"].end()) {
          out->push_back(
              {p, fmt::format("parameter \"{}\" no longer accepts {}", label, value.dump()), true});
        }
      }
      for (const auto& value : sb["enum"]) {
        if (std::find(sa["enum"].begin(), sa["enum"].end(), value) == sa["enum"].end()) {
          out->push_back(
              {p, fmt::format("parameter \"{}\" also accepts {}", label, value.dump()), false});
        }
      }
    }
    if (TypeOf(sa) == "object") CompareObjectSchemas(sa, sb, p, label + ".", out);
    if (TypeOf(sa) == "array" && sa.contains("items") && sb.contains("items") &&
        TypeOf(sa["items"]) != TypeOf(sb["items"])) {
      out->push_back({PointerJoin(p, "items"),
                      fmt::format("items of \"{}\" retyped: {} -> {}", label, TypeOf(sa["items"]),
                                  TypeOf(sb["items"])),
                      true});
    }
    if (sa.value("description", "") != sb.value("description", "")) {
      out->push_back({p, fmt::format("description of \"{}\" changed", label), false});
    }
  }
  for (const auto& [name, sb] : pb.items()) {
    if (pa.contains(name)) continue;
    bool required = rb.contains(name);
    out->push_back({PointerJoin(props, name),
                    fmt::format("{} parameter \"{}{}\" added", required ? "required" : "optional",
                                where, name),
                    required});
  }
}

const Json& ParametersOf(const Json& tool) {
  static const Json kEmpty = Json::object();
  if (!tool.is_object()) return kEmpty;
  if (tool.contains("parameters")) return tool["parameters"];
  if (tool.contains("input_schema")) return tool["input_schema"];
  return kEmpty;
}

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
  std::string na = before.is_object() ? before.value("name", "") : "";
  std::string nb = after.is_object() ? after.value("name", "") : "";
  if (na != nb) {
    out.push_back({"/name", fmt::format("tool renamed: \"{}\" -> \"{}\"", na, nb), true});
  }
  if (before.is_object() && after.is_object() &&
      before.value("description", "") != after.value("description", "")) {
    out.push_back({"/description", "tool description changed", false});
  }
  const char* field =
      after.is_object() && after.contains("input_schema") ? "input_schema" : "parameters";
  CompareObjectSchemas(ParametersOf(before), ParametersOf(after), PointerJoin("/", field), "",
                       &out);
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
    if (options.details) CAIRN_RETURN_IF_ERROR(Detail(store, a, b, options, &d));
    out.components.push_back(std::move(d));
  }
  return out;
}

}  // namespace cairn
