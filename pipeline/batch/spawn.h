/* Child processes of the batch runner and the listener's job servers:
 * started so they die with the caller, and waited for. */
#ifndef SPINEPIPE_SPAWN_H
#define SPINEPIPE_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

/* One descriptor of the child: `from` (of the caller; -1: /dev/null,
 * read-only) becomes `to`, inherited across exec. */
typedef struct sp_spawn_fd {
    int from, to;
} sp_spawn_fd;

/* fork + execve(exe, argv, environ) with fds[0..n_fds) set up in the
 * child, which gets SIGKILL when the caller dies (PR_SET_PDEATHSIG: a
 * killed parent leaves no child writing outputs behind its restarted
 * successor) and ignores SIGINT when `ignore_sigint` (a terminal's Ctrl-C
 * is the parent's to handle). A child that cannot do this exits 127.
 * Returns the child's pid, or -1 with errno when fork fails. */
pid_t sp_spawn(const char *exe, const char *const *argv,
               const sp_spawn_fd *fds, size_t n_fds, int ignore_sigint);

/* waitpid(pid, status, 0), again after EINTR: 0, or -1 with errno.
 * `status` may be NULL. */
int sp_wait_child(pid_t pid, int *status);

/* waitpid with a time limit: 1 and *status when the child ended, 0 when
 * it is still running at the limit, -1 on an error. */
int sp_wait_child_until(pid_t pid, double limit_s, int *status);

#endif
