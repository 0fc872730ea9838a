//! Groups that misbehave on purpose, so the host harness can prove that it
//! notices a failing case and a hung guest. The host runs them only from its
//! own self-test, never as ordinary tests.

use super::{Case, Group};

/// A group with one case that always fails.
pub static FAIL: Group = Group {
    name: "selftest_fail",
    cases: &[Case { name: "deliberate_failure", run: || panic!("this case fails on purpose") }],
};

/// A group with one case that never ends.
pub static HANG: Group = Group {
    name: "selftest_hang",
    cases: &[Case {
        name: "hangs_forever",
        run: || loop {
            core::hint::spin_loop();
        },
    }],
};
