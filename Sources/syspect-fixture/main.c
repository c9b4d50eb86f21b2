// syspect-fixture: a program of known behaviour for syspect's tracer tests, so that the tests do
// not depend on what `ls` happens to call. One mode per run, chosen by argv[1]:
//
//   repeat NR N              call syscall NR (x86-64 number, no arguments) N times
//   fail N                   unlinkat("/nonexistent/syspect-fixture") N times (ENOENT each)
//   expect NR N VALUE        call syscall NR N times; exit 0 when each returned VALUE
//                            (a negative VALUE means -errno), 1 otherwise
//   threads K N              K threads each call getppid N times
//   fork N                   a child calls getppid N times; the parent waits for it
//   crowd K N                K children alive at once (each reports it runs, then waits until
//                            all do), then each calls getppid N times and fails one unlinkat
//                            (ENOENT); the parent waits for all
//   serial K N               K children one after another, each calls getppid N times
//   errnos N                 N rounds of 12 calls failing with distinct (number, errno) pairs
//                            (EBADF, ENOENT, ESRCH, EINVAL)
//   exec-from-thread ARGS... a non-leader thread executes this program again with ARGS
//   vfork ARGS...            vfork + execv of this program with ARGS; wait
//   spawn ARGS...            posix_spawn of this program with ARGS; wait
//   int80 N                  i386 getpid (20) through `int $0x80`, N times
//   x32 N                    x32 getpid (39 | 0x40000000), N times (ENOSYS without x32 support)
//   daemon TOKEN             double fork; the grandchild (setsid, argv carries TOKEN) sleeps forever
//   stop                     a child stops itself (SIGSTOP); the parent continues it and waits
//   signal                   catches a SIGUSR1 it sends itself; exit 0 when the handler ran
//   exit CODE                exit with CODE
//   sleep SECONDS            sleep
//   feature-ioctl N          on /dev/null: N ioctl TIOCGPTN (ENOTTY), N more with the request
//                            sign-extended to 64 bits, N ioctl FIONBIO
//   feature-fcntl N          on /dev/null: N fcntl F_GETFL, N F_SETFL, N F_DUPFD_CLOEXEC, one
//                            unknown command 0x7777 (EINVAL)
//   feature-rlimit N         N prlimit64 RLIMIT_NOFILE, N getrlimit RLIMIT_CORE, N setrlimit
//                            RLIMIT_STACK (unchanged), one prlimit64 of resource 99 (EINVAL)
//   feature-mmap N           N mmap PROT_NONE MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE (+ munmap)
//   feature-socket           socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC), setsockopt SO_REUSEADDR
//                            and TCP_NODELAY, getsockopt SO_TYPE
//   feature-clone3           clone3 with CLONE_CLEAR_SIGHAND (bit 32) and SIGCHLD; waits
//   feature-files            open /proc/self/status and /proc/PID/stat, chdir /proc + open of
//                            "self/comm", openat(/sys dirfd, "kernel/../kernel"), readlink
//                            /proc/self/exe, statx /dev/null, access of a missing /dev path
//                            (ENOENT), open /proc/self/task/TID/stat; each once
//
// Exit status 0 on success, 2 on usage errors, 1 when a step fails.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static const char *self_path = "/proc/self/exe";

static long arg_long(int argc, char **argv, int i, long fallback) {
    return i < argc ? strtol(argv[i], NULL, 0) : fallback;
}

static int wait_child(pid_t pid) {
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return 1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void repeat_getppid(long n) {
    for (long i = 0; i < n; i++) syscall(SYS_getppid);
}

static void *thread_getppid(void *arg) {
    repeat_getppid((long)arg);
    return NULL;
}

static int mode_threads(long k, long n) {
    pthread_t threads[64];
    if (k > 64) k = 64;
    for (long i = 0; i < k; i++)
        if (pthread_create(&threads[i], NULL, thread_getppid, (void *)n) != 0) return 1;
    for (long i = 0; i < k; i++) pthread_join(threads[i], NULL);
    return 0;
}

static int mode_fork(long n) {
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        repeat_getppid(n);
        _exit(0);
    }
    return wait_child(pid);
}

