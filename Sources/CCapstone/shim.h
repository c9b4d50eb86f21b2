// Capstone 4 (Debian libcapstone-dev) for SyspectStatic, plus small inline accessors: Swift
// imports cs_x86_op arrays as tuples, so the per-instruction facts the analyser needs are
// copied into one flat struct here.
#include <capstone/capstone.h>
#include <stdint.h>
#include <string.h>

enum {
    SYSPECT_F_JUMP = 1,        // any jump (conditional or not)
    SYSPECT_F_CALL = 2,
    SYSPECT_F_RET = 4,
    SYSPECT_F_END = 8,         // control never falls through (jmp, ret, hlt, ud2)
};

enum { SYSPECT_OP_NONE = 0, SYSPECT_OP_REG = 1, SYSPECT_OP_IMM = 2, SYSPECT_OP_MEM = 3 };

typedef struct {
    uint64_t address;
    uint32_t id;           // X86_INS_*, 0 for skipped data
    uint16_t size;
    uint8_t flags;
    uint8_t nops;
    uint8_t op_type[3];
    uint8_t op_size[3];
    uint16_t op_reg[3];    // register, or the memory base
    uint16_t op_index[3];  // memory index register
    int64_t op_imm[3];     // immediate, or the memory displacement
} syspect_insn;

static inline void syspect_fill(const cs_insn *in, syspect_insn *out) {
    memset(out, 0, sizeof *out);
    out->address = in->address;
    out->id = in->id;
    out->size = in->size;
    if (in->id == 0 || in->detail == NULL) return;
    const cs_detail *d = in->detail;
    for (int i = 0; i < d->groups_count; i++) {
        switch (d->groups[i]) {
        case CS_GRP_JUMP: out->flags |= SYSPECT_F_JUMP; break;
        case CS_GRP_CALL: out->flags |= SYSPECT_F_CALL; break;
        case CS_GRP_RET: out->flags |= SYSPECT_F_RET | SYSPECT_F_END; break;
        default: break;
        }
    }
    switch (in->id) {
    case X86_INS_JMP: case X86_INS_LJMP: case X86_INS_HLT: case X86_INS_UD2: case X86_INS_RET:
    case X86_INS_RETF: case X86_INS_RETFQ: case X86_INS_IRET: case X86_INS_IRETD: case X86_INS_IRETQ:
        out->flags |= SYSPECT_F_END; break;
    default: break;
    }
    const cs_x86 *x = &d->x86;
    int n = x->op_count < 3 ? x->op_count : 3;
    out->nops = (uint8_t)x->op_count;
    for (int i = 0; i < n; i++) {
        const cs_x86_op *op = &x->operands[i];
        out->op_size[i] = op->size;
        switch (op->type) {
        case X86_OP_REG: out->op_type[i] = SYSPECT_OP_REG; out->op_reg[i] = (uint16_t)op->reg; break;
        case X86_OP_IMM: out->op_type[i] = SYSPECT_OP_IMM; out->op_imm[i] = op->imm; break;
        case X86_OP_MEM:
            out->op_type[i] = SYSPECT_OP_MEM;
            out->op_reg[i] = (uint16_t)op->mem.base;
            out->op_index[i] = (uint16_t)op->mem.index;
            out->op_imm[i] = op->mem.disp;
            break;
        default: break;
        }
    }
}

/// Disassembles the next instruction into `out`; 0 at the end of the buffer.
static inline int syspect_next(csh h, const uint8_t **code, size_t *size, uint64_t *address,
                               cs_insn *insn, syspect_insn *out) {
    if (!cs_disasm_iter(h, code, size, address, insn)) return 0;
    syspect_fill(insn, out);
    return 1;
}

/// The registers `insn` writes (explicitly or implicitly), at most `max`; the count.
static inline int syspect_regs_written(csh h, const cs_insn *insn, uint16_t *out, int max) {
    cs_regs r, w;
    uint8_t nr = 0, nw = 0;
    if (cs_regs_access(h, insn, r, &nr, w, &nw) != CS_ERR_OK) return -1;
    int n = nw < max ? nw : max;
    for (int i = 0; i < n; i++) out[i] = w[i];
    return n;
}

/// Opens a 64-bit x86 handle with detail and skip-data on; 0 on success.
static inline int syspect_open(csh *h) {
    if (cs_open(CS_ARCH_X86, CS_MODE_64, h) != CS_ERR_OK) return -1;
    cs_option(*h, CS_OPT_DETAIL, CS_OPT_ON);
    cs_option(*h, CS_OPT_SKIPDATA, CS_OPT_ON);
    return 0;
}

/// General-purpose register family: 0 rax, 1 rcx, 2 rdx, 3 rbx, 4 rsp, 5 rbp, 6 rsi, 7 rdi,
/// 8..15 r8..r15, 16 rip; -1 for any other register. `*width` gets the size in bytes.
static inline int syspect_reg_family(unsigned reg, int *width) {
    int w = 8, f = -1;
    switch (reg) {
#define R(fam, r64, r32, r16, r8a, r8b) \
    case r64: f = fam; w = 8; break; case r32: f = fam; w = 4; break; \
    case r16: f = fam; w = 2; break; case r8a: f = fam; w = 1; break;
    R(0, X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL, 0)
    R(1, X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, 0)
    R(2, X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, 0)
    R(3, X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL, 0)
    R(4, X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL, 0)
    R(5, X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL, 0)
    R(6, X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL, 0)
    R(7, X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL, 0)
    R(8, X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B, 0)
    R(9, X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B, 0)
    R(10, X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B, 0)
    R(11, X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B, 0)
    R(12, X86_REG_R12, X86_REG_R12D, X86_REG_R12W, X86_REG_R12B, 0)
    R(13, X86_REG_R13, X86_REG_R13D, X86_REG_R13W, X86_REG_R13B, 0)
    R(14, X86_REG_R14, X86_REG_R14D, X86_REG_R14W, X86_REG_R14B, 0)
    R(15, X86_REG_R15, X86_REG_R15D, X86_REG_R15W, X86_REG_R15B, 0)
#undef R
    case X86_REG_AH: f = 0; w = 1; break;
    case X86_REG_CH: f = 1; w = 1; break;
    case X86_REG_DH: f = 2; w = 1; break;
    case X86_REG_BH: f = 3; w = 1; break;
    case X86_REG_RIP: case X86_REG_EIP: f = 16; w = 8; break;
    default: break;
    }
    if (width) *width = w;
    return f;
}
