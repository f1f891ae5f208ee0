// JSON of the adaptive models' health (GET /v1/models, GET /v1/models/{id}, kairos models).
#pragma once

#include <string>
#include <vector>

#include "learn/model_store.h"

namespace kairos {

// {"id","action_id","channel","kind","responses","positives","auc","performance",
//  "mean_predicted","observed_rate","calibration":[{"predicted","observed","n"}],
//  "predictors":[{"name","auc","performance","bins","active"}],"flags":[...]}
// `auc` is on the 0.5–1 scale, `performance` the same on the 50–100 scale operators know.
std::string ModelReportToJson(const learn::ModelStore::ModelReport& report);
// {"models":[...]} sorted by id.
std::string ModelReportsToJson(const std::vector<learn::ModelStore::ModelReport>& reports);

}  // namespace kairos