static int mode_crowd(long k, long n) {
    int ready[2], go[2];
    if (pipe(ready) != 0 || pipe(go) != 0) return 1;
    for (long i = 0; i < k; i++) {
        pid_t pid = fork();
        if (pid < 0) return 1;
        if (pid == 0) {
            char c = 0;
            close(go[1]);
            if (write(ready[1], &c, 1) != 1) _exit(1);
            if (read(go[0], &c, 1) != 0) _exit(1);  // end of file: every child runs
            repeat_getppid(n);
            syscall(SYS_unlinkat, AT_FDCWD, "/nonexistent/syspect-fixture", 0);
            _exit(0);
        }
    }
    for (long i = 0; i < k; i++) {
        char c;
        if (read(ready[0], &c, 1) != 1) return 1;
    }
    close(go[1]);
    int failed = 0;
    for (long i = 0; i < k; i++) {
        int status;
        if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
    }
    return failed;
}

static int mode_serial(long k, long n) {
    for (long i = 0; i < k; i++) {
        if (mode_fork(n) != 0) return 1;
    }
    return 0;
}

static int mode_errnos(long n) {
    const char *missing = "/nonexistent/syspect-fixture";
    for (long i = 0; i < n; i++) {
        syscall(SYS_close, -1);                                 // EBADF
        syscall(SYS_read, -1, NULL, 0);                         // EBADF
        syscall(SYS_write, -1, NULL, 0);                        // EBADF
        syscall(SYS_fsync, -1);                                 // EBADF
        syscall(SYS_dup, -1);                                   // EBADF
        syscall(SYS_fchdir, -1);                                // EBADF
        syscall(SYS_lseek, -1, 0, SEEK_SET);                    // EBADF
        syscall(SYS_openat, AT_FDCWD, missing, O_RDONLY);       // ENOENT
        syscall(SYS_mkdirat, AT_FDCWD, "/nonexistent/syspect-fixture/d", 0700);  // ENOENT
        syscall(SYS_chdir, missing);                            // ENOENT
        syscall(SYS_kill, 0x7ffffff0, 0);                       // ESRCH (beyond any pid_max)
        syscall(SYS_prctl, 0x7fff, 0, 0, 0, 0);                 // EINVAL
    }
    return 0;
}

struct exec_args { char **argv; };

static void *thread_exec(void *arg) {
    struct exec_args *e = arg;
    execv(self_path, e->argv);
    perror("syspect-fixture: execv from thread");
    _exit(1);
}

// argv for re-executing this program: [argv0, rest...]
static char **self_argv(char *argv0, int count, char **rest) {
    char **out = calloc((size_t)count + 2, sizeof *out);
    out[0] = argv0;
    for (int i = 0; i < count; i++) out[i + 1] = rest[i];
    return out;
}

static int mode_exec_from_thread(char **argv) {
    struct exec_args e = {argv};
    pthread_t t;
    if (pthread_create(&t, NULL, thread_exec, &e) != 0) return 1;
    // Wait without a system call: a call the leader entered while the exec kills it would be
    // counted by ptrace (its seccomp stop came first) and not by eBPF (SIGKILL already pending),
    // a race that made the two censuses of one run differ.
    for (;;) __asm__ volatile("pause");
}

static int mode_vfork(char **argv) {
    pid_t pid = vfork();
    if (pid < 0) return 1;
    if (pid == 0) {
        execv(self_path, argv);
        _exit(1);
    }
    return wait_child(pid);
}

static int mode_spawn(char **argv) {
    pid_t pid;
    int rc = posix_spawn(&pid, self_path, NULL, NULL, argv, environ);
    if (rc != 0) return 1;
    return wait_child(pid);
}

static int mode_int80(long n) {
    for (long i = 0; i < n; i++) {
        long ret = 20;  // i386 getpid
        __asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
        if (ret <= 0) return 1;
    }
    return 0;
}

static int mode_x32(long n) {
    for (long i = 0; i < n; i++) {
        long ret = 39 | 0x40000000L;  // x32 getpid
        __asm__ volatile("syscall" : "+a"(ret) : : "rcx", "r11", "memory");
        (void)ret;  // -ENOSYS on kernels without CONFIG_X86_X32_ABI
    }
    return 0;
}

static int mode_daemon(const char *token) {
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        if (setsid() < 0) _exit(1);
        pid_t grandchild = fork();
        if (grandchild < 0) _exit(1);
        if (grandchild > 0) _exit(0);
        char *args[] = {"syspect-fixture", "sleep", "100000", (char *)token, NULL};
        execv(self_path, args);
        _exit(1);
    }
    return wait_child(pid);
}

