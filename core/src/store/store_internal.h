// Access to a Store's private parts for the rest of core (never for cli/).
#pragma once

#include "cairn/store.h"
#include "port/rocks.h"

namespace cairn {

class StoreInternal {
 public:
  static Db& db(const Store& store);
};

}  // namespace cairn
