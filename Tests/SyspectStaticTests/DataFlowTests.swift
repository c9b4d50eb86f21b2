import Testing
@testable import SyspectStatic

/// The backward data flow on hand-assembled x86-64 code: what reaches rax at the last
/// instruction (a `syscall`, `int 0x80` or `call`) of each snippet.
@Suite struct DataFlowTests {
    func resolve(_ bytes: [UInt8], register: Int = 0) throws -> Set<Resolution> {
        let d = try Disassembler()
        return bytes.withUnsafeBytes { raw in
            let code = FunctionCode(disassembler: d, bytes: raw, address: 0x1000)
            return code.resolve(family: register, before: code.insns.count - 1)
        }
    }

    @Test func immediatesAndMoves() throws {
        #expect(try resolve([0xb8, 0x27, 0, 0, 0, 0x0f, 0x05]) == [.number(39)])                 // mov eax, 39
        #expect(try resolve([0x31, 0xc0, 0x0f, 0x05]) == [.number(0)])                            // xor eax, eax
        #expect(try resolve([0x6a, 0x3c, 0x58, 0x0f, 0x05]) == [.number(60)])                     // push 60; pop rax
        #expect(try resolve([0xb9, 0x0e, 0, 0, 0, 0x89, 0xc8, 0x0f, 0x05]) == [.number(14)])      // mov ecx, 14; mov eax, ecx
        #expect(try resolve([0x48, 0xc7, 0xc0, 0xe7, 0, 0, 0, 0x0f, 0x05]) == [.number(231)])     // mov rax, 231
        #expect(try resolve([0x8d, 0x41, 0x05, 0x0f, 0x05]) == [.unresolved("argument rcx plus 5")]) // lea eax, [rcx+5]: rcx from the caller
        #expect(try resolve([0xb9, 0x01, 0, 0, 0, 0x8d, 0x41, 0x05, 0x0f, 0x05]) == [.number(6)]) // mov ecx, 1; lea eax, [rcx+5]
    }

    @Test func stackSlots() throws {
        // mov dword [rsp+8], 231; mov eax, [rsp+8]; syscall
        #expect(try resolve([0xc7, 0x44, 0x24, 0x08, 0xe7, 0, 0, 0, 0x8b, 0x44, 0x24, 0x08, 0x0f, 0x05]) == [.number(231)])
        // mov dword [rsp], 3; sub rsp, 8; mov eax, [rsp+8]; syscall: the slot moves with rsp
        #expect(try resolve([0xc7, 0x04, 0x24, 0x03, 0, 0, 0, 0x48, 0x83, 0xec, 0x08, 0x8b, 0x44, 0x24, 0x08, 0x0f, 0x05]) == [.number(3)])
    }

    @Test func bothBranchesOfAMerge() throws {
        // test edi, edi; je +7; mov eax, 1; jmp +5; mov eax, 2; syscall
        let code: [UInt8] = [0x85, 0xff, 0x74, 0x07, 0xb8, 1, 0, 0, 0, 0xeb, 0x05, 0xb8, 2, 0, 0, 0, 0x0f, 0x05]
        #expect(try resolve(code) == [.number(1), .number(2)])
    }

    @Test func argumentsAndUnresolved() throws {
        #expect(try resolve([0x48, 0x89, 0xf8, 0x0f, 0x05]) == [.argument(7)])                    // mov rax, rdi (a wrapper)
        #expect(try resolve([0x8b, 0x07, 0x0f, 0x05]) == [.unresolved("loaded from memory")])       // mov eax, [rdi]
        // call +0; syscall: rax is the call's return value
        #expect(try resolve([0xe8, 0, 0, 0, 0, 0x0f, 0x05]) == [.unresolved("return value of a call")])
        // mov eax, 0xffffffff; syscall
        #expect(try resolve([0xb8, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x05]) == [.unresolved("value 4294967295 is not a system call number")])
        // The syscall() wrapper convention: mov edi, 186; call (the number is in rdi at the call)
        #expect(try resolve([0xbf, 0xba, 0, 0, 0, 0xe8, 0, 0, 0, 0], register: 7) == [.number(186)])
    }

    @Test func x32AndInt80() throws {
        #expect(try resolve([0xb8, 0x27, 0, 0, 0x40, 0x0f, 0x05]) == [.number(0x4000_0027)])      // x32 getpid
        #expect(StaticAnalyzer.split(0x4000_0027, kind: .syscall) == (39, .x32))
        #expect(try resolve([0xb8, 0x14, 0, 0, 0, 0xcd, 0x80]) == [.number(20)])                 // int 0x80, i386 getpid
    }
}
