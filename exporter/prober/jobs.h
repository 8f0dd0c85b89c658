// The loop's jobs of one kind (echo targets, path MTU searches, exposure checks), keyed by
// what identifies them across peer-set changes, and reconciled against each new plan the same
// way: a key that stays keeps its job (counters, schedule, search state), a new key gets a new
// job, a key that went loses its job at once. Events refer to jobs by id, so an event or a
// reply for a dropped job finds nothing and is ignored.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <unordered_map>
#include <utility>

namespace podpath::prober {

template <typename Key, typename Job>
class JobTable {
 public:
  // The job with this id, or nullptr once dropped.
  Job* find(std::uint32_t id) {
    auto it = jobs_.find(id);
    return it == jobs_.end() ? nullptr : &it->second;
  }
  // The job if `epoch` is its current schedule: events pushed under an earlier epoch are
  // stale (the job was rescheduled) and must not fire.
  Job* find(std::uint32_t id, std::uint32_t epoch) {
    Job* job = find(id);
    return job && job->epoch == epoch ? job : nullptr;
  }
  std::size_t size() const { return jobs_.size(); }

  // Calls f(job) in key order, which is the order of the published series.
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& [key, id] : ids_) f(jobs_.at(id));
  }

  // One keep/create/drop pass over `specs`, in their order (which schedules rely on).
  // key_of(spec) -> Key; keep(id, job, spec, index) updates a job whose key stays;
  // create(id, spec, index) -> Job builds the job for a new key, whose id is taken from
  // next_id (shared by all tables, so ids never repeat across kinds).
  template <typename Spec, typename KeyOf, typename Keep, typename Create>
  void reconcile(std::span<const Spec> specs, std::uint32_t& next_id, KeyOf&& key_of, Keep&& keep,
                 Create&& create) {
    std::map<Key, std::uint32_t> ids;
    for (std::size_t i = 0; i < specs.size(); ++i) {
      const Spec& spec = specs[i];
      Key key = key_of(spec);
      if (auto it = ids_.find(key); it != ids_.end()) {
        keep(it->second, jobs_.at(it->second), spec, i);
        ids[std::move(key)] = it->second;
        continue;
      }
      const std::uint32_t id = next_id++;
      jobs_.emplace(id, create(id, spec, i));
      ids[std::move(key)] = id;
    }
    for (const auto& [key, id] : ids_)
      if (!ids.count(key)) jobs_.erase(id);
    ids_ = std::move(ids);
  }

 private:
  std::map<Key, std::uint32_t> ids_;             // the current plan's keys
  std::unordered_map<std::uint32_t, Job> jobs_;  // by id
};

}  // namespace podpath::prober
