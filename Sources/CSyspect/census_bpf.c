// The in-kernel census (see include/CSyspect.h, csy_bpf_census_*): two hand-assembled eBPF
// programs on the raw tracepoints sys_enter (count calls) and sys_exit (count failures by errno)
// of the processes whose tgid the tracer put into a hash map. No libbpf, no clang: the programs
// are arrays of struct bpf_insn built with the small macros below and loaded with bpf(2).
#define _GNU_SOURCE
#include "CSyspect.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

// x86-64 layouts the programs read: struct pt_regs.orig_ax (uapi layout of the saved
// registers); the rest comes from the kernel's BTF (/sys/kernel/btf/vmlinux) at open:
// task_struct.thread_info.status, where TS_COMPAT is set for the duration of an i386
// (int $0x80 / sysenter) call, and task_struct.pending.signal, where SIGKILL is pending while a
// process dies (ptrace then never stops at a call's exit, so neither counts its result).
enum { PT_REGS_ORIG_AX = 120, TS_COMPAT = 0x0002, SIGKILL_BIT = 1 << (9 - 1) };
// execve and execveat are counted by the tracer (the call that starts a target counts for it).
enum { NR_EXECVE = 59, NR_EXECVEAT = 322 };
// Target map capacity: pid_max bounds the live processes, within these limits (the map's buckets
// cost 16 bytes each up front; its entries are allocated as processes are added).
enum { TARGETS_MIN = 8192, TARGETS_LIMIT = 65536 };

#define INSN(c, d, s, o, i) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define MOV_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define ALU_IMM(op, d, i) INSN(BPF_ALU64 | (op) | BPF_K, d, 0, 0, i)
#define NEG(d) INSN(BPF_ALU64 | BPF_NEG, d, 0, 0, 0)
#define LDX(size, d, s, o) INSN(BPF_LDX | (size) | BPF_MEM, d, s, o, 0)
#define STX(size, d, s, o) INSN(BPF_STX | (size) | BPF_MEM, d, s, o, 0)
#define ST_IMM(size, d, o, i) INSN(BPF_ST | (size) | BPF_MEM, d, 0, o, i)
#define ATOMIC_ADD(d, s, o) INSN(BPF_STX | BPF_DW | BPF_ATOMIC, d, s, o, BPF_ADD)
#define JMP_IMM(op, d, i, label) INSN(BPF_JMP | (op) | BPF_K, d, 0, label, i)
#define CALL(helper) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, helper)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define LD_MAP(d, fd) INSN(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd), INSN(0, 0, 0, 0, 0)

// Jump targets, patched into relative offsets by `resolve`.
enum { L_OUT = 0x7ff0, L_ADD = 0x7ff1, L_MARK = 0x7fe0 };
#define LABEL(l) INSN(0xff, 0, 0, L_MARK, l)  // removed by `resolve`

enum { R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 };

/// Replaces label pseudo-instructions and turns jumps to labels into relative offsets.
static int resolve(struct bpf_insn *p, int n) {
    int at[2] = {-1, -1}, out = 0;
    for (int i = 0; i < n; i++) {
        if (p[i].code == 0xff && p[i].off == L_MARK) {
            at[p[i].imm - L_OUT] = out;
            continue;
        }
        p[out++] = p[i];
    }
    for (int i = 0; i < out; i++) {
        if (BPF_CLASS(p[i].code) != BPF_JMP || (p[i].off != L_OUT && p[i].off != L_ADD)) continue;
        int target = at[p[i].off - L_OUT];
        if (target < 0) return -1;
        p[i].off = (short)(target - i - 1);
    }
    return out;
}

/// r0 = 0 if the current process (tgid) is a target, else jumps to OUT. Clobbers r0-r5, fp-4.
#define IF_NOT_TARGET_GOTO_OUT(targets)                        \
    CALL(BPF_FUNC_get_current_pid_tgid), ALU_IMM(BPF_RSH, R0, 32), \
    STX(BPF_W, R10, R0, -4), LD_MAP(R1, targets), MOV_REG(R2, R10), ALU_IMM(BPF_ADD, R2, -4), \
    CALL(BPF_FUNC_map_lookup_elem), JMP_IMM(BPF_JEQ, R0, 0, L_OUT)

