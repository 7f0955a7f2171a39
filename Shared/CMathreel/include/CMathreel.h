// CMathreel: the few Linux calls Swift's Glibc module does not expose
// (it is built without _GNU_SOURCE), and the render sandbox's seccomp program,
// kept in C so Swift code stays plain.
#ifndef CMATHREEL_H
#define CMATHREEL_H
#include <sys/types.h>

// renameat2(..., RENAME_NOREPLACE): 0, or -1 with errno (EEXIST when the target exists).
int mr_rename_noreplace(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

// renameat2(..., RENAME_EXCHANGE): swaps two names atomically. 0, or -1 with errno
// (EINVAL when the filesystem cannot).
int mr_rename_exchange(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

// Whether any process has the file open for writing: 1 yes, 0 no, -1 cannot tell
// (leases need the caller to own the file or hold CAP_LEASE). fd must be read-only.
int mr_open_for_writing(int fd);

// One sd_notify datagram to the socket named by path ("@name" is abstract). 0 or -1/errno.
int mr_notify(const char *path, const char *message);

// posix_spawn with a clean signal mask, default dispositions and optionally a new
// session, so a child never inherits the blocked mask of a Swift concurrency thread,
// and no descriptor but its stdin, stdout, stderr and the `extra` ones (as 3, 4, ...).
// fds: stdin/stdout/stderr for the child (-1 keeps the parent's). Returns pid or -errno.
pid_t mr_spawn(const char *path, char *const argv[], char *const envp[],
               int stdin_fd, int stdout_fd, int stderr_fd, const int *extra, int nextra, int new_session);

// Unblocks every signal in the calling thread and restores default dispositions of
// SIGPIPE-free daemons: used once at start by daemons that a careless parent spawned.
void mr_reset_signal_mask(void);

// The render sandbox's system call filter, as the classic BPF program bwrap's --seccomp
// reads (native architecture only; foreign ABIs and x32 get EPERM): kernel interfaces a
// scene never needs (ptrace, mounts, namespaces, keys, BPF, perf, userfaultfd, io_uring,
// modules, kexec, ...) fail with EPERM, clone3 with ENOSYS (glibc falls back to clone,
// whose namespace flags are refused), memfd and System V shared memory (storage outside
// the sandbox's one size cap), socket families other than local, IP and netlink (vsock
// is not namespaced), and widening the CPU affinity the sandbox started with.
// Writes the program into out (cap bytes); returns its length in bytes, or -1 if cap is short.
int mr_sandbox_seccomp(unsigned char *out, int cap);

// The CPUs this process may run on (sched_getaffinity), ascending, at most cap of them.
// Returns how many, or -1 with errno.
int mr_allowed_cpus(int *out, int cap);

// Names the calling thread (as ps -L and /proc/<pid>/task/*/comm show it; at most
// 15 bytes kept). 0 or an errno.
int mr_set_thread_name(const char *name);

#endif
