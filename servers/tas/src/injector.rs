//! The in-guest fault injector: arms one fault (from the trial on the boot
//! command line, or by hand from the shell's `inject`) and fires it at the
//! right moment, inside the target server.
//!
//! - Site-bound models (`panic`, `wildptr`, `cfi`, `hang`, `stackoverflow`)
//!   fire at the target's injection site `location.site % CAMPAIGN_SITES`
//!   (the sites good requests reach), the first time it is reached after
//!   the trigger.
//! - `memflip` fires at the target's first site after the trigger, so the
//!   server's frames are live when its stack is hit; the flipped byte is in
//!   the region the location names (see `docs/campaigns.md`): a byte of the
//!   request handler's code is flipped by the kernel, which the supervisor
//!   repairs before the server's next start.
//! - `regflip` is armed in the kernel when the workload starts: the timer
//!   flips the register when the target is running (see `SetWatchdog`).
//!
//! Triggers count from the workload's first request: `ops.N` after N
//! requests, `ticks.T` after T timer ticks (10 ms each).

use fault_inject::{CfiKind, Injection, Location, Model, PointerKind, Region, Trigger};
use lazarus_rt::{println, sys};
use server_api::ServerId;
use tas_runtime::faults;
use tas_runtime::heap::HeapId;

/// Nanoseconds per timer tick (the kernel's 100 Hz timer).
const NS_PER_TICK: u64 = 10_000_000;
/// A bit of the non-canonical hole, set to make a wild pointer.
const NON_CANONICAL_BIT: u64 = 1 << 62;

/// What an armed fault does: a campaign model, or one of the CPU
/// exceptions the shell's `inject` names directly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum What {
    Model(Model),
    InvalidOpcode,
    DivideError,
    /// Bits flipped in one word of the kept-state store (1 or 2); no
    /// fault now, the damage shows at the next restore.
    StoreFlip { bits: u32 },
}

impl core::fmt::Display for What {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            What::Model(model) => write!(f, "{model}"),
            What::InvalidOpcode => f.write_str("ud"),
            What::DivideError => f.write_str("divide"),
            What::StoreFlip { bits: 1 } => f.write_str("storeflip"),
            What::StoreFlip { .. } => f.write_str("storeflip2"),
        }
    }
}

/// A fault waiting to fire.
#[derive(Clone, Copy, Debug)]
struct Armed {
    what: What,
    target: ServerId,
    trigger: Trigger,
    location: Location,
    /// Printed as a campaign protocol line when it fires.
    campaign: bool,
}

/// Where an injected fault lands in memory, for `memflip`.
pub struct Regions<'a> {
    /// The target's private heap.
    pub heap: HeapId,
    /// The target's state object: its offset and size in the heap.
    pub state_at: Option<(u32, u32)>,
    /// The target's kept-state region.
    pub kept: &'a mut [u64],
    /// An address in the target's request handler, the code a `memflip`
    /// into text lands in.
    pub code: u64,
}

/// The injector.
#[derive(Default)]
pub struct Injector {
    armed: Option<Armed>,
    /// Requests served since the workload started.
    ops: u64,
    /// When the workload started (ns since boot).
    started_ns: Option<u64>,
}

impl Injector {
    /// Arms a trial's injection; `Err` with a reason if the target is not
    /// a server of this TAS.
    pub fn arm_trial(&mut self, injection: Injection) -> Result<(), &'static str> {
        let target = ServerId::from_name(injection.target().as_str()).ok_or("no such server")?;
        self.armed = Some(Armed {
            what: What::Model(injection.model()),
            target,
            trigger: injection.trigger(),
            location: injection.location(),
            campaign: true,
        });
        Ok(())
    }

    /// Arms a fault by hand, by name: a campaign model (`panic`, `hang`,
    /// `stackoverflow`, `cfi`, `wildptr`, `memflip`), a CPU exception
    /// (`pagefault`, `gp`, `ud`, `divide`), or damage to the kept-state
    /// store (`storeflip`: one bit of a word picked by the clock, which
    /// the next restore corrects; `storeflip2`: two bits of the store's
    /// first word, its superblock, which every restore reads and none can
    /// correct). It fires at the server's next injection site. `None` for
    /// an unknown name.
    pub fn arm_manual(&mut self, target: ServerId, name: &str) -> Option<()> {
        let site = Location::Site(0);
        let (what, location) = match name {
            "pagefault" => (What::Model(Model::Wildptr), Location::WildPtr { kind: PointerKind::Null, site: 0 }),
            "gp" => (What::Model(Model::Wildptr), Location::WildPtr { kind: PointerKind::Wild, site: 0 }),
            "ud" => (What::InvalidOpcode, site),
            "divide" => (What::DivideError, site),
            "storeflip" => (What::StoreFlip { bits: 1 }, site),
            "storeflip2" => (What::StoreFlip { bits: 2 }, site),
            "regflip" => return None,
            other => {
                let model: Model = other.parse().ok()?;
                let location = match model {
                    Model::Cfi => Location::Cfi { kind: CfiKind::ReturnAddress, site: 0 },
                    Model::Wildptr => Location::WildPtr { kind: PointerKind::Null, site: 0 },
                    Model::Memflip => Location::Memory { region: Region::Data, offset: 0, bit: fault_inject::ByteBit::new(0)? },
                    _ => site,
                };
                (What::Model(model), location)
            }
        };
        self.armed = Some(Armed { what, target, trigger: Trigger::AfterOps(0), location, campaign: false });
        self.started_ns.get_or_insert_with(sys::uptime_ns);
        Some(())
    }

    /// Counts a request; on the first, the workload starts (and a `regflip`
    /// is handed to the kernel).
    pub fn on_request(&mut self) {
        self.ops += 1;
        if self.started_ns.is_some() {
            return;
        }
        self.started_ns = Some(sys::uptime_ns());
        let Some(armed) = self.armed.filter(|a| a.what == What::Model(Model::Regflip)) else { return };
        let (Location::Register { register, bit }, Trigger::AfterTicks(ticks)) = (armed.location, armed.trigger) else {
            return;
        };
        self.armed = None;
        if let Err(e) = sys::arm_regflip(armed.target as u64, register as u64, u64::from(bit.get()), u64::from(ticks)) {
            println!("tas: the kernel refused the register flip: {e}");
        }
    }

    fn triggered(&self, trigger: Trigger) -> bool {
        match trigger {
            Trigger::AfterOps(n) => self.ops >= u64::from(n),
            Trigger::AfterTicks(t) => self
                .started_ns
                .is_some_and(|s| sys::uptime_ns().saturating_sub(s) >= u64::from(t) * NS_PER_TICK),
        }
    }

    /// Called at site `site` of `server` (which has `sites` sites): fires
    /// the armed fault if this is its place and time.
    pub fn at_site(&mut self, server: ServerId, site: u32, sites: u32, regions: Regions<'_>) {
        let Some(armed) = self.armed else { return };
        if armed.target != server || armed.what == What::Model(Model::Regflip) || !self.triggered(armed.trigger) {
            return;
        }
        let wanted = match armed.location {
            Location::Site(s) | Location::Cfi { site: s, .. } | Location::WildPtr { site: s, .. } => Some(s % sites.max(1)),
            _ => None,
        };
        if wanted.is_some_and(|w| w != site) && armed.campaign {
            return;
        }
        self.armed = None;
        if armed.campaign {
            println!("campaign: injected at={}", sys::uptime_ns());
        } else {
            println!("inject: {} into {server} at site {site}", armed.what);
        }
        fire(armed, regions);
    }
}

