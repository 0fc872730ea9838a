//! Link arguments for the kernel image.
//!
//! `unwinding`'s `fde-gnu-eh-frame-hdr` finder locates unwind tables through
//! the symbols `__executable_start`, `__etext` and `__GNU_EH_FRAME_HDR`. rust-lld
//! defines the first one but not the other two; define them here rather than
//! carrying a whole linker script.

fn main() {
    if std::env::var("TARGET").as_deref() == Ok("x86_64-unknown-none") {
        println!("cargo:rustc-link-arg-bins=--defsym=__etext=etext");
        println!("cargo:rustc-link-arg-bins=--defsym=__GNU_EH_FRAME_HDR=ADDR(.eh_frame_hdr)");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
