// crash-workload: a workload of known verdicts for syspect's crash-safety tests
// (Tests/SyspectExploreTests/CrashSafetyTests.swift, spec crash-workload.yaml). The test builds
// it static (`cc -static`: few start-up calls, so a whole explore takes seconds). It runs as the
// application of each probe, pid 1 of the probe's PID namespace, makes its checks and, when they
// all hold, waits in pause(2) until the probe ends; the test script (crash-workload.sh) passes
// once it sees it waiting there.
//
//   uname, getcwd, newfstatat   required (results checked; a fake leaves the buffers zero)
//   sysinfo                     stub only (a fake leaves totalram 0)
//   sched_yield                 fake only (an error fails)
//   getpid, gettid              either alone, not together (one of them must say 1): the final
//                               all-together run fails and the culprit search runs
//   getuid                      either (its result is not looked at)
//   pause                       required (stubbed or faked it returns: exit 15)
//
// Exit status 11-15 names the check that failed, 21-22 a failing pause hook.
//
// Pause hook (for the crash tests only): when $SYSPECT_CRASH_PAUSE/<name of the working
// directory> is a regular file, the program creates the directory "<that path>.paused" and
// sleeps forever (the test script keeps waiting). The working directory is the probe's folder,
// named after its policy and replica, so the test can stop the explore in the probe of its
// choice. mkdir and nanosleep are called only then, never in a baseline, so no probe ever
// interposes them.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static int pause_hook(void) {
    const char *control = getenv("SYSPECT_CRASH_PAUSE");
    char cwd[4096];
    memset(cwd, 0, sizeof cwd);
    if (syscall(SYS_getcwd, cwd, sizeof cwd) <= 0 || cwd[0] != '/') return 21;
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", control ? control : "/nonexistent", strrchr(cwd, '/') + 1);
    struct stat st;
    memset(&st, 0, sizeof st);
    if (stat(path, &st) != 0) return errno == ENOENT ? 0 : 22;
    if (st.st_ino == 0) return 22;  /* faked: nothing was filled in */
    if (!S_ISREG(st.st_mode)) return 0;
    strncat(path, ".paused", sizeof path - strlen(path) - 1);
    syscall(SYS_mkdir, path, 0755);
    for (;;) {
        struct timespec second = {1, 0};
        syscall(SYS_nanosleep, &second, NULL);
    }
}

int main(void) {
    int status = pause_hook();
    if (status) return status;
    struct utsname u;
    memset(&u, 0, sizeof u);
    if (uname(&u) != 0 || strcmp(u.sysname, "Linux") != 0) return 11;
    struct sysinfo info;
    memset(&info, 0, sizeof info);
    if (syscall(SYS_sysinfo, &info) == 0 && info.totalram == 0) return 12;
    if (syscall(SYS_sched_yield) != 0) return 13;
    long pid = syscall(SYS_getpid), tid = syscall(SYS_gettid);
    if (pid != 1 && tid != 1) return 14;
    syscall(SYS_getuid);
    /* Only a caught signal (none here) ends a real pause: stubbed or faked, it fails at once. */
    syscall(SYS_pause);
    return 15;
}
