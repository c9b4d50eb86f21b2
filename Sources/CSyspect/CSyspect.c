// See include/CSyspect.h. Everything the child runs between clone and execve is async-signal-safe
// (raw system calls only: the parent is a multi-threaded Swift process).
#define _GNU_SOURCE
#include "CSyspect.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static void child_fail(int fd, int stage) {
    int report[2] = {stage, errno};
    ssize_t unused = write(fd, report, sizeof report);
    (void)unused;
    _exit(127);
}

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t len = strlen(text);
    ssize_t n = write(fd, text, len);
    int saved = errno;
    close(fd);
    errno = saved;
    return n == (ssize_t)len ? 0 : -1;
}

// Formats "0 <id> 1\n" without stdio (not async-signal-safe).
static void id_map_line(char *out, unsigned id) {
    char digits[16];
    int n = 0;
    do { digits[n++] = (char)('0' + id % 10); id /= 10; } while (id && n < 15);
    char *p = out;
    *p++ = '0'; *p++ = ' ';
    while (n) *p++ = digits[--n];
    *p++ = ' '; *p++ = '1'; *p++ = '\n'; *p = 0;
}

static int redirect(const char *path, int target) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    if (dup2(fd, target) < 0) return -1;  // dup2 clears CLOEXEC on target
    close(fd);
    return 0;
}

/// The top-level entry of `path` under /tmp ("/tmp/X" for "/tmp/X/..."), or 0 when `path` is not
/// under /tmp. Async-signal-safe (runs in the child between fork and exec).
static int tmp_top(const char *path, char *out, size_t cap) {
    if (!path || strncmp(path, "/tmp/", 5) != 0) return 0;
    size_t i = 5;
    while (path[i] && path[i] != '/') i++;
    if (i == 5 || i >= cap) return 0;
    memcpy(out, path, i);
    out[i] = 0;
    return 1;
}

/// Replaces /tmp with an empty tmpfs, keeping reachable the /tmp entries that hold the program,
/// the launcher's working directory and the requested one (e.g. a checkout under /tmp): each is
/// opened before the mount and bound back in place through its descriptor afterwards.
static int private_tmp_keeping(const char *const keep[], int count) {
    char tops[3][256];
    int fds[3];
    int kept = 0;
    for (int k = 0; k < count && kept < 3; k++) {
        if (!tmp_top(keep[k], tops[kept], sizeof tops[kept])) continue;
        int dup = 0;
        for (int j = 0; j < kept; j++) if (strcmp(tops[j], tops[kept]) == 0) dup = 1;
        if (dup) continue;
        fds[kept] = open(tops[kept], O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fds[kept] >= 0) kept++;
    }
    if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0) return -1;
    for (int j = 0; j < kept; j++) {
        char fdpath[32] = "/proc/self/fd/";
        char digits[12];
        int n = fds[j], len = 0;
        do { digits[len++] = (char)('0' + n % 10); n /= 10; } while (n > 0);
        size_t at = strlen(fdpath);
        while (len > 0) fdpath[at++] = digits[--len];
        fdpath[at] = 0;
        if (mkdir(tops[j], 0755) < 0 && errno != EEXIST) return -1;
        if (mount(fdpath, tops[j], NULL, MS_BIND | MS_REC, NULL) < 0) return -1;
        close(fds[j]);
    }
    return 0;
}

static int loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) { close(s); return -1; }
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    int rc = ioctl(s, SIOCSIFFLAGS, &ifr);
    close(s);
    return rc;
}

