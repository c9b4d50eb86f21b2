// syspect-fixture: a program of known behaviour for syspect's tracer tests, so that the tests do
// not depend on what `ls` happens to call. One mode per run, chosen by argv[1]:
//
//   repeat NR N              call syscall NR (x86-64 number, no arguments) N times
//   fail N                   unlinkat("/nonexistent/syspect-fixture") N times (ENOENT each)
//   expect NR N VALUE        call syscall NR N times; exit 0 when each returned VALUE
//                            (a negative VALUE means -errno), 1 otherwise
//   threads K N              K threads each call getppid N times
//   fork N                   a child calls getppid N times; the parent waits for it
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
#include <sys/syscall.h>
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
    pthread_join(t, NULL);  // never returns: the exec replaces the whole process
    return 1;
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
    if (!strcmp(mode, "exec-from-thread")) return mode_exec_from_thread(self_argv(argv[0], argc - 2, argv + 2));
    if (!strcmp(mode, "vfork")) return mode_vfork(self_argv(argv[0], argc - 2, argv + 2));
    if (!strcmp(mode, "spawn")) return mode_spawn(self_argv(argv[0], argc - 2, argv + 2));
    if (!strcmp(mode, "int80")) return mode_int80(arg_long(argc, argv, 2, 1));
    if (!strcmp(mode, "x32")) return mode_x32(arg_long(argc, argv, 2, 1));
    if (!strcmp(mode, "daemon")) return mode_daemon(argc > 2 ? argv[2] : "syspect-fixture-daemon");
    if (!strcmp(mode, "stop")) return mode_stop();
    if (!strcmp(mode, "signal")) return mode_signal();
    if (!strcmp(mode, "exit")) return (int)arg_long(argc, argv, 2, 0);
    if (!strcmp(mode, "sleep")) {
        sleep((unsigned)arg_long(argc, argv, 2, 1));
        return 0;
    }
    fprintf(stderr, "syspect-fixture: unknown mode '%s'\n", mode);
    return 2;
}
