#include "guardian/limits/cgroup_run_tree.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "guardian/limits/cgroup_cpu.hpp"
#include "guardian/limits/cgroup_formats.hpp"
#include "guardian/limits/cgroup_memory.hpp"
#include "guardian/limits/cgroup_pids.hpp"
#include "guardian/process/proc_tree.hpp"

namespace guardian::limits {
namespace {

constexpr std::string_view kRunPrefix = "guardian-";
constexpr std::string_view kSelfLeaf = "supervisor";
constexpr std::string_view kTreeNode = "tree";

std::string controller_list(const std::vector<std::string>& names, char sign) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ' ';
    out += sign;
    out += name;
  }
  return out;
}

bool tree_is_empty(const CgroupFs& fs, const std::string& dir) {
  auto events = fs.read(dir, "cgroup.events");
  if (!events) return false;
  auto keyed = parse_flat_keyed(*events);
  auto it = keyed.find("populated");
  return it != keyed.end() && it->second == 0;
}

// rmdir bottom-up; stops at the first failure.
bool remove_tree(const CgroupFs& fs, const std::string& dir) {
  for (const auto& child : fs.children(dir))
    if (!remove_tree(fs, join_dir(dir, child))) return false;
  return !fs.remove_dir(dir);
}

}  // namespace

CgroupRunTree::CgroupRunTree(CgroupFs fs, std::string parent, std::string run_dir, Ceilings ceilings)
    : fs_(std::move(fs)),
      parent_(std::move(parent)),
      run_dir_(std::move(run_dir)),
      tree_dir_(join_dir(run_dir_, kTreeNode)),
      ceilings_(std::move(ceilings)) {}

CgroupRunTree::~CgroupRunTree() { teardown(); }

std::size_t CgroupRunTree::remove_stale_runs(const CgroupFs& fs, const std::string& parent) {
  std::size_t removed = 0;
  for (const auto& name : fs.children(parent)) {
    if (!name.starts_with(kRunPrefix)) continue;
    int pid = 0;
    auto digits = std::string_view(name).substr(kRunPrefix.size());
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    if (ec != std::errc{} || end != digits.data() + digits.size() || pid <= 0) continue;
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // its guardian lives
    std::string dir = join_dir(parent, name);
    if (tree_is_empty(fs, dir) && remove_tree(fs, dir)) ++removed;
  }
  return removed;
}

Result<std::shared_ptr<CgroupRunTree>> CgroupRunTree::create(const CgroupFs& fs, const BackendChoice& choice,
                                                             const Ceilings& ceilings) {
  std::string run_dir = join_dir(choice.parent_dir, fmt::format("{}{}", kRunPrefix, ::getpid()));
  std::shared_ptr<CgroupRunTree> tree(new CgroupRunTree(fs, choice.parent_dir, run_dir, ceilings));
  if (auto error = tree->setup(choice)) return *error;  // the destructor undoes what was done
  return tree;
}

Status CgroupRunTree::setup(const BackendChoice& choice) {
  if (std::size_t stale = remove_stale_runs(fs_, parent_); stale > 0)
    notes_.push_back(fmt::format("removed {} empty cgroup(s) left by guardians that were killed", stale));
  if (auto error = fs_.make_dir(run_dir_)) return error;
  created_ = true;

  if (choice.move_self_to_leaf) {
    // A non-root cgroup with processes cannot enable controllers for its children: guardian
    // (and its own children, the sentinel) move into a leaf of the run node first.
    self_leaf_ = join_dir(run_dir_, kSelfLeaf);
    if (auto error = fs_.make_dir(self_leaf_)) {
      self_leaf_.clear();
      return error;
    }
    origin_ = choice.origin_dir.empty() ? parent_ : choice.origin_dir;
    auto procs = fs_.read(origin_, "cgroup.procs");
    if (!procs) return procs.error();
    const pid_t self = ::getpid();
    for (pid_t pid : parse_pid_list(*procs)) {
      // Only guardian and its own children (the sentinel): never another process.
      auto stat = process::ProcFs{}.stat(pid);
      if (pid != self && !(stat && stat->ppid == self)) continue;
      if (auto error = fs_.write(self_leaf_, "cgroup.procs", std::to_string(pid))) {
        if (error->code == std::errc::no_such_process) continue;  // it just ended
        return error;
      }
    }
    notes_.push_back(origin_ == parent_ ? fmt::format("moved guardian into {} so /{} can enable controllers",
                                                      fs_.path(self_leaf_), parent_)
                                        : fmt::format("moved guardian from /{} (shared with other processes) into {}",
                                                      origin_, fs_.path(self_leaf_)));
  }

  auto subtree = parse_controllers(fs_.read(parent_, "cgroup.subtree_control").value_or(""));
  for (const auto& name : choice.controllers) {
    if (has_controller(subtree, name)) continue;
    if (auto error = fs_.write(parent_, "cgroup.subtree_control", "+" + name)) {
      if (name == "memory") return error;  // without it there is no point
      notes_.push_back(fmt::format("cannot enable {}: {}", name, error->message));
      continue;
    }
    enabled_in_parent_.push_back(name);
  }
  if (!enabled_in_parent_.empty())
    notes_.push_back(fmt::format("enabled {} in {}", fmt::join(enabled_in_parent_, " "),
                                 fs_.path(parent_, "cgroup.subtree_control")));
  auto available = parse_controllers(fs_.read(run_dir_, "cgroup.controllers").value_or(""));
  for (const auto& name : choice.controllers)
    if (has_controller(available, name)) controllers_.push_back(name);
  if (!controllers_.empty())
    if (auto error = fs_.write(run_dir_, "cgroup.subtree_control", controller_list(controllers_, '+')))
      return error;
  if (auto error = fs_.make_dir(tree_dir_)) return error;
  if (auto error = apply_ceilings()) return error;
  if (!controllers_.empty())
    if (auto error = fs_.write(tree_dir_, "cgroup.subtree_control", controller_list(controllers_, '+')))
      return error;
  return std::nullopt;
}

