// What an attachment object does when it is destroyed. The agent's normal exit must leave
// programs attached (enforcement never depends on the agent process, DESIGN §5); only
// uninstall, a stopped machine, or a test detaches.
#pragma once

namespace sixguard {

enum class OnDestroy {
  kLeaveAttached,  // default: the program keeps enforcing after the object (and agent) is gone
  kDetach,         // remove our program (only ours) when the object is destroyed
};

}  // namespace sixguard
