"""Take network access away from the current process (Linux, x86-64 and AArch64), so a
SPARQL SERVICE call that got past the query check still cannot reach anything.

pyoxigraph runs SERVICE by HTTP from inside `Store.query` and its Python API has no switch
to turn that off (the Rust `without_default_http_service_handler` is not exposed), so the
query workers install a seccomp filter first: `socket()` is refused (EACCES) for every
family but AF_UNIX, and so is io_uring, which can open sockets too. Pipes and Unix sockets,
all that multiprocessing needs to talk to the server, keep working. The filter cannot be
removed and is inherited by every thread the process starts afterwards."""

from __future__ import annotations

import ctypes
import errno
import platform
import sys

# machine -> (AUDIT_ARCH_* constant, socket syscall number, io_uring_setup syscall number)
ARCHITECTURES = {"x86_64": (0xC000003E, 41, 425), "aarch64": (0xC00000B7, 198, 425)}
AF_UNIX = 1
X32_SYSCALL_BIT = 0x40000000  # x86-64's x32 ABI reaches the same calls under other numbers
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
BPF_LD_W_ABS, BPF_JEQ_K, BPF_JGE_K, BPF_RET_K = 0x20, 0x15, 0x35, 0x06
# offsets in struct seccomp_data: nr, arch, then args[0] (low 32 bits, little-endian)
NR, ARCH, ARG0 = 0, 4, 16


class _Instruction(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Instruction))]


def forbid_network() -> None:
    """Install the filter on this process; OSError when the system does not allow it."""
    machine = platform.machine().lower()
    if not sys.platform.startswith("linux") or machine not in ARCHITECTURES:
        raise OSError(errno.ENOSYS, f"no seccomp filter for {sys.platform}/{machine}")
    arch, socket_nr, io_uring_nr = ARCHITECTURES[machine]
    deny, allow = SECCOMP_RET_ERRNO | errno.EACCES, SECCOMP_RET_ALLOW
    # jt/jf count instructions to skip; index 8 refuses, index 9 allows
    program = [
        (BPF_LD_W_ABS, 0, 0, ARCH),
        (BPF_JEQ_K, 0, 6, arch),             # 1: another architecture's calls: refuse
        (BPF_LD_W_ABS, 0, 0, NR),
        (BPF_JGE_K, 4, 0, X32_SYSCALL_BIT),  # 3
        (BPF_JEQ_K, 3, 0, io_uring_nr),      # 4
        (BPF_JEQ_K, 0, 3, socket_nr),        # 5: not socket(): allow
        (BPF_LD_W_ABS, 0, 0, ARG0),
        (BPF_JEQ_K, 1, 0, AF_UNIX),          # 7
        (BPF_RET_K, 0, 0, deny),             # 8
        (BPF_RET_K, 0, 0, allow),            # 9
    ]
    instructions = (_Instruction * len(program))(*(_Instruction(*step) for step in program))
    libc = ctypes.CDLL(None, use_errno=True)
    # no_new_privs lets an unprivileged process install a filter
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
            libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(_Program(len(program), instructions)),
                       0, 0) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"cannot install the seccomp filter: {errno.errorcode.get(code, code)}")
