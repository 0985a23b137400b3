// The JSON documents of cairn/views.h. Field names and order are part of the CLI's and the
// HTTP API's contract (docs/cli.md, docs/serve.md): change them in both documents or not at all.
#include "cairn/views.h"

#include "cairn/clock.h"
#include "cairn/trust.h"

namespace cairn {

Json DeploymentJson(const Deployment& d) {
  return {{"deployment", d.name},
          {"live", d.live.Hex()},
          {"since", FormatTime(d.last.time_micros)},
          {"event", d.last.ToJson()}};
}

Json StatusJson(const std::vector<Deployment>& deployments) {
  Json out = Json::array();
  for (const auto& d : deployments) out.push_back(DeploymentJson(d));
  return out;
}

Json EventsJson(const std::vector<Event>& events) {
  Json out = Json::array();
  for (const auto& e : events) out.push_back(e.ToJson());
  return out;
}

Json LiveJson(std::string_view deployment, int64_t at_micros, const Event& event) {
  return {{"deployment", deployment},
          {"at", FormatTime(at_micros)},
          {"live", event.to.Hex()},
          {"event", event.ToJson()}};
}

Json SnapshotListJson(const std::vector<SnapshotSummary>& snapshots) {
  Json out = Json::array();
  for (const auto& s : snapshots) {
    out.push_back({{"id", s.id.Hex()},
                   {"app", s.app},
                   {"author", s.author},
                   {"created", FormatTime(s.created_micros)},
                   {"message", s.message},
                   {"components", s.components},
                   {"size", s.size},
                   {"content", s.content.ToString()}});
  }
  return out;
}

namespace {
Json SignerNamesJson(const std::vector<SignerName>& names) {
  Json out = Json::array();
  for (const auto& n : names) out.push_back({{"name", n.name}, {"roles", n.roles}});
  return out;
}
}  // namespace

Json SignatureCheckJson(const SignatureCheck& c) {
  return {{"key_id", c.key_id.ToString()},
          {"status", SignatureStatusName(c.status)},
          {"names", SignerNamesJson(c.names)},
          {"roles", c.roles},
          {"detail", c.detail},
          {"time", c.time_micros ? Json(FormatTime(c.time_micros)) : Json()},
          {"actor", c.actor}};
}

Json AttestationCheckJson(const AttestationCheck& c) {
  const Attestation& a = c.attestation;
  return {{"id", a.id.ToString()},
          {"statement", a.statement.ToJson()},
          {"key_id", a.key_id.ToString()},
          {"status", SignatureStatusName(c.status)},
          {"names", SignerNamesJson(c.names)},
          {"roles", c.roles},
          {"detail", c.detail}};
}

Result<SnapshotView> LoadSnapshotView(const Store& store, const SnapshotId& id) {
  SnapshotView view;
  auto snapshot = LoadSnapshot(store, id);
  if (!snapshot.ok()) return snapshot.status();
  view.snapshot = std::move(*snapshot);
  auto same = SnapshotsWithSameContent(store, view.snapshot);
  if (!same.ok()) return same.status();
  view.same_content_as = std::move(*same);
  auto trust = TrustState::Load(store);
  if (!trust.ok()) return trust.status();
  auto signatures = CheckSnapshotSignatures(store, id, *trust);
  if (!signatures.ok()) return signatures.status();
  view.signatures = std::move(*signatures);
  auto attestations = CheckAttestations(store, id, *trust);
  if (!attestations.ok()) return attestations.status();
  view.attestations = std::move(*attestations);
  return view;
}

Json SnapshotViewJson(const SnapshotView& view) {
  const Snapshot& s = view.snapshot;
  Json j = ManifestJson(s);
  Json sigs = Json::array();
  for (const auto& c : view.signatures) sigs.push_back(SignatureCheckJson(c));
  j["signatures"] = sigs;
  Json atts = Json::array();
  for (const auto& c : view.attestations) atts.push_back(AttestationCheckJson(c));
  j["attestations"] = atts;
  j["id"] = s.id.Hex();
  Json ids = Json::array();
  for (const auto& id : view.same_content_as) ids.push_back(id.Hex());
  j["same_content_as"] = ids;
  j["size"] = s.TotalSize();
  return j;
}

namespace {
Json ComponentDiffJson(const ComponentDiff& d) {
  Json j = {{"path", d.path}, {"kind", KindName(d.kind)}, {"change", ChangeTypeName(d.type)}};
  if (d.old_digest) j["old_digest"] = d.old_digest->ToString();
  if (d.new_digest) j["new_digest"] = d.new_digest->ToString();
  j["old_size"] = d.old_size;
  j["new_size"] = d.new_size;
  if (!d.unified.empty()) {
    j["unified"] = d.unified;
    j["lines_added"] = d.lines_added;
    j["lines_removed"] = d.lines_removed;
  }
  if (!d.fields.empty()) {
    Json fields = Json::array();
    for (const auto& f : d.fields) {
      fields.push_back({{"pointer", f.pointer}, {"before", f.before}, {"after", f.after}});
    }
    j["fields"] = fields;
  }
  if (!d.schema.empty()) {
    Json changes = Json::array();
    for (const auto& c : d.schema) {
      changes.push_back(
          {{"pointer", c.pointer}, {"change", c.description}, {"breaking", c.breaking}});
    }
    j["schema_changes"] = changes;
    j["breaking"] = d.breaking;
  }
  if (!d.variables_added.empty() || !d.variables_removed.empty()) {
    j["variables_added"] = d.variables_added;
    j["variables_removed"] = d.variables_removed;
  }
  if (d.documents) {
    j["documents"] = {{"added", d.documents->added},
                      {"removed", d.documents->removed},
                      {"changed", d.documents->changed}};
  }
  return j;
}
}  // namespace

Json DiffJson(const SnapshotDiff& diff, const Snapshot& from, const Snapshot& to) {
  Json list = Json::array();
  for (const auto& d : diff.components) list.push_back(ComponentDiffJson(d));
  return {
      {"from", diff.from.Hex()},    {"to", diff.to.Hex()},    {"same_content", diff.same_content},
      {"from_source", from.source}, {"to_source", to.source}, {"components", list}};
}

const char* AuditChainName(AuditChain chain) {
  switch (chain) {
    case AuditChain::kTrust:
      return "trust";
    case AuditChain::kPolicy:
      return "policy";
    case AuditChain::kAttestations:
      return "attestations";
    case AuditChain::kDeployment:
      break;
  }
  return "deployment";
}

Json AuditJson(const AuditReport& report) {
  Json problems = Json::array();
  for (const auto& p : report.problems) {
    problems.push_back({{"chain", AuditChainName(p.chain)},
                        {"deployment", p.deployment},
                        {"seq", p.seq},
                        {"message", p.message}});
  }
  Json signatures = Json::array();
  for (const auto& s : report.signatures) {
    signatures.push_back({{"deployment", s.deployment},
                          {"seq", s.seq},
                          {"key_id", s.key_id.ToString()},
                          {"status", SignatureStatusName(s.status)},
                          {"names", s.names},
                          {"detail", s.detail}});
  }
  Json root = nullptr;
  if (report.root) {
    Json keys = Json::array();
    for (const auto& k : report.root->spec.KeyIds()) keys.push_back(k.ToString());
    root = {{"keys", keys},
            {"threshold", report.root->spec.threshold},
            {"event", report.root->seq},
            {"roots", report.root_events}};
  }
  return {{"ok", report.ok()},
          {"rooted", report.root.has_value()},
          {"root", root},
          {"root_pinned", report.root_pinned},
          {"deployments", report.deployments},
          {"events", report.events},
          {"events_without_hook_record", report.events_without_hook_record},
          {"trust_events", report.trust_events},
          {"policy_events", report.policy_events},
          {"attestations", report.attestations},
          {"verdicts_recomputed", report.verdicts_recomputed},
          {"signatures", signatures},
          {"problems", problems}};
}

}  // namespace cairn