static int mode_stop(void) {
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        raise(SIGSTOP);
        _exit(7);
    }
    int status;
    if (waitpid(pid, &status, WUNTRACED) < 0 || !WIFSTOPPED(status)) return 1;
    kill(pid, SIGCONT);
    return wait_child(pid) == 7 ? 0 : 1;
}

static volatile sig_atomic_t caught = 0;
static void on_usr1(int sig) { (void)sig; caught = 1; }

static int mode_signal(void) {
    signal(SIGUSR1, on_usr1);
    raise(SIGUSR1);
    return caught ? 0 : 1;
}

// Deaths by signal: a fault (SIGSEGV from the kernel), abort(3), and a SIGTERM sent to itself
// (which a PID namespace's init survives: it then returns 3).
static int mode_crash(const char *how) {
    if (!strcmp(how, "segv")) {
        volatile int *nowhere = NULL;
        return *nowhere;
    }
    if (!strcmp(how, "abort")) abort();
    raise(SIGTERM);
    return 3;
}

// MARK: sub-feature and pseudo-file modes (syspect trace --features)

static int feature_ioctl(long n) {
    int fd = open("/dev/null", O_RDONLY);
    if (fd < 0) return 1;
    unsigned int pty = 0;
    int on = 0;
    for (long i = 0; i < n; i++) {
        if (ioctl(fd, TIOCGPTN, &pty) == 0) return 1;
        // musl-style int request, sign-extended: the kernel reads the low 32 bits.
        if (syscall(SYS_ioctl, fd, (long)(int)TIOCGPTN, &pty) == 0) return 1;
        if (ioctl(fd, FIONBIO, &on) != 0) return 1;
    }
    return close(fd);
}

static int feature_fcntl(long n) {
    int fd = open("/dev/null", O_RDONLY);
    if (fd < 0) return 1;
    for (long i = 0; i < n; i++) {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return 1;
        int copy = fcntl(fd, F_DUPFD_CLOEXEC, 10);
        if (copy < 0) return 1;
        close(copy);
    }
    if (fcntl(fd, 0x7777) != -1) return 1;
    return close(fd);
}

static int feature_rlimit(long n) {
    struct rlimit limit;
    for (long i = 0; i < n; i++) {
        if (prlimit(0, RLIMIT_NOFILE, NULL, &limit) != 0) return 1;
        if (syscall(SYS_getrlimit, RLIMIT_CORE, &limit) != 0) return 1;
        if (syscall(SYS_getrlimit, RLIMIT_STACK, &limit) != 0 || syscall(SYS_setrlimit, RLIMIT_STACK, &limit) != 0)
            return 1;
    }
    return syscall(SYS_prlimit64, 0, 99, NULL, &limit) == -1 ? 0 : 1;
}

static int feature_mmap(long n) {
    for (long i = 0; i < n; i++) {
        void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED || munmap(p, 4096) != 0) return 1;
    }
    return 0;
}

static int feature_socket(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 1;
    int on = 1, type = 0;
    socklen_t size = sizeof type;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0) return 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0) return 1;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) != 0 || type != SOCK_STREAM) return 1;
    return close(fd);
}

/// struct clone_args (linux/sched.h), spelled out: that header clashes with glibc's sched.h.
struct fixture_clone_args {
    unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static int feature_clone3(void) {
    struct fixture_clone_args args = {0};
    args.flags = 0x100000000ULL;  // CLONE_CLEAR_SIGHAND
    args.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0) return 1;
    if (pid == 0) syscall(SYS_exit_group, 0);
    return wait_child((pid_t)pid);
}

