//! The 64-bit IDT gate descriptor (Intel SDM Vol. 3A, 6.14.1, figure 6-8).
//!
//! The kernel builds its IDT from these rather than from typed per-exception
//! entries because every vector enters through the same kind of assembly stub.

/// Gate type "64-bit interrupt gate": IF is cleared on entry.
const TYPE_INTERRUPT_GATE: u8 = 0xE;
/// Present bit in the type/attribute byte.
const PRESENT: u8 = 1 << 7;

/// One IDT entry.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gate {
    /// Handler address bits 0..16.
    offset_low: u16,
    /// Code-segment selector the handler runs in.
    selector: u16,
    /// Bits 0..3: interrupt stack table index (0 = none); bits 3..8 reserved.
    ist: u8,
    /// Bits 0..4 gate type, bit 4 zero, bits 5..7 DPL, bit 7 present.
    type_attr: u8,
    /// Handler address bits 16..32.
    offset_mid: u16,
    /// Handler address bits 32..64.
    offset_high: u32,
    /// Reserved, must be zero.
    reserved: u32,
}

/// Size of a gate in bytes; the IDT limit is computed from it.
pub const GATE_SIZE: usize = 16;

impl Gate {
    /// A present interrupt gate to `handler` in code segment `selector`,
    /// callable by `int` from privilege `dpl` (0..=3) and below, switching to
    /// interrupt stack `ist` (1..=7) or staying on the current stack (`None`).
    /// Out-of-range `dpl` or `ist` values are masked to their fields.
    pub const fn interrupt(handler: u64, selector: u16, dpl: u8, ist: Option<u8>) -> Self {
        let ist = match ist {
            Some(i) => i & 0x7,
            None => 0,
        };
        Self {
            offset_low: handler as u16,
            selector,
            ist,
            type_attr: PRESENT | ((dpl & 0x3) << 5) | TYPE_INTERRUPT_GATE,
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        }
    }

    /// The handler address.
    pub const fn handler(&self) -> u64 {
        self.offset_low as u64 | (self.offset_mid as u64) << 16 | (self.offset_high as u64) << 32
    }

    /// The interrupt-stack-table index, if any.
    pub const fn ist(&self) -> Option<u8> {
        match self.ist & 0x7 {
            0 => None,
            i => Some(i),
        }
    }

    /// The same gate on another interrupt stack (or none).
    pub const fn with_ist(mut self, ist: Option<u8>) -> Self {
        self.ist = match ist {
            Some(i) => i & 0x7,
            None => 0,
        };
        self
    }

    /// True if the gate is present.
    pub const fn is_present(&self) -> bool {
        self.type_attr & PRESENT != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_is_sixteen_bytes() {
        assert_eq!(core::mem::size_of::<Gate>(), GATE_SIZE);
    }

    #[test]
    fn encodes_handler_and_attributes() {
        let g = Gate::interrupt(0xFFFF_8123_4567_89AB, 0x08, 3, Some(2));
        assert_eq!(g.handler(), 0xFFFF_8123_4567_89AB);
        assert_eq!(g.ist(), Some(2));
        assert!(g.is_present());
        assert_eq!(g.type_attr, 0xEE);
        assert_eq!(g.with_ist(None).ist(), None);
        assert!(!Gate::default().is_present());
    }
}