/// Makes the fault.
fn fire(armed: Armed, regions: Regions<'_>) {
    let model = match armed.what {
        What::Model(m) => m,
        What::InvalidOpcode => return faults::invalid_opcode(),
        What::DivideError => {
            core::hint::black_box(faults::divide_error());
            return;
        }
        What::StoreFlip { bits } => return flip_store(regions.kept, bits),
    };
    match (model, armed.location) {
        (Model::Panic, _) => panic!("injected panic in {}", armed.target),
        (Model::Hang, _) => faults::hang(),
        (Model::Stackoverflow, _) => {
            core::hint::black_box(faults::overflow_stack(0));
        }
        (Model::Wildptr, Location::WildPtr { kind: PointerKind::Null, .. }) => {
            core::hint::black_box(faults::null_read());
        }
        (Model::Wildptr, Location::WildPtr { site, .. }) => {
            core::hint::black_box(faults::wild_read(NON_CANONICAL_BIT | u64::from(site) << 12));
        }
        (Model::Cfi, Location::Cfi { kind: CfiKind::ReturnAddress, site }) => faults::corrupt_return_address(site),
        (Model::Cfi, Location::Cfi { site, .. }) => faults::corrupt_function_pointer(site),
        (Model::Memflip, Location::Memory { region, offset, bit }) => {
            let bit = bit.get();
            let addr = match region {
                // Among the heap's first `in use` bytes: allocation is
                // first fit from the bottom of the region, so that span is
                // mostly live blocks, where a flip can matter.
                Region::Heap => {
                    let live = tas_runtime::heap::in_use(regions.heap).0.max(1) as u64;
                    Some(faults::flip_in_heap(regions.heap, (u64::from(offset) % live) as u32, bit))
                }
                Region::Stack => Some(faults::flip_in_stack(offset, bit)),
                Region::Data => regions
                    .state_at
                    .map(|(at, size)| faults::flip_in_heap(regions.heap, at + offset % size.max(1), bit)),
                Region::Store if !regions.kept.is_empty() => {
                    let bits = regions.kept.len() as u64 * 64;
                    let at = (u64::from(offset) * 8 + u64::from(bit)) % bits;
                    regions.kept[(at / 64) as usize] ^= 1 << (at % 64);
                    Some(at / 8)
                }
                // The text is mapped read-only: the kernel flips it.
                Region::Text => match sys::flip_code(regions.code, u64::from(offset), u64::from(bit)) {
                    Ok(a) => Some(a),
                    Err(e) => {
                        println!("memflip: the kernel refused the flip into text: {e}");
                        None
                    }
                },
                // A server without a store has nothing to flip.
                Region::Store => None,
            };
            match addr {
                Some(a) => println!("memflip: {region} byte {a:#x} bit {bit}"),
                None => println!("memflip: the target has no {region} region to flip; nothing changed"),
            }
        }
        (model, location) => println!("inject: {model} does not take the location {location}; nothing injected"),
    }
}

/// Flips `bits` (1 or 2) low bits of one word of the kept-state store:
/// for one bit, a word picked by the clock; for two, word 0.
fn flip_store(kept: &mut [u64], bits: u32) {
    if kept.is_empty() {
        println!("storeflip: the target keeps nothing; nothing changed");
        return;
    }
    let now = sys::uptime_ns();
    let (word, mask) = if bits == 1 { ((now / 1000) as usize % kept.len(), 1u64 << (now % 64)) } else { (0, 0b11) };
    kept[word] ^= mask;
    println!("storeflip: word {word} of the kept-state store, mask {mask:#x}");
}