/// Jumps to OUT when the number in `reg` is no x86-64 call the kernel census counts: negative
/// (a skipped call), an x32 number (bit 30), beyond the table, or execve/execveat.
#define IF_NOT_COUNTED_GOTO_OUT(reg)                                          \
    JMP_IMM(BPF_JGE, reg, CSY_BPF_MAX_NR, L_OUT), JMP_IMM(BPF_JEQ, reg, NR_EXECVE, L_OUT), \
    JMP_IMM(BPF_JEQ, reg, NR_EXECVEAT, L_OUT)

/// Jumps to OUT when (u32 at current task + offset) & mask. Clobbers r0-r5, fp-16.
#define IF_TASK_BITS_GOTO_OUT(offset, mask)                                                \
    CALL(BPF_FUNC_get_current_task), MOV_REG(R3, R0), ALU_IMM(BPF_ADD, R3, offset),      \
    MOV_REG(R1, R10), ALU_IMM(BPF_ADD, R1, -16), MOV_IMM(R2, 4), CALL(BPF_FUNC_probe_read_kernel), \
    LDX(BPF_W, R1, R10, -16), ALU_IMM(BPF_AND, R1, mask), JMP_IMM(BPF_JNE, R1, 0, L_OUT)

/// Jumps to OUT during an i386 call (TS_COMPAT): the tracer counts those.
#define IF_COMPAT_GOTO_OUT IF_TASK_BITS_GOTO_OUT(layout.compat_status, TS_COMPAT)

/// Offsets in struct task_struct, from BTF.
struct layout {
    int compat_status;   ///< thread_info.status
    int pending_signal;  ///< pending.signal (first word)
};
static struct layout layout;

/// sys_enter(struct pt_regs *regs, long id): calls[id] += 1 (per-CPU array).
static int enter_program(struct bpf_insn *p, int targets, int calls) {
    struct bpf_insn program[] = {
        MOV_REG(R6, R1),
        IF_NOT_TARGET_GOTO_OUT(targets),
        LDX(BPF_DW, R7, R6, 8),  // id
        IF_NOT_COUNTED_GOTO_OUT(R7),
        IF_COMPAT_GOTO_OUT,
        STX(BPF_W, R10, R7, -8),
        LD_MAP(R1, calls), MOV_REG(R2, R10), ALU_IMM(BPF_ADD, R2, -8),
        CALL(BPF_FUNC_map_lookup_elem), JMP_IMM(BPF_JEQ, R0, 0, L_OUT),
        LDX(BPF_DW, R1, R0, 0), ALU_IMM(BPF_ADD, R1, 1), STX(BPF_DW, R0, R1, 0),
        LABEL(L_OUT),
        MOV_IMM(R0, 0), EXIT(),
    };
    int n = (int)(sizeof program / sizeof program[0]);
    memcpy(p, program, sizeof program);
    return resolve(p, n);
}