Status CgroupRunTree::apply_ceilings() {
  const Ceilings& c = ceilings_;
  if (has_controller(controllers_, "memory"))
    if (auto error = memory::apply(fs_, tree_dir_, memory::Settings{c.memory_max_bytes, c.memory_high_bytes,
                                                                   c.swap_max_bytes, true}))
      return error;
  if (has_controller(controllers_, "cpu") && c.cpu_cores)
    if (auto error = cpu::set_max(fs_, tree_dir_, c.cpu_cores)) return error;
  if (has_controller(controllers_, "pids") && c.pids_max)
    if (auto error = pids::set_max(fs_, tree_dir_, c.pids_max)) return error;
  return std::nullopt;
}

Result<std::string> CgroupRunTree::add_unit(const std::string& name) {
  std::string dir = join_dir(tree_dir_, name);
  if (auto error = fs_.make_dir(dir)) return *error;
  return dir;
}

std::vector<process::UndoStep> CgroupRunTree::undo_after_death() const {
  // The order of teardown(): the units' cgroups (once their processes are gone), the
  // controllers enabled by the run, then the sentinel (in guardian's leaf) back to the parent,
  // which must hold no controllers again for that, and the run's node.
  using Step = process::UndoStep;
  std::vector<Step> steps{{Step::Kind::remove_tree, fs_.path(tree_dir_), ""}};
  if (!controllers_.empty())
    steps.push_back({Step::Kind::write, fs_.path(run_dir_, "cgroup.subtree_control"), controller_list(controllers_, '-')});
  if (!enabled_in_parent_.empty())
    steps.push_back({Step::Kind::write, fs_.path(parent_, "cgroup.subtree_control"),
                     controller_list(enabled_in_parent_, '-')});
  if (!self_leaf_.empty()) steps.push_back({Step::Kind::move_self, fs_.path(origin_, "cgroup.procs"), ""});
  steps.push_back({Step::Kind::remove_tree, fs_.path(run_dir_), ""});
  return steps;
}

void CgroupRunTree::teardown() {
  if (!created_) return;
  created_ = false;
  for (const auto& child : fs_.children(run_dir_))
    if (child != kSelfLeaf) remove_tree(fs_, join_dir(run_dir_, child));
  if (!self_leaf_.empty()) {
    // Back where guardian came from (the parent, or its own shared cgroup below the parent):
    // a cgroup must hold no controllers again to take a process.
    if (!controllers_.empty()) (void)fs_.write(run_dir_, "cgroup.subtree_control", controller_list(controllers_, '-'));
    if (!enabled_in_parent_.empty())
      (void)fs_.write(parent_, "cgroup.subtree_control", controller_list(enabled_in_parent_, '-'));
    for (pid_t pid : parse_pid_list(fs_.read(self_leaf_, "cgroup.procs").value_or("")))
      (void)fs_.write(origin_, "cgroup.procs", std::to_string(pid));
    (void)fs_.remove_dir(self_leaf_);
  }
  (void)fs_.remove_dir(run_dir_);
}

}  // namespace guardian::limits
