//! The register state saved on every interrupt and exception.
//!
//! The kernel's entry stubs push the general registers on top of what the CPU
//! pushes (Intel SDM Vol. 3A, 6.14.1 "64-Bit Mode Stack Frame": SS, RSP,
//! RFLAGS, CS, RIP, and an error code for some exceptions) plus the vector
//! number and a zero error code where the CPU pushes none, so every vector has
//! the same frame. Handlers may rewrite it: the entry stubs restore exactly
//! what is in it before `iretq`.

/// Saved state, lowest address first (the order the stub leaves it in).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)] // register names are their own documentation
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    /// Interrupt vector, pushed by the stub.
    pub vector: u64,
    /// Error code pushed by the CPU, or 0 for vectors without one.
    pub error_code: u64,
    /// Pushed by the CPU: where execution resumes after `iretq`.
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// Bytes the stubs push (general registers, vector, error code) plus the five
/// words the CPU pushes. The stub code depends on this size.
pub const TRAP_FRAME_SIZE: usize = 22 * 8;

/// Vectors for which the CPU pushes an error code (SDM Vol. 3A, table 6-1):
/// #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX.
pub const fn has_error_code(vector: u8) -> bool {
    matches!(vector, 8 | 10..=14 | 17 | 21 | 29 | 30)
}

/// Mnemonic and name of a CPU exception vector (SDM Vol. 3A, table 6-1).
pub const fn exception_name(vector: u8) -> &'static str {
    match vector {
        0 => "#DE divide error",
        1 => "#DB debug",
        2 => "NMI",
        3 => "#BP breakpoint",
        4 => "#OF overflow",
        5 => "#BR bound range exceeded",
        6 => "#UD invalid opcode",
        7 => "#NM device not available",
        8 => "#DF double fault",
        9 => "coprocessor segment overrun",
        10 => "#TS invalid TSS",
        11 => "#NP segment not present",
        12 => "#SS stack-segment fault",
        13 => "#GP general protection",
        14 => "#PF page fault",
        16 => "#MF x87 floating-point error",
        17 => "#AC alignment check",
        18 => "#MC machine check",
        19 => "#XM SIMD floating-point",
        20 => "#VE virtualization exception",
        21 => "#CP control protection",
        28 => "#HV hypervisor injection",
        29 => "#VC VMM communication",
        30 => "#SX security exception",
        15 | 22..=27 | 31 => "reserved exception",
        _ => "interrupt",
    }
}

/// True for exceptions reported after the instruction completed (traps):
/// the saved RIP is the next instruction (SDM Vol. 3A, 6.5).
pub const fn is_trap(vector: u8) -> bool {
    matches!(vector, 1 | 3 | 4)
}

/// The page-fault error code (SDM Vol. 3A, 4.7, figure 4-12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageFaultCode(pub u64);

impl PageFaultCode {
    /// The page was present (a protection violation, not a missing page).
    pub fn present(self) -> bool {
        self.0 & 1 != 0
    }
    /// The access was a write.
    pub fn write(self) -> bool {
        self.0 & 2 != 0
    }
    /// The access came from ring 3.
    pub fn user(self) -> bool {
        self.0 & 4 != 0
    }
    /// A reserved bit was set in a paging structure.
    pub fn reserved_bit(self) -> bool {
        self.0 & 8 != 0
    }
    /// The access was an instruction fetch.
    pub fn instruction_fetch(self) -> bool {
        self.0 & 16 != 0
    }
}

impl core::fmt::Display for PageFaultCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let access = if self.instruction_fetch() {
            "instruction fetch"
        } else if self.write() {
            "write"
        } else {
            "read"
        };
        let cause = if self.reserved_bit() {
            "reserved bit set"
        } else if self.present() {
            "protection violation"
        } else {
            "page not present"
        };
        let mode = if self.user() { "user" } else { "kernel" };
        write!(f, "{mode} {access}, {cause}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_size_matches_the_stubs() {
        assert_eq!(core::mem::size_of::<TrapFrame>(), TRAP_FRAME_SIZE);
        // The CPU aligns RSP to 16 before pushing; the frame keeps it aligned
        // so the handler is called with a correctly aligned stack.
        assert_eq!(TRAP_FRAME_SIZE % 16, 0);
        assert_eq!(core::mem::offset_of!(TrapFrame, vector), 15 * 8);
        assert_eq!(core::mem::offset_of!(TrapFrame, rip), 17 * 8);
    }

    #[test]
    fn error_code_vectors() {
        let with: Vec<u8> = (0..32).filter(|&v| has_error_code(v)).collect();
        assert_eq!(with, [8, 10, 11, 12, 13, 14, 17, 21, 29, 30]);
    }

    #[test]
    fn page_fault_code_describes_access() {
        assert_eq!(PageFaultCode(0).to_string(), "kernel read, page not present");
        assert_eq!(PageFaultCode(0b11).to_string(), "kernel write, protection violation");
        assert_eq!(PageFaultCode(0b10001).to_string(), "kernel instruction fetch, protection violation");
        assert_eq!(PageFaultCode(0b1100).to_string(), "user read, reserved bit set");
    }

    #[test]
    fn names_cover_all_exceptions() {
        for v in 0..32u8 {
            assert_ne!(exception_name(v), "interrupt");
        }
        assert_eq!(exception_name(32), "interrupt");
        assert!(is_trap(3) && !is_trap(14));
    }
}
