#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/clock.h"

extern char **environ;

pid_t sp_spawn(const char *exe, const char *const *argv,
               const sp_spawn_fd *fds, size_t n_fds, int ignore_sigint)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* Only async-signal-safe calls between fork and exec. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(127);
    if (ignore_sigint)
        signal(SIGINT, SIG_IGN);
    for (size_t i = 0; i < n_fds; i++) {
        int from = fds[i].from >= 0 ? fds[i].from
                                    : open("/dev/null", O_RDONLY);
        /* dup2 onto itself keeps FD_CLOEXEC: cleared here either way */
        if (from < 0 || dup2(from, fds[i].to) < 0 ||
            fcntl(fds[i].to, F_SETFD, 0) != 0)
            _exit(127);
    }
    execve(exe, (char *const *)argv, environ);
    _exit(127);
}

int sp_wait_child(pid_t pid, int *status)
{
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

int sp_wait_child_until(pid_t pid, double limit_s, int *status)
{
    double end = sp_now_seconds() + limit_s;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return 1;
        if (r < 0 && errno != EINTR)
            return -1;
        if (sp_now_seconds() >= end)
            return 0;
        nanosleep(&(struct timespec){0, 20000000}, NULL);
    }
}