/// sys_exit(struct pt_regs *regs, long ret): for ret in -4095..-1,
/// failures[{regs->orig_ax, -ret}] += 1 (hash, atomic add; inserted at 1 the first time), or,
/// when the hash is full, unrecorded[regs->orig_ax] += 1 (per-CPU array).
static int exit_program(struct bpf_insn *p, int targets, int failures, int unrecorded) {
    struct bpf_insn program[] = {
        MOV_REG(R6, R1),
        LDX(BPF_DW, R7, R6, 8),  // ret
        MOV_REG(R8, R7), ALU_IMM(BPF_ADD, R8, 4095), JMP_IMM(BPF_JGE, R8, 4095, L_OUT),
        IF_NOT_TARGET_GOTO_OUT(targets),
        LDX(BPF_DW, R3, R6, 0), ALU_IMM(BPF_ADD, R3, PT_REGS_ORIG_AX),  // &regs->orig_ax
        MOV_REG(R1, R10), ALU_IMM(BPF_ADD, R1, -24), MOV_IMM(R2, 8), CALL(BPF_FUNC_probe_read_kernel),
        JMP_IMM(BPF_JNE, R0, 0, L_OUT),
        LDX(BPF_DW, R8, R10, -24),  // number
        IF_NOT_COUNTED_GOTO_OUT(R8),
        IF_COMPAT_GOTO_OUT,
        IF_TASK_BITS_GOTO_OUT(layout.pending_signal, SIGKILL_BIT),  // dying: ptrace sees no exit
        STX(BPF_W, R10, R8, -32), NEG(R7), STX(BPF_W, R10, R7, -28),  // key {number, errno}
        LD_MAP(R1, failures), MOV_REG(R2, R10), ALU_IMM(BPF_ADD, R2, -32),
        CALL(BPF_FUNC_map_lookup_elem), JMP_IMM(BPF_JNE, R0, 0, L_ADD),
        ST_IMM(BPF_DW, R10, -40, 1),
        LD_MAP(R1, failures), MOV_REG(R2, R10), ALU_IMM(BPF_ADD, R2, -32),
        MOV_REG(R3, R10), ALU_IMM(BPF_ADD, R3, -40), MOV_IMM(R4, BPF_NOEXIST),
        CALL(BPF_FUNC_map_update_elem), JMP_IMM(BPF_JEQ, R0, 0, L_OUT),
        // Another CPU inserted the key meanwhile: add to its entry.
        LD_MAP(R1, failures), MOV_REG(R2, R10), ALU_IMM(BPF_ADD, R2, -32),
        CALL(BPF_FUNC_map_lookup_elem), JMP_IMM(BPF_JNE, R0, 0, L_ADD),
        // The map is full: count the failure under its number alone (key: the pair's first word).
        LD_MAP(R1, unrecorded), MOV_REG(R2, R10), ALU_IMM(BPF_ADD, R2, -32),
        CALL(BPF_FUNC_map_lookup_elem), JMP_IMM(BPF_JEQ, R0, 0, L_OUT),
        LABEL(L_ADD),
        MOV_IMM(R1, 1), ATOMIC_ADD(R0, R1, 0),
        LABEL(L_OUT),
        MOV_IMM(R0, 0), EXIT(),
    };
    int n = (int)(sizeof program / sizeof program[0]);
    memcpy(p, program, sizeof program);
    return resolve(p, n);
}

