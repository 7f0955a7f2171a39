// Implements CMathreel.h; see there for why each call lives in C.
#define _GNU_SOURCE
#include "CMathreel.h"
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int mr_rename_noreplace(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
    return renameat2(olddirfd, oldpath, newdirfd, newpath, RENAME_NOREPLACE);
}

int mr_rename_exchange(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
    return renameat2(olddirfd, oldpath, newdirfd, newpath, RENAME_EXCHANGE);
}

int mr_open_for_writing(int fd) {
    // A read lease is refused with EAGAIN exactly when someone holds the file open for writing.
    if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
        fcntl(fd, F_SETLEASE, F_UNLCK);
        return 0;
    }
    return errno == EAGAIN ? 1 : -1;
}

int mr_notify(const char *path, const char *message) {
    struct sockaddr_un addr;
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(addr.sun_path)) { errno = EINVAL; return -1; }
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path, len);
    if (addr.sun_path[0] == '@') addr.sun_path[0] = 0;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    ssize_t n = sendto(fd, message, strlen(message), MSG_NOSIGNAL, (struct sockaddr *)&addr, alen);
    int saved = errno;
    close(fd);
    errno = saved;
    return n < 0 ? -1 : 0;
}

pid_t mr_spawn(const char *path, char *const argv[], char *const envp[],
               int stdin_fd, int stdout_fd, int stderr_fd, const int *extra, int nextra, int new_session) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    if (stdin_fd >= 0) posix_spawn_file_actions_adddup2(&fa, stdin_fd, 0);
    if (stdout_fd >= 0) posix_spawn_file_actions_adddup2(&fa, stdout_fd, 1);
    if (stderr_fd >= 0) posix_spawn_file_actions_adddup2(&fa, stderr_fd, 2);
    // Descriptors handed on on purpose become 3, 4, ... (the caller keeps them above that range).
    for (int i = 0; i < nextra; i++) posix_spawn_file_actions_adddup2(&fa, extra[i], 3 + i);
    // Nothing else crosses into the child: a descriptor some library opened without
    // O_CLOEXEC (a file being written, a lock, a socket) must not leak into it.
    posix_spawn_file_actions_addclosefrom_np(&fa, 3 + nextra);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (new_session) flags |= POSIX_SPAWN_SETSID;
    posix_spawnattr_setflags(&at, flags);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, path, &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return rc == 0 ? pid : -rc;
}

void mr_reset_signal_mask(void) {
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
}

int mr_set_thread_name(const char *name) {
    char cut[16];
    snprintf(cut, sizeof(cut), "%s", name);
    return pthread_setname_np(pthread_self(), cut);
}

// --- The render sandbox's seccomp filter -------------------------------------------

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
#define MR_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define MR_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "the sandbox's seccomp filter knows x86_64 and aarch64 only"
#endif

#define MR_NR_OFFSET ((unsigned)offsetof(struct seccomp_data, nr))
#define MR_ARCH_OFFSET ((unsigned)offsetof(struct seccomp_data, arch))
// The low 32 bits of argument i (both architectures are little-endian).
#define MR_ARG_LO(i) ((unsigned)(offsetof(struct seccomp_data, args) + 8 * (i)))
#define MR_ERRNO(e) (SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

// Refused with EPERM whatever their arguments.
static const int mr_denied[] = {
    __NR_ptrace, __NR_process_vm_readv, __NR_process_vm_writev, __NR_pidfd_getfd,
    __NR_mount, __NR_umount2, __NR_pivot_root, __NR_chroot, __NR_move_mount, __NR_open_tree,
    __NR_fsopen, __NR_fsconfig, __NR_fsmount, __NR_fspick, __NR_mount_setattr,
    __NR_unshare, __NR_setns,
    __NR_keyctl, __NR_add_key, __NR_request_key,
    __NR_bpf, __NR_perf_event_open, __NR_userfaultfd, __NR_fanotify_init,
    __NR_kexec_load, __NR_kexec_file_load, __NR_init_module, __NR_finit_module, __NR_delete_module,
    __NR_io_uring_setup, __NR_io_uring_enter, __NR_io_uring_register,
    __NR_reboot, __NR_swapon, __NR_swapoff, __NR_acct, __NR_quotactl, __NR_quotactl_fd,
    __NR_syslog, __NR_vhangup, __NR_lookup_dcookie, __NR_sethostname, __NR_setdomainname,
    __NR_settimeofday, __NR_clock_settime, __NR_clock_adjtime, __NR_adjtimex,
    __NR_open_by_handle_at, __NR_name_to_handle_at,
    __NR_memfd_create, __NR_memfd_secret, __NR_shmget, __NR_msgget, __NR_mq_open,
    __NR_sched_setaffinity, __NR_move_pages, __NR_migrate_pages,
#if defined(__x86_64__)
    __NR_iopl, __NR_ioperm, __NR_uselib, __NR_ustat, __NR_sysfs, __NR_modify_ldt,
#endif
};

int mr_sandbox_seccomp(unsigned char *out, int cap) {
    const unsigned ns_flags = CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS
                              | CLONE_NEWIPC | CLONE_NEWCGROUP;
    struct sock_filter head[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, MR_ARCH_OFFSET),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MR_AUDIT_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, MR_ERRNO(EPERM)),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, MR_NR_OFFSET),
#if defined(__x86_64__)
        // x32 numbers share the architecture: refuse them all.
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, MR_ERRNO(EPERM)),
#endif
        // clone3 passes its flags in memory a filter cannot read; glibc falls back to clone.
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, MR_ERRNO(ENOSYS)),
        // clone: no new namespaces (bwrap already gave the sandbox its own).
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, MR_ARG_LO(0)),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, ns_flags, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, MR_ERRNO(EPERM)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        // ioctl: no typing into a terminal's input, no console tricks.
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 5),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, MR_ARG_LO(1)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCLINUX, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, MR_ERRNO(EPERM)),
        // socket: local, IP (an empty network namespace) and netlink only; vsock and the
        // rest are not namespaced or not needed.
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 7),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, MR_ARG_LO(0)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 4, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, MR_ERRNO(EAFNOSUPPORT)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        // personality: only asking (0xffffffff) or the default; no ADDR_NO_RANDOMIZE.
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_personality, 0, 5),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, MR_ARG_LO(0)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffff, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, MR_ERRNO(EPERM)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    const int nhead = (int)(sizeof(head) / sizeof(head[0]));
    const int ndenied = (int)(sizeof(mr_denied) / sizeof(mr_denied[0]));
    const int total = nhead + 2 * ndenied + 1;
    if (cap < total * (int)sizeof(struct sock_filter)) return -1;
    struct sock_filter *prog = (struct sock_filter *)out;
    int n = 0;
    for (int i = 0; i < nhead; i++) prog[n++] = head[i];
    // The accumulator still holds the number here: every branch above that loaded an argument returned.
    for (int i = 0; i < ndenied; i++) {
        prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)mr_denied[i], 0, 1);
        prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, MR_ERRNO(EPERM));
    }
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    return n * (int)sizeof(struct sock_filter);
}

int mr_allowed_cpus(int *out, int cap) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
    int n = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && n < cap; cpu++)
        if (CPU_ISSET(cpu, &set)) out[n++] = cpu;
    return n;
}
