//! The trusted address space image: the servers (console, name, fs,
//! crashtest, blk), their recovery manager and the fault injector, in one
//! ring-3 address space, serving the service endpoint. The kernel starts
//! it as a driver, so `blk` may claim the virtio disk.
//!
//! Boot options: `recovery=unwind|restart|none` picks the configuration;
//! `trial=… inject=…` (from a campaign) arms one fault. `tas-selftest` on
//! the command line runs the runtime's recovery self-test instead.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod catalog;
mod dispatch;
mod injector;
mod instance;
mod locks;
mod options;
mod proxy;
mod supervisor;

use fault_inject::Config;
use lazarus_rt::println;
use tas_runtime::Recovery;

fn main() -> i32 {
    let options = options::read();
    if options.selftest {
        if let Err(e) = tas_runtime::init(Recovery::Unwind) {
            println!("tas: cannot register the fault handler: {e}");
            return 1;
        }
        return tas_runtime::selftest::run();
    }
    let recovery = if options.config == Config::Unwind { Recovery::Unwind } else { Recovery::Discard };
    if let Err(e) = tas_runtime::init(recovery) {
        println!("tas: cannot register the fault handler: {e}");
        return 1;
    }
    if let Err(e) = tas_runtime::supervision::arm_watchdog() {
        println!("tas: no watchdog: {e}");
    }
    let mut injector = injector::Injector::default();
    if let Some(trial) = options.trial {
        match injector.arm_trial(trial.injection) {
            Ok(()) => println!("campaign: armed id={} config={} spec={}", trial.id, trial.config, trial.injection),
            Err(why) => println!("tas: cannot arm {}: {why}", trial.injection),
        }
    }
    let supervisor = match supervisor::Supervisor::new(catalog::slots(), options.config, options.trial.is_some()) {
        Ok(s) => s,
        Err(e) => {
            println!("tas: cannot set up the recovery manager: {e}");
            return 1;
        }
    };
    let mut system = dispatch::System { supervisor, injector };
    system.supervisor.start(&mut system.injector);
    println!("tas: {} servers, recovery {}", system.supervisor.slots.len(), options.config);
    system.serve()
}

lazarus_rt::entry!(main);
