// CSyspect: the only C in syspect. What Swift cannot do safely or at all: fork/clone and the
// async-signal-safe set-up of the child (namespaces, seccomp, execve), non-variadic wrappers for
// ptrace, wait-status macros as functions, and a process_vm_readv string reader.
#ifndef CSYSPECT_H
#define CSYSPECT_H

#include <stdint.h>
#include <sys/types.h>
#include <linux/filter.h>

#ifdef __cplusplus
extern "C" {
#endif

/// How the child of `csy_launch` is set up before it executes the command.
struct csy_launch_spec {
    const char *path;              ///< resolved program path
    char *const *argv;             ///< NULL-terminated
    char *const *envp;             ///< NULL-terminated
    const char *cwd;               ///< NULL: inherit
    const char *stdout_path;       ///< NULL: inherit; otherwise created/truncated
    const char *stderr_path;       ///< NULL: inherit
    const struct sock_filter *filter;  ///< NULL: no seccomp filter
    unsigned short filter_len;
    int clone_flags;               ///< CLONE_NEW* namespaces for the child (0: plain fork)
    int map_root;                  ///< with CLONE_NEWUSER: map the caller's uid/gid to root
    int private_tmp;               ///< with CLONE_NEWNS: tmpfs on /tmp
    int fresh_proc;                ///< with CLONE_NEWNS|CLONE_NEWPID: mount a new /proc
    int loopback_up;               ///< with CLONE_NEWNET: bring "lo" up
    unsigned long ptrace_options;  ///< PTRACE_O_* for PTRACE_SEIZE
};

/// Steps of the launch, reported with the errno of the step that failed.
enum csy_launch_stage {
    CSY_STAGE_NONE = 0,
    CSY_STAGE_PIPE = 1,
    CSY_STAGE_CLONE = 2,
    CSY_STAGE_SEIZE = 3,
    CSY_STAGE_USERNS = 4,
    CSY_STAGE_MOUNT = 5,
    CSY_STAGE_NETWORK = 6,
    CSY_STAGE_REDIRECT = 7,
    CSY_STAGE_CHDIR = 8,
    CSY_STAGE_SECCOMP = 9,
    CSY_STAGE_EXEC = 10,
};

struct csy_launch_result {
    pid_t pid;        ///< the child (global pid), > 0 on success
    int error_fd;     ///< read end of the CLOEXEC error pipe (see csy_read_launch_error)
    int stage;        ///< on failure in the parent: the failing stage
    int error;        ///< on failure in the parent: errno
};

/// Clones the child, PTRACE_SEIZEs it from the calling thread, then lets it continue: the child
/// sets PDEATHSIG, resets its signal mask and dispositions, sets up namespaces, redirects
/// output, installs the seccomp filter (only now, with the tracer attached) and executes.
/// Returns 0, or -1 with result->stage/error set (the child is then already reaped).
int csy_launch(const struct csy_launch_spec *spec, struct csy_launch_result *result);

/// Reads the child's launch error from the error pipe and closes it. Returns 1 and sets
/// *stage / *error when the child reported a failure, 0 when it executed (pipe closed on exec).
int csy_read_launch_error(int fd, int *stage, int *error);

/// Non-variadic ptrace.
long csy_ptrace(int request, pid_t pid, unsigned long addr, unsigned long data);

/// PTRACE_GETSIGINFO at a signal-delivery stop: the signal's si_code (> 0: sent by the kernel,
/// e.g. a fault) and the sender's pid as the tracee's namespace sees it (0: from the kernel or
/// an ancestor namespace). Returns 0, or -1 with errno.
int csy_ptrace_signal_origin(pid_t pid, int *code, pid_t *sender);

/// waitpid(-1, status, __WALL | __WNOTHREAD): only this thread's children and tracees.
pid_t csy_wait_any(int *status);


int csy_wifexited(int status);
int csy_wexitstatus(int status);
int csy_wifsignaled(int status);
int csy_wtermsig(int status);
int csy_wifstopped(int status);
int csy_wstopsig(int status);
/// The PTRACE_EVENT_* of a stop (status >> 16).
int csy_wevent(int status);

/// A flat copy of PTRACE_GET_SYSCALL_INFO.
struct csy_syscall_info {
    uint8_t op;          ///< 0 none, 1 entry, 2 exit, 3 seccomp
    uint32_t arch;       ///< AUDIT_ARCH_*
    uint64_t nr;
    uint64_t args[6];
    uint32_t ret_data;   ///< SECCOMP_RET_DATA of a seccomp stop
    int64_t rval;        ///< exit stops
    uint8_t is_error;    ///< exit stops
};

/// PTRACE_GET_SYSCALL_INFO; 0 or -1 with errno.
int csy_syscall_info(pid_t pid, struct csy_syscall_info *info);

/// At a seccomp or syscall-entry stop: skip the call (orig_rax = -1) and make it return `value`.
int csy_skip_syscall(pid_t pid, int64_t value);

/// Reads a NUL-terminated string of at most `size - 1` bytes at `addr` in `pid` with
/// process_vm_readv. Returns its length, or -1 with errno.
long csy_read_string(pid_t pid, uint64_t addr, char *buffer, size_t size);

/// The errno's symbolic name ("ENOENT"), or NULL when unknown (glibc strerrorname_np).
const char *csy_errno_name(int error);

/// pidfd_open(2): a handle that keeps naming this process even after its pid is reused.
/// Returns the fd (CLOEXEC) or -1 with errno.
int csy_pidfd_open(pid_t pid);

/// pidfd_send_signal(2).
int csy_pidfd_kill(int pidfd, int sig);

/// kill(2) / tgkill(2) without the Swift overlay's variadic concerns.
int csy_kill(pid_t pid, int sig);

// MARK: the in-kernel census (census_bpf.c)

/// Syscall numbers the kernel census counts: 0 ..< CSY_BPF_MAX_NR (x86-64).
#define CSY_BPF_MAX_NR 1024

/// File descriptors of one in-kernel census (-1: not open). All are CLOEXEC.
struct csy_bpf_census {
    int targets;     ///< hash: tgid -> 1, the processes whose calls count
    int calls;       ///< per-CPU array: number -> calls
    int failures;    ///< hash: {number, errno} -> failed calls
    int unrecorded;  ///< per-CPU array: number -> failed calls the full failure map could not take
    int enter_prog, exit_prog;
    int enter_link, exit_link;  ///< raw tracepoints sys_enter, sys_exit
    unsigned targets_max;   ///< capacity of `targets` (live target processes)
    unsigned failures_max;  ///< capacity of `failures` ((number, errno) pairs)
};

/// Map capacities for csy_bpf_census_open; 0 picks the default.
struct csy_bpf_capacity {
    unsigned targets;   ///< default: pid_max (/proc/sys/kernel/pid_max), at least 8192, at most 65536
    unsigned failures;  ///< default: CSY_BPF_FAILURES_DEFAULT
};

/// Default capacity of the failure map ((number, errno) pairs).
#define CSY_BPF_FAILURES_DEFAULT 4096

/// Steps of csy_bpf_census_open, reported on failure.
enum csy_bpf_stage {
    CSY_BPF_STAGE_NONE = 0,
    CSY_BPF_STAGE_MAPS = 1,
    CSY_BPF_STAGE_LOAD = 2,
    CSY_BPF_STAGE_ATTACH = 3,
    CSY_BPF_STAGE_BTF = 4,  ///< the kernel's BTF lacks a layout the programs need
};

/// One (number, errno) entry of the failure map.
struct csy_bpf_failure {
    uint32_t number;
    uint32_t error;
    uint64_t count;
};

/// Creates the maps, loads the programs (sys_exit's only with `count_failures`) and attaches
/// them. The programs count every x86-64 call numbered below CSY_BPF_MAX_NR except
/// execve/execveat of the processes in the target map, i386 calls (TS_COMPAT) and x32 numbers
/// excluded. A failure whose (number, errno) pair finds the failure map full is counted in
/// `unrecorded` under its number. Returns 0, or -1 with errno and *stage; nothing stays open on
/// failure. `log` (may be NULL) receives the verifier's log.
int csy_bpf_census_open(struct csy_bpf_census *census, int count_failures, struct csy_bpf_capacity capacity,
                        int *stage, char *log, size_t log_size);

/// Adds (is_target != 0) or removes a tgid (of the initial pid namespace) in the target map.
/// 0, or -1 with errno (E2BIG: the map is full, the process is not counted in the kernel).
int csy_bpf_census_set_target(const struct csy_bpf_census *census, int tgid, int is_target);

/// Sums the per-CPU call counters of numbers 0 ..< count into calls[]. 0 or -1 with errno.
int csy_bpf_census_read_calls(const struct csy_bpf_census *census, uint64_t *calls, int count);

/// Sums the per-CPU unrecorded-failure counters of numbers 0 ..< count into failures[]. 0 or -1
/// with errno (also 0, all zero, when failures are not counted).
int csy_bpf_census_read_unrecorded(const struct csy_bpf_census *census, uint64_t *failures, int count);

/// Copies up to `max` failure entries; returns how many, or -1 with errno.
int csy_bpf_census_read_failures(const struct csy_bpf_census *census, struct csy_bpf_failure *out, int max);

/// Detaches the programs and closes every descriptor (safe to call twice).
void csy_bpf_census_close(struct csy_bpf_census *census);

/// 1 when this process runs in the initial pid namespace (its pids are the kernel's global
/// ones, which the eBPF programs see).
int csy_in_initial_pid_namespace(void);

#ifdef __cplusplus
}
#endif
#endif