static int feature_files(void) {
    char path[64];
    char target[4096];
    struct statx stx;
    int fds[4];
    fds[0] = open("/proc/self/status", O_RDONLY);
    snprintf(path, sizeof path, "/proc/%d/stat", (int)getpid());
    fds[1] = open(path, O_RDONLY);
    if (chdir("/proc") != 0) return 1;
    fds[2] = open("self/comm", O_RDONLY);
    int sys = open("/sys", O_RDONLY | O_DIRECTORY);
    if (sys < 0) return 1;
    int kernel = openat(sys, "kernel/../kernel", O_RDONLY | O_DIRECTORY);
    if (readlink("/proc/self/exe", target, sizeof target) <= 0) return 1;
    if (statx(AT_FDCWD, "/dev/null", 0, STATX_BASIC_STATS, &stx) != 0) return 1;
    if (access("/dev/syspect-fixture-missing", F_OK) == 0) return 1;
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)syscall(SYS_gettid));
    fds[3] = open(path, O_RDONLY);
    for (int i = 0; i < 4; i++) {
        if (fds[i] < 0) return 1;
        close(fds[i]);
    }
    close(kernel);
    return kernel < 0 ? 1 : close(sys);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: syspect-fixture MODE [ARGS...] (see the comment in main.c)\n");
        return 2;
    }
    const char *mode = argv[1];
    if (!strcmp(mode, "repeat")) {
        long nr = arg_long(argc, argv, 2, 39), n = arg_long(argc, argv, 3, 1);
        for (long i = 0; i < n; i++) syscall(nr);
        return 0;
    }
    if (!strcmp(mode, "fail")) {
        long n = arg_long(argc, argv, 2, 1);
        for (long i = 0; i < n; i++) {
            if (syscall(SYS_unlinkat, AT_FDCWD, "/nonexistent/syspect-fixture", 0) >= 0) return 1;
        }
        return 0;
    }
    if (!strcmp(mode, "expect")) {
        long nr = arg_long(argc, argv, 2, 39), n = arg_long(argc, argv, 3, 1), want = arg_long(argc, argv, 4, 0);
        for (long i = 0; i < n; i++) {
            errno = 0;
            long got = syscall(nr);
            if (got == -1 && errno != 0) got = -errno;
            if (got != want) {
                fprintf(stderr, "syspect-fixture: syscall %ld returned %ld, expected %ld\n", nr, got, want);
                return 1;
            }
        }
        return 0;
    }
    if (!strcmp(mode, "threads")) return mode_threads(arg_long(argc, argv, 2, 4), arg_long(argc, argv, 3, 10));
    if (!strcmp(mode, "fork")) return mode_fork(arg_long(argc, argv, 2, 10));
    if (!strcmp(mode, "crowd")) return mode_crowd(arg_long(argc, argv, 2, 20), arg_long(argc, argv, 3, 5));
    if (!strcmp(mode, "serial")) return mode_serial(arg_long(argc, argv, 2, 20), arg_long(argc, argv, 3, 5));
    if (!strcmp(mode, "errnos")) return mode_errnos(arg_long(argc, argv, 2, 1));
    if (!strcmp(mode, "exec-from-thread")) return mode_exec_from_thread(self_argv(argv[0], argc - 2, argv + 2));
    if (!strcmp(mode, "vfork")) return mode_vfork(self_argv(argv[0], argc - 2, argv + 2));
    if (!strcmp(mode, "spawn")) return mode_spawn(self_argv(argv[0], argc - 2, argv + 2));
    if (!strcmp(mode, "int80")) return mode_int80(arg_long(argc, argv, 2, 1));
    if (!strcmp(mode, "x32")) return mode_x32(arg_long(argc, argv, 2, 1));
    if (!strcmp(mode, "daemon")) return mode_daemon(argc > 2 ? argv[2] : "syspect-fixture-daemon");
    if (!strcmp(mode, "stop")) return mode_stop();
    if (!strcmp(mode, "signal")) return mode_signal();
    if (!strcmp(mode, "crash")) return mode_crash(argc > 2 ? argv[2] : "segv");
    if (!strcmp(mode, "exit")) return (int)arg_long(argc, argv, 2, 0);
    if (!strcmp(mode, "sleep")) {
        sleep((unsigned)arg_long(argc, argv, 2, 1));
        return 0;
    }
    if (!strcmp(mode, "feature-ioctl")) return feature_ioctl(arg_long(argc, argv, 2, 1));
    if (!strcmp(mode, "feature-fcntl")) return feature_fcntl(arg_long(argc, argv, 2, 1));
    if (!strcmp(mode, "feature-rlimit")) return feature_rlimit(arg_long(argc, argv, 2, 1));
    if (!strcmp(mode, "feature-mmap")) return feature_mmap(arg_long(argc, argv, 2, 1));
    if (!strcmp(mode, "feature-socket")) return feature_socket();
    if (!strcmp(mode, "feature-clone3")) return feature_clone3();
    if (!strcmp(mode, "feature-files")) return feature_files();
    fprintf(stderr, "syspect-fixture: unknown mode '%s'\n", mode);
    return 2;
}
