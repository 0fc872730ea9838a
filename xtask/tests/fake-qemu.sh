#!/bin/bash
# A stand-in for qemu-system-x86_64 that plays a Lazarus guest running one
# campaign trial, for xtask/tests/campaign_fake_qemu.rs: it reads the boot
# options from `-fw_cfg name=opt/lazarus/cmdline,string=...`, prints the
# `campaign:` protocol lines of docs/campaigns.md for that trial, and exits
# as the guest would (isa-debug-exit: 33 success, 35 failure; 0 = reset).
#
# It also plays the snapshot clean state (docs/campaigns.md, "Clean state"):
#   - boot options `trial=await`: it "boots", prints `snapshot: ready`, and
#     serves QMP on the connection to `-qmp tcp:HOST:PORT` (QEMU is the
#     client): `migrate` with `uri=tcp:HOST:PORT` sends a fake machine
#     (QEMU's `QEVM` magic, then text) there, `query-migrate` answers
#     completed, `quit` ends it with status 0;
#   - `-incoming exec:CMD`: it runs CMD, refuses (status 1, as QEMU does)
#     a stream that is not its own fake machine, and otherwise "resumes":
#     no firmware or boot lines, a `Lazarus ... restored` line, then the
#     trial of its fw_cfg options as a booted one.
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
#                     pid of the hanging trial), `flaky-done` (see below),
#                     `starts.log` (one line per start: `boot ID`, `restore
#                     ID`, `save`)
#   FAKE_QEMU_FLAKY   a key ID/CONFIG: that trial's first boot prints no
#                     `armed` line (not classifiable); later boots are normal
#   FAKE_QEMU_WRONG   set: every unwind trial that recovers reports wrong
#                     results instead (-> sdc), to make a replay differ
#   FAKE_QEMU_NO_AWAIT  set: a kernel without `trial=await`, which runs the
#                     workload instead of waiting and never prints the line
#   FAKE_QEMU_MIGRATION_FAILS  set: `query-migrate` answers failed
set -u

cmdline="" qmp="" incoming=""
while [ $# -gt 0 ]; do
    if [ "$1" = "-fw_cfg" ] && [ $# -gt 1 ]; then
        cmdline="${2#name=opt/lazarus/cmdline,string=}"
        shift
    elif [ "$1" = "-qmp" ] && [ $# -gt 1 ]; then
        qmp="${2#tcp:}"
        shift
    elif [ "$1" = "-incoming" ] && [ $# -gt 1 ]; then
        incoming="${2#exec:}"
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
state="${FAKE_QEMU_STATE:-/tmp}"
machine="fake lazarus machine, waiting for a trial"

# QEMU connects its monitor before the guest runs, and fails without it.
if [ -n "$qmp" ]; then
    if ! exec 3<>"/dev/tcp/${qmp%:*}/${qmp##*:}"; then
        echo "qemu-system-x86_64: -qmp tcp:$qmp: Failed to connect" >&2
        exit 1
    fi
    printf '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "fake"}, "capabilities": ["oob"]}}\r\n' >&3
fi

if [ -n "$incoming" ]; then
    stream="$(eval "$incoming")"
    if [ "$stream" != "QEVM$machine" ]; then
        echo "qemu-system-x86_64: Not a migration stream" >&2
        echo "qemu-system-x86_64: load of migration failed: Invalid argument" >&2
        exit 1
    fi
    echo "restore $id" >> "$state/starts.log"
    echo "Lazarus 0.1.0: restored from a snapshot; options: $cmdline"
else
    printf 'SeaBIOS (fake)\r\n'
    printf 'Lazarus 0.1.0 (BIOS, fake QEMU) booting\r\n'
    echo "[boot] options: $cmdline"
    if [ "$id" = await ] && [ -z "${FAKE_QEMU_NO_AWAIT:-}" ]; then
        echo "save" >> "$state/starts.log"
        echo "snapshot: ready: waiting for a trial's options in fw_cfg opt/lazarus/cmdline"
        while IFS= read -r -u 3 request; do
            request="${request%$'\r'}"
            case "$request" in
                *'"migrate"'*)
                    if [[ "$request" =~ \"uri\":\"tcp:([0-9.]+):([0-9]+)\" ]]; then
                        printf 'QEVM%s' "$machine" > "/dev/tcp/${BASH_REMATCH[1]}/${BASH_REMATCH[2]}"
                        printf '{"return": {}}\r\n' >&3
                    else
                        printf '{"error": {"class": "GenericError", "desc": "fake: no tcp uri"}}\r\n' >&3
                    fi
                    ;;
                *'"query-migrate"'*)
                    printf '{"timestamp": {"seconds": 1, "microseconds": 0}, "event": "STOP"}\r\n' >&3
                    if [ -n "${FAKE_QEMU_MIGRATION_FAILS:-}" ]; then
                        printf '{"return": {"status": "failed", "error-desc": "fake: disk full"}}\r\n' >&3
                    else
                        printf '{"return": {"status": "completed", "total-time": 1}}\r\n' >&3
                    fi
                    ;;
                *'"quit"'*)
                    printf '{"return": {}}\r\n' >&3
                    exit 0
                    ;;
                *) printf '{"return": {}}\r\n' >&3 ;;
            esac
        done
        exit 0
    fi
    echo "boot $id" >> "$state/starts.log"
fi
if [ "$id" = await ]; then
    # A kernel that knows no `trial=await` runs the workload, whose TAS
    # refuses the half trial, and ends as a trial would.
    echo "[tas] bad boot options: trial= without inject="
    printf 'campaign: end\r\n'
    exit 33
fi
if [ "$init" != "workload" ] || [ -z "$id" ]; then
    echo "no trial on the command line"
    exit 35
fi

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
printf 'campaign: workload verdict=%s detail=fake guest\r\n' "$verdict"
printf 'campaign: end\r\n'
exit "$status"