static void child_main(const struct csy_launch_spec *spec, int go_fd, int err_fd,
                       pid_t parent, unsigned uid, unsigned gid) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (!(spec->clone_flags & CLONE_NEWPID) && getppid() != parent) _exit(127);

    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, NULL);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, NULL);
    }

    // Wait until the parent has attached: a RET_TRACE filter without a tracer fails every
    // trapped call (execve included) with ENOSYS.
    char go = 0;
    ssize_t n;
    do { n = read(go_fd, &go, 1); } while (n < 0 && errno == EINTR);
    if (n != 1) _exit(127);
    close(go_fd);

    if ((spec->clone_flags & CLONE_NEWUSER) && spec->map_root) {
        char line[40];
        if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT) child_fail(err_fd, CSY_STAGE_USERNS);
        id_map_line(line, uid);
        if (write_file("/proc/self/uid_map", line) < 0) child_fail(err_fd, CSY_STAGE_USERNS);
        id_map_line(line, gid);
        if (write_file("/proc/self/gid_map", line) < 0) child_fail(err_fd, CSY_STAGE_USERNS);
    }
    // Output files and the working directory first: they may lie under /tmp, hidden next.
    if (spec->stdout_path && redirect(spec->stdout_path, 1) < 0) child_fail(err_fd, CSY_STAGE_REDIRECT);
    if (spec->stderr_path && redirect(spec->stderr_path, 2) < 0) child_fail(err_fd, CSY_STAGE_REDIRECT);
    char launcher_cwd[4096];
    const char *keep[3] = {spec->path, getcwd(launcher_cwd, sizeof launcher_cwd), spec->cwd};
    if (spec->cwd && chdir(spec->cwd) < 0) child_fail(err_fd, CSY_STAGE_CHDIR);
    if (spec->clone_flags & CLONE_NEWNS) {
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) child_fail(err_fd, CSY_STAGE_MOUNT);
        if (spec->private_tmp && private_tmp_keeping(keep, 3) < 0) child_fail(err_fd, CSY_STAGE_MOUNT);
        if (spec->fresh_proc && (spec->clone_flags & CLONE_NEWPID) &&
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
            child_fail(err_fd, CSY_STAGE_MOUNT);
    }
    if ((spec->clone_flags & CLONE_NEWNET) && spec->loopback_up && loopback_up() < 0)
        child_fail(err_fd, CSY_STAGE_NETWORK);

    if (spec->filter) {
        struct sock_fprog prog = {.len = spec->filter_len, .filter = (struct sock_filter *)spec->filter};
        // Root may install a filter without no-new-privs (setuid programs keep working then).
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
            if (errno != EACCES) child_fail(err_fd, CSY_STAGE_SECCOMP);
            if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) child_fail(err_fd, CSY_STAGE_SECCOMP);
            if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) child_fail(err_fd, CSY_STAGE_SECCOMP);
        }
    }
    execve(spec->path, spec->argv, spec->envp);
    child_fail(err_fd, CSY_STAGE_EXEC);
}

int csy_launch(const struct csy_launch_spec *spec, struct csy_launch_result *result) {
    int go[2], err[2];
    memset(result, 0, sizeof *result);
    result->error_fd = -1;
    if (pipe2(go, O_CLOEXEC) < 0) { result->stage = CSY_STAGE_PIPE; result->error = errno; return -1; }
    if (pipe2(err, O_CLOEXEC) < 0) {
        result->stage = CSY_STAGE_PIPE; result->error = errno;
        close(go[0]); close(go[1]);
        return -1;
    }
    pid_t parent = getpid();
    unsigned uid = getuid(), gid = getgid();
    // Raw clone behaves like fork (no stack argument) and accepts namespace flags.
    long pid = syscall(SYS_clone, (unsigned long)(spec->clone_flags | SIGCHLD), NULL, NULL, NULL, NULL);
    if (pid == 0) {
        close(go[1]);
        close(err[0]);
        child_main(spec, go[0], err[1], parent, uid, gid);
    }
    close(go[0]);
    close(err[1]);
    if (pid < 0) {
        result->stage = CSY_STAGE_CLONE; result->error = errno;
        close(go[1]); close(err[0]);
        return -1;
    }
    if (ptrace(PTRACE_SEIZE, (pid_t)pid, 0, spec->ptrace_options) < 0) {
        result->stage = CSY_STAGE_SEIZE; result->error = errno;
        close(go[1]);  // the child reads EOF and exits
        kill((pid_t)pid, SIGKILL);
        int status;
        while (waitpid((pid_t)pid, &status, __WALL) < 0 && errno == EINTR) {}
        close(err[0]);
        return -1;
    }
    char byte = 1;
    ssize_t w;
    do { w = write(go[1], &byte, 1); } while (w < 0 && errno == EINTR);
    close(go[1]);
    result->pid = (pid_t)pid;
    result->error_fd = err[0];
    return 0;
}

