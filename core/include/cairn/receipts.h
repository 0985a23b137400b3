// Receipts: what serving hosts report they actually loaded, so "live" can mean served and not
// only pointed at. A receipt says: host H loaded snapshot S of deployment D at time T.
//
// Receipts live in an append-only file beside the database, `<store>/receipts.log`
// (docs/format.md, "Receipts"), never in the database: recording one never takes the
// writer lock, so hosts reporting cannot delay a promote or a rollback. Appends from several
// threads of one process are serialised; appends from several processes are each one
// write(2) on an O_APPEND descriptor. Reading never blocks a writer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/canonical_json.h"
#include "cairn/deployment_name.h"
#include "cairn/snapshot.h"
#include "cairn/status.h"

namespace cairn {

inline constexpr const char* kReceiptsFileName = "receipts.log";
// Hosts count as serving a deployment when they reported within this window (--receipt-window).
inline constexpr int64_t kDefaultReceiptWindowMicros = int64_t{24} * 3600 * 1000000;
// Longest host name a receipt may carry.
inline constexpr size_t kMaxReceiptHostLength = 128;

struct Receipt {
  std::string host;        // 1-128 of [A-Za-z0-9._-]
  std::string deployment;  // a valid DeploymentName
  SnapshotId snapshot;
  int64_t loaded_micros = 0;    // when the host says it loaded the snapshot
  int64_t received_micros = 0;  // when the server recorded the receipt
};

// A host name as receipts accept it; kUsage naming the rule otherwise.
Status CheckReceiptHost(std::string_view host);

// Appends `receipt` to `<store_path>/receipts.log` (created with mode 0644 if missing) as one
// line and fdatasyncs it before returning: an OK receipt survives a crash.
Status AppendReceipt(const std::string& store_path, const Receipt& receipt);

// Every receipt in the file, in file order; none when the file does not exist. A last line
// without its newline (a crash during an append) is ignored; any other malformed line is
// kCorruption naming its line number.
Result<std::vector<Receipt>> ReadReceipts(const std::string& store_path);

// What one host served on a deployment at an instant.
struct HostServing {
  std::string host;
  SnapshotId snapshot;
  int64_t since_micros = 0;     // loaded_at of its first receipt for `snapshot` in a row
  int64_t reported_micros = 0;  // its last receipt at or before the instant
};

// For `deployment` at `at_micros`: each host whose last receipt at or before `at_micros` was
// received within `window_micros` before it, with the snapshot that receipt names. Sorted by
// host name. Receipts are taken in file order (their received times never go backwards
// within one server).
std::vector<HostServing> HostsServing(const std::vector<Receipt>& receipts,
                                      std::string_view deployment, int64_t at_micros,
                                      int64_t window_micros);

// How many of the hosts serving a deployment run its live snapshot, and which do not.
struct ServingSummary {
  size_t hosts = 0;                    // hosts that reported within the window
  size_t on_live = 0;                  // of them, on the live snapshot
  std::vector<HostServing> elsewhere;  // the others, by host name
};
ServingSummary SummarizeServing(const std::vector<HostServing>& hosts, const SnapshotId& live);

// What hosts served: {"deployment","at","hosts":[{"host","snapshot","since","reported_at"}]}
// (`cairn receipts --json`, GET /v1/deployments/{name}/receipts).
Json ReceiptsJson(std::string_view deployment, int64_t at_micros,
                  const std::vector<HostServing>& hosts);

// The receipt as one JSON object: {"host","deployment","snapshot","loaded_at","received_at"}
// (times RFC 3339 with microseconds), the form of a line of receipts.log.
Json ReceiptJson(const Receipt& receipt);

}  // namespace cairn
