#!/bin/bash
# A stand-in for qemu-system-x86_64 that plays a Lazarus guest running one
# campaign trial, for xtask/tests/campaign_fake_qemu.rs: it reads the boot
# options from `-fw_cfg name=opt/lazarus/cmdline,string=...`, prints the
# `campaign:` protocol lines of docs/campaigns.md for that trial, and exits
# as the guest would (isa-debug-exit: 33 success, 35 failure; 0 = reset).
#
# What each trial does, by trial id (ID) and configuration:
#   ID % 4 == 0            the fault never fires            -> not-activated
#   ID 5 under none        the guest hangs until killed     -> hang
#   ID 6 under unwind      kernel panic after the fault     -> kernel-crash
#   ID 7 under none        triple fault (exit status 0)     -> kernel-crash
#   otherwise: unwind      recovered, nothing leaked        -> recovered
#              restart     recovered, one resource leaked   -> recovered-leaky
#              none        the client sees the error        -> client-error
# Environment:
#   FAKE_QEMU_STATE   a folder for the stand-in's own files: `hang.pid` (the
#                     pid of the hanging trial), `flaky-done` (see below)
#   FAKE_QEMU_FLAKY   a key ID/CONFIG: that trial's first boot prints no
#                     `armed` line (not classifiable); later boots are normal
#   FAKE_QEMU_WRONG   set: every unwind trial that recovers reports wrong
#                     results instead (-> sdc), to make a replay differ
set -u

cmdline=""
while [ $# -gt 0 ]; do
    if [ "$1" = "-fw_cfg" ] && [ $# -gt 1 ]; then
        cmdline="${2#name=opt/lazarus/cmdline,string=}"
        shift
    fi
    shift
done

init="" id="" config="" spec=""
for word in $cmdline; do
    case "$word" in
        init=*) init="${word#init=}" ;;
        trial=*) id="${word#trial=}" ;;
        recovery=*) config="${word#recovery=}" ;;
        inject=*) spec="${word#inject=}" ;;
    esac
done
IFS=: read -r _model target _trigger _location <<< "$spec"

printf 'SeaBIOS (fake)\r\n'
printf 'Lazarus 0.1.0 (BIOS, fake QEMU) booting\r\n'
echo "[boot] options: $cmdline"
if [ "$init" != "workload" ] || [ -z "$id" ]; then
    echo "no trial on the command line"
    exit 35
fi

state="${FAKE_QEMU_STATE:-/tmp}"
if [ "${FAKE_QEMU_FLAKY:-}" = "$id/$config" ] && [ ! -e "$state/flaky-done" ]; then
    touch "$state/flaky-done"
    echo "[init] workload: not found"
    exit 33
fi

echo "campaign: armed id=$id config=$config spec=$spec"
echo "[workload] op 1: create /data/a"
if [ $((id % 4)) -eq 0 ]; then
    printf 'campaign: workload verdict=ok detail=200 ops, all results match\r\ncampaign: end\r\n'
    exit 33
fi
echo "campaign: injected at=$((1000000 * id))"

if [ "$id" = 5 ] && [ "$config" = none ]; then
    echo "[watchdog] $target: no answer"
    echo $$ > "$state/hang.pid"
    exec sleep 600
fi
if [ "$id" = 6 ] && [ "$config" = unwind ]; then
    echo "KERNEL PANIC: page fault in kernel mode at rip=0xffff800000012a40"
    echo "System halted."
    exit 35
fi
if [ "$id" = 7 ] && [ "$config" = none ]; then
    exit 0
fi

echo "campaign: detected kind=panic server=$target generation=0"
case "$config" in
    unwind)
        echo "campaign: recovered server=$target latency_ns=$((40000 + 500 * id)) released_by_unwinding=6 reclaimed_by_backstop=0 leaks=0"
        if [ -n "${FAKE_QEMU_WRONG:-}" ]; then
            verdict="wrong" status=35
        else
            verdict="ok" status=33
        fi
        ;;
    restart)
        echo "campaign: recovered server=$target latency_ns=$((90000 + 500 * id)) released_by_unwinding=0 reclaimed_by_backstop=4 leaks=1"
        verdict="ok" status=33
        ;;
    *)
        echo "[recovery] $target: dead (configuration none)"
        verdict="error" status=35
        ;;
esac
printf 'campaign: workload verdict=%s detail=fake guest\r\ncampaign: end\r\n' "$verdict"
exit "$status"