int csy_read_launch_error(int fd, int *stage, int *error) {
    int report[2] = {0, 0};
    ssize_t n;
    do { n = read(fd, report, sizeof report); } while (n < 0 && errno == EINTR);
    close(fd);
    if (n != (ssize_t)sizeof report) return 0;
    *stage = report[0];
    *error = report[1];
    return 1;
}

long csy_ptrace(int request, pid_t pid, unsigned long addr, unsigned long data) {
    return ptrace((enum __ptrace_request)request, pid, (void *)addr, (void *)data);
}

int csy_ptrace_signal_origin(pid_t pid, int *code, pid_t *sender) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (ptrace(PTRACE_GETSIGINFO, pid, NULL, &info) != 0) return -1;
    *code = info.si_code;
    *sender = info.si_pid;
    return 0;
}

pid_t csy_wait_any(int *status) { return waitpid(-1, status, __WALL | __WNOTHREAD); }


int csy_wifexited(int status) { return WIFEXITED(status); }
int csy_wexitstatus(int status) { return WEXITSTATUS(status); }
int csy_wifsignaled(int status) { return WIFSIGNALED(status); }
int csy_wtermsig(int status) { return WTERMSIG(status); }
int csy_wifstopped(int status) { return WIFSTOPPED(status); }
int csy_wstopsig(int status) { return WSTOPSIG(status); }
int csy_wevent(int status) { return (unsigned)status >> 16; }

int csy_syscall_info(pid_t pid, struct csy_syscall_info *info) {
    struct __ptrace_syscall_info raw;
    memset(&raw, 0, sizeof raw);
    if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof raw, &raw) < 0) return -1;
    memset(info, 0, sizeof *info);
    info->op = raw.op;
    info->arch = raw.arch;
    switch (raw.op) {
    case PTRACE_SYSCALL_INFO_ENTRY:
        info->nr = raw.entry.nr;
        memcpy(info->args, raw.entry.args, sizeof info->args);
        break;
    case PTRACE_SYSCALL_INFO_EXIT:
        info->rval = raw.exit.rval;
        info->is_error = raw.exit.is_error;
        break;
    case PTRACE_SYSCALL_INFO_SECCOMP:
        info->nr = raw.seccomp.nr;
        memcpy(info->args, raw.seccomp.args, sizeof info->args);
        info->ret_data = raw.seccomp.ret_data;
        break;
    default:
        break;
    }
    return 0;
}

int csy_skip_syscall(pid_t pid, int64_t value) {
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) < 0) return -1;
    regs.orig_rax = (unsigned long long)-1;
    regs.rax = (unsigned long long)value;
    return ptrace(PTRACE_SETREGS, pid, NULL, &regs) < 0 ? -1 : 0;
}

long csy_read_string(pid_t pid, uint64_t addr, char *buffer, size_t size) {
    if (size == 0) { errno = EINVAL; return -1; }
    size_t done = 0;
    while (done + 1 < size) {
        // Read up to the end of the current page, so an unmapped next page does not fail the read.
        size_t page_left = 4096 - ((addr + done) & 4095);
        size_t want = size - 1 - done < page_left ? size - 1 - done : page_left;
        struct iovec local = {buffer + done, want};
        struct iovec remote = {(void *)(uintptr_t)(addr + done), want};
        ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
        if (n <= 0) {
            if (done) break;
            return -1;
        }
        char *nul = memchr(buffer + done, 0, (size_t)n);
        if (nul) return nul - buffer;
        done += (size_t)n;
    }
    buffer[done] = 0;
    return (long)done;
}

int csy_kill(pid_t pid, int sig) { return kill(pid, sig); }

const char *csy_errno_name(int error) { return strerrorname_np(error); }

int csy_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int csy_pidfd_kill(int pidfd, int sig) { return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0); }
