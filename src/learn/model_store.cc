#include "learn/model_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "common/crc32c.h"
#include "common/encoding.h"
#include "common/file_util.h"

namespace kairos::learn {

namespace {

constexpr std::string_view kMagic = "KMDL";
constexpr uint64_t kVersion = 1;
constexpr size_t kMaxPredictors = 4096;
constexpr size_t kMaxNameLength = 4096;

void PutString(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}
bool GetString(Reader* in, std::string* s, size_t max) {
  uint64_t n;
  std::string_view v;
  if (!in->Varint(&n) || n > max || !in->Bytes(n, &v)) return false;
  s->assign(v);
  return true;
}

// Index in `old` of each predictor of `now` by name, or -1.
std::vector<int> MatchByName(const std::vector<PredictorSpec>& old,
                             const std::vector<PredictorSpec>& now) {
  std::vector<int> from(now.size(), -1);
  for (size_t i = 0; i < now.size(); ++i) {
    for (size_t j = 0; j < old.size(); ++j) {
      if (old[j].name == now[i].name) from[i] = static_cast<int>(j);
    }
  }
  return from;
}

}  // namespace

struct ModelStore::Decoded {
  std::unique_ptr<std::vector<PredictorSpec>> specs;
  std::vector<std::vector<std::string>> dict_names;
  int64_t cursor = 0;
  std::vector<std::pair<std::string, std::unique_ptr<AdaptiveModel>>> models;
};

ModelStore::ModelStore(std::vector<PredictorSpec> predictors)
    : specs_(std::make_unique<std::vector<PredictorSpec>>(std::move(predictors))) {
  for (size_t i = 0; i < specs_->size(); ++i) dicts_.push_back(std::make_unique<Dictionary>());
}

std::vector<PredictorSpec> ModelStore::predictors() const {
  std::shared_lock lock(mu_);
  return *specs_;
}

void ModelStore::Configure(std::vector<PredictorSpec> predictors) {
  std::unique_lock lock(mu_);
  RemapLocked(std::move(predictors));
}

void ModelStore::RemapLocked(std::vector<PredictorSpec> predictors) {
  const std::vector<int> from = MatchByName(*specs_, predictors);
  auto next = std::make_unique<std::vector<PredictorSpec>>(std::move(predictors));
  std::vector<std::unique_ptr<Dictionary>> dicts(next->size());
  for (size_t i = 0; i < next->size(); ++i) {
    const bool same = from[i] >= 0 && (*specs_)[from[i]].numeric == (*next)[i].numeric;
    dicts[i] = same ? std::move(dicts_[from[i]]) : std::make_unique<Dictionary>();
  }
  for (auto& [id, entry] : models_) {
    std::lock_guard model_lock(entry->mu_);
    entry->model_.Remap(next.get(), from);
  }
  dicts_ = std::move(dicts);
  specs_ = std::move(next);
}

ModelStore::Entry* ModelStore::Bind(const std::string& id, const ModelSettings& wanted,
                                    bool keep_learned_prior) {
  ModelSettings settings = wanted;
  std::unique_lock lock(mu_);
  auto it = models_.find(id);
  if (it == models_.end()) {
    auto entry = std::unique_ptr<Entry>(new Entry(id, settings, specs_.get()));
    it = models_.emplace(id, std::move(entry)).first;
    return it->second.get();
  }
  Entry* e = it->second.get();
  std::lock_guard model_lock(e->mu_);
  const ModelSettings& cur = e->model_.settings();
  if (keep_learned_prior && e->model_.responses() > 0)
    settings.prior_propensity = cur.prior_propensity;
  if (cur.kind != settings.kind || cur.prior_propensity != settings.prior_propensity ||
      cur.prior_responses != settings.prior_responses ||
      cur.min_predictor_auc != settings.min_predictor_auc || cur.max_bins != settings.max_bins) {
    e->model_.Reconfigure(settings);
  }
  return e;
}

void ModelStore::Encode(std::span<const PredictorValue> values, EncodedPredictors* out) {
  const size_t n = specs_->size();
  out->code.assign(n, kMissingCode);
  out->x.assign(n, 0);
  for (size_t i = 0; i < n && i < values.size(); ++i) {
    const PredictorValue& v = values[i];
    if (v.missing) continue;
    if ((*specs_)[i].numeric) {
      if (!v.numeric) continue;  // a value of the wrong type counts as missing
      out->code[i] = NumericCode(v.num);
      if (out->code[i] != kMissingCode) out->x[i] = static_cast<float>(std::asinh(v.num));
      continue;
    }
    if (v.numeric) continue;
    Dictionary& d = *dicts_[i];
    {
      std::shared_lock dl(d.mu);
      if (auto it = d.ids.find(v.str); it != d.ids.end()) {
        out->code[i] = it->second;
        continue;
      }
    }
    std::unique_lock dl(d.mu);
    auto it = d.ids.find(v.str);
    if (it != d.ids.end()) {
      out->code[i] = it->second;
    } else if (d.names.size() < kMaxSymbols) {
      d.names.push_back(v.str);
      const int id = static_cast<int>(d.names.size());
      d.ids.emplace(v.str, id);
      out->code[i] = id;
    } else {
      out->code[i] = 0;  // the dictionary is full: the overflow symbol
    }
  }
}

Estimate ModelStore::Score(const Entry* e, const EncodedPredictors& in) const {
  std::lock_guard lock(e->mu_);
  return e->model_.Score(in);
}

std::pair<int64_t, int64_t> ModelStore::Evidence(const Entry* e) const {
  std::lock_guard lock(e->mu_);
  return {e->model_.positives(), e->model_.responses()};
}

ModelSettings ModelStore::Settings(const Entry* e) const {
  std::lock_guard lock(e->mu_);
  return e->model_.settings();
}

void ModelStore::Update(Entry* e, const EncodedPredictors& in, bool positive) {
  std::lock_guard lock(e->mu_);
  e->model_.Update(in, positive);
}

std::vector<ModelStore::ModelReport> ModelStore::Health() const {
  std::shared_lock lock(mu_);
  std::vector<ModelReport> out;
  for (const auto& [id, entry] : models_) {
    std::lock_guard model_lock(entry->mu_);
    out.push_back({id, entry->model_.Health()});
  }
  return out;
}

Result<ModelStore::ModelReport> ModelStore::HealthOf(std::string_view id) const {
  std::shared_lock lock(mu_);
  auto it = models_.find(id);
  if (it == models_.end()) return NotFound("no model " + std::string(id.substr(0, 200)));
  std::lock_guard model_lock(it->second->mu_);
  return ModelReport{it->first, it->second->model_.Health()};
}

std::string ModelStore::Snapshot(int64_t cursor) const {
  std::shared_lock lock(mu_);
  std::string out(kMagic);
  PutVarint(&out, kVersion);
  PutVarint(&out, specs_->size());
  for (size_t i = 0; i < specs_->size(); ++i) {
    PutString(&out, (*specs_)[i].name);
    out.push_back((*specs_)[i].numeric ? 1 : 0);
    std::shared_lock dl(dicts_[i]->mu);
    PutVarint(&out, dicts_[i]->names.size());
    for (const std::string& s : dicts_[i]->names) PutString(&out, s);
  }
  PutSignedVarint(&out, cursor);
  PutVarint(&out, models_.size());
  for (const auto& [id, entry] : models_) {
    std::lock_guard model_lock(entry->mu_);
    entry->model_.Consolidate();
    PutString(&out, id);
    out.push_back(static_cast<char>(entry->model_.settings().kind));
    entry->model_.Encode(&out);
  }
  PutFixed(&out, Crc32c(0, out.data(), out.size()));
  return out;
}

Result<ModelStore::Decoded> ModelStore::DecodeSnapshot(std::string_view snapshot) {
  auto bad = [](std::string what) { return Corruption("model snapshot: " + what); };
  if (snapshot.size() < kMagic.size() + 4 || snapshot.substr(0, kMagic.size()) != kMagic) {
    return bad("not a Kairos model snapshot (no KMDL header)");
  }
  uint32_t stored_crc;
  std::memcpy(&stored_crc, snapshot.data() + snapshot.size() - 4, 4);
  const std::string_view body = snapshot.substr(0, snapshot.size() - 4);
  if (Crc32c(0, body.data(), body.size()) != stored_crc)
    return bad("checksum mismatch (truncated or damaged)");
  Reader in(body.substr(kMagic.size()));
  uint64_t version, npred;
  if (!in.Varint(&version) || version != kVersion) return bad("unsupported version");
  Decoded d;
  d.specs = std::make_unique<std::vector<PredictorSpec>>();
  if (!in.Varint(&npred) || npred > kMaxPredictors) return bad("bad predictor count");
  for (uint64_t i = 0; i < npred; ++i) {
    PredictorSpec spec;
    std::string_view flag;
    uint64_t nsym;
    if (!GetString(&in, &spec.name, kMaxNameLength) || !in.Bytes(1, &flag) || flag[0] > 1) {
      return bad("bad predictor " + std::to_string(i));
    }
    spec.numeric = flag[0] == 1;
    if (!in.Varint(&nsym) || nsym > kMaxSymbols)
      return bad("bad dictionary of predictor " + spec.name);
    std::vector<std::string> names(nsym);
    for (std::string& s : names) {
      if (!GetString(&in, &s, kMaxNameLength))
        return bad("bad dictionary of predictor " + spec.name);
    }
    d.specs->push_back(std::move(spec));
    d.dict_names.push_back(std::move(names));
  }
  uint64_t nmodels;
  if (!in.SignedVarint(&d.cursor) || !in.Varint(&nmodels) || nmodels > (1u << 24))
    return bad("bad model count");
  for (uint64_t i = 0; i < nmodels; ++i) {
    std::string id;
    std::string_view kind;
    if (!GetString(&in, &id, kMaxNameLength) || !in.Bytes(1, &kind) || kind[0] > 1) {
      return bad("bad model " + std::to_string(i));
    }
    ModelSettings s;
    s.kind = static_cast<ModelKind>(kind[0]);
    auto model = std::make_unique<AdaptiveModel>(s, d.specs.get());
    if (!model->Decode(&in)) return bad("bad state of model " + id);
    d.models.emplace_back(std::move(id), std::move(model));
  }
  if (!in.ok() || !in.done()) return bad("trailing or missing bytes");
  return d;
}

Result<size_t> ModelStore::Validate(std::string_view snapshot) {
  KAIROS_ASSIGN_OR_RETURN(Decoded d, DecodeSnapshot(snapshot));
  return d.models.size();
}

Result<int64_t> ModelStore::Restore(std::string_view snapshot) {
  KAIROS_ASSIGN_OR_RETURN(Decoded d, DecodeSnapshot(snapshot));
  std::unique_lock lock(mu_);
  std::vector<PredictorSpec> current = *specs_;
  // Adopt the snapshot's predictors and dictionaries, then remap to the current predictor list.
  specs_ = std::move(d.specs);
  dicts_.clear();
  for (auto& names : d.dict_names) {
    auto dict = std::make_unique<Dictionary>();
    for (std::string& n : names) {
      dict->names.push_back(n);
      dict->ids.emplace(std::move(n), static_cast<int>(dict->names.size()));
    }
    dicts_.push_back(std::move(dict));
  }
  std::map<std::string, std::unique_ptr<AdaptiveModel>, std::less<>> incoming;
  for (auto& [id, m] : d.models) incoming[id] = std::move(m);
  for (auto& [id, entry] : models_) {
    std::lock_guard model_lock(entry->mu_);
    const ModelSettings settings = entry->model_.settings();
    auto it = incoming.find(id);
    if (it != incoming.end()) {
      entry->model_ = std::move(*it->second);
      entry->model_.Reconfigure(settings);
      incoming.erase(it);
    } else {
      entry->model_ = AdaptiveModel(settings, specs_.get());
    }
  }
  for (auto& [id, m] : incoming) {
    auto entry = std::unique_ptr<Entry>(new Entry(id, m->settings(), specs_.get()));
    entry->model_ = std::move(*m);
    models_.emplace(id, std::move(entry));
  }
  RemapLocked(std::move(current));
  return d.cursor;
}

Status ModelStore::SaveFile(const std::string& path, int64_t cursor) const {
  return WriteFileAtomic(path, Snapshot(cursor));
}

Result<int64_t> ModelStore::LoadFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFound("no model snapshot at " + path);
  KAIROS_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  auto r = Restore(bytes);
  if (!r.ok()) return r.status().WithContext(path);
  return r;
}

}  // namespace kairos::learn