static long sys_bpf(int cmd, union bpf_attr *attr) {
    return syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

static int create_map(unsigned type, unsigned key, unsigned value, unsigned entries, unsigned flags) {
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_type = type;
    a.key_size = key;
    a.value_size = value;
    a.max_entries = entries;
    a.map_flags = flags;
    return (int)sys_bpf(BPF_MAP_CREATE, &a);
}

/// /proc/sys/kernel/pid_max, or 0.
static unsigned pid_max(void) {
    char text[32];
    int fd = open("/proc/sys/kernel/pid_max", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t len = read(fd, text, sizeof text - 1);
    close(fd);
    if (len <= 0) return 0;
    text[len] = 0;
    return (unsigned)strtoul(text, NULL, 10);
}

/// The default target capacity: no more live processes than pid_max can exist.
static unsigned default_targets(void) {
    unsigned n = pid_max();
    return n < TARGETS_MIN ? TARGETS_MIN : n > TARGETS_LIMIT ? TARGETS_LIMIT : n;
}

static int load(const struct bpf_insn *p, int n, char *log, size_t log_size) {
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT;
    a.insns = (unsigned long)p;
    a.insn_cnt = (unsigned)n;
    a.license = (unsigned long)"Dual MIT/GPL";  // bpf_probe_read_kernel is GPL-only
    if (log && log_size > 0) {
        log[0] = 0;
        a.log_buf = (unsigned long)log;
        a.log_size = (unsigned)log_size;
        a.log_level = 1;
    }
    return (int)sys_bpf(BPF_PROG_LOAD, &a);
}

static int attach(int prog, const char *tracepoint) {
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.raw_tracepoint.name = (unsigned long)tracepoint;
    a.raw_tracepoint.prog_fd = (unsigned)prog;
    return (int)sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &a);
}

static void close_fd(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

void csy_bpf_census_close(struct csy_bpf_census *c) {
    // Links first: the programs stop running before their maps go.
    close_fd(&c->enter_link);
    close_fd(&c->exit_link);
    close_fd(&c->enter_prog);
    close_fd(&c->exit_prog);
    close_fd(&c->targets);
    close_fd(&c->calls);
    close_fd(&c->failures);
    close_fd(&c->unrecorded);
}

// MARK: BTF (just enough to find member offsets)

struct btf_header {
    uint16_t magic;
    uint8_t version, flags;
    uint32_t hdr_len, type_off, type_len, str_off, str_len;
};
struct btf_type {
    uint32_t name_off, info, size_or_type;
};
struct btf_member {
    uint32_t name_off, type, offset;
};

struct btf {
    char *data;
    const struct btf_type **types;  ///< by id (1-based)
    uint32_t count;
    const char *strings;
    uint32_t strings_len;
};

enum { BTF_STRUCT = 4, BTF_UNION = 5 };

/// Bytes that follow a type's header, by kind (linux/btf.h).
static size_t btf_extra(const struct btf_type *t) {
    uint32_t kind = (t->info >> 24) & 0x1f, vlen = t->info & 0xffff;
    switch (kind) {
    case 1: case 14: case 17: return 4;        // INT, VAR, DECL_TAG
    case 3: return 12;                          // ARRAY
    case 4: case 5: case 15: case 19: return 12 * (size_t)vlen;  // STRUCT, UNION, DATASEC, ENUM64
    case 6: case 13: return 8 * (size_t)vlen;   // ENUM, FUNC_PROTO
    default: return 0;                          // PTR, FWD, TYPEDEF, qualifiers, FUNC, FLOAT, TYPE_TAG
    }
}

static const char *btf_name(const struct btf *b, uint32_t off) {
    return off < b->strings_len ? b->strings + off : "";
}

static int btf_load(struct btf *b) {
    memset(b, 0, sizeof *b);
    int fd = open("/sys/kernel/btf/vmlinux", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t cap = 1 << 23, len = 0;
    b->data = malloc(cap);
    for (ssize_t n; b->data; len += (size_t)n) {
        if (len == cap) b->data = realloc(b->data, cap *= 2);
        if (!b->data || (n = read(fd, b->data + len, cap - len)) <= 0) break;
    }
    close(fd);
    const struct btf_header *h = (const void *)b->data;
    if (!b->data || len < sizeof *h || h->magic != 0xeB9F || h->hdr_len + h->str_off + h->str_len > len) {
        errno = ENOEXEC;
        return -1;
    }
    const char *types = b->data + h->hdr_len + h->type_off, *end = types + h->type_len;
    b->strings = b->data + h->hdr_len + h->str_off;
    b->strings_len = h->str_len;
    size_t cap_types = 1 << 17;
    b->types = malloc(cap_types * sizeof *b->types);
    for (const char *p = types; b->types && p + sizeof(struct btf_type) <= end;) {
        const struct btf_type *t = (const void *)p;
        if (b->count + 2 >= cap_types) b->types = realloc(b->types, (cap_types *= 2) * sizeof *b->types);
        if (b->types) b->types[++b->count] = t;
        p += sizeof *t + btf_extra(t);
    }
    return b->types ? 0 : -1;
}

static void btf_free(struct btf *b) {
    free(b->types);
    free(b->data);
}

/// Byte offset of `member` in struct/union `t`, looking into anonymous members; -1 if absent.
static long btf_member_offset(const struct btf *b, const struct btf_type *t, const char *member, int depth) {
    uint32_t kind = (t->info >> 24) & 0x1f, vlen = t->info & 0xffff, kflag = t->info >> 31;
    if ((kind != BTF_STRUCT && kind != BTF_UNION) || depth > 4) return -1;
    const struct btf_member *m = (const void *)(t + 1);
    for (uint32_t i = 0; i < vlen; i++) {
        long bits = kflag ? (m[i].offset & 0xffffff) : m[i].offset;
        if (m[i].name_off == 0 && m[i].type <= b->count) {
            long inner = btf_member_offset(b, b->types[m[i].type], member, depth + 1);
            if (inner >= 0) return bits / 8 + inner;
        } else if (!strcmp(btf_name(b, m[i].name_off), member)) {
            return bits / 8;
        }
    }
    return -1;
}

/// Byte offset of `member` in `struct name`, or -1.
static long btf_offset(const struct btf *b, const char *name, const char *member) {
    for (uint32_t id = 1; id <= b->count; id++) {
        const struct btf_type *t = b->types[id];
        if (((t->info >> 24) & 0x1f) == BTF_STRUCT && !strcmp(btf_name(b, t->name_off), name)) {
            long offset = btf_member_offset(b, t, member, 0);
            if (offset >= 0) return offset;
        }
    }
    return -1;
}

/// Fills `layout` from the kernel's BTF. 0, or -1 with errno (ENOENT: a member is missing).
static int read_layout(void) {
    struct btf b;
    if (btf_load(&b) != 0) {
        int saved = errno;
        btf_free(&b);
        errno = saved;
        return -1;
    }
    long thread_info = btf_offset(&b, "task_struct", "thread_info");
    long status = btf_offset(&b, "thread_info", "status");
    long pending = btf_offset(&b, "task_struct", "pending");
    long signal = btf_offset(&b, "sigpending", "signal");
    btf_free(&b);
    if (thread_info < 0 || status < 0 || pending < 0 || signal < 0) {
        errno = ENOENT;
        return -1;
    }
    layout.compat_status = (int)(thread_info + status);
    layout.pending_signal = (int)(pending + signal);
    return 0;
}

static int layout_error;
static void read_layout_once(void) { layout_error = read_layout() == 0 ? 0 : errno; }

int csy_bpf_census_open(struct csy_bpf_census *c, int count_failures, struct csy_bpf_capacity capacity,
                        int *stage, char *log, size_t log_size) {
    c->targets = c->calls = c->failures = c->unrecorded = -1;
    c->targets_max = capacity.targets ? capacity.targets : default_targets();
    c->failures_max = capacity.failures ? capacity.failures : CSY_BPF_FAILURES_DEFAULT;
    c->enter_prog = c->exit_prog = c->enter_link = c->exit_link = -1;
    struct bpf_insn program[128];
    int n, saved;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, read_layout_once);
    if (layout_error != 0) {
        *stage = CSY_BPF_STAGE_BTF;
        errno = layout_error;
        return -1;
    }
#define STEP(s, expr) \
    do {               \
        *stage = (s);  \
        if ((expr) < 0) goto fail; \
    } while (0)
    // Only the tracer adds targets (bpf(2), where a full map answers E2BIG): no preallocation.
    STEP(CSY_BPF_STAGE_MAPS, c->targets = create_map(BPF_MAP_TYPE_HASH, 4, 4, c->targets_max, BPF_F_NO_PREALLOC));
    STEP(CSY_BPF_STAGE_MAPS, c->calls = create_map(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, CSY_BPF_MAX_NR, 0));
    STEP(CSY_BPF_STAGE_LOAD, n = enter_program(program, c->targets, c->calls));
    STEP(CSY_BPF_STAGE_LOAD, c->enter_prog = load(program, n, log, log_size));
    if (count_failures) {
        // Inserted by the program on sys_exit: preallocated, so an insert never allocates.
        STEP(CSY_BPF_STAGE_MAPS, c->failures = create_map(BPF_MAP_TYPE_HASH, 8, 8, c->failures_max, 0));
        STEP(CSY_BPF_STAGE_MAPS, c->unrecorded = create_map(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, CSY_BPF_MAX_NR, 0));
        STEP(CSY_BPF_STAGE_LOAD, n = exit_program(program, c->targets, c->failures, c->unrecorded));
        STEP(CSY_BPF_STAGE_LOAD, c->exit_prog = load(program, n, log, log_size));
    }
    STEP(CSY_BPF_STAGE_ATTACH, c->enter_link = attach(c->enter_prog, "sys_enter"));
    if (count_failures) STEP(CSY_BPF_STAGE_ATTACH, c->exit_link = attach(c->exit_prog, "sys_exit"));
#undef STEP
    *stage = CSY_BPF_STAGE_NONE;
    return 0;
fail:
    saved = errno;
    csy_bpf_census_close(c);
    errno = saved;
    return -1;
}

int csy_bpf_census_set_target(const struct csy_bpf_census *c, int tgid, int is_target) {
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    uint32_t key = (uint32_t)tgid, value = 1;
    a.map_fd = (unsigned)c->targets;
    a.key = (unsigned long)&key;
    if (!is_target) {
        long r = sys_bpf(BPF_MAP_DELETE_ELEM, &a);
        return r < 0 && errno == ENOENT ? 0 : (int)r;
    }
    a.value = (unsigned long)&value;
    a.flags = BPF_ANY;
    return (int)sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
}

/// Possible CPUs (the per-CPU values a lookup returns), from /sys/devices/system/cpu/possible
/// ("0-3" or "0,2-5").
static int possible_cpus(void) {
    char text[256];
    int fd = open("/sys/devices/system/cpu/possible", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t len = read(fd, text, sizeof text - 1);
    close(fd);
    if (len <= 0) return -1;
    text[len] = 0;
    int count = 0;
    for (char *p = text; *p && *p != '\n';) {
        char *end;
        long first = strtol(p, &end, 10), last = first;
        if (end == p) return -1;
        if (*end == '-') last = strtol(end + 1, &end, 10);
        count += (int)(last - first + 1);
        p = *end == ',' ? end + 1 : end;
    }
    return count;
}

/// Sums the per-CPU values of keys 0 ..< count of the per-CPU array `fd` into out[].
static int sum_percpu(int fd, uint64_t *out, int count) {
    int cpus = possible_cpus();
    if (cpus <= 0) {
        errno = EINVAL;
        return -1;
    }
    uint64_t *values = calloc((size_t)cpus, sizeof *values);
    if (!values) return -1;
    int status = 0;
    for (uint32_t nr = 0; nr < (uint32_t)count && nr < CSY_BPF_MAX_NR; nr++) {
        union bpf_attr a;
        memset(&a, 0, sizeof a);
        a.map_fd = (unsigned)fd;
        a.key = (unsigned long)&nr;
        a.value = (unsigned long)values;
        if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &a) < 0) {
            status = -1;
            break;
        }
        out[nr] = 0;
        for (int cpu = 0; cpu < cpus; cpu++) out[nr] += values[cpu];
    }
    int saved = errno;
    free(values);
    errno = saved;
    return status;
}

int csy_bpf_census_read_calls(const struct csy_bpf_census *c, uint64_t *calls, int count) {
    return sum_percpu(c->calls, calls, count);
}

int csy_bpf_census_read_unrecorded(const struct csy_bpf_census *c, uint64_t *failures, int count) {
    if (c->unrecorded < 0) {
        memset(failures, 0, (size_t)(count > 0 ? count : 0) * sizeof *failures);
        return 0;
    }
    return sum_percpu(c->unrecorded, failures, count);
}

int csy_bpf_census_read_failures(const struct csy_bpf_census *c, struct csy_bpf_failure *out, int max) {
    uint64_t key = 0, next;
    int n = 0, first = 1;
    while (n < max) {
        union bpf_attr a;
        memset(&a, 0, sizeof a);
        a.map_fd = (unsigned)c->failures;
        a.key = first ? 0 : (unsigned long)&key;
        a.next_key = (unsigned long)&next;
        if (sys_bpf(BPF_MAP_GET_NEXT_KEY, &a) < 0) return errno == ENOENT ? n : -1;
        first = 0;
        key = next;
        uint64_t count = 0;
        memset(&a, 0, sizeof a);
        a.map_fd = (unsigned)c->failures;
        a.key = (unsigned long)&key;
        a.value = (unsigned long)&count;
        if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &a) < 0) continue;
        uint32_t parts[2];
        memcpy(parts, &key, sizeof parts);
        out[n++] = (struct csy_bpf_failure){.number = parts[0], .error = parts[1], .count = count};
    }
    return n;
}

int csy_in_initial_pid_namespace(void) {
    struct stat st;
    if (stat("/proc/self/ns/pid", &st) != 0) return 0;
    return st.st_ino == 0xEFFFFFFCU;  // PROC_PID_INIT_INO
}
